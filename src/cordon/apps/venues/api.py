"""The venues API: look venues up by name, place code or address, in the caller's scope."""

from typing import Annotated

from ninja import Query, Router, Schema

from cordon.core.access import AuthedRequest, api
from cordon.core.inputs import words
from cordon.core.paging import Paging, page
from cordon.core.roles import Cap

from . import selectors
from .models import Venue

router = Router(tags=["venues"])

VENUES_CAP = 500


class VenueOut(Schema):
    id: int
    code: str
    name: str
    venue_type: str
    jurisdiction: str
    address: str | None
    capacity: int | None
    sub_areas: list[str]
    responsible_unit: str
    sector: str | None

    @classmethod
    def of(cls, v: Venue) -> "VenueOut":
        return cls(
            id=v.pk,
            code=v.code,
            name=v.name,
            venue_type=v.venue_type,
            jurisdiction=v.jurisdiction.code,
            address=v.building.address if v.building is not None else None,
            capacity=v.capacity,
            sub_areas=list(v.sub_areas),
            responsible_unit=v.responsible_unit,
            sector=v.sector.code if v.sector is not None else None,
        )


class VenueQuery(Paging):
    q: Annotated[str, words()] = ""


@router.get(
    "/venues",
    response=list[VenueOut],
    summary="Search venues in your scope",
    description=f"Ordered by place code; at most {VENUES_CAP} rows per call (a larger limit is lowered).",
)
@api(Cap.VIEW_VENUES)
def list_venues(request: AuthedRequest, filters: Query[VenueQuery]) -> list[VenueOut]:
    rows: list[Venue] = page(
        selectors.search_venues(request.user, filters.q).order_by("code"), filters, cap=VENUES_CAP
    )
    return [VenueOut.of(v) for v in rows]


@router.get("/venues/{code}", response=VenueOut, summary="One venue by place code")
@api(Cap.VIEW_VENUES)
def get_venue(request: AuthedRequest, code: str) -> VenueOut:
    return VenueOut.of(selectors.get_venue_for(request.user, code))
