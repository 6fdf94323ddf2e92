"""The one reader of uploaded tables (CSV, UTF-8, comma or tab, and XLSX, as a header and numbered rows) and
the one writer of the tables the app hands out (``write_csv``, ``write_xlsx``).

Every upload that carries rows (register imports, lab result files) reads them here, so they share one set of
rules and one set of messages: the size limit (``CORDON_MAX_UPLOAD_BYTES``), UTF-8 with or without a BOM, the
delimiter taken from the first line, old ``.xls`` and binary files refused, cells stripped, empty rows skipped,
row numbers as a spreadsheet shows them (the header is row 1). A file that cannot be read at all raises
``FileProblem`` with a message for the person who uploaded it.

Every cell written goes through ``neutral``: text that a spreadsheet would take for a formula (a cell starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written behind a single quote, as OWASP advises
against formula (CSV) injection: ``=HYPERLINK(...)`` reads as the text ``'=HYPERLINK(...)``, never runs.

(The scan store reads its own, far larger, files with pyarrow's streaming reader: see ``engine.scanstore``.)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _


class FileProblem(Exception):
    """The file as a whole cannot be read (format, encoding, size, header)."""


Row = tuple[int, list[str]]


def cell_text(value: Any) -> str:
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


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> Any:
    """A cell as it is safe to write: None as empty, text a spreadsheet would run as a formula behind a quote;
    numbers, dates and other text unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restored(value: str) -> str:
    """The inverse of ``neutral`` for a cell read back: a quote before a formula's first character is dropped, so
    a file Cordon exported imports as it was (``'=1+1`` is read as the text ``=1+1``, ``'+8613800000000`` as the
    phone number). Nothing else is changed."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def write_csv(out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """``header`` and ``rows`` as CSV (UTF-8 with a BOM, which Excel needs to read UTF-8) to ``out``; returns
    the number of rows. Every cell goes through ``neutral``."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow([neutral(c) for c in header])
    count = 0
    for row in rows:
        writer.writerow([neutral(c) for c in row])
        count += 1
    text.flush()
    text.detach()
    return count


def write_xlsx(out: IO[bytes], sheet_name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """``header`` and ``rows`` as a one-sheet XLSX workbook to ``out``; returns the number of rows. Every cell
    goes through ``neutral``."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import save_workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.append([neutral(c) for c in header])
    count = 0
    try:
        for row in rows:
            sheet.append([neutral(c) for c in row])
            count += 1
    except BaseException:  # a stopped export (a job cancelled): its sheet's temporary file closed now
        sheet.close()
        raise
    save_workbook(workbook, out)  # what Workbook.save does, named so it does not read as a model write
    return count


def read_table(data: bytes, filename: str = "") -> tuple[list[str], list[Row]]:
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
    header = [restored(h).strip() for h in numbered[0][1]]
    body = [(n, [restored(c) for c in r]) for n, r in numbered[1:] if any(c.strip() for c in r)]
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
        rows: list[list[str]] = []
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        last_start = line = 0
        for row in reader:
            rows.append([c.strip() for c in row])
            last_start, line = line + 1, reader.line_num
    except csv.Error as exc:
        raise FileProblem(_("the CSV file is malformed: %(reason)s") % {"reason": exc}) from None
    # An unclosed quote swallows the rest of the file into one cell (and the rows after it go missing, which
    # would be reported as empty columns): say so, with the line where the quote opens.
    if text.count('"') % 2 and _unclosed(text, delimiter):
        raise FileProblem(
            _(
                'the CSV file has a quotation mark (") that is never closed, on line %(line)d: everything after '
                "it was read as one cell. Close the quote or remove it, then upload the file again."
            )
            % {"line": last_start}
        )
    return rows


def _unclosed(text: str, delimiter: str) -> bool:
    """Whether the text ends inside a quoted cell (the strict reader says "unexpected end of data")."""
    try:
        for _row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise FileProblem(_("the file is not a valid .xlsx workbook.")) from None
    try:
        sheet = workbook.worksheets[0]
        rows = [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    except Exception:  # openpyxl raises many kinds on damaged sheets
        raise FileProblem(
            _("the .xlsx workbook could not be read; save it again from your spreadsheet.")
        ) from None
    finally:
        workbook.close()
    while rows and not any(rows[-1]):
        rows.pop()
    return rows


def records(header: list[str], rows: list[Row]) -> list[tuple[int, dict[str, str]]]:
    """Each row as ``{column: value}`` by the header's names (lower-cased), with its row number."""
    names = [h.strip().lower() for h in header]
    return [(n, {k: (r[i] if i < len(r) else "") for i, k in enumerate(names) if k}) for n, r in rows]
