import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from cordon.apps.accounts.roles import Cap
from cordon.apps.accounts.scoping import NotFound
from cordon.apps.geo import selectors as geo
from cordon.apps.venues import selectors as venues
from cordon.site.access import api

from . import actions, selectors

router = Router(tags=["persons"])


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


class Page(Schema):
    q: str = ""
    limit: int = 50
    offset: int = 0


def _out(user: Any, p: Any) -> dict[str, Any]:
    return {
        "id": p.pk,
        "name": p.name,
        "national_id": selectors.national_id_for(user, p),
        "sex": p.sex,
        "birth_date": p.birth_date,
        "phone": selectors.phone_for(user, p),
        "jurisdiction": p.jurisdiction.code,
        "address": p.home_building.address if p.home_building_id else None,
        "household": p.household.code if p.household_id else None,
        "workplace": p.workplace_name,
        "occupation": p.occupation,
        "sector": p.sector.code if p.sector_id else None,
        "tags": list(p.tags),
        "masked": not selectors.shows_pii(user),
    }


def _resolve(user: Any, field: str, getter: Any, key: str | None) -> Any:
    """Look a reference up through the caller's scope; out of scope reads as unknown."""
    if not key:
        return None
    try:
        return getter(user, key)
    except NotFound:
        raise ValidationError(
            {field: _("Unknown %(field)s: %(key)s.") % {"field": field, "key": key}}
        ) from None


def _household(user: Any, code: str) -> Any:
    try:
        return selectors.households_visible_to(user).get(code=code)
    except Exception:
        raise NotFound from None


def _sector(user: Any, code: str) -> Any:
    try:
        return geo.sectors().get(code=code)
    except Exception:
        raise NotFound from None


@router.get(
    "/persons", response=list[PersonOut], summary="Search persons (name, national ID, phone, address)"
)
@api(Cap.VIEW_PERSONS)
def list_persons(request: HttpRequest, page: Query[Page]) -> Any:
    limit = max(1, min(page.limit, 500))
    qs = selectors.search_persons(request.user, page.q).select_related("household")
    return [_out(request.user, p) for p in qs.order_by("id")[page.offset : page.offset + limit]]


@router.get(
    "/persons/{int:person_id}", response=PersonOut, summary="A person's record (written to the access log)"
)
@api(Cap.VIEW_PERSONS)
def get_person(request: HttpRequest, person_id: int) -> Any:
    return _out(request.user, selectors.open_person_record(request.user, person_id, via="api"))


@router.post("/persons", response={201: PersonOut}, summary="Register a person")
@api(Cap.EDIT_PERSONS)
def create_person(request: HttpRequest, payload: PersonIn) -> Any:
    user = request.user
    data = actions.PersonData(
        name=payload.name,
        national_id=payload.national_id,
        sex=payload.sex,
        birth_date=payload.birth_date,
        phone=payload.phone,
        jurisdiction=_resolve(user, "jurisdiction", geo.get_jurisdiction_for, payload.jurisdiction),
        home_building=_resolve(user, "building", geo.get_building_for, payload.building),
        household=_resolve(user, "household", _household, payload.household),
        workplace=_resolve(user, "workplace_venue", venues.get_venue_for, payload.workplace_venue),
        workplace_name=payload.workplace_name,
        occupation=payload.occupation,
        sector=_resolve(user, "sector", _sector, payload.sector),
        tags=payload.tags,
    )
    person = actions.create_person(actor=user, data=data, source="api")
    return Status(201, _out(user, person))


@router.patch("/persons/{int:person_id}", response=PersonOut, summary="Change a person's record (audited)")
@api(Cap.EDIT_PERSONS)
def update_person(request: HttpRequest, person_id: int, payload: PersonPatch) -> Any:
    user = request.user
    person = selectors.get_person_for(user, person_id)
    given = payload.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    for key, value in given.items():
        if key == "building":
            changes["home_building"] = _resolve(user, "building", geo.get_building_for, value)
        elif key == "household":
            changes["household"] = _resolve(user, "household", _household, value)
        elif key == "sector":
            changes["sector"] = _resolve(user, "sector", _sector, value)
        else:
            changes[key] = (
                value if value is not None else ("" if key in ("phone", "workplace_name") else value)
            )
    person = actions.update_person(actor=user, person=person, changes=changes, source="api")
    return _out(user, person)
