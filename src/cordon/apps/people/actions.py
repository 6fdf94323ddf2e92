"""Every write to households and persons goes through here (one ``@action`` each: one transaction, audited)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import Building, IndustrySector, Jurisdiction
from cordon.apps.venues.models import Venue
from cordon.core import versions
from cordon.core.actions import action
from cordon.core.actors import Actor
from cordon.engine import identity

from .models import Household, Person, Sex, SpecialGroup, search_keys

_PHONE = re.compile(r"^\+?[0-9][0-9-]{4,18}$")


@dataclass
class PersonData:
    """The fields of a person as entered (page, API, import), before they are checked."""

    name: str
    jurisdiction: Jurisdiction | None = None
    national_id: str | None = None
    sex: str | None = None
    birth_date: dt.date | None = None
    phone: str = ""
    home_building: Building | None = None
    household: Household | None = None
    workplace: Venue | None = None
    workplace_name: str = ""
    work_unit: str = ""
    occupation: str = ""
    sector: IndustrySector | None = None
    tags: Sequence[str] = field(default_factory=list)


def clean_person(data: PersonData, *, today: dt.date | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Check and normalise a person's fields. Returns (model field values, field errors). Does not look at
    other persons (uniqueness is checked by the callers, which know about the rest of their batch)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = _("A name is required.")
    values["name"] = name[:100]

    national_id = identity.normalize(data.national_id) if data.national_id else None
    parsed: identity.NationalId | None = None
    if national_id:
        try:
            parsed = identity.parse(national_id, today=today)
        except identity.NationalIdError as exc:
            errors["national_id"] = _("Invalid national ID: %(reason)s.") % {"reason": _id_reason(exc.code)}
    values["national_id"] = national_id or None

    sex = (data.sex or "").strip().upper() or None
    if sex is not None and sex not in Sex.values:
        errors["sex"] = _("Sex must be M, F or U.")
    if parsed is not None:
        if sex in ("M", "F") and sex != parsed.sex:
            errors["sex"] = _("Sex does not match the national ID.")
        sex = sex or parsed.sex
    values["sex"] = sex or Sex.UNKNOWN

    birth = data.birth_date
    if parsed is not None:
        if birth is not None and birth != parsed.birth_date:
            errors["birth_date"] = _("Birth date does not match the national ID.")
        birth = birth or parsed.birth_date
    if birth is not None and birth > (today or dt.date.today()):
        errors["birth_date"] = _("Birth date is in the future.")
    values["birth_date"] = birth

    phone = (data.phone or "").strip()
    if phone and not _PHONE.match(phone):
        errors["phone"] = _("A phone number has 5 to 19 digits.")
    values["phone"] = phone
    values["national_id_rev"], values["phone_rev"] = search_keys(values["national_id"], phone)

    building, household = data.home_building, data.household
    if household is not None:
        if building is None:
            building = household.building
        elif household.building_id != building.pk:
            errors["household"] = _("The household is not in the home building.")
    values["home_building"], values["household"] = building, household

    jurisdiction = data.jurisdiction
    if building is not None:
        if jurisdiction is not None and not jurisdiction.contains(building.jurisdiction):
            errors["home_building"] = _("The home building is outside the given jurisdiction.")
        jurisdiction = building.jurisdiction
    if jurisdiction is None:
        errors.setdefault("jurisdiction", _("A jurisdiction or a home building is required."))
    values["jurisdiction"] = jurisdiction

    tags = [t.strip() for t in data.tags if t and t.strip()]
    unknown = [t for t in tags if t not in SpecialGroup.values]
    if unknown:
        errors["tags"] = _("Unknown special group: %(tags)s.") % {"tags": ", ".join(unknown)}
    values["tags"] = sorted(set(tags))
    values["workplace"] = data.workplace
    values["workplace_name"] = (
        data.workplace_name or (data.workplace.name if data.workplace else "")
    ).strip()[:200]
    values["work_unit"] = (data.work_unit or "").strip()[:100]
    values["occupation"] = (data.occupation or "").strip()[:100]
    values["sector"] = data.sector
    return values, errors


def _id_reason(code: str) -> str:
    return {
        "length": _("it must have 18 characters"),
        "format": _("it must be 17 digits and a digit or X"),
        "area": _("the area code is not valid"),
        "birth_date": _("the birth date in it is not valid"),
        "checksum": _("the check character is wrong"),
    }.get(code, code)


def _id_taken(national_id: str | None, exclude_pk: int | None = None) -> bool:
    if not national_id:
        return False
    qs = Person.objects.filter(national_id=national_id)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


DERIVED_KEYS = ("national_id_rev", "phone_rev")  # set by clean_person from the ID and the phone
ID_TAKEN = gettext_noop("A person with this national ID is already registered.")


@action
def create_person(*, actor: Actor | None, data: PersonData, source: str = "web") -> Person:
    values, errors = clean_person(data)
    if "national_id" not in errors and _id_taken(values["national_id"]):
        errors["national_id"] = _(ID_TAKEN)
    if errors:
        raise ValidationError(errors)
    return audit.create(actor, Person, source=source, **values)


@action
def update_person(
    *,
    actor: Actor | None,
    person: Person,
    changes: dict[str, Any],
    version: int | None = None,
    source: str = "web",
) -> Person:
    """Apply ``changes`` (PersonData field names) to ``person`` and record old -> new values. ``version``: the
    version of the record the editor saw; a record changed since refuses the edit (``versions.Conflict``)."""
    versions.check(person, version)
    known = {f.name for f in fields(PersonData)}
    unknown = set(changes) - known
    if unknown:
        raise ValidationError({k: _("Unknown field.") for k in unknown})
    current = PersonData(**{f: getattr(person, f) for f in known})
    for key, value in changes.items():
        setattr(current, key, value)
    if "home_building" in changes and "jurisdiction" not in changes:
        current.jurisdiction = None  # follow the new building
    values, errors = clean_person(current)
    if "national_id" not in errors and _id_taken(values["national_id"], exclude_pk=person.pk):
        errors["national_id"] = _(ID_TAKEN)
    if errors:
        raise ValidationError(errors)
    # The search keys follow the national ID and the phone: write them only when they change, so an edit that
    # changes nothing writes nothing (and one that changes the ID or phone writes its keys with it).
    for key in DERIVED_KEYS:
        if values[key] == getattr(person, key):
            del values[key]
    audit.change(actor, person, source=source, expected_version=version, **values)
    return person


@action
def delete_person(*, actor: Actor | None, person: Person, source: str = "web") -> None:
    audit.delete(actor, person, source=source)


@action
def create_household(
    *, actor: Actor | None, code: str, building: Building, unit: str = "", source: str = "web"
) -> Household:
    code = code.strip()
    if not code:
        raise ValidationError({"code": _("A code is required.")})
    if Household.objects.filter(code=code).exists():
        raise ValidationError({"code": _("This code is already used.")})
    return audit.create(actor, Household, source=source, code=code, building=building, unit=unit.strip())


@action
def bulk_create_persons(*, actor: Actor | None, rows: Iterable[dict[str, Any]], source: str) -> list[Person]:
    """Insert already-cleaned person values (from ``clean_person``) in bulk, with one audit row each (imports
    are all-or-nothing per file: the import holds the outer transaction)."""
    persons = Person.objects.bulk_create([Person(**values) for values in rows], batch_size=1000)
    if persons and persons[0].pk is None:  # backends that do not return ids
        raise RuntimeError("bulk insert did not return primary keys")
    audit.record_bulk_create(actor, persons, source=source)
    return persons


@action
def bulk_create_households(
    *, actor: Actor | None, rows: Iterable[dict[str, Any]], source: str
) -> list[Household]:
    """Insert already-checked households (code, building, unit) in bulk, one audit row each. The caller holds
    the transaction."""
    households = Household.objects.bulk_create([Household(**values) for values in rows], batch_size=1000)
    audit.record_bulk_create(actor, households, source=source)
    return households
