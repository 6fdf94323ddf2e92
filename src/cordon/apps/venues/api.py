from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from cordon.apps.accounts.roles import Cap
from cordon.site.access import api

from . import selectors

router = Router(tags=["venues"])


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


class Page(Schema):
    q: str = ""
    limit: int = 50
    offset: int = 0


def _out(v: Any) -> dict[str, Any]:
    return {
        "id": v.pk,
        "code": v.code,
        "name": v.name,
        "venue_type": v.venue_type,
        "jurisdiction": v.jurisdiction.code,
        "address": v.building.address if v.building_id else None,
        "capacity": v.capacity,
        "sub_areas": list(v.sub_areas),
        "responsible_unit": v.responsible_unit,
        "sector": v.sector.code if v.sector_id else None,
    }


@router.get("/venues", response=list[VenueOut], summary="Search venues in your scope")
@api(Cap.VIEW_VENUES)
def list_venues(request: HttpRequest, page: Query[Page]) -> Any:
    limit = max(1, min(page.limit, 500))
    qs = selectors.search_venues(request.user, page.q).order_by("code")[page.offset : page.offset + limit]
    return [_out(v) for v in qs]


@router.get("/venues/{code}", response=VenueOut, summary="One venue by place code")
@api(Cap.VIEW_VENUES)
def get_venue(request: HttpRequest, code: str) -> Any:
    return _out(selectors.get_venue_for(request.user, code))
