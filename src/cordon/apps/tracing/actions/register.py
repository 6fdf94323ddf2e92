"""The register as tracing reads it: plain rows (id, household, workplace, work unit, residence) of the persons
a trace involves, not model instances, and the district of each residence."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from django.db import connection

from cordon.apps.geo.models import Jurisdiction
from cordon.apps.people.models import Person
from cordon.engine import tracing as engine


def chunks(values: list[int], size: int = 5000) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


# A register row as tracing needs it: id, household, workplace, work unit, residence (jurisdiction).
_PersonRow = tuple[int, int | None, int | None, str, int]
_PERSON_FIELDS = ("pk", "household_id", "workplace_id", "work_unit", "jurisdiction_id")


def _person_rows(where: str, values: list[Any]) -> list[_PersonRow]:
    """Register rows by ids (``where="id"``), by households (``"household"``) or by (workplace, work unit) pairs
    (``"unit"``). On PostgreSQL one query with arrays (``= ANY``, ``unnest``): the thousands of ``IN``
    placeholders of a large case cost more to build than to run; elsewhere ``IN`` lists in chunks."""
    if not values:
        return []
    if connection.vendor == "postgresql":
        table = Person._meta.db_table
        cols = "p.id, p.household_id, p.workplace_id, p.work_unit, p.jurisdiction_id"
        if where == "unit":
            sql = (
                f"SELECT {cols} FROM {table} p JOIN unnest(%s::bigint[], %s::text[]) AS u(w, n) "
                "ON p.workplace_id = u.w AND p.work_unit = u.n ORDER BY p.id"
            )
            params: list[Any] = [[w for w, _n in values], [n for _w, n in values]]
        else:
            column = "household_id" if where == "household" else "id"
            sql = f"SELECT {cols} FROM {table} p WHERE p.{column} = ANY(%s) ORDER BY p.id"
            params = [values]
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    out: list[_PersonRow] = []
    if where == "unit":
        units = set(values)
        for part in chunks(sorted({w for w, _n in units})):
            rows = (
                Person.objects.filter(workplace_id__in=part)
                .exclude(work_unit="")
                .values_list(*_PERSON_FIELDS)
            )
            out += [r for r in rows if (r[2], r[3]) in units]
        return out
    lookup = "household_id__in" if where == "household" else "pk__in"
    for part in chunks(values):
        out += Person.objects.filter(**{lookup: part}).values_list(*_PERSON_FIELDS)
    return out


def read_register(person_ids: Iterable[int]) -> tuple[engine.Register, dict[int, int]]:
    """Households and work units of the given persons and of everyone sharing one with them (plain rows, not
    model instances: a large case's close contacts bring a hundred thousand household and unit members), and
    the residence (jurisdiction id) of everyone read, so that the contacts found need no second lookup."""
    found: dict[int, tuple[int | None, int | None, str]] = {}
    residence: dict[int, int] = {}

    def add(rows: list[_PersonRow]) -> None:
        for pk, hh, w, u, j in rows:
            found[pk] = (hh, w, u)
            residence[pk] = j

    add(_person_rows("id", sorted(set(person_ids))))
    households = {hh for hh, _w, _u in found.values() if hh}
    units = {(w, u) for _hh, w, u in found.values() if w and u}
    add(_person_rows("household", sorted(households)))
    add(_person_rows("unit", sorted(units)))
    unit_ids: dict[tuple[int, str], int] = {}
    pid = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
    hh = np.fromiter((h or -1 for h, _w, _u in found.values()), dtype=np.int64, count=len(found))
    unit = np.fromiter(
        (unit_ids.setdefault((w, u), len(unit_ids)) if w and u else -1 for _h, w, u in found.values()),
        dtype=np.int64,
        count=len(found),
    )
    return engine.Register(person_id=pid, household_id=hh, unit_id=unit), residence


def residence_of(person_ids: list[int], known: dict[int, int]) -> dict[int, int]:
    """The residence (jurisdiction id) of each of the persons still in the register: from ``known`` (the
    register read for tracing: the close and secondary contacts), one lookup for the others (the risk-venue
    visitors)."""
    out = {p: known[p] for p in person_ids if p in known}
    missing = [p for p in person_ids if p not in known]
    out.update((pk, j) for pk, _hh, _w, _u, j in _person_rows("id", missing))
    return out


def districts_of(jurisdiction_ids: set[int]) -> dict[int, int]:
    """The district of each jurisdiction id (by path: one query for all of them)."""
    paths = dict(Jurisdiction.objects.filter(pk__in=list(jurisdiction_ids)).values_list("pk", "path"))
    codes = {pk: [c for c in path.split("/") if c] for pk, path in paths.items()}
    district_pk = dict(
        Jurisdiction.objects.filter(code__in={c[1] for c in codes.values() if len(c) > 2}).values_list(
            "code", "pk"
        )
    )
    return {pk: district_pk[c[1]] if len(c) > 2 else pk for pk, c in codes.items()}
