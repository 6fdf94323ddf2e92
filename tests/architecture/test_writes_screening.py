"""Every write path of the screening app runs under the audit watch (tests/architecture/audit_watch.py): through
the API and the pages where there is a route. Each test ends by checking that the actions it covers ran, and
spot-checks the audit rows that the watch only counts (per tube, per many-to-many row, one per batch)."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import Counter
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from architecture.audit_watch import WATCH as AUDIT_WATCH
from cordon.apps.audit.models import AuditEntry
from cordon.apps.people import actions as people
from cordon.apps.screening import actions as screening_actions
from cordon.apps.screening.models import (
    Binding,
    FrequencyRule,
    ResampleTask,
    RoundCount,
    RoundTarget,
    SamplingSite,
    ScreeningRound,
    TaskStatus,
    TemporaryControl,
    Tube,
)
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Case, Classification, FoundBy
from cordon.core.actions import registered

ACTIONS = "cordon.apps.screening.actions."
COVERS = {
    ACTIONS + name
    for name in (
        "create_round",
        "recount_target",
        "close_round",
        "add_site",
        "report_queue",
        "issue_tubes",
        "bind_samples",
        "seal_tube",
        "create_lab",
        "receive_tubes",
        "record_results",
        "save_rule",
        "reconcile_counts",
    )
}


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def ran(before: Counter[str], *names: str) -> None:
    """Each of these actions ran (under the watch) since ``before``."""
    missing = [n for n in names if AUDIT_WATCH.seen[ACTIONS + n] <= before[ACTIONS + n]]
    assert not missing, f"not run: {missing}"


def audited(model: str, **filters: Any) -> int:
    return AuditEntry.objects.filter(model=model, **filters).count()


class World:
    """A city-wide 5-in-1 round (areas, a building and a sector) with a site per district, tubes and a lab."""

    def __init__(self, city: Any, make_user: Any, client_for: Any) -> None:
        def client(role: str, name: str) -> Any:
            c = client_for(make_user(role, city.city, username=name))
            c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
            return c

        self.city = city
        self.cmd = client("city_commander", "w.cmd")
        self.staff = client("screening_staff", "w.staff")
        self.lab = client("lab_staff", "w.lab")
        now = timezone.now()
        r = post(self.cmd, "/api/screening/rounds", {
            "code": "W1", "name": "写入路径", "owner": city.city.code, "design": "5-in-1",
            "starts_at": (now - dt.timedelta(hours=1)).isoformat(),
            "ends_at": (now + dt.timedelta(hours=12)).isoformat(),
            "areas": [city.fengtai.code, city.changping.code], "buildings": [city.cp_building.code],
            "sectors": [city.courier_sector.code],
        })  # fmt: skip
        assert r.status_code == 201, r.content
        self.sites: dict[str, int] = {}
        for code, node in (("S-FT", city.zgz_grid), ("S-CP", city.lx_grid)):
            r = post(
                self.cmd,
                "/api/screening/rounds/W1/sites",
                {"code": code, "name": code, "jurisdiction": node.code},
            )
            assert r.status_code == 201, r.content
            self.sites[code] = r.json()["id"]
        for site, prefix in (("S-FT", "FT"), ("S-CP", "CP")):
            url = f"/api/screening/sites/{self.sites[site]}/tubes"
            assert post(self.cmd, url, {"barcodes": f"{prefix}001-{prefix}005"}).status_code == 201
            assert post(self.cmd, url, {"barcodes": f"{prefix}S01-{prefix}S05", "size": 1}).status_code == 201
        r = post(
            self.cmd, "/api/screening/labs", {"code": "LAB", "name": "实验室", "jurisdiction": city.city.code}
        )
        assert r.status_code == 201, r.content

    def bind(self, site: str, rows: list[tuple[str, str]]) -> dict[str, Any]:
        r = post(self.staff, "/api/screening/bindings", {
            "site": self.sites[site], "bindings": [{"tube": t, "person": p} for t, p in rows],
        })  # fmt: skip
        assert r.status_code == 200, r.content
        return dict(r.json())

    def results(self, rows: list[tuple[str, str]]) -> dict[str, Any]:
        body = {"results": [{"tube": t, "result": x} for t, x in rows]}
        r = post(self.lab, "/api/screening/labs/LAB/results", body)
        assert r.status_code == 200, r.content
        return dict(r.json())


@pytest.fixture
def world(city: Any, make_user: Any, client_for: Any) -> World:
    return World(city, make_user, client_for)


def test_rounds_sites_tubes_labs_and_rules(city: Any, make_user: Any, client_for: Any) -> None:
    before = Counter(AUDIT_WATCH.seen)
    w = World(city, make_user, client_for)
    rnd = ScreeningRound.objects.get(code="W1")
    # The round and each of its areas, buildings and sectors (many-to-many rows) have their audit row.
    assert audited("screening.screeninground", object_pk=str(rnd.pk), verb="create") == 1
    assert audited("screening.screeninground_jurisdictions") == 2
    assert audited("screening.screeninground_buildings") == 1
    assert audited("screening.screeninground_sectors") == 1
    assert audited("screening.tube", verb="create") == Tube.objects.count() == 20
    # The pages open a round, add a site and issue tubes too.
    now = timezone.localtime()
    r = w.cmd.post("/screening/rounds/new/", {
        "code": "W2", "name": "页面", "owner": city.fengtai.code, "design": "10-in-1",
        "starts_at": now.strftime("%Y-%m-%d %H:%M"),
        "ends_at": (now + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M"), "areas": city.beigong.code,
    })  # fmt: skip
    assert r.status_code == 302 and ScreeningRound.objects.filter(code="W2").exists()
    r = w.cmd.post(
        "/screening/rounds/W2/sites/", {"code": "P", "name": "页面点", "jurisdiction": city.zgz_grid.code}
    )
    site = SamplingSite.objects.get(round__code="W2", code="P")
    assert w.cmd.post(f"/screening/sites/{site.pk}/tubes/", {"barcodes": "PG01-PG03"}).status_code == 302
    assert Tube.objects.filter(site=site).count() == 3
    # Recount (API and page), the queue (API and page), rules (created, then changed).
    # A round naming sectors targets the sectors' workers in its areas and buildings: the courier.
    assert post(w.cmd, "/api/screening/rounds/W1/recount", {}).json() == {"code": "W1", "target": 1}
    assert w.cmd.post("/screening/rounds/W1/recount/").status_code == 302
    assert RoundTarget.objects.filter(round=rnd).count() == 1  # derived counters, counted again
    sid = w.sites["S-FT"]
    assert post(w.staff, f"/api/screening/sites/{sid}/queue", {"persons": 12}).json()["queue_length"] == 12
    assert w.staff.post(f"/screening/sites/{sid}/station/queue/", {"persons": "7"}).status_code == 302
    assert SamplingSite.objects.get(pk=sid).queue_length == 7
    assert audited("screening.samplingsite", object_pk=str(sid), verb="update") == 2
    assert post(w.cmd, "/api/screening/rules", {"sector": "courier", "every_days": 2}).status_code == 200
    assert post(w.cmd, "/api/screening/rules", {"sector": "courier", "every_days": 3}).status_code == 200
    assert FrequencyRule.objects.get().every_days == 3
    assert audited("screening.frequencyrule") == 2
    # Closing a round closes its tubes in use, each with its audit row.
    w.bind("S-FT", [("FT001", city.ft_person.national_id)])
    assert post(w.cmd, "/api/screening/rounds/W1/close", {}).json() == {"code": "W1", "status": "closed"}
    assert Tube.objects.get(barcode="FT001").status == "closed"
    assert audited("screening.tube", object_pk=str(Tube.objects.get(barcode="FT001").pk), verb="update") == 2
    assert w.cmd.post("/screening/rounds/W2/close/").status_code == 302
    assert ScreeningRound.objects.get(code="W2").status == "closed"
    ran(before, "create_round", "add_site", "issue_tubes", "create_lab", "recount_target", "report_queue",
        "save_rule", "close_round", "bind_samples")  # fmt: skip


def test_station_batches_and_sealing(world: World, city: Any) -> None:
    before = Counter(AUDIT_WATCH.seen)
    batches = audited("screening.binding")
    out = world.bind("S-FT", [
        ("FT001", city.ft_person.national_id), ("FT001", f"P{city.ft_person2.pk}"),
        ("FT001", city.ft_person.national_id), ("NOPE", city.cp_person.national_id),
    ])  # fmt: skip
    assert out["bound"] == 2 and [r["code"] for r in out["refused"]] == ["already_sampled", "unknown_tube"]
    # One audit row for the batch of samples, one per tube it filled (with its counter before and after).
    assert audited("screening.binding") == batches + 1
    tube = Tube.objects.get(barcode="FT001")
    assert AuditEntry.objects.get(model="screening.tube", object_pk=str(tube.pk), verb="update").changes == {
        "bound": [0, 2], "status": ["issued", "open"]
    }  # fmt: skip
    # The station page binds one scan at a time.
    sid = world.sites["S-CP"]
    r = world.staff.post(
        f"/screening/sites/{sid}/station/bind/", {"tube": "CP001", "person": city.cp_person.national_id}
    )
    assert r.status_code == 302 and Binding.objects.filter(person=city.cp_person).exists()
    assert audited("screening.binding") == batches + 2
    # Sealing a tube in use: through the API and the page.
    assert post(world.staff, "/api/screening/tubes/FT001/seal", {}).json() == {
        "tube": "FT001", "status": "closed", "samples": 2
    }  # fmt: skip
    assert world.staff.post(f"/screening/sites/{sid}/station/seal/", {"tube": "CP001"}).status_code == 302
    assert Tube.objects.get(barcode="CP001").status == "closed"
    assert audited("screening.tube", object_pk=str(tube.pk), verb="update") == 2
    # The nightly reconciliation of the kept sample counters writes derived rows only (none audited).
    first = RoundCount.objects.order_by("pk").first()
    assert first is not None
    RoundCount.objects.filter(pk=first.pk).update(sampled=first.sampled + 3)
    entries = AuditEntry.objects.count()
    assert [d.counter for d in screening_actions.reconcile_counts()] == ["round"]
    assert AuditEntry.objects.count() == entries
    ran(before, "bind_samples", "seal_tube", "reconcile_counts")


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_lab_results_and_the_follow_up_of_positives(world: World, city: Any) -> None:
    before = Counter(AUDIT_WATCH.seen)
    ft1, ft2, cp1, courier = city.ft_person, city.ft_person2, city.cp_person, city.courier
    extra = people.create_person(
        actor=None, data=people.PersonData(name="赵六", home_building=city.ft_building)
    )
    world.bind("S-FT", [("FT001", ft1.national_id), ("FT001", ft2.national_id), ("FT002", f"P{extra.pk}")])
    world.bind("S-CP", [("CP001", cp1.national_id), ("CP001", courier.national_id)])
    # Manifests: through the API, then the lab page (each tube received has its audit row).
    r = post(world.lab, "/api/screening/labs/LAB/manifests", {"tubes": ["FT001", "CP001", "FT001"]})
    assert r.json()["done"] == 2 and r.json()["unchanged"] == 1
    r = world.lab.post("/screening/lab/submit/", {"lab": "LAB", "what": "manifest", "tubes": "FT002"})
    assert r.status_code == 200 and Tube.objects.get(barcode="FT002").status == "received"
    assert audited("screening.tube", verb="update", changes__has_key="lab_id") == 3
    # Results: a CSV file through the API (positive pool, invalid pool), an XLSX file through the page.
    upload = SimpleUploadedFile(
        "results.csv",
        b"barcode,result,ct_orf1ab,ct_n\nCP001,positive,31.2,30.4\nFT002,invalid,,\n",
        "text/csv",
    )
    rep = world.lab.post("/api/screening/labs/LAB/results-file", {"file": upload}).json()
    assert rep["done"] == 2 and rep["positive_pools"] == ["CP001"]
    held = TemporaryControl.objects.filter(lifted_at__isnull=True)
    assert {t.person_id for t in held} == {cp1.pk, courier.pk}
    assert audited("screening.temporarycontrol", verb="create") == 2
    assert audited("screening.resampletask", verb="create") == ResampleTask.objects.count() == 3
    book = SimpleUploadedFile("results.xlsx", _xlsx([["barcode", "result"], ["FT001", "positive"]]))
    r = world.lab.post("/screening/lab/submit/", {"lab": "LAB", "what": "results", "file": book})
    assert r.status_code == 200 and Tube.objects.get(barcode="FT001").result == "positive"
    assert audited("screening.temporarycontrol", verb="create") == 4
    # Re-samples in single tubes take the persons' tasks (each task with its audit row).
    assert world.bind("S-CP", [("CPS01", cp1.national_id), ("CPS02", courier.national_id)])["bound"] == 2
    assert world.bind("S-FT", [("FTS01", ft1.national_id)])["bound"] == 1
    assert audited("screening.resampletask", verb="update") == 3
    # An invalid single: the task is cancelled and another opened; its negative re-test lifts the control.
    assert world.results([("CPS02", "invalid")])["done"] == 1
    assert ResampleTask.objects.get(person=courier, status=TaskStatus.DUE)
    assert world.bind("S-CP", [("CPS03", courier.national_id)])["bound"] == 1
    assert world.results([("CPS03", "negative")])["done"] == 1
    assert not TemporaryControl.objects.filter(person=courier, lifted_at__isnull=True).exists()
    # A single positive waits for its confirmation: negative (a false positive, the control lifted) ...
    assert world.results([("FTS01", "positive"), ("CPS01", "positive")])["cases"] == []
    assert world.results([("FTS01", "negative")])["cases"] == []
    assert not TemporaryControl.objects.filter(person=ft1, lifted_at__isnull=True).exists()
    # ... or positive: the person's case (here reported already) is linked to the temporary control.
    case = tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=cp1, sampled_at=timezone.now() - dt.timedelta(hours=1),
            found_by=FoundBy.AREA_SCREENING, classification=Classification.ASYMPTOMATIC,
        ),
    )  # fmt: skip
    assert world.results([("CPS01", "positive")])["cases"] == [case.code]
    control = TemporaryControl.objects.get(person=cp1, lifted_at__isnull=True)
    assert control.case_id == case.pk and Case.objects.count() == 1
    assert audited("screening.temporarycontrol", object_pk=str(control.pk), verb="update") == 1
    ran(before, "receive_tubes", "record_results", "bind_samples")


def test_every_screening_action_is_covered() -> None:
    mine = {name for name in registered() if name.startswith(ACTIONS)}
    assert mine == COVERS
