"""Import and export of the register — jurisdictions, buildings, households, persons and venues — as CSV or XLSX.

Import is all-or-nothing per file: every row is read and checked first (values, references inside the
importer's scope, duplicates inside the file and against the database); if any row has a problem, nothing is
written and the report lists each problem with its row, column and reason. Otherwise the rows are inserted in
one transaction through the owning apps' bulk actions, audited with source ``import``.

Export goes through the same scoped selectors as the pages, masks national IDs and phones for roles without
``view_pii`` and writes an access-log entry per person when it does not mask.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cordon.apps.accounts.roles import Cap
from cordon.apps.accounts.scoping import Scope
from cordon.apps.audit import actions as audit
from cordon.apps.geo import actions as geo_actions
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Building, IndustrySector, Jurisdiction, Level
from cordon.apps.people import actions as people_actions
from cordon.apps.people import selectors as people
from cordon.apps.people.models import Household, Person, Sex, SpecialGroup
from cordon.apps.venues import actions as venue_actions
from cordon.apps.venues import selectors as venues
from cordon.apps.venues.models import Venue, VenueType
from cordon.engine import identity

SOURCE = "import"
MAX_REPORTED = 200  # problems listed in a report; the total is always given
FORMATS = ("csv", "xlsx")


# --------------------------------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool = False
    help: Promise | str = ""

    def header(self, language: str | None = None) -> str:
        lang = language or translation.get_language() or "zh-hans"
        return self.zh if lang.lower().startswith("zh") else self.en


@dataclass(frozen=True)
class Kind:
    key: str
    label: Promise | str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


_JUR = Column(
    "jurisdiction", "所属辖区编码", "jurisdiction code", help=gettext_lazy("Code of a node in your area.")
)
_SECTOR = Column("sector", "行业", "sector", help=gettext_lazy("Industry sector code or name."))

KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        Kind(
            "jurisdictions",
            gettext_lazy("Jurisdictions"),
            (
                Column(
                    "code", "编码", "code", True, gettext_lazy("Unique code, e.g. the administrative code.")
                ),
                Column("name", "名称", "name", True),
                Column("name_en", "英文名称", "English name"),
                Column(
                    "level",
                    "层级",
                    "level",
                    True,
                    gettext_lazy("city, district, street, community or grid (or 1 to 5)."),
                ),
                Column(
                    "parent",
                    "上级编码",
                    "parent code",
                    help=gettext_lazy("Code of the parent node, in your area or earlier in this file."),
                ),
            ),
        ),
        Kind(
            "buildings",
            gettext_lazy("Buildings"),
            (
                Column("code", "楼栋编码", "building code", True),
                Column("address", "地址", "address", True),
                Column(
                    "jurisdiction",
                    "所属辖区编码",
                    "jurisdiction code",
                    True,
                    gettext_lazy("Code of the grid or community the building is in."),
                ),
                Column("latitude", "纬度", "latitude"),
                Column("longitude", "经度", "longitude"),
                Column(
                    "footprint",
                    "轮廓",
                    "footprint",
                    help=gettext_lazy("Polygon as JSON: [[longitude, latitude], ...], at least 3 points."),
                ),
            ),
        ),
        Kind(
            "households",
            gettext_lazy("Households"),
            (
                Column("code", "户编码", "household code", True),
                Column("building", "楼栋编码", "building code", True),
                Column("unit", "单元门牌", "unit", help=gettext_lazy("Unit and room, e.g. 2-301.")),
            ),
        ),
        Kind(
            "persons",
            gettext_lazy("Persons"),
            (
                Column("name", "姓名", "name", True),
                Column(
                    "national_id",
                    "身份证号",
                    "national ID",
                    help=gettext_lazy("18 characters, checked with the GB 11643 check character."),
                ),
                Column(
                    "sex",
                    "性别",
                    "sex",
                    help=gettext_lazy("M/F, 男/女; taken from the national ID if empty."),
                ),
                Column("birth_date", "出生日期", "birth date", help=gettext_lazy("YYYY-MM-DD.")),
                Column("phone", "手机号", "phone"),
                Column(
                    "jurisdiction",
                    "所属辖区编码",
                    "jurisdiction code",
                    help=gettext_lazy("Needed when no home building is given."),
                ),
                Column("building", "居住楼栋编码", "home building code"),
                Column("household", "户编码", "household code"),
                Column("workplace_venue", "工作场所码", "workplace place code"),
                Column("workplace_name", "工作单位", "workplace"),
                Column("occupation", "职业", "occupation"),
                _SECTOR,
                Column(
                    "tags",
                    "特殊人群",
                    "special groups",
                    help=gettext_lazy("Separated by ';', e.g. pregnant; dialysis (codes or names)."),
                ),
            ),
        ),
        Kind(
            "venues",
            gettext_lazy("Venues"),
            (
                Column("code", "场所码", "place code", True),
                Column("name", "名称", "name", True),
                Column(
                    "venue_type", "类型", "type", help=gettext_lazy("e.g. restaurant, market, economy_hotel.")
                ),
                Column(
                    "jurisdiction",
                    "所属辖区编码",
                    "jurisdiction code",
                    help=gettext_lazy("Needed when no building is given."),
                ),
                Column("building", "楼栋编码", "building code"),
                Column("capacity", "容纳人数", "capacity"),
                Column("sub_areas", "分区", "sub-areas", help=gettext_lazy("Separated by ';'.")),
                Column("responsible_unit", "责任单位", "responsible unit"),
                _SECTOR,
            ),
        ),
    )
}


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-*（）()：:]+", "", text).lower()


def _header_lookup(kind: Kind) -> dict[str, Column]:
    lookup: dict[str, Column] = {}
    for column in kind.columns:
        for name in (column.key, column.zh, column.en):
            lookup[_norm(name)] = column
    return lookup


# ------------------------------------------------------------------------------------------------ reporting


class FileProblem(Exception):
    """The file as a whole cannot be read (format, encoding, size, header)."""


class ExportError(Exception):
    pass


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


# ---------------------------------------------------------------------------------------------------- reading


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_table(data: bytes, filename: str = "") -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-empty data rows (with their row numbers) of a CSV or XLSX file."""
    limit = settings.CORDON_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise FileProblem(
            _("the file is larger than the limit of %(mb).0f MB; split it into smaller files.")
            % {"mb": limit / 1024 / 1024}
        )
    if not data.strip():
        raise FileProblem(_("the file is empty."))
    suffix = Path(filename).suffix.lower()
    if data.startswith(b"\xd0\xcf\x11\xe0") or suffix == ".xls":
        raise FileProblem(_("old Excel .xls files are not supported; save it as .xlsx or as CSV (UTF-8)."))
    rows = _read_xlsx(data) if data.startswith(b"PK\x03\x04") or suffix == ".xlsx" else _read_csv(data)
    numbered = [(i, r) for i, r in enumerate(rows, start=1)]
    if not numbered:
        raise FileProblem(_("the file is empty."))
    header = [h.strip() for h in numbered[0][1]]
    body = [(n, r) for n, r in numbered[1:] if any(c.strip() for c in r)]
    if not body:
        raise FileProblem(_("the file has a header but no data rows."))
    return header, body


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileProblem(
            _(
                "the file is not UTF-8 text (first bad byte at position %(pos)d). Save it as "
                "'CSV UTF-8' (in Excel: Save As > CSV UTF-8) or upload the .xlsx file."
            )
            % {"pos": exc.start}
        ) from None
    if "\x00" in text:
        raise FileProblem(_("the file is not a CSV text file (it contains NUL bytes)."))
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    try:
        return [
            [c.strip() for c in row] for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        ]
    except csv.Error as exc:
        raise FileProblem(_("the CSV file is malformed: %(reason)s") % {"reason": exc}) from None


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise FileProblem(_("the file is not a valid .xlsx workbook.")) from None
    try:
        sheet = workbook.worksheets[0]
        rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    except Exception:  # openpyxl raises many kinds on damaged sheets
        raise FileProblem(
            _("the .xlsx workbook could not be read; save it again from your spreadsheet.")
        ) from None
    finally:
        workbook.close()
    while rows and not any(rows[-1]):
        rows.pop()
    return rows


# ---------------------------------------------------------------------------------------------------- import


@dataclass
class _Row:
    number: int
    values: dict[str, str]


class _Batch:
    """The rows of one file with the header they were written under, collecting problems."""

    def __init__(self, kind: Kind, headers: dict[str, str], rows: list[_Row]) -> None:
        self.kind, self.headers, self.rows = kind, headers, rows
        self.problems: list[Problem] = []

    def problem(self, row: _Row, key: str, reason: str) -> None:
        header = self.headers.get(key) or next((c.header() for c in self.kind.columns if c.key == key), key)
        self.problems.append(Problem(row.number, header, reason))

    def codes(self, key: str) -> set[str]:
        return {r.values[key] for r in self.rows if r.values.get(key)}


def _map_header(kind: Kind, header: list[str]) -> tuple[dict[int, Column], dict[str, str], list[Problem]]:
    lookup = _header_lookup(kind)
    positions: dict[int, Column] = {}
    names: dict[str, str] = {}
    problems: list[Problem] = []
    for index, text in enumerate(header):
        if not text:
            continue
        column = lookup.get(_norm(text))
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


def import_file(
    user: Any, kind: str, data: bytes, filename: str = "", *, progress: bool = False
) -> ImportResult:
    """Check a whole file and import it, or nothing. Never raises for bad input: problems are in the result."""
    Scope.of(user).require(Cap.IMPORT)
    if kind not in KINDS:
        return ImportResult(
            kind,
            error=_("unknown kind “%(kind)s”; use one of: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(KINDS)},
        )
    spec = KINDS[kind]
    result = ImportResult(kind)
    try:
        header, body = read_table(data, filename)
    except FileProblem as exc:
        result.error = str(exc)
        return result
    positions, names, header_problems = _map_header(spec, header)
    result.rows = len(body)
    if header_problems:
        result.problems = header_problems
        return result
    rows = [
        _Row(number, {c.key: (cells[i].strip() if i < len(cells) else "") for i, c in positions.items()})
        for number, cells in body
    ]
    batch = _Batch(spec, names, rows)
    for row in rows:
        for column in spec.columns:
            if column.required and not row.values.get(column.key):
                batch.problem(row, column.key, _("a value is required."))
    checker, writer = _IMPORTERS[kind]
    values = checker(user, batch, progress)
    if batch.problems:
        result.problems = sorted(batch.problems, key=lambda p: p.row)
        return result
    try:
        with transaction.atomic():
            result.created = len(writer(user, values))
    except DatabaseError as exc:
        result.error = _("the database refused the rows (%(reason)s); nothing was imported.") % {
            "reason": exc
        }
    return result


def import_path(user: Any, kind: str, path: Path, *, progress: bool = False) -> ImportResult:
    size = path.stat().st_size
    if size > settings.CORDON_MAX_UPLOAD_BYTES:
        return ImportResult(
            kind,
            error=_("the file is larger than the limit of %(mb).0f MB; split it into smaller files.")
            % {"mb": settings.CORDON_MAX_UPLOAD_BYTES / 1024 / 1024},
        )
    return import_file(user, kind, path.read_bytes(), path.name, progress=progress)


def _progress(rows: list[_Row], enabled: bool, what: str) -> Iterable[_Row]:
    if not enabled:
        return rows
    from tqdm import tqdm

    return tqdm(rows, desc=what, unit="row", file=sys.stderr)


def _chunked_lookup(qs: Any, field_name: str, keys: Iterable[str]) -> dict[str, Any]:
    keys = list(keys)
    found: dict[str, Any] = {}
    for start in range(0, len(keys), 500):
        for obj in qs.filter(**{f"{field_name}__in": keys[start : start + 500]}):
            found[getattr(obj, field_name)] = obj
    return found


def _not_in_area(what: str, code: str) -> str:
    # The same words whether the record is missing or outside the importer's scope.
    return _("no %(what)s with code “%(code)s” in your area.") % {"what": what, "code": code}


def _taken(model: Any, field_name: str, keys: Iterable[str]) -> set[str]:
    return set(_chunked_lookup(model.objects.all(), field_name, keys))


def _duplicates_in_file(batch: _Batch, key: str) -> None:
    seen: dict[str, int] = {}
    for row in batch.rows:
        value = row.values.get(key)
        if not value:
            continue
        if value in seen:
            batch.problem(row, key, _("the same value is already in row %(row)d.") % {"row": seen[value]})
        else:
            seen[value] = row.number


def _already_used(batch: _Batch, model: Any, key: str, field_name: str = "code") -> None:
    taken = _taken(model, field_name, batch.codes(key))
    for row in batch.rows:
        if row.values.get(key) in taken:
            batch.problem(row, key, _("already registered; import only adds new records."))


def _labels(choices: Any) -> dict[str, str]:
    """Value lookup accepting the stored value and the label in both languages."""
    lookup: dict[str, str] = {}
    for value, label in choices.choices:
        lookup[_norm(str(value))] = value
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                lookup[_norm(str(label))] = value
    return lookup


_LEVEL_WORDS = {
    "city": 1, "市": 1, "district": 2, "county": 2, "区": 2, "县": 2, "street": 3, "township": 3, "town": 3,
    "街道": 3, "乡镇": 3, "镇": 3, "乡": 3, "community": 4, "village": 4, "社区": 4, "村": 4, "grid": 5, "网格": 5,
}  # fmt: skip


def _level(text: str) -> int | None:
    key = _norm(text)
    if key.isdigit() and int(key) in Level.values:
        return int(key)
    return _LEVEL_WORDS.get(key) or _labels(Level).get(key)  # type: ignore[return-value]


def _sector_lookup() -> dict[str, IndustrySector]:
    lookup: dict[str, IndustrySector] = {}
    for sector in geo.sectors():
        for name in (sector.code, sector.name, sector.name_en):
            if name:
                lookup[_norm(name)] = sector
    return lookup


def _float(batch: _Batch, row: _Row, key: str) -> float | None:
    text = row.values.get(key, "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        batch.problem(row, key, _("not a number."))
        return None


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;；,，、|]+", text) if part.strip()]


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def _date(batch: _Batch, row: _Row, key: str) -> dt.date | None:
    text = row.values.get(key, "")
    if not text:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.split(" ")[0], fmt).date()
        except ValueError:
            continue
    batch.problem(row, key, _("not a date; write it as YYYY-MM-DD."))
    return None


# --- jurisdictions


def _check_jurisdictions(user: Any, batch: _Batch, progress: bool) -> list[dict[str, Any]]:
    _duplicates_in_file(batch, "code")
    _already_used(batch, Jurisdiction, "code")
    visible = _chunked_lookup(geo.jurisdictions_visible_to(user), "code", batch.codes("parent"))
    in_file = {r.values["code"]: r for r in batch.rows if r.values.get("code")}
    levels = {r.values["code"]: _level(r.values.get("level", "")) for r in batch.rows if r.values.get("code")}
    may_create_city = Scope.of(user).can(Cap.ADMIN)
    out: list[dict[str, Any]] = []
    for row in _progress(batch.rows, progress, _("Checking jurisdictions")):
        v = row.values
        level = _level(v.get("level", ""))
        if v.get("level") and level is None:
            batch.problem(row, "level", _("unknown level “%(level)s”.") % {"level": v["level"]})
            continue
        parent_code = v.get("parent", "")
        parent: Jurisdiction | str | None = None
        parent_level: int | None = None
        if parent_code:
            if parent_code in visible:
                parent_node: Jurisdiction = visible[parent_code]
                parent, parent_level = parent_node, parent_node.level
            elif parent_code in in_file and parent_code != v.get("code"):
                parent, parent_level = parent_code, levels.get(parent_code)
                if parent_level is None:
                    continue  # the parent's own row reports its level
            else:
                batch.problem(row, "parent", _not_in_area(_("jurisdiction"), parent_code))
                continue
        if level is None:
            continue
        if level == Level.CITY and not may_create_city:
            batch.problem(row, "level", _("only an administrator may add a city."))
            continue
        probe = Jurisdiction(level=parent_level) if parent_level is not None else None
        errors = geo_actions.check_jurisdiction(
            code=v.get("code", ""), name=v.get("name", ""), level=level, parent=probe
        )
        for field_name, reason in errors.items():
            if not (field_name in ("code", "name") and not v.get(field_name)):  # already reported as required
                batch.problem(row, "level" if field_name == "level" else field_name, reason)
        out.append(
            {
                "code": v["code"],
                "name": v["name"],
                "name_en": v.get("name_en", ""),
                "level": level,
                "parent": parent,
            }
        )
    return out


def _write_jurisdictions(user: Any, rows: list[dict[str, Any]]) -> list[Any]:
    return geo_actions.bulk_create_jurisdictions(actor=user, rows=rows, source=SOURCE)


# --- buildings


def _check_buildings(user: Any, batch: _Batch, progress: bool) -> list[dict[str, Any]]:
    _duplicates_in_file(batch, "code")
    _already_used(batch, Building, "code")
    visible = _chunked_lookup(geo.jurisdictions_visible_to(user), "code", batch.codes("jurisdiction"))
    out: list[dict[str, Any]] = []
    for row in _progress(batch.rows, progress, _("Checking buildings")):
        v = row.values
        jurisdiction = visible.get(v.get("jurisdiction", ""))
        if v.get("jurisdiction") and jurisdiction is None:
            batch.problem(row, "jurisdiction", _not_in_area(_("jurisdiction"), v["jurisdiction"]))
        lat, lon = _float(batch, row, "latitude"), _float(batch, row, "longitude")
        footprint = _footprint(batch, row)
        errors = geo_actions.check_building(
            code=v.get("code", ""), address=v.get("address", ""), latitude=lat, longitude=lon
        )
        for field_name, reason in errors.items():
            if v.get(field_name) or field_name in ("latitude", "longitude"):
                batch.problem(row, field_name, reason)
        out.append(
            {
                "code": v.get("code", ""),
                "address": v.get("address", ""),
                "jurisdiction": jurisdiction,
                "latitude": lat,
                "longitude": lon,
                "footprint": footprint,
            }
        )
    return out


def _footprint(batch: _Batch, row: _Row) -> list[list[float]] | None:
    text = row.values.get("footprint", "")
    if not text:
        return None
    try:
        points = json.loads(text)
        ok = (
            isinstance(points, list)
            and len(points) >= 3
            and all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, int | float) for x in p)
                for p in points
            )
            and all(-180 <= p[0] <= 180 and -90 <= p[1] <= 90 for p in points)
        )
    except ValueError:
        ok = False
    if not ok:
        batch.problem(
            row,
            "footprint",
            _("write the polygon as JSON: [[longitude, latitude], ...] with 3 or more points."),
        )
        return None
    return [[float(x), float(y)] for x, y in points]


def _write_buildings(user: Any, rows: list[dict[str, Any]]) -> list[Any]:
    return geo_actions.bulk_create_buildings(actor=user, rows=rows, source=SOURCE)


# --- households


def _check_households(user: Any, batch: _Batch, progress: bool) -> list[dict[str, Any]]:
    _duplicates_in_file(batch, "code")
    _already_used(batch, Household, "code")
    buildings = _chunked_lookup(geo.buildings_visible_to(user), "code", batch.codes("building"))
    out: list[dict[str, Any]] = []
    for row in _progress(batch.rows, progress, _("Checking households")):
        v = row.values
        building = buildings.get(v.get("building", ""))
        if v.get("building") and building is None:
            batch.problem(row, "building", _not_in_area(_("building"), v["building"]))
        if len(v.get("code", "")) > 40:
            batch.problem(row, "code", _("at most %(n)d characters.") % {"n": 40})
        out.append({"code": v.get("code", ""), "building": building, "unit": v.get("unit", "")[:60]})
    return out


def _write_households(user: Any, rows: list[dict[str, Any]]) -> list[Any]:
    return people_actions.bulk_create_households(actor=user, rows=rows, source=SOURCE)


# --- persons

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


def _check_persons(user: Any, batch: _Batch, progress: bool) -> list[dict[str, Any]]:
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
    taken = _taken(Person, "national_id", set(ids.values()))
    jurisdictions = _chunked_lookup(geo.jurisdictions_visible_to(user), "code", batch.codes("jurisdiction"))
    buildings = _chunked_lookup(geo.buildings_visible_to(user), "code", batch.codes("building"))
    households = _chunked_lookup(people.households_visible_to(user), "code", batch.codes("household"))
    workplaces = _chunked_lookup(venues.venues_visible_to(user), "code", batch.codes("workplace_venue"))
    sectors = _sector_lookup()
    tags = _labels(SpecialGroup)
    today = dt.date.today()
    out: list[dict[str, Any]] = []
    for row in _progress(batch.rows, progress, _("Checking persons")):
        v = row.values
        refs: dict[str, Any] = {}
        for key, table, what in (
            ("jurisdiction", jurisdictions, _("jurisdiction")),
            ("building", buildings, _("building")),
            ("household", households, _("household")),
            ("workplace_venue", workplaces, _("venue")),
        ):
            refs[key] = table.get(v.get(key, ""))
            if v.get(key) and refs[key] is None:
                batch.problem(row, key, _not_in_area(what, v[key]))
        sector = sectors.get(_norm(v.get("sector", ""))) if v.get("sector") else None
        if v.get("sector") and sector is None:
            batch.problem(row, "sector", _("unknown industry sector “%(sector)s”.") % {"sector": v["sector"]})
        sex = _SEX_WORDS.get(_norm(v.get("sex", "")), v.get("sex") or None)
        tag_values = []
        for word in _split(v.get("tags", "")):
            value = tags.get(_norm(word))
            tag_values.append(value or word)  # unknown words are reported by clean_person
        data = people_actions.PersonData(
            name=v.get("name", ""),
            jurisdiction=refs["jurisdiction"],
            national_id=ids.get(row.number),
            sex=sex,
            birth_date=_date(batch, row, "birth_date"),
            phone=v.get("phone", ""),
            home_building=refs["building"],
            household=refs["household"],
            workplace=refs["workplace_venue"],
            workplace_name=v.get("workplace_name", ""),
            occupation=v.get("occupation", ""),
            sector=sector,
            tags=tag_values,
        )
        values, errors = people_actions.clean_person(data, today=today)
        for field_name, reason in errors.items():
            column = _PERSON_FIELD_TO_COLUMN.get(field_name, field_name)
            if column == "name" and not v.get("name"):
                continue  # reported as required
            if column == "jurisdiction" and any(v.get(k) for k in ("jurisdiction", "building", "household")):
                continue  # the unresolved reference is already reported
            batch.problem(row, column, reason)
        if ids.get(row.number) in taken:
            batch.problem(row, "national_id", _(people_actions.ID_TAKEN))
        out.append(values)
    return out


def _write_persons(user: Any, rows: list[dict[str, Any]]) -> list[Any]:
    return people_actions.bulk_create_persons(actor=user, rows=rows, source=SOURCE)


# --- venues


def _check_venues(user: Any, batch: _Batch, progress: bool) -> list[dict[str, Any]]:
    _duplicates_in_file(batch, "code")
    _already_used(batch, Venue, "code")
    jurisdictions = _chunked_lookup(geo.jurisdictions_visible_to(user), "code", batch.codes("jurisdiction"))
    buildings = _chunked_lookup(geo.buildings_visible_to(user), "code", batch.codes("building"))
    sectors = _sector_lookup()
    types = _labels(VenueType)
    out: list[dict[str, Any]] = []
    for row in _progress(batch.rows, progress, _("Checking venues")):
        v = row.values
        jurisdiction = jurisdictions.get(v.get("jurisdiction", ""))
        if v.get("jurisdiction") and jurisdiction is None:
            batch.problem(row, "jurisdiction", _not_in_area(_("jurisdiction"), v["jurisdiction"]))
        building = buildings.get(v.get("building", ""))
        if v.get("building") and building is None:
            batch.problem(row, "building", _not_in_area(_("building"), v["building"]))
        venue_type: str = VenueType.OTHER
        if v.get("venue_type"):
            found = types.get(_norm(v["venue_type"]))
            if found is None:
                batch.problem(
                    row, "venue_type", _("unknown venue type “%(type)s”.") % {"type": v["venue_type"]}
                )
            else:
                venue_type = found
        capacity: int | None = None
        if v.get("capacity"):
            try:
                capacity = int(v["capacity"])
            except ValueError:
                batch.problem(row, "capacity", _("not a whole number."))
        sector = sectors.get(_norm(v.get("sector", ""))) if v.get("sector") else None
        if v.get("sector") and sector is None:
            batch.problem(row, "sector", _("unknown industry sector “%(sector)s”.") % {"sector": v["sector"]})
        values, errors = venue_actions.clean_venue(
            venue_actions.VenueData(
                code=v.get("code", ""),
                name=v.get("name", ""),
                venue_type=venue_type,
                jurisdiction=jurisdiction,
                building=building,
                capacity=capacity,
                sub_areas=_split(v.get("sub_areas", "")),
                responsible_unit=v.get("responsible_unit", ""),
                sector=sector,
            )
        )
        for field_name, reason in errors.items():
            if field_name in ("code", "name") and not v.get(field_name):
                continue
            if field_name == "jurisdiction" and (v.get("jurisdiction") or v.get("building")):
                continue
            batch.problem(row, field_name, reason)
        out.append(values)
    return out


def _write_venues(user: Any, rows: list[dict[str, Any]]) -> list[Any]:
    return venue_actions.bulk_create_venues(actor=user, rows=rows, source=SOURCE)


_Checker = Callable[[Any, _Batch, bool], list[dict[str, Any]]]
_Writer = Callable[[Any, list[dict[str, Any]]], list[Any]]
_IMPORTERS: dict[str, tuple[_Checker, _Writer]] = {
    "jurisdictions": (_check_jurisdictions, _write_jurisdictions),
    "buildings": (_check_buildings, _write_buildings),
    "households": (_check_households, _write_households),
    "persons": (_check_persons, _write_persons),
    "venues": (_check_venues, _write_venues),
}


# ---------------------------------------------------------------------------------------------------- export


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _code(obj: Any) -> str:
    return obj.code if obj is not None else ""


def _export_rows(user: Any, kind: str) -> tuple[Any, Callable[[Any], list[Any]], bool]:
    """(queryset, row function, logs access) for ``kind`` in the user's scope."""
    qs: Any
    if kind == "jurisdictions":
        qs = geo.jurisdictions_visible_to(user).select_related("parent").order_by("path")
        return qs, lambda j: [j.code, j.name, j.name_en, _label(Level, j.level), _code(j.parent)], False
    if kind == "buildings":
        qs = geo.buildings_visible_to(user).order_by("code")
        return (
            qs,
            lambda b: [
                b.code,
                b.address,
                b.jurisdiction.code,
                b.latitude,
                b.longitude,
                json.dumps(b.footprint) if b.footprint else "",
            ],
            False,
        )
    if kind == "households":
        qs = people.households_visible_to(user).order_by("code")
        return qs, lambda h: [h.code, h.building.code, h.unit], False
    if kind == "persons":
        qs = people.persons_visible_to(user).select_related("household", "workplace").order_by("pk")
        pii = people.shows_pii(user)
        return (
            qs,
            lambda p: [
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
            ],
            pii,
        )
    if kind == "venues":
        qs = venues.venues_visible_to(user).order_by("code")
        return (
            qs,
            lambda v: [
                v.code,
                v.name,
                v.venue_type,
                v.jurisdiction.code,
                _code(v.building),
                v.capacity if v.capacity is not None else "",
                "; ".join(v.sub_areas),
                v.responsible_unit,
                _code(v.sector),
            ],
            False,
        )
    raise ExportError(
        _("unknown kind “%(kind)s”; use one of: %(kinds)s.") % {"kind": kind, "kinds": ", ".join(KINDS)}
    )


def headers(kind: str) -> list[str]:
    return [c.header() for c in KINDS[kind].columns]


def write_export(user: Any, kind: str, fmt: str, out: IO[bytes], *, progress: bool = False) -> int:
    """Write ``kind`` in the user's scope to ``out`` as CSV (UTF-8 with BOM, for Excel) or XLSX. Returns the
    number of rows. Raises PermissionDenied without the export capability and ExportError on a bad request."""
    scope = Scope.of(user)
    scope.require(Cap.EXPORT)
    if fmt not in FORMATS:
        raise ExportError(_("unknown format “%(fmt)s”; use csv or xlsx.") % {"fmt": fmt})
    qs, to_row, logs_access = _export_rows(user, kind)
    total = qs.count()
    items: Iterator[Any] = qs.iterator(chunk_size=2000)
    if progress:
        from tqdm import tqdm

        items = iter(tqdm(items, total=total, desc=str(KINDS[kind].label), unit="row", file=sys.stderr))
    logged: list[int] = []

    def rows() -> Iterator[list[Any]]:
        for obj in items:
            if logs_access:
                logged.append(obj.pk)
            yield to_row(obj)

    count = _write_csv(out, kind, rows()) if fmt == "csv" else _write_xlsx(out, kind, rows())
    if logged:
        audit.log_person_access_bulk(user, logged, via="export", detail=f"{kind}.{fmt}")
    return count


def _write_csv(out: IO[bytes], kind: str, rows: Iterable[Sequence[Any]]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(headers(kind))
    count = 0
    for row in rows:
        writer.writerow(["" if c is None else c for c in row])
        count += 1
    text.flush()
    text.detach()
    return count


def _write_xlsx(out: IO[bytes], kind: str, rows: Iterable[Sequence[Any]]) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(kind)
    sheet.append(headers(kind))
    count = 0
    for row in rows:
        sheet.append(["" if c is None else c for c in row])
        count += 1
    workbook.save(out)
    return count


def export_to(user: Any, kind: str, fmt: str, out: Path | None, *, progress: bool = False) -> int:
    """The CLI's export: to a file, or as CSV to standard output."""
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
