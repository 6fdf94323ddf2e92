"""The persons API: search, a person's record (access-logged), register and change persons."""

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import IndustrySector
from cordon.apps.venues import selectors as venues
from cordon.core import versions
from cordon.core.access import AuthedRequest, api
from cordon.core.actors import Actor
from cordon.core.paging import Paging, page
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound

from . import actions, selectors
from .models import Person

router = Router(tags=["persons"])

PERSONS_CAP = 500
T = TypeVar("T")


class PersonOut(Schema):
    id: int
    name: str
    national_id: str
    sex: str
    birth_date: dt.date | None
    phone: str
    jurisdiction: str
    address: str | None
    household: str | None
    workplace: str
    occupation: str
    sector: str | None
    tags: list[str]
    masked: bool
    version: int = Field(
        description="The record's version: send it back with a change; a stale one gets 409."
    )

    @classmethod
    def of(cls, user: Actor, p: Person, *, listed: bool = False) -> "PersonOut":
        """A person as ``user`` may see them: national ID and phone masked for roles without ``view_pii``, and
        for every role in a list (``listed``)."""
        return cls(
            id=p.pk,
            name=p.name,
            national_id=selectors.national_id_for(user, p, listed=listed),
            sex=p.sex,
            birth_date=p.birth_date,
            phone=selectors.phone_for(user, p, listed=listed),
            jurisdiction=p.jurisdiction.code,
            address=p.home_building.address if p.home_building is not None else None,
            household=p.household.code if p.household is not None else None,
            workplace=p.workplace_name,
            occupation=p.occupation,
            sector=p.sector.code if p.sector is not None else None,
            tags=list(p.tags),
            masked=not selectors.shows_pii(user, listed=listed),
            version=p.version,
        )


class PersonIn(Schema):
    name: str
    national_id: str | None = None
    sex: str | None = None
    birth_date: dt.date | None = None
    phone: str = ""
    jurisdiction: str | None = None
    building: str | None = None
    household: str | None = None
    workplace_venue: str | None = None
    workplace_name: str = ""
    occupation: str = ""
    sector: str | None = None
    tags: list[str] = []


class PersonPatch(Schema):
    name: str | None = None
    national_id: str | None = None
    sex: str | None = None
    birth_date: dt.date | None = None
    phone: str | None = None
    building: str | None = None
    household: str | None = None
    workplace_name: str | None = None
    occupation: str | None = None
    sector: str | None = None
    tags: list[str] | None = None
    version: int | None = Field(
        None,
        description="The record's `version` the caller saw; when given, a record changed since is refused with "
        "409 and its current state, changing nothing. Omitted: no check (for older clients).",
    )


class PersonQuery(Paging):
    q: str = ""


def _resolve(user: Actor, field: str, getter: Callable[[Actor, str], T], key: str | None) -> T | None:
    """Look a reference up through the caller's scope; out of scope reads as unknown."""
    if not key:
        return None
    try:
        return getter(user, key)
    except NotFound:
        raise ValidationError(
            {field: _("Unknown %(field)s: %(key)s.") % {"field": field, "key": key}}
        ) from None


def _sector(user: Actor, code: str) -> IndustrySector:
    return geo.get_sector(code)  # reference data: the same for every user


@router.get(
    "/persons",
    response=list[PersonOut],
    summary="Search persons (name, national ID, phone, address)",
    description=f"Ordered by id; at most {PERSONS_CAP} rows per call (a larger limit is lowered).",
)
@api(Cap.VIEW_PERSONS)
@personal_data()
def list_persons(request: AuthedRequest, filters: Query[PersonQuery]) -> list[PersonOut]:
    qs = selectors.search_persons(request.user, filters.q).select_related("household").order_by("id")
    rows: list[Person] = page(qs, filters, cap=PERSONS_CAP)
    return [PersonOut.of(request.user, p, listed=True) for p in rows]


@router.get(
    "/persons/{int:person_id}", response=PersonOut, summary="A person's record (written to the access log)"
)
@api(Cap.VIEW_PERSONS)
@personal_data()
def get_person(request: AuthedRequest, person_id: int) -> PersonOut:
    return PersonOut.of(request.user, selectors.open_person_record(request.user, person_id, via="api"))


@router.post("/persons", response={201: PersonOut}, summary="Register a person")
@api(Cap.EDIT_PERSONS)
def create_person(request: AuthedRequest, payload: PersonIn) -> Status[PersonOut]:
    user = request.user
    data = actions.PersonData(
        name=payload.name,
        national_id=payload.national_id,
        sex=payload.sex,
        birth_date=payload.birth_date,
        phone=payload.phone,
        jurisdiction=_resolve(user, "jurisdiction", geo.get_jurisdiction_for, payload.jurisdiction),
        home_building=_resolve(user, "building", geo.get_building_for, payload.building),
        household=_resolve(user, "household", selectors.get_household_for, payload.household),
        workplace=_resolve(user, "workplace_venue", venues.get_venue_for, payload.workplace_venue),
        workplace_name=payload.workplace_name,
        occupation=payload.occupation,
        sector=_resolve(user, "sector", _sector, payload.sector),
        tags=payload.tags,
    )
    person = actions.create_person(actor=user, data=data, source="api")
    return Status(201, PersonOut.of(user, person))


@router.patch(
    "/persons/{int:person_id}",
    response={200: PersonOut, 409: versions.ConflictOut},
    summary="Change a person's record (audited)",
)
@api(Cap.EDIT_PERSONS)
def update_person(request: AuthedRequest, person_id: int, payload: PersonPatch) -> PersonOut:
    user = request.user
    person = selectors.get_person_for(user, person_id)
    changes: dict[str, Any] = {}
    for key, value in payload.model_dump(exclude_unset=True, exclude={"version"}).items():
        if key == "building":
            changes["home_building"] = _resolve(user, "building", geo.get_building_for, value)
        elif key == "household":
            changes["household"] = _resolve(user, "household", selectors.get_household_for, value)
        elif key == "sector":
            changes["sector"] = _resolve(user, "sector", _sector, value)
        else:
            changes[key] = (
                value if value is not None else ("" if key in ("phone", "workplace_name") else value)
            )
    with versions.showing(lambda: PersonOut.of(user, selectors.get_person_for(user, person_id))):
        person = actions.update_person(
            actor=user, person=person, changes=changes, version=payload.version, source="api"
        )
    return PersonOut.of(user, person)
