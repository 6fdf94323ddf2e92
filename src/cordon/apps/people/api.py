"""The persons API: search, a person's record (access-logged), register and change persons."""

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Building, IndustrySector, Jurisdiction
from cordon.apps.venues import selectors as venues
from cordon.apps.venues.models import Venue
from cordon.core import versions
from cordon.core.access import AuthedRequest, api
from cordon.core.actors import Actor
from cordon.core.inputs import OMITTED, BirthDate, text, words
from cordon.core.paging import Paging, page
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound

from . import actions, selectors
from .models import Household, Person

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


Name = Annotated[str, text(Person, "name")]
NationalId = Annotated[
    str, words()
]  # written with spaces or in lower case at times: normalised, then checked
Sex = Annotated[str, text(Person, "sex")]
Phone = Annotated[str, text(Person, "phone")]
JurisdictionCode = Annotated[str, text(Jurisdiction, "code")]
BuildingCode = Annotated[str, text(Building, "code")]
HouseholdCode = Annotated[str, text(Household, "code")]
VenueCode = Annotated[str, text(Venue, "code")]
WorkplaceName = Annotated[str, text(Person, "workplace_name")]
Occupation = Annotated[str, text(Person, "occupation")]
SectorCode = Annotated[str, text(IndustrySector, "code")]
Tag = Annotated[str, words()]


class PersonIn(Schema):
    name: Name
    national_id: NationalId | None = None
    sex: Sex | None = None
    birth_date: BirthDate | None = None
    phone: Phone = ""
    jurisdiction: JurisdictionCode | None = None
    building: BuildingCode | None = None
    household: HouseholdCode | None = None
    workplace_venue: VenueCode | None = None
    workplace_name: WorkplaceName = ""
    occupation: Occupation = ""
    sector: SectorCode | None = None
    tags: list[Tag] = []


class PersonPatch(Schema):
    """Only the fields given change. ``null`` clears a field that may be empty (national ID, birth date, phone,
    building, household, workplace name, sector); the others refuse it."""

    name: Name = OMITTED
    national_id: NationalId | None = None
    sex: Sex = OMITTED
    birth_date: BirthDate | None = None
    phone: Phone | None = None
    building: BuildingCode | None = None
    household: HouseholdCode | None = None
    workplace_name: WorkplaceName | None = None
    occupation: Occupation = OMITTED
    sector: SectorCode | None = None
    tags: list[Tag] = OMITTED
    version: int | None = Field(
        None,
        description="The record's `version` the caller saw; when given, a record changed since is refused with "
        "409 and its current state, changing nothing. Omitted: no check (for older clients).",
    )


class PersonQuery(Paging):
    q: Annotated[str, words()] = ""


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
