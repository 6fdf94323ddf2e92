"""Write paths of the import (``cordon.apps.dataio.actions``): every kind through the import page, the API and the
command line, under the audit watch (the rows are written by geo's, people's and venues' bulk actions)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from architecture.audit_watch import WATCH as AUDIT_WATCH
from cordon import cli
from cordon.apps.audit.models import AuditEntry
from cordon.apps.geo.models import Building, Jurisdiction
from cordon.apps.people.models import Household, Person
from cordon.apps.venues.models import Venue
from cordon.engine import identity

IMPORT_FILE = "cordon.apps.dataio.actions.import_file"
IMPORT_PATH = "cordon.apps.dataio.actions.import_path"
COVERS = {IMPORT_FILE, IMPORT_PATH}

pytestmark = pytest.mark.django_db


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def _file(kind: str, n: int) -> tuple[list[list[str]], Any, str, list[str]]:
    """An import file of ``kind`` whose codes end in ``n`` (so a second file adds new records), the model, the
    field to find the records by and their values."""
    community = f"11010601030{n}"
    files: dict[str, tuple[list[list[str]], Any, str, list[str]]] = {
        "jurisdictions": (
            [["code", "name", "level", "parent code"], [community, f"新村{n}", "community", "110106010"],
             [f"{community}-01", f"新村{n}第1网格", "grid", community]],
            Jurisdiction, "code", [community, f"{community}-01"],
        ),
        "buildings": (
            [["building code", "address", "jurisdiction code", "latitude", "longitude"],
             [f"B-XC-{n}", f"新村{n}号楼", "110106010201-01", "39.8", "116.2"]],
            Building, "code", [f"B-XC-{n}"],
        ),
        "households": (
            [["household code", "building code", "unit"], [f"H-XC-{n}", "B-FT-1", f"2-30{n}"]],
            Household, "code", [f"H-XC-{n}"],
        ),
        "persons": (
            [["name", "national ID", "home building code"],
             [f"赵六{n}", identity.make("110106", dt.date(1975, 4, n), 771), "B-FT-1"]],
            Person, "name", [f"赵六{n}"],
        ),
        "venues": (
            [["place code", "name", "type", "building code"], [f"V-XC-{n}", f"新村菜市场{n}", "market", "B-FT-1"]],
            Venue, "code", [f"V-XC-{n}"],
        ),
    }  # fmt: skip
    return files[kind]


KINDS = ["jurisdictions", "buildings", "households", "persons", "venues"]


def _audited(model: Any, field: str, values: list[str]) -> None:
    records = list(model.objects.filter(**{f"{field}__in": values}))
    assert len(records) == len(values)
    entries = AuditEntry.objects.filter(
        model=model._meta.label_lower,
        object_pk__in=[str(r.pk) for r in records],
        verb="create",
        source="import",
    )
    assert entries.count() == len(records)


@pytest.mark.parametrize("kind", KINDS)
def test_import_page_and_api(city: Any, make_user: Any, client_for: Any, worker: Any, kind: str) -> None:
    client = client_for(make_user("administrator", city.city))
    before = AUDIT_WATCH.seen[IMPORT_FILE]
    rows, model, field, values = _file(kind, 1)
    upload = SimpleUploadedFile(f"{kind}.csv", _csv(rows))
    with worker():  # the page queues an import job; a worker runs it
        response = client.post("/data/import/", {"kind": kind, "file": upload})
    assert response.status_code == 302, response.content.decode()
    _audited(model, field, values)
    rows, model, field, values = _file(kind, 2)
    with worker():  # the API queues one too
        response = client.post(f"/api/import/{kind}", {"file": SimpleUploadedFile(f"{kind}.csv", _csv(rows))})
    assert response.status_code == 202, response.content
    assert client.get(response.json()["url"]).json()["result"]["created"] == len(values)
    _audited(model, field, values)
    assert AUDIT_WATCH.seen[IMPORT_FILE] >= before + 2


def test_import_from_the_command_line(city: Any, make_user: Any, tmp_path: Path) -> None:
    admin = make_user("administrator", city.city)
    rows, model, field, values = _file("persons", 3)
    path = tmp_path / "persons.csv"
    path.write_bytes(_csv(rows))
    before = AUDIT_WATCH.seen[IMPORT_PATH], AUDIT_WATCH.seen[IMPORT_FILE]
    assert cli.main(["import", "persons", str(path), "--user", admin.username]) == 0
    _audited(model, field, values)
    assert AUDIT_WATCH.seen[IMPORT_PATH] > before[0] and AUDIT_WATCH.seen[IMPORT_FILE] > before[1]
