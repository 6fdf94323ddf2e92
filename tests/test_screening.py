"""Mass screening end to end through the API (round -> sites and tubes -> a scanner's batch of pooled samples ->
lab manifest and results file with one positive pool -> temporary control and re-sample tasks for the right
districts -> single re-tests -> the confirmed single positive becomes a case), every refusal of the station
(clear message, nothing changed), coverage and its scoping, key-industry frequency rules and the advisor."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone, translation

from cordon.apps.audit.models import AuditEntry
from cordon.apps.screening import actions
from cordon.apps.screening.models import (
    Binding,
    ResampleTask,
    RoundCount,
    ScreeningRound,
    TaskStatus,
    TemporaryControl,
    Tube,
)
from cordon.apps.tracing.models import Case


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def board_row(client: Any, district: str) -> dict[str, Any]:
    body = client.get("/api/control/board").json()
    return next(r for r in body["districts"] if r["district"] == district)


class World:
    """A city-wide 5-in-1 round with a site in each district, pooled and single tubes, and a lab."""

    def __init__(self, city: Any, make_user: Any, client_for: Any, design: str = "5-in-1") -> None:
        self.city = city
        self.cmd = client_for(make_user("city_commander", city.city, username="city.cmd"))
        self.staff = client_for(make_user("screening_staff", city.city, username="staff"))
        self.lab_staff = client_for(make_user("lab_staff", city.city, username="lab"))
        self.ft = client_for(make_user("district_commander", city.fengtai, username="ft.cmd"))
        self.cp = client_for(make_user("district_commander", city.changping, username="cp.cmd"))
        now = timezone.now()
        r = post(
            self.cmd,
            "/api/screening/rounds",
            {
                "code": "R1",
                "name": "全员核酸第1轮",
                "owner": city.city.code,
                "starts_at": (now - dt.timedelta(hours=1)).isoformat(),
                "ends_at": (now + dt.timedelta(hours=12)).isoformat(),
                "design": design,
                "areas": [city.fengtai.code, city.changping.code],
            },
        )
        assert r.status_code == 201, r.content
        self.sites = {}
        for code, node in (("S-FT", city.zgz_grid), ("S-CP", city.lx_grid)):
            r = post(
                self.cmd,
                "/api/screening/rounds/R1/sites",
                {"code": code, "name": code, "jurisdiction": node.code},
            )
            assert r.status_code == 201, r.content
            self.sites[code] = r.json()["id"]
        for site, prefix in (("S-FT", "FT"), ("S-CP", "CP")):
            sid = self.sites[site]
            assert (
                post(
                    self.cmd, f"/api/screening/sites/{sid}/tubes", {"barcodes": f"{prefix}001-{prefix}010"}
                ).status_code
                == 201
            )
            assert (
                post(
                    self.cmd,
                    f"/api/screening/sites/{sid}/tubes",
                    {"barcodes": f"{prefix}S01-{prefix}S10", "size": 1},
                ).status_code
                == 201
            )
        r = post(
            self.cmd,
            "/api/screening/labs",
            {"code": "LAB1", "name": "第一检测实验室", "jurisdiction": city.city.code},
        )
        assert r.status_code == 201, r.content

    def bind(self, site: str, rows: list[tuple[str, str]], client: Any = None) -> Any:
        r = post(
            client or self.staff,
            "/api/screening/bindings",
            {"site": self.sites[site], "bindings": [{"tube": t, "person": p} for t, p in rows]},
        )
        assert r.status_code == 200, r.content
        return r.json()

    def results_file(self, text: str) -> Any:
        upload = SimpleUploadedFile("results.csv", text.encode(), content_type="text/csv")
        r = self.lab_staff.post("/api/screening/labs/LAB1/results-file", {"file": upload})
        assert r.status_code == 200, r.content
        return r.json()


@pytest.fixture
def client_for(client_for: Any) -> Any:
    """Clients that ask for English (the messages checked below)."""

    def make(user: Any) -> Any:
        client = client_for(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


@pytest.fixture
def world(city: Any, make_user: Any, client_for: Any) -> World:
    return World(city, make_user, client_for)


def test_positive_pool_to_temporary_control_resampling_and_a_confirmed_case(world: World, city: Any) -> None:
    ft1, ft2, cp1, courier = (city.ft_person, city.ft_person2, city.cp_person, city.courier)
    # The audit log keeps what other tests (the demo) wrote: count from here.
    audited = AuditEntry.objects.filter(model="screening.binding").count()
    # The scanner binds by national ID or by pass code (P + register key).
    out = world.bind("S-FT", [("FT001", ft1.national_id), ("FT001", f"P{ft2.pk}")])
    assert out == {"bound": 2, "refused": [], "flagged": [], "tubes": {"FT001": 2}}
    out = world.bind("S-CP", [("CP001", cp1.national_id), ("CP001", courier.national_id)])
    assert out["bound"] == 2
    # One audit row per batch, not per sample.
    assert AuditEntry.objects.filter(model="screening.binding").count() == audited + 2

    # The lab receives the tubes by manifest, then imports a file: one pool negative, one positive.
    r = post(world.lab_staff, "/api/screening/labs/LAB1/manifests", {"tubes": ["FT001", "CP001", "NOPE"]})
    assert r.json()["done"] == 2 and r.json()["errors"] == [{"row": 3, "message": "Unknown tube NOPE."}]
    rep = world.results_file("barcode,result,ct_orf1ab,ct_n\nFT001,negative,,\nCP001,positive,31.2,30.4\n")
    assert rep["done"] == 2 and rep["positive_pools"] == ["CP001"] and rep["cases"] == []
    assert Tube.objects.get(barcode="CP001").ct_values == {"ORF1ab": 31.2, "N": 30.4}

    # Everyone in the positive tube is under temporary control at home, with a re-sample task; Changping sees
    # them, Fengtai does not; the control board counts them.
    held = TemporaryControl.objects.filter(lifted_at__isnull=True)
    assert {(t.person_id, t.building_id, t.district_id) for t in held} == {
        (cp1.pk, city.cp_building.pk, city.changping.pk),
        (courier.pk, city.cp_building.pk, city.changping.pk),
    }
    cp_alerts = world.cp.get("/api/screening/alerts").json()
    assert {t["person_id"] for t in cp_alerts["temporary_controls"]} == {cp1.pk, courier.pk}
    assert {t["person_id"] for t in cp_alerts["resample_tasks"]} == {cp1.pk, courier.pk}
    assert cp_alerts["marked_buildings"] == [
        {"building": city.cp_building.code, "address": city.cp_building.address, "persons": 2}
    ]
    assert world.ft.get("/api/screening/alerts").json() == {
        "temporary_controls": [],
        "resample_tasks": [],
        "marked_buildings": [],
    }
    assert board_row(world.cmd, city.changping.code)["open"]["temporary_controls"] == 2
    assert board_row(world.cmd, city.fengtai.code)["open"]["temporary_controls"] == 0

    # Re-sampling: a pooled tube is refused for a person with a task; single tubes are bound.
    out = world.bind("S-CP", [("CP002", cp1.national_id)])
    assert out["refused"][0]["code"] == "needs_single_tube"
    out = world.bind("S-CP", [("CPS01", cp1.national_id), ("CPS02", courier.national_id)])
    assert out["bound"] == 2
    assert set(ResampleTask.objects.values_list("status", flat=True)) == {TaskStatus.SAMPLED}

    # The courier is negative (control lifted); 李娜 is positive: no case before the confirmation re-test.
    rep = world.results_file("barcode,result,ct_orf1ab,ct_n\nCPS01,positive,29.0,28.5\nCPS02,negative,,\n")
    assert rep["done"] == 2 and rep["cases"] == []
    assert not TemporaryControl.objects.filter(person=courier, lifted_at__isnull=True).exists()
    assert TemporaryControl.objects.filter(person=cp1, lifted_at__isnull=True).exists()
    assert not Case.objects.filter(person=cp1).exists()
    assert board_row(world.cmd, city.changping.code)["open"]["temporary_controls"] == 1

    # The confirmation re-test is positive: the case is created through the tracing app.
    r = post(
        world.lab_staff,
        "/api/screening/labs/LAB1/results",
        {"results": [{"tube": "CPS01", "result": "positive"}]},
    )
    assert r.status_code == 200 and len(r.json()["cases"]) == 1
    case = Case.objects.get(person=cp1)
    assert case.found_by == "area_screening" and case.control == "quarantine"
    assert case.district_id == city.changping.pk and case.classification == "asymptomatic"
    assert TemporaryControl.objects.get(person=cp1, lifted_at__isnull=True).case_id == case.pk
    # Recording the same result again changes nothing.
    rep = world.results_file("barcode,result\nCP001,positive\n")
    assert rep["unchanged"] == 1 and rep["done"] == 0


def test_a_false_positive_single_creates_no_case_and_lifts_the_control(
    city: Any, make_user: Any, client_for: Any
) -> None:
    w = World(city, make_user, client_for, design="individual")
    assert w.bind("S-FT", [("FTS01", city.ft_person.national_id)])["bound"] == 1
    assert w.results_file("barcode,result\nFTS01,positive\n")["done"] == 1
    assert TemporaryControl.objects.filter(person=city.ft_person, lifted_at__isnull=True).exists()
    assert w.results_file("barcode,result\nFTS01,negative\n")["done"] == 1  # the confirmation re-test
    assert not Case.objects.exists()
    assert not TemporaryControl.objects.filter(lifted_at__isnull=True).exists()


def test_every_station_refusal_has_a_clear_message_and_changes_nothing(world: World, city: Any) -> None:
    ft1, ft2, cp1 = city.ft_person, city.ft_person2, city.cp_person
    assert world.bind("S-FT", [("FT001", ft1.national_id)])["bound"] == 1
    before = (Binding.objects.count(), list(Tube.objects.order_by("id").values_list("bound", "status")))

    def refused(site: str, tube: str, person: str) -> dict[str, Any]:
        out = world.bind(site, [(tube, person)])
        assert out["bound"] == 0
        assert (
            Binding.objects.count(),
            list(Tube.objects.order_by("id").values_list("bound", "status")),
        ) == before
        return dict(out["refused"][0])

    assert refused("S-FT", "FT001", ft1.national_id) == {
        "index": 0, "code": "already_sampled", "message": "This person was already sampled in this round."
    }  # fmt: skip
    assert refused("S-FT", "XX999", ft2.national_id)["message"] == "Unknown tube XX999."
    assert refused("S-FT", "CP001", ft2.national_id)["message"] == "Tube CP001 belongs to another site."
    assert refused("S-FT", "FT002", "110101199001011234")["code"] == "unknown_person"
    # A full tube: five samples in FT002, the sixth refused.
    res = world.bind("S-FT", [("FT002", f"P{p.pk}") for p in _people(city, 6)])
    assert res["bound"] == 5
    assert res["refused"] == [{"index": 5, "code": "tube_full", "message": "Tube FT002 is full (5 samples)."}]
    assert Tube.objects.get(barcode="FT002").status == "closed"
    before = (Binding.objects.count(), list(Tube.objects.order_by("id").values_list("bound", "status")))
    assert refused("S-FT", "FT002", ft2.national_id)["code"] == "tube_full"
    # A sealed tube.
    Tube.objects.filter(barcode="FT003").update(status="received")  # at the lab
    before = (Binding.objects.count(), list(Tube.objects.order_by("id").values_list("bound", "status")))
    assert refused("S-FT", "FT003", ft2.national_id)["message"] == "Tube FT003 is sealed."
    # The same person twice in one batch.
    out = world.bind("S-FT", [("FT004", ft2.national_id), ("FT004", ft2.national_id)])
    assert out["bound"] == 1 and out["refused"][0]["code"] == "already_sampled"
    # A closed round refuses everything.
    assert post(world.cmd, "/api/screening/rounds/R1/close", {}).status_code == 200
    before = (Binding.objects.count(), list(Tube.objects.order_by("id").values_list("bound", "status")))
    assert refused("S-CP", "CP001", cp1.national_id) == {
        "index": 0, "code": "round_closed", "message": "The round is closed."
    }  # fmt: skip


def _people(city: Any, n: int) -> list[Any]:
    from cordon.apps.people import actions as people

    return [
        people.create_person(
            actor=None, data=people.PersonData(name=f"居民{i}", home_building=city.ft_building)
        )
        for i in range(n)
    ]


def test_a_person_outside_the_scope_is_bound_and_flagged(city: Any, make_user: Any, client_for: Any) -> None:
    cmd = client_for(make_user("district_commander", city.fengtai))
    staff = client_for(make_user("screening_staff", city.fengtai))
    now = timezone.now()
    r = post(cmd, "/api/screening/rounds", {
        "code": "FT-1", "name": "丰台区筛查", "owner": city.fengtai.code, "areas": [city.beigong.code],
        "starts_at": now.isoformat(), "ends_at": (now + dt.timedelta(hours=8)).isoformat(),
    })  # fmt: skip
    assert r.status_code == 201, r.content
    site = post(
        cmd,
        "/api/screening/rounds/FT-1/sites",
        {"code": "S", "name": "S", "jurisdiction": city.zgz_grid.code},
    )
    sid = site.json()["id"]
    post(cmd, f"/api/screening/sites/{sid}/tubes", {"barcodes": "A01-A03"})
    out = post(staff, "/api/screening/bindings", {"site": sid, "bindings": [
        {"tube": "A01", "person": city.ft_person.national_id},
        {"tube": "A01", "person": city.cp_person.national_id},
    ]}).json()  # fmt: skip
    assert out["bound"] == 2 and out["flagged"] == [1]
    assert Binding.objects.get(person=city.cp_person).out_of_scope
    # The Fengtai commander cannot create a round for Changping, nor run another district's site.
    r = post(cmd, "/api/screening/rounds", {
        "code": "X", "name": "x", "owner": city.changping.code, "areas": [city.changping.code],
        "starts_at": now.isoformat(), "ends_at": (now + dt.timedelta(hours=8)).isoformat(),
    })  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"] == {"areas": "Unknown jurisdiction 110114."}
    assert not ScreeningRound.objects.filter(code="X").exists()


def test_coverage_counts_the_not_yet_sampled_list_and_district_scoping(world: World, city: Any) -> None:
    extra = _people(city, 4)
    # Persons registered after the round opened count once the target population is counted again.
    assert world.cmd.get("/api/screening/rounds/R1/coverage").json()["node"]["target"] == 4
    assert post(world.cmd, "/api/screening/rounds/R1/recount", {}).json() == {"code": "R1", "target": 8}
    world.bind("S-FT", [("FT001", city.ft_person.national_id), ("FT001", f"P{extra[0].pk}")])
    cov = world.cmd.get("/api/screening/rounds/R1/coverage").json()
    assert cov["node"] == {"code": city.city.code, "name": city.city.name, "target": 8, "sampled": 2,
                           "missing": 6, "percent": 25.0}  # fmt: skip
    assert {c["code"]: (c["target"], c["sampled"]) for c in cov["children"]} == {
        city.fengtai.code: (6, 2),
        city.changping.code: (2, 0),
    }
    # A Fengtai commander sees Fengtai only, by default and when asking; Changping is not found.
    ft = world.ft.get("/api/screening/rounds/R1/coverage?limit=2").json()
    assert ft["node"]["code"] == city.fengtai.code and ft["node"]["target"] == 6
    wanted = [city.ft_person2.pk] + [p.pk for p in extra[1:]]
    assert [p["person_id"] for p in ft["not_sampled"]] == sorted(wanted)[:2]
    nxt = world.ft.get(f"/api/screening/rounds/R1/coverage?limit=2&after={ft['next_after']}").json()
    assert [p["person_id"] for p in nxt["not_sampled"]] == sorted(wanted)[2:]
    assert world.ft.get(f"/api/screening/rounds/R1/coverage?node={city.changping.code}").status_code == 404
    assert world.cp.get("/api/screening/rounds/R1/coverage").json()["node"]["target"] == 2
    # The page renders for the district, in both languages.
    for lang in ("en", "zh-hans"):
        with translation.override(lang):
            page = world.ft.get("/screening/rounds/R1/coverage/", HTTP_ACCEPT_LANGUAGE=lang)
        assert page.status_code == 200 and city.ft_person2.name in page.content.decode()


def test_coverage_paging_refuses_bad_values_with_422(world: World) -> None:
    for query in ("after=-1", "after=abc", f"after={2**63}", "limit=0", "limit=-5"):
        r = world.cmd.get(f"/api/screening/rounds/R1/coverage?{query}")
        assert r.status_code == 422, (query, r.status_code)
    # A limit above the cap is lowered to it; the page clamps a too large ``after`` instead of failing.
    assert world.cmd.get("/api/screening/rounds/R1/coverage?limit=100000").status_code == 200
    assert world.cmd.get(f"/screening/rounds/R1/coverage/?after={2**70}").status_code == 200


def test_results_file_reports_row_level_errors_and_records_the_rest(world: World, city: Any) -> None:
    world.bind("S-FT", [("FT001", city.ft_person.national_id)])
    rep = world.results_file(
        "barcode,result,ct_orf1ab,ct_n\nFT001,negative,,\nFT002,negative,,\nZZZ,positive,,\nFT001,maybe,,\nFT003,positive,abc,\n"
    )
    assert rep["done"] == 1
    assert rep["errors"] == [
        {"row": 3, "message": "Tube FT002 holds no sample."},
        {"row": 4, "message": "Unknown tube ZZZ."},
        {"row": 5, "message": "Result must be negative, positive or invalid."},
        {"row": 6, "message": "Ct value abc is not a number."},
    ]
    twice = world.results_file("barcode,result\nFT001,negative\n")
    assert twice["unchanged"] == 1
    world.bind("S-FT", [("FTS01", city.ft_person2.national_id)])
    twice = world.results_file("barcode,result\nFTS01,positive\nFTS01,positive\n")
    assert twice["done"] == 1 and twice["errors"] == [{"row": 3, "message": "Tube FTS01 is listed twice."}]
    assert not Case.objects.exists()  # the confirmation is a later re-test
    bad = world.results_file("code,outcome\n1,2\n")
    assert bad["errors"] == [{"row": 1, "message": "The file needs the columns barcode and result."}]


def test_key_industry_workers_overdue_per_sector(
    world: World, city: Any, make_user: Any, client_for: Any
) -> None:
    assert post(world.cmd, "/api/screening/rules", {"sector": "courier", "every_days": 2}).status_code == 200
    reg = client_for(make_user("industry_regulator", city.city, sector=city.courier_sector))
    (row,) = reg.get("/api/screening/overdue").json()
    assert (
        row["sector"] == "courier"
        and row["overdue"] == 1
        and row["workers"][0]["person_id"] == city.courier.pk
    )
    world.bind("S-CP", [("CP001", city.courier.national_id)])
    assert reg.get("/api/screening/overdue").json()[0]["overdue"] == 0
    assert reg.get("/screening/key-industries/").status_code == 200


def test_advisor_and_station_pages(world: World, city: Any) -> None:
    r = world.cmd.get("/api/screening/advice?prevalence=0.001")
    assert r.status_code == 200 and r.json()["station_design"] in {"5-in-1", "10-in-1", "20-in-1"}
    assert world.cmd.get("/api/screening/advice?prevalence=2").status_code == 422
    page = world.cmd.get("/screening/rounds/R1/?prevalence=0.1")
    assert page.status_code == 200 and 'data-testid="advice"' in page.content.decode()
    sid = world.sites["S-FT"]
    # The station page: a tube, then a person; a refused scan shows its reason.
    r = world.staff.post(f"/screening/sites/{sid}/station/bind/", {"tube": "FT001", "person": ""})
    assert r.status_code == 302 and r["Location"].endswith("?tube=FT001")
    r = world.staff.post(
        f"/screening/sites/{sid}/station/bind/",
        {"tube": "FT001", "person": city.ft_person.national_id},
        follow=True,
    )
    assert 'data-testid="tube-count">1/5' in r.content.decode()
    r = world.staff.post(
        f"/screening/sites/{sid}/station/bind/",
        {"tube": "FT001", "person": city.ft_person.national_id},
        follow=True,
    )
    assert "already sampled" in r.content.decode()
    # Through the API, only a tube in use can be sealed.
    r = post(world.staff, "/api/screening/tubes/FT002/seal", {})
    assert r.status_code == 422 and r.json()["errors"] == {"tube": "Only a tube in use can be sealed."}
    assert world.staff.post("/api/screening/tubes/NOPE/seal").status_code == 404
    # Sealing the tube before it is full: the next scan into it is refused.
    r = world.staff.post(f"/screening/sites/{sid}/station/seal/", {"tube": "FT001"}, follow=True)
    assert "Tube FT001 is sealed with 1 samples." in r.content.decode()
    assert world.bind("S-FT", [("FT001", city.ft_person2.national_id)])["refused"][0]["code"] == "tube_closed"
    for url in ("/screening/", "/screening/alerts/", f"/screening/sites/{sid}/station/"):
        assert world.staff.get(url).status_code == 200
    assert world.lab_staff.get("/screening/lab/").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_two_stations_binding_the_same_person_at_once_end_with_one_sample(city: Any) -> None:
    now = timezone.now()
    rnd = actions.create_round(
        actor=None,
        data=actions.RoundData(
            code="RACE", name="race", owner=city.city, starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=1), design="5-in-1", jurisdictions=[city.city],
        ),
    )  # fmt: skip
    sites = [
        actions.add_site(actor=None, round=rnd, data=actions.SiteData(c, c, city.zgz_grid)) for c in "AB"
    ]
    for site in sites:
        actions.issue_tubes(actor=None, site=site, barcodes=f"{site.code}01-{site.code}02")
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def bind(site: Any) -> None:
        try:
            barrier.wait()
            with translation.override("en"):
                res = actions.bind_samples(
                    actor=None,
                    site=site,
                    rows=[actions.BindingIn(f"{site.code}01", city.ft_person.national_id)],
                )
            outcomes.append(res.refused[0][1] if res.refused else "bound")
        finally:
            connection.close()

    threads = [threading.Thread(target=bind, args=(s,)) for s in sites]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_sampled", "bound"], outcomes
    assert Binding.objects.filter(round=rnd).count() == 1
    assert sum(Tube.objects.filter(round=rnd).values_list("bound", flat=True)) == 1
    assert RoundCount.objects.get(round=rnd).sampled == 1
