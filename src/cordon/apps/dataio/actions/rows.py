"""The rows of an import file and what is wrong with them: the report (``ImportResult``, ``Problem``), the rows
with the header they were written under (``Batch``), and the checks every kind shares (references in the
importer's area, duplicates in the file and in the register, numbers, dates, lists, choice labels)."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import IndustrySector
from cordon.core import inputs

from ..kinds import KINDS, Column, Kind, header_lookup, norm

MAX_REPORTED = 200  # problems listed in a report; the total is always given


# --- The report ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    row: int  # spreadsheet row number: the header is row 1
    column: str  # the column's header as written in the file ("" for the whole row)
    reason: str


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    problems: list[Problem] = field(default_factory=list)
    error: str = ""  # a problem with the whole file

    @property
    def ok(self) -> bool:
        return not self.error and not self.problems

    @property
    def shown_problems(self) -> list[Problem]:
        return self.problems[:MAX_REPORTED]

    def describe(self) -> str:
        if self.error:
            return _("Nothing was imported: %(reason)s") % {"reason": self.error}
        if self.problems:
            lines = [
                _("Nothing was imported: %(count)d problem(s) in %(rows)d row(s).")
                % {"count": len(self.problems), "rows": self.rows}
            ]
            for p in self.shown_problems:
                lines.append(
                    _("row %(row)d, column %(column)s: %(reason)s")
                    % {"row": p.row, "column": p.column or "-", "reason": p.reason}
                )
            if len(self.problems) > MAX_REPORTED:
                lines.append(_("... and %(count)d more.") % {"count": len(self.problems) - MAX_REPORTED})
            return "\n".join(lines)
        return _("Imported %(count)d %(kind)s.") % {"count": self.created, "kind": KINDS[self.kind].label}

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "detail": self.describe().splitlines()[0],
            "problem_count": len(self.problems),
            "problems": [{"row": p.row, "column": p.column, "reason": p.reason} for p in self.shown_problems],
        }


# --- The rows of a file --------------------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    values: dict[str, str]


# How far an import has got: (done, total, what it is doing); a background job's ``progress``.
Report = Callable[[int, int | None, str], None]


class Batch:
    """The rows of one file with the header they were written under, collecting problems; ``report`` hears
    how many rows have been checked (see ``progress_bar``)."""

    def __init__(
        self, kind: Kind, headers: dict[str, str], rows: list[Row], report: Report | None = None
    ) -> None:
        self.kind, self.headers, self.rows, self.report = kind, headers, rows, report
        self.problems: list[Problem] = []

    def problem(self, row: Row, key: str, reason: str) -> None:
        header = self.headers.get(key) or next((c.header() for c in self.kind.columns if c.key == key), key)
        self.problems.append(Problem(row.number, header, reason))

    def codes(self, key: str) -> set[str]:
        return {r.values[key] for r in self.rows if r.values.get(key)}


def map_header(kind: Kind, header: list[str]) -> tuple[dict[int, Column], dict[str, str], list[Problem]]:
    """The column at each position, the header each column was written under, and the header's problems
    (unknown or repeated columns, required columns missing)."""
    lookup = header_lookup(kind)
    positions: dict[int, Column] = {}
    names: dict[str, str] = {}
    problems: list[Problem] = []
    for index, text in enumerate(header):
        if not text:
            continue
        column = lookup.get(norm(text))
        if column is None:
            problems.append(Problem(1, text, _("unknown column.")))
        elif column.key in names:
            problems.append(Problem(1, text, _("this column appears twice.")))
        else:
            positions[index], names[column.key] = column, text
    for column in kind.columns:
        if column.required and column.key not in names:
            problems.append(
                Problem(
                    1,
                    column.header(),
                    _("required column is missing (“%(zh)s” or “%(en)s”).")
                    % {"zh": column.zh, "en": column.en},
                )
            )
    return positions, names, problems


def progress_bar(batch: Batch, enabled: bool, what: str) -> Iterable[Row]:
    """The batch's rows, each reported before it is checked: to the batch's ``report`` (a job's progress) when
    it has one, else on a terminal's progress bar when ``enabled`` (the command line)."""
    if batch.report is not None:
        return _reported(batch.rows, batch.report, what)
    if not enabled:
        return batch.rows
    from tqdm import tqdm

    return tqdm(batch.rows, desc=what, unit="row", file=sys.stderr)


def _reported(rows: list[Row], report: Report, what: str) -> Iterator[Row]:
    for done, row in enumerate(rows):
        report(done, len(rows), what)
        yield row


# --- References and duplicates -------------------------------------------------------------------------------


def chunked_lookup(qs: QuerySet[Any], field_name: str, keys: Iterable[str]) -> dict[str, Any]:
    """The records of ``qs`` whose ``field_name`` is one of ``keys``, by that value (500 keys a query)."""
    keys = list(keys)
    found: dict[str, Any] = {}
    for start in range(0, len(keys), 500):
        for obj in qs.filter(**{f"{field_name}__in": keys[start : start + 500]}):
            found[getattr(obj, field_name)] = obj
    return found


def not_in_area(what: str, code: str) -> str:
    # The same words whether the record is missing or outside the importer's scope.
    return _("no %(what)s with code “%(code)s” in your area.") % {"what": what, "code": code}


def taken(model: type[models.Model], field_name: str, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` the register already uses (anywhere: codes and national IDs are unique city-wide)."""
    return set(chunked_lookup(model._default_manager.all(), field_name, keys))


def duplicates_in_file(batch: Batch, key: str) -> None:
    seen: dict[str, int] = {}
    for row in batch.rows:
        value = row.values.get(key)
        if not value:
            continue
        if value in seen:
            batch.problem(row, key, _("the same value is already in row %(row)d.") % {"row": seen[value]})
        else:
            seen[value] = row.number


def already_used(batch: Batch, model: type[models.Model], key: str, field_name: str = "code") -> None:
    used = taken(model, field_name, batch.codes(key))
    for row in batch.rows:
        if row.values.get(key) in used:
            batch.problem(row, key, _("already registered; import only adds new records."))


# --- Values --------------------------------------------------------------------------------------------------


def labels(choices: Any) -> dict[str, str]:
    """Value lookup accepting the stored value and the label in both languages."""
    lookup: dict[str, str] = {}
    for value, label in choices.choices:
        lookup[norm(str(value))] = value
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                lookup[norm(str(label))] = value
    return lookup


def sector_lookup() -> dict[str, IndustrySector]:
    lookup: dict[str, IndustrySector] = {}
    for sector in geo.sectors():
        for name in (sector.code, sector.name, sector.name_en):
            if name:
                lookup[norm(name)] = sector
    return lookup


def sector_of(batch: Batch, row: Row, sectors: dict[str, IndustrySector]) -> IndustrySector | None:
    """The row's industry sector (code or name), reporting an unknown one."""
    text = row.values.get("sector", "")
    if not text:
        return None
    sector = sectors.get(norm(text))
    if sector is None:
        batch.problem(row, "sector", _("unknown industry sector “%(sector)s”.") % {"sector": text})
    return sector


def number(batch: Batch, row: Row, key: str) -> float | None:
    text = row.values.get(key, "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        batch.problem(row, key, _("not a number."))
        return None


def split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;；,，、|]+", text) if part.strip()]


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def date(batch: Batch, row: Row, key: str, kind: str = "event") -> dt.date | None:
    """The row's date in ``key``, reporting one that cannot be read or is not plausible (``core.inputs``: a
    ``kind`` of "event" or "birth")."""
    text = row.values.get(key, "")
    if not text:
        return None
    for fmt in _DATE_FORMATS:
        try:
            day = dt.datetime.strptime(text.split(" ")[0], fmt).date()
        except ValueError:
            continue
        if problem := inputs.date_problem(day, kind):
            batch.problem(row, key, problem)
            return None
        return day
    batch.problem(row, key, _("not a date; write it as YYYY-MM-DD."))
    return None


# --- Text ----------------------------------------------------------------------------------------------------

# A column named otherwise than the model field it fills (a reference is checked against the code it names).
_FIELD_OF_COLUMN = {"building": "home_building", "workplace_venue": "workplace"}


def _stored_in(model: type[models.Model], key: str) -> tuple[type[models.Model], str] | None:
    """The model field a column's text is stored in, or looked up by (a reference: the related model's code);
    None for a column parsed into something else (a level, a number, a list)."""
    for name in (key, _FIELD_OF_COLUMN.get(key, key)):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if field.is_relation and field.related_model is not None:
            related: type[models.Model] = field.related_model  # type: ignore[assignment]
            return related, "code"
        if isinstance(field, models.CharField | models.TextField):
            return model, name
    return None


def text_limits(batch: Batch, model: type[models.Model]) -> None:
    """Report every cell too long for the field it is stored in, or holding a NUL character: the rule of the
    API's schemas (``core.inputs``), so nothing is cut short in the database."""
    targets = {c.key: t for c in batch.kind.columns if (t := _stored_in(model, c.key)) is not None}
    for row in batch.rows:
        for key, (target, name) in targets.items():
            value = row.values.get(key, "")
            if value and (problem := inputs.text_problem(target, name, value)):
                batch.problem(row, key, problem)
