"""Import and export: all-or-nothing files with row-level reports, scope and masking on export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from cordon import cli
from cordon.apps.audit.models import AccessLog, AuditEntry
from cordon.apps.dataio import actions, selectors
from cordon.apps.geo.models import Building, Jurisdiction
from cordon.apps.jobs.models import Job
from cordon.apps.people.models import Household, Person
from cordon.apps.venues.models import Venue
from cordon.core.jobs import JobCancelled
from cordon.engine import identity

pytestmark = pytest.mark.django_db


def _csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def _xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _nid(area: str, year: int, seq: int) -> str:
    return identity.make(area, dt.date(year, 6, 1), seq)


PERSON_HEADER = ["姓名", "身份证号", "手机号", "居住楼栋编码", "户编码", "特殊人群"]


def _person_rows(n: int) -> list[list[str]]:
    return [
        [f"测试{i}", _nid("110106", 1970 + i, 500 + i), f"1390000{i:04d}", "B-FT-1", "H-FT-1", ""]
        for i in range(n)
    ]


@pytest.fixture
def admin(city: Any, make_user: Any) -> Any:
    return make_user("administrator", city.city)


def _upload(client: Any, kind: str, data: bytes, name: str) -> Any:
    return client.post(
        "/data/import/", {"kind": kind, "file": SimpleUploadedFile(name, data)}, HTTP_ACCEPT_LANGUAGE="en"
    )


def _import(client: Any, worker: Any, kind: str, data: bytes, name: str) -> tuple[Job, str]:
    """Upload through the import page, which queues a job and goes to it; a worker runs it; the job and its
    page (in English) once it has ended."""
    with worker():
        response = _upload(client, kind, data, name)
    assert response.status_code == 302, response.content.decode()
    job = Job.objects.get(pk=int(response["Location"].split("/")[2]))
    assert job.kind == "dataio.import" and job.finished
    return job, client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()


def _uploads(settings: Any) -> list[Path]:
    folder = Path(settings.CORDON_UPLOAD_DIR)
    return sorted(folder.iterdir()) if folder.exists() else []


# ------------------------------------------------------------------------------------------------ import


def test_import_persons_with_chinese_headers(
    city: Any, admin: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    rows = _person_rows(3)
    rows[0][5] = "孕妇; dialysis"
    job, page = _import(client_for(admin), worker, "persons", _csv([PERSON_HEADER, *rows]), "people.csv")
    assert job.status == Job.Status.DONE, job.error
    assert job.result["created"] == 3 and job.result["filename"] == "people.csv"
    assert job.result["summary"] in page and 'href="/data/import/?kind=persons"' in page
    assert job.progress.done == job.progress.total == 3  # rows checked, then written
    assert _uploads(settings) == []  # the kept file is deleted when the job ends
    first = Person.objects.get(name="测试0")
    assert first.jurisdiction == city.zgz_grid
    assert first.household is not None and first.household.code == "H-FT-1"
    assert first.tags == ["dialysis", "pregnant"]
    assert first.sex == identity.parse(first.national_id or "").sex
    entries = AuditEntry.objects.filter(model="people.person", object_pk=str(first.pk))
    assert [(e.verb, e.source, e.actor_name) for e in entries] == [("create", "import", admin.username)]


def test_one_bad_row_imports_nothing_and_names_row_and_column(
    city: Any, admin: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    """The job fails with the import's own report, each problem on its own line of the job page; no row of the
    file is written, and the kept file is deleted all the same."""
    rows = _person_rows(4)
    bad = rows[2][1]
    rows[2][1] = bad[:-1] + ("0" if bad[-1] != "0" else "1")  # wrong check character, file row 4
    before, audited = Person.objects.count(), AuditEntry.objects.filter(model="people.person").count()
    job, page = _import(client_for(admin), worker, "persons", _csv([PERSON_HEADER, *rows]), "people.csv")
    assert job.status == Job.Status.FAILED
    assert job.error.splitlines()[0] == "Nothing was imported: 1 problem(s) in 4 row(s)."
    assert job.error.splitlines()[1].startswith("row 4, column 身份证号: ")
    assert (
        'role="alert"' in page
        and "Nothing was imported: 1 problem(s) in 4 row(s).<br>row 4, column 身份证号" in page
    )
    assert Person.objects.count() == before
    assert AuditEntry.objects.filter(model="people.person").count() == audited
    assert _uploads(settings) == []

    result = actions.import_file(
        actor=admin, kind="persons", data=_csv([PERSON_HEADER, *rows]), filename="people.csv"
    )
    assert not result.ok and result.created == 0
    assert [(p.row, p.column) for p in result.problems] == [(4, "身份证号")]
    assert "check character" in result.problems[0].reason


def test_problems_in_several_rows_are_all_reported(city: Any, admin: Any) -> None:
    rows = _person_rows(5)
    rows[0][0] = ""  # row 2: missing name
    rows[1][3] = "NO-SUCH-BUILDING"  # row 3
    rows[3][1] = rows[2][1]  # row 5: duplicate of row 4 inside the file
    rows[4][2] = "phone?"  # row 6
    result = actions.import_file(
        actor=admin, kind="persons", data=_csv([PERSON_HEADER, *rows]), filename="p.csv"
    )
    got = [(p.row, p.column) for p in result.problems]
    assert got == [(2, "姓名"), (3, "居住楼栋编码"), (5, "身份证号"), (6, "手机号")]
    assert "NO-SUCH-BUILDING" in result.problems[1].reason
    assert Person.objects.filter(name__startswith="测试").count() == 0


def test_national_id_already_registered(city: Any, admin: Any) -> None:
    rows = [["王五", city.ft_person.national_id, "", "B-FT-1", "", ""]]
    with translation.override("en"):
        result = actions.import_file(
            actor=admin, kind="persons", data=_csv([PERSON_HEADER, *rows]), filename="p.csv"
        )
    assert [(p.row, p.column) for p in result.problems] == [(2, "身份证号")]
    assert "already registered" in result.problems[0].reason


def test_reference_outside_scope_reads_like_a_missing_one(city: Any, make_user: Any) -> None:
    fengtai_admin = make_user("administrator", city.fengtai)
    header = ["name", "home building code"]
    outside = actions.import_file(
        actor=fengtai_admin, kind="persons", data=_csv([header, ["甲", "B-CP-1"]]), filename="p.csv"
    )
    missing = actions.import_file(
        actor=fengtai_admin, kind="persons", data=_csv([header, ["甲", "B-XX-9"]]), filename="p.csv"
    )
    assert outside.problems[0].column == missing.problems[0].column == "home building code"
    assert outside.problems[0].reason.replace("B-CP-1", "?") == missing.problems[0].reason.replace(
        "B-XX-9", "?"
    )


def test_unknown_jurisdiction_is_reported(city: Any, admin: Any) -> None:
    result = actions.import_file(
        actor=admin, kind="persons", data=_csv([["姓名", "所属辖区编码"], ["甲", "999999"]]), filename="p.csv"
    )
    assert [(p.row, p.column) for p in result.problems] == [(2, "所属辖区编码")]
    assert "999999" in result.problems[0].reason


def test_jurisdiction_tree_buildings_households_and_venues_round_trip(city: Any, admin: Any) -> None:
    tree = _csv(
        [
            ["code", "name", "English name", "level", "parent code"],
            ["110106010202-01", "新村第1网格", "Xincun grid 1", "grid", "110106010202"],  # child first
            ["110106010202", "新村", "Xincun", "社区", "110106010"],
        ]
    )
    result = actions.import_file(actor=admin, kind="jurisdictions", data=tree, filename="tree.csv")
    assert result.ok, result.describe()
    grid = Jurisdiction.objects.get(code="110106010202-01")
    assert grid.path == "/110000/110106/110106010/110106010202/110106010202-01/"

    buildings = _xlsx(
        [
            ["楼栋编码", "地址", "所属辖区编码", "纬度", "经度", "轮廓"],
            [
                "B-XC-1",
                "新村1号楼",
                "110106010202-01",
                39.8,
                116.2,
                "[[116.2,39.8],[116.21,39.8],[116.21,39.81]]",
            ],
        ]
    )
    assert actions.import_file(actor=admin, kind="buildings", data=buildings, filename="b.xlsx").ok
    assert Building.objects.get(code="B-XC-1").footprint == [[116.2, 39.8], [116.21, 39.8], [116.21, 39.81]]

    households = _csv([["户编码", "楼栋编码", "单元门牌"], ["H-XC-1", "B-XC-1", "1-201"]])
    assert actions.import_file(actor=admin, kind="households", data=households, filename="h.csv").ok
    assert Household.objects.get(code="H-XC-1").building.code == "B-XC-1"

    venues = _csv(
        [
            ["place code", "name", "type", "building code", "capacity", "sub-areas", "sector"],
            ["V-XC-1", "新村菜市场", "农贸市场", "B-XC-1", "300", "A区; B区", "快递"],
        ]
    )
    result = actions.import_file(actor=admin, kind="venues", data=venues, filename="v.csv")
    assert result.ok, result.describe()
    venue = Venue.objects.get(code="V-XC-1")
    assert (venue.venue_type, venue.capacity, venue.sub_areas) == ("market", 300, ["A区", "B区"])
    assert venue.jurisdiction.code == "110106010202-01" and venue.sector == city.courier_sector


def test_bad_level_and_parent(city: Any, admin: Any) -> None:
    tree = _csv(
        [
            ["编码", "名称", "层级", "上级编码"],
            ["X1", "甲", "planet", "110106"],
            ["X2", "乙", "grid", "110106"],  # a grid under a district
            ["X3", "丙", "street", "NOPE"],
        ]
    )
    result = actions.import_file(actor=admin, kind="jurisdictions", data=tree, filename="t.csv")
    assert [(p.row, p.column) for p in result.problems] == [(2, "层级"), (3, "上级编码"), (4, "上级编码")]
    assert not Jurisdiction.objects.filter(code__in=["X1", "X2", "X3"]).exists()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "x.csv", "empty"),
        ("姓名,身份证号\n".encode(), "x.csv", "no data rows"),
        ("姓名,身份证号\n张三,110\n".encode("gb18030"), "x.csv", "not UTF-8"),
        (b"PK\x03\x04 this is not a zip", "x.xlsx", "not a valid .xlsx"),
        (b"\xd0\xcf\x11\xe0old", "x.xls", ".xls files are not supported"),
    ],
)
def test_unreadable_files_get_a_clear_message(
    city: Any, admin: Any, client_for: Any, worker: Any, data: bytes, name: str, message: str
) -> None:
    # The English messages (the Chinese ones are checked in test_both_languages).
    with translation.override("en"):
        result = actions.import_file(actor=admin, kind="persons", data=data, filename=name)
    assert not result.ok and message in result.error
    client = client_for(admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    job, page = _import(client, worker, "persons", data, name)
    assert job.status == Job.Status.FAILED and message in job.error and message in page


def test_header_problems(city: Any, admin: Any) -> None:
    with translation.override("zh-hans"):
        result = actions.import_file(
            actor=admin,
            kind="persons",
            data=_csv([["身份证号", "favourite colour"], ["", "red"]]),
            filename="x.csv",
        )
    assert [(p.row, p.column) for p in result.problems] == [(1, "favourite colour"), (1, "姓名")]
    assert result.problems[0].reason == "未知的列。" and "缺少必填列" in result.problems[1].reason


@override_settings(CORDON_MAX_UPLOAD_BYTES=2000)
def test_oversized_file(city: Any, admin: Any, client_for: Any, tmp_path: Path) -> None:
    data = _csv([PERSON_HEADER, *_person_rows(60)])
    assert len(data) > 2000
    from django.utils.translation import override

    with override("en"):
        refused = actions.import_file(actor=admin, kind="persons", data=data, filename="p.csv").error
        path = tmp_path / "big.csv"
        path.write_bytes(data)
        refused_path = actions.import_path(actor=admin, kind="persons", path=path).error
    assert "larger than the limit" in refused and "larger than the limit" in refused_path
    response = _upload(client_for(admin), "persons", data, "p.csv")
    assert response.status_code == 413 and "too large" in response.content.decode()


def test_import_needs_the_import_capability(
    city: Any, make_user: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    """A role that may not import is refused at once: no job queued, no file kept, nothing written."""
    commander = make_user("city_commander", city.city)
    with worker():
        response = _upload(client_for(commander), "persons", _csv([PERSON_HEADER, *_person_rows(1)]), "p.csv")
    assert response.status_code == 403
    assert not Job.objects.exists() and _uploads(settings) == []
    assert Person.objects.filter(name="测试0").count() == 0


@pytest.mark.db_clock
def test_a_queued_import_cancelled_keeps_its_file_to_run_again_until_the_sweep(
    city: Any,
    admin: Any,
    client_for: Any,
    worker: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from cordon.apps.jobs import actions as jobs

    client = client_for(admin)
    response = _upload(client, "persons", _csv([PERSON_HEADER, *_person_rows(2)]), "people.csv")
    job = Job.objects.get(pk=int(response["Location"].split("/")[2]))
    kept = _uploads(settings)
    assert job.status == Job.Status.QUEUED and len(kept) == 1 and kept[0].suffix == ".csv"
    assert (
        job.params["path"] == kept[0].name and "people" not in kept[0].name
    )  # a random name, not the browser's
    with worker():
        assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.started_at is None
    assert _uploads(settings) == kept  # kept to run again
    assert Person.objects.filter(name__startswith="测试").count() == 0
    page = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="job-again"' in page
    # Once CORDON_UPLOAD_KEEP_HOURS have passed the sweep deletes it: the page then offers no "run again" but
    # says to upload it again; a forced run again says so.
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - dt.timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sweep(keep_for=dt.timedelta(hours=24)) == [job.pk]
    assert _uploads(settings) == []
    page = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="job-again"' not in page and "upload the file again" in page
    with worker():
        again = client.post(f"/jobs/{job.pk}/again/", HTTP_ACCEPT_LANGUAGE="en")
    retry = Job.objects.get(pk=int(again["Location"].split("/")[2]))
    assert retry.status == Job.Status.FAILED and "upload it again" in retry.error


def test_a_running_import_stopped_leaves_nothing_and_keeps_its_file_to_run_again(
    city: Any, admin: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    """A stop asked while the import runs takes effect at its next report, at the latest at "writing", before
    any row is written; the job says it was stopped and keeps its file to run again."""
    data = _csv([PERSON_HEADER, *_person_rows(2)])
    stop_before_writing: list[str] = []
    heard: list[tuple[int, int | None]] = []

    def cancel_when_writing(done: int, total: int | None, note: str) -> None:
        heard.append((done, total))
        if note.startswith("Writing"):
            stop_before_writing.append(note)
            raise JobCancelled

    with pytest.raises(JobCancelled), translation.override("en"):
        actions.import_file(
            actor=admin, kind="persons", data=data, filename="p.csv", report=cancel_when_writing
        )
    assert stop_before_writing == ["Writing 2 rows"]
    assert heard == [(0, None), (0, 2), (0, 2), (1, 2), (2, 2)]  # read; checking (each row); writing
    assert Person.objects.filter(name__startswith="测试").count() == 0

    # Through a worker: the stop is asked as the job starts running (the worker claims a job that is queued,
    # so the request is set on the row directly, as a cancel arriving then would).
    client = client_for(admin)
    with worker():
        response = _upload(client, "persons", data, "people.csv")
        Job.objects.filter(pk=int(response["Location"].split("/")[2])).update(cancel_requested=True)
    job = Job.objects.get()
    assert job.status == Job.Status.CANCELLED and job.started_at is not None and job.runs_again
    assert Person.objects.filter(name__startswith="测试").count() == 0 and len(_uploads(settings)) == 1


def test_import_over_the_api_is_a_job(
    city: Any, admin: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    client = client_for(admin)
    data = _csv([PERSON_HEADER, *_person_rows(2)])
    with worker():
        response = client.post("/api/import/persons", {"file": SimpleUploadedFile("p.csv", data)})
    assert response.status_code == 202, response.content
    started = response.json()
    assert started["url"] == f"/api/jobs/{started['id']}" and started["page"] == f"/jobs/{started['id']}/"
    job = client.get(started["url"], HTTP_ACCEPT_LANGUAGE="en").json()
    assert (job["kind"], job["status"], job["started_by"]) == ("dataio.import", "done", admin.username)
    assert job["summary"] and job["error"] == "" and job["file"] is None
    assert Person.objects.filter(name__startswith="测试").count() == 2
    # The same rows again, as the raw body: the job fails with the row-level problems; nothing written.
    with worker():
        again = client.post(
            "/api/import/persons?filename=p.csv",
            data=data,
            content_type="text/csv",
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert again.status_code == 202
    failed = client.get(again.json()["url"]).json()
    assert failed["status"] == "failed" and failed["summary"] == ""
    assert "身份证号" in failed["error"] and "2" in failed["error"]
    assert Person.objects.filter(name__startswith="测试").count() == 2 and _uploads(settings) == []
    # Refused at once, nothing kept or queued: an unknown kind, no file in a form.
    assert client.post("/api/import/planets", {"file": SimpleUploadedFile("p.csv", data)}).status_code == 404
    assert client.post("/api/import/persons", {}).status_code == 422
    assert Job.objects.count() == 2 and _uploads(settings) == []


def test_template_has_the_headers(city: Any, admin: Any, client_for: Any) -> None:
    client = client_for(admin)
    zh = client.get("/data/template/persons.csv").content.decode("utf-8-sig")
    assert zh.splitlines()[0].startswith("姓名,身份证号")
    en = client.get("/data/template/venues.csv", HTTP_ACCEPT_LANGUAGE="en").content.decode("utf-8-sig")
    assert en.splitlines()[0].startswith("place code,name,type")
    assert client.get("/data/import/?kind=persons").status_code == 200


# ------------------------------------------------------------------------------------------------ export


def _rows(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_export_is_scoped_and_masked(city: Any, make_user: Any, client_for: Any, exported: Any) -> None:
    commander = make_user("district_commander", city.fengtai)
    response = exported(client_for(commander), "/data/export/persons.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = _rows(response)
    names = {r[0] for r in rows[1:]}
    assert names == {"张伟", "王芳"}  # not 李娜 or 刘洋 of Changping
    nid = next(r[1] for r in rows if r[0] == "张伟")
    assert nid == identity.mask(city.ft_person.national_id) and nid != city.ft_person.national_id
    # Masked, but names and addresses are personal data too: one access-log row naming the persons exported.
    (row,) = AccessLog.objects.filter(via="export", actor=commander)
    assert row.person_id is None and set(row.person_ids()) == {city.ft_person.pk, city.ft_person2.pk}


def test_unmasked_export_is_written_to_the_access_log(
    city: Any, make_user: Any, client_for: Any, exported: Any
) -> None:
    officer = make_user("street_officer", city.beigong)
    rows = _rows(exported(client_for(officer), "/data/export/persons.csv"))
    assert {r[1] for r in rows[1:]} == {city.ft_person.national_id, city.ft_person2.national_id}
    (row,) = AccessLog.objects.filter(via="export", actor=officer)  # one row for the job, naming them all
    assert set(row.person_ids()) == {city.ft_person.pk, city.ft_person2.pk} and row.count == 2
    assert row.query == "persons.csv"


def test_sector_regulator_exports_only_their_sector(
    city: Any, make_user: Any, client_for: Any, exported: Any
) -> None:
    regulator = make_user("industry_regulator", city.city, sector=city.courier_sector)
    rows = _rows(exported(client_for(regulator), "/api/export/persons"))
    assert [r[0] for r in rows[1:]] == ["刘洋"]


def test_xlsx_export_of_every_kind(city: Any, make_user: Any, client_for: Any, exported: Any) -> None:
    client = client_for(make_user("city_commander", city.city))
    for kind in selectors.KINDS:
        response = exported(client, f"/data/export/{kind}.xlsx")
        assert response.status_code == 200, kind
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        assert sheet is not None
        values = list(sheet.iter_rows(values_only=True))
        assert list(values[0]) == selectors.headers(kind)
        assert len(values) > 1, kind
    assert client.post("/data/export/persons.pdf").status_code == 404
    assert client.post("/data/export/planets.csv").status_code == 404
    assert client.get("/data/export/persons.csv").status_code == 405  # starting a job is a POST


def test_export_then_import_round_trip(
    city: Any, make_user: Any, admin: Any, client_for: Any, exported: Any
) -> None:
    officer = make_user("street_officer", city.beigong)
    body = b"".join(exported(client_for(officer), "/data/export/persons.csv").streaming_content)
    Person.objects.filter(jurisdiction__path__startswith=city.fengtai.path).delete()
    result = actions.import_file(actor=admin, kind="persons", data=body, filename="export.csv")
    assert result.ok, result.describe()
    assert Person.objects.get(name="王芳").tags == city.ft_person2.tags


def test_cli_import_and_export(city: Any, admin: Any, make_user: Any, tmp_path: Path, capsys: Any) -> None:
    make_user("district_commander", city.fengtai, username="ft-cmd")
    good = tmp_path / "people.csv"
    good.write_bytes(_csv([PERSON_HEADER, *_person_rows(2)]))
    assert cli.main(["import", "persons", str(good), "--user", admin.username]) == 0
    assert Person.objects.filter(name__startswith="测试").count() == 2
    assert cli.main(["import", "persons", str(good), "--user", admin.username]) == 1
    assert "第 2 行，身份证号 列" in capsys.readouterr().out  # the command speaks the default language

    out = tmp_path / "fengtai.xlsx"
    assert cli.main(["export", "persons", "--user", "ft-cmd", "--out", str(out)]) == 0
    sheet = load_workbook(out).active
    assert sheet is not None
    names = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert "李娜" not in names and {"张伟", "测试0"} <= names
    assert cli.main(["import", "persons", str(good), "--user", "ft-cmd"]) == 2  # may not import


def test_openapi_lists_import_and_export(city: Any, admin: Any, client_for: Any) -> None:
    schema = json.loads(client_for(admin).get("/api/openapi.json").content)
    assert "/api/import/{kind}" in schema["paths"] and "/api/export/{kind}" in schema["paths"]
