"""Import of the register — jurisdictions, buildings, households, persons and venues — from CSV or XLSX.

All-or-nothing per file: every row is read and checked first (values, references inside the importer's scope,
duplicates inside the file and against the database); if any row has a problem, nothing is written and the
report lists each problem with its row, column and reason. Otherwise the rows are inserted in one transaction
through the owning apps' bulk actions, audited with source ``import``. Reading and checking happen before that
transaction (they write nothing), so that a background job's progress and a cancel request are seen while a
large file is checked; a stop before the write leaves nothing behind.

One module per kind holds its checks (``check``) and its write (``write``); ``rows`` holds the report and the
checks they share. Files are read by ``cordon.core.tables.read_table``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from cordon.apps.geo.models import Building, Jurisdiction
from cordon.apps.people.models import Household, Person
from cordon.apps.venues.models import Venue
from cordon.core.actions import action
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import Scope
from cordon.core.tables import FileProblem, read_table

from ..kinds import KINDS
from . import buildings, households, jurisdictions, persons, venues
from .rows import MAX_REPORTED, Batch, ImportResult, Problem, Report, Row, map_header, text_limits

__all__ = [
    "MAX_REPORTED",
    "SOURCE",
    "ImportResult",
    "Problem",
    "Report",
    "import_file",
    "import_path",
]

SOURCE = "import"

_Checker = Callable[[Actor, Batch, bool], list[dict[str, Any]]]
_Writer = Callable[[Actor, list[dict[str, Any]], str], list[Any]]
_IMPORTERS: dict[str, tuple[_Checker, _Writer]] = {
    "jurisdictions": (jurisdictions.check, jurisdictions.write),
    "buildings": (buildings.check, buildings.write),
    "households": (households.check, households.write),
    "persons": (persons.check, persons.write),
    "venues": (venues.check, venues.write),
}

_MODELS = {
    "jurisdictions": Jurisdiction,
    "buildings": Building,
    "households": Household,
    "persons": Person,
    "venues": Venue,
}


def _too_large() -> str:
    return _("the file is larger than the limit of %(mb).0f MB; split it into smaller files.") % {
        "mb": settings.CORDON_MAX_UPLOAD_BYTES / 1024 / 1024
    }


def _no_report(done: int, total: int | None, note: str) -> None:
    return None


@action(atomic=False)
def import_file(
    *,
    actor: Actor,
    kind: str,
    data: bytes,
    filename: str = "",
    progress: bool = False,
    source: str = SOURCE,
    report: Report | None = None,
) -> ImportResult:
    """Check a whole file and import it, or nothing. Never raises for bad input: problems are in the result.
    Raises ``PermissionDenied`` when the actor may not import. ``report(done, total, note)`` hears how far it
    has got: reading (no total yet), each row checked (of all the rows), then writing (all the rows done);
    whatever it raises stops the import before anything is written."""
    Scope.of(actor).require(Cap.IMPORT)
    tell = report or _no_report
    if kind not in KINDS:
        return ImportResult(
            kind,
            error=_("unknown kind “%(kind)s”; use one of: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(KINDS)},
        )
    spec = KINDS[kind]
    result = ImportResult(kind)
    tell(0, None, _("Reading the file"))
    try:
        header, body = read_table(data, filename)
    except FileProblem as exc:
        result.error = str(exc)
        return result
    positions, names, header_problems = map_header(spec, header)
    result.rows = len(body)
    if header_problems:
        result.problems = header_problems
        return result
    rows = [
        Row(number, {c.key: (cells[i].strip() if i < len(cells) else "") for i, c in positions.items()})
        for number, cells in body
    ]
    batch = Batch(spec, names, rows, report)
    tell(0, len(rows), _("Checking %(count)d rows") % {"count": len(rows)})
    for row in rows:
        for column in spec.columns:
            if column.required and not row.values.get(column.key):
                batch.problem(row, column.key, _("a value is required."))
    text_limits(batch, _MODELS[kind])
    check, write = _IMPORTERS[kind]
    values = check(actor, batch, progress)
    if batch.problems:
        result.problems = sorted(batch.problems, key=lambda p: p.row)
        return result
    tell(len(rows), len(rows), _("Writing %(count)d rows") % {"count": len(values)})
    try:
        # All the rows or none; a refusal is reported, and a caller's transaction goes on.
        with transaction.atomic():
            result.created = len(write(actor, values, source))
    except DatabaseError as exc:
        result.error = _("the database refused the rows (%(reason)s); nothing was imported.") % {
            "reason": exc
        }
    return result


@action
def import_path(
    *, actor: Actor, kind: str, path: Path, progress: bool = False, source: str = SOURCE
) -> ImportResult:
    """``import_file`` of a file on disk (the command line), refusing an oversized file before reading it."""
    if path.stat().st_size > settings.CORDON_MAX_UPLOAD_BYTES:
        return ImportResult(kind, error=_too_large())
    return import_file(
        actor=actor, kind=kind, data=path.read_bytes(), filename=path.name, progress=progress, source=source
    )
