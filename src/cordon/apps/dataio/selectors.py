"""Export of the register as CSV or XLSX (a job's, ``hooks.py``, or ``cordon export``'s): through the same
scoped selectors as the pages, with national IDs and phones masked for roles without ``view_pii``; every export
that contains persons is access-logged in one row."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Level
from cordon.apps.people import selectors as people
from cordon.apps.people.models import Sex, SpecialGroup
from cordon.apps.venues import selectors as venues
from cordon.core import reads, tables
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import Scope

from .kinds import FORMATS, KINDS, Column, Kind, headers

__all__ = [
    "FORMATS",
    "KINDS",
    "Column",
    "ExportError",
    "Kind",
    "export_filename",
    "export_to",
    "headers",
    "template_csv",
    "write_export",
]

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ExportError(Exception):
    pass


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _code(obj: Any) -> str:
    return obj.code if obj is not None else ""


# --- One table per kind: (scoped queryset, row of a record, whether it shows personal data) -----------------

Table = tuple[QuerySet[Any], Callable[[Any], list[Any]], bool]


def _jurisdictions(user: Actor) -> Table:
    qs = geo.jurisdictions_visible_to(user).select_related("parent").order_by("path")
    return qs, lambda j: [j.code, j.name, j.name_en, _label(Level, j.level), _code(j.parent)], False


def _buildings(user: Actor) -> Table:
    def row(b: Any) -> list[Any]:
        footprint = json.dumps(b.footprint) if b.footprint else ""
        return [b.code, b.address, b.jurisdiction.code, b.latitude, b.longitude, footprint]

    return geo.buildings_visible_to(user).order_by("code"), row, False


def _households(user: Actor) -> Table:
    return (
        people.households_visible_to(user).order_by("code"),
        lambda h: [h.code, h.building.code, h.unit],
        False,
    )


def _persons(user: Actor) -> Table:
    def row(p: Any) -> list[Any]:
        return [
            p.name,
            people.national_id_for(user, p),
            _label(Sex, p.sex),
            p.birth_date.isoformat() if p.birth_date else "",
            people.phone_for(user, p),
            p.jurisdiction.code,
            _code(p.home_building),
            _code(p.household),
            _code(p.workplace),
            p.workplace_name,
            p.occupation,
            _code(p.sector),
            "; ".join(_label(SpecialGroup, t) for t in p.tags),
        ]

    qs = people.persons_visible_to(user).select_related("household", "workplace").order_by("pk")
    return qs, row, people.shows_pii(user)


def _venues(user: Actor) -> Table:
    def row(v: Any) -> list[Any]:
        return [
            v.code,
            v.name,
            v.venue_type,
            v.jurisdiction.code,
            _code(v.building),
            v.capacity if v.capacity is not None else "",
            "; ".join(v.sub_areas),
            v.responsible_unit,
            _code(v.sector),
        ]

    return venues.venues_visible_to(user).order_by("code"), row, False


_TABLES: dict[str, Callable[[Actor], Table]] = {
    "jurisdictions": _jurisdictions,
    "buildings": _buildings,
    "households": _households,
    "persons": _persons,
    "venues": _venues,
}


def _table(user: Actor, kind: str) -> Table:
    if kind not in _TABLES:
        raise ExportError(
            _("unknown kind “%(kind)s”; use one of: %(kinds)s.") % {"kind": kind, "kinds": ", ".join(KINDS)}
        )
    return _TABLES[kind](user)


# --- Writing -------------------------------------------------------------------------------------------------


def write_export(
    user: Actor,
    kind: str,
    fmt: str,
    out: IO[bytes],
    *,
    progress: bool = False,
    report: Callable[[int, int], None] | None = None,
) -> int:
    """Write ``kind`` in the user's scope to ``out`` as CSV (UTF-8 with BOM, for Excel) or XLSX. Returns the
    number of rows. Raises PermissionDenied without the export capability and ExportError on a bad request.
    The persons written are access-logged in one row: the request's (``cordon.core.reads``) when the export is
    a download, else one of its own (an export job, the command line). ``report(done, total)`` is told each row
    written (a job's progress)."""
    scope = Scope.of(user)
    scope.require(Cap.EXPORT)
    if fmt not in FORMATS:
        raise ExportError(_("unknown format “%(fmt)s”; use csv or xlsx.") % {"fmt": fmt})
    qs, to_row, _unmasked = _table(user, kind)
    total = qs.count()
    items: Iterator[Any] = qs.iterator(chunk_size=2000)
    if progress:
        from tqdm import tqdm

        items = iter(tqdm(items, total=total, desc=str(KINDS[kind].label), unit="row", file=sys.stderr))
    rows: Iterable[list[Any]] = (to_row(obj) for obj in items)
    if report is not None:
        rows = _reported(rows, total, report)
    logging = (
        contextlib.nullcontext()
        if reads.active()
        else reads.reading(user, via="export", route=f"export:{kind}.{fmt}", query=f"{kind}.{fmt}")
    )
    with logging:
        return _write_csv(out, kind, rows) if fmt == "csv" else _write_xlsx(out, kind, rows)


def _reported(
    rows: Iterable[list[Any]], total: int, report: Callable[[int, int], None]
) -> Iterator[list[Any]]:
    report(0, total)
    for done, row in enumerate(rows, 1):
        yield row
        report(done, total)


def _write_csv(out: IO[bytes], kind: str, rows: Iterable[Sequence[Any]]) -> int:
    return tables.write_csv(out, headers(kind), rows)


def _write_xlsx(out: IO[bytes], kind: str, rows: Iterable[Sequence[Any]]) -> int:
    return tables.write_xlsx(out, kind, headers(kind), rows)


def export_filename(kind: str, fmt: str) -> str:
    return f"cordon-{kind}-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"


def export_to(user: Actor, kind: str, fmt: str, out: Path | None, *, progress: bool = False) -> int:
    """The command line's export: to a file, or as CSV to standard output."""
    try:
        if out is None:
            if fmt != "csv":
                raise ExportError(_("XLSX goes to a file: give --out FILE.xlsx."))
            return write_export(user, kind, fmt, sys.stdout.buffer, progress=False)
        tmp = out.with_name(out.name + ".part")
        try:
            with tmp.open("wb") as fh:
                count = write_export(user, kind, fmt, fh, progress=progress)
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
        return count
    except PermissionDenied as exc:
        raise ExportError(str(exc) or _("Your role does not allow this.")) from None


def template_csv(kind: str) -> bytes:
    """An empty import template: the header row in the active language."""
    buffer = io.BytesIO()
    _write_csv(buffer, kind, [])
    return buffer.getvalue()
