"""Importing persons: national IDs (checked, unique in the file and the register), references to places in the
importer's area, sex, birth date, sector and special groups in either language, checked by people's rules
(``clean_person``); written with ``people.actions.bulk_create_persons``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from cordon.apps.geo import selectors as geo
from cordon.apps.people import actions as people_actions
from cordon.apps.people import selectors as people
from cordon.apps.people.models import Person, SpecialGroup
from cordon.apps.venues import selectors as venues
from cordon.core.actors import Actor
from cordon.engine import identity

from ..kinds import norm
from .rows import (
    Batch,
    Row,
    chunked_lookup,
    date,
    labels,
    not_in_area,
    progress_bar,
    sector_lookup,
    sector_of,
    split,
    taken,
)

_PERSON_FIELD_TO_COLUMN = {
    "home_building": "building",
    "household": "household",
    "workplace": "workplace_venue",
}
_SEX_WORDS = {
    "m": "M",
    "male": "M",
    "男": "M",
    "f": "F",
    "female": "F",
    "女": "F",
    "u": "U",
    "unknown": "U",
    "未知": "U",
}


def _national_ids(batch: Batch) -> dict[int, str]:
    """Each row's national ID (normalized) by row number, reporting repeats inside the file."""
    ids = {
        r.number: identity.normalize(r.values["national_id"])
        for r in batch.rows
        if r.values.get("national_id")
    }
    seen: dict[str, int] = {}
    for row in batch.rows:
        nid = ids.get(row.number)
        if nid:
            if nid in seen:
                batch.problem(
                    row,
                    "national_id",
                    _("the same national ID is already in row %(row)d.") % {"row": seen[nid]},
                )
            seen.setdefault(nid, row.number)
    return ids


def check(actor: Actor, batch: Batch, progress: bool) -> list[dict[str, Any]]:
    """The values of every row (from ``clean_person``), ready for ``bulk_create_persons``; problems go to the
    batch."""
    ids = _national_ids(batch)
    registered = taken(Person, "national_id", set(ids.values()))
    references = {
        "jurisdiction": (
            chunked_lookup(geo.jurisdictions_visible_to(actor), "code", batch.codes("jurisdiction")),
            _("jurisdiction"),
        ),
        "building": (
            chunked_lookup(geo.buildings_visible_to(actor), "code", batch.codes("building")),
            _("building"),
        ),
        "household": (
            chunked_lookup(people.households_visible_to(actor), "code", batch.codes("household")),
            _("household"),
        ),
        "workplace_venue": (
            chunked_lookup(venues.venues_visible_to(actor), "code", batch.codes("workplace_venue")),
            _("venue"),
        ),
    }
    sectors = sector_lookup()
    tags = labels(SpecialGroup)
    today = dt.date.today()
    out: list[dict[str, Any]] = []
    for row in progress_bar(batch, progress, _("Checking persons")):
        v = row.values
        refs: dict[str, Any] = {}
        for key, (table, what) in references.items():
            refs[key] = table.get(v.get(key, ""))
            if v.get(key) and refs[key] is None:
                batch.problem(row, key, not_in_area(what, v[key]))
        data = _person_data(batch, row, ids.get(row.number), refs, sector_of(batch, row, sectors), tags)
        values, errors = people_actions.clean_person(data, today=today)
        _report(batch, row, errors)
        if ids.get(row.number) in registered:
            batch.problem(row, "national_id", _(people_actions.ID_TAKEN))
        out.append(values)
    return out


def _person_data(
    batch: Batch, row: Row, national_id: str | None, refs: dict[str, Any], sector: Any, tags: dict[str, str]
) -> people_actions.PersonData:
    v = row.values
    sex = _SEX_WORDS.get(norm(v.get("sex", "")), v.get("sex") or None)
    tag_values = []
    for word in split(v.get("tags", "")):
        value = tags.get(norm(word))
        tag_values.append(value or word)  # unknown words are reported by clean_person
    return people_actions.PersonData(
        name=v.get("name", ""),
        jurisdiction=refs["jurisdiction"],
        national_id=national_id,
        sex=sex,
        birth_date=date(batch, row, "birth_date", "birth"),
        phone=v.get("phone", ""),
        home_building=refs["building"],
        household=refs["household"],
        workplace=refs["workplace_venue"],
        workplace_name=v.get("workplace_name", ""),
        occupation=v.get("occupation", ""),
        sector=sector,
        tags=tag_values,
    )


def _report(batch: Batch, row: Row, errors: dict[str, str]) -> None:
    """``clean_person``'s refusals under the file's columns, without repeating what is already reported."""
    v = row.values
    for field_name, reason in errors.items():
        column = _PERSON_FIELD_TO_COLUMN.get(field_name, field_name)
        if column == "name" and not v.get("name"):
            continue  # reported as required
        if column == "jurisdiction" and any(v.get(k) for k in ("jurisdiction", "building", "household")):
            continue  # the unresolved reference is already reported
        batch.problem(row, column, reason)


def write(actor: Actor, rows: list[dict[str, Any]], source: str) -> list[Any]:
    return people_actions.bulk_create_persons(actor=actor, rows=rows, source=source)
