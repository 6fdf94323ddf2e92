"""Ownership across levels (issue 17, defect 1): a record owned by a level is changed only by that level or a
level above it. A district commander sees the city's screening round but cannot close it, count it again or add
a site to it, in the API or on the pages; a district may add a frequency rule for itself that is stricter than
the city's, never change the city's rule or loosen it; the stricter rule holds. Every write route is checked the
same way in tests/test_ownership_matrix.py."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone, translation

from cordon.apps.audit.models import AuditEntry
from cordon.apps.screening import actions
from cordon.apps.screening.models import (
    Binding,
    FrequencyRule,
    RoundStatus,
    SamplingSite,
    ScreeningRound,
    Tube,
)
from cordon.core.scoping import NotYours


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def english(client_for: Any) -> Any:
    def make(user: Any) -> Any:
        client = client_for(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


def _round(owner: Any, code: str, areas: list[Any]) -> ScreeningRound:
    now = timezone.now()
    return actions.create_round(
        actor=None,
        data=actions.RoundData(
            code=code, name=code, owner=owner, starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=8), jurisdictions=areas,
        ),
    )  # fmt: skip


def _state(rnd: ScreeningRound) -> tuple[Any, ...]:
    rnd.refresh_from_db()
    return (
        rnd.status,
        rnd.counted_at,
        SamplingSite.objects.filter(round=rnd).count(),
        Tube.objects.filter(round=rnd).count(),
        AuditEntry.objects.count(),
    )


def test_a_district_cannot_run_the_citys_round(city: Any, make_user: Any, english: Any) -> None:
    """The issue's reproduction: as the city, a round owned by 110000 over Fengtai; as Changping (and as
    Fengtai, whose area it covers), close, recount, add a site and issue tubes are refused with a message
    saying whose round it is, through the API and the pages, and nothing changes."""
    rnd = _round(city.city, "R-CITY", [city.fengtai])
    site = actions.add_site(actor=None, round=rnd, data=actions.SiteData("S-1", "采样点", city.zgz_grid))
    for district in (city.changping, city.fengtai):
        cmd = english(make_user("district_commander", district))
        before = _state(rnd)
        for url, body in (
            (f"/api/screening/rounds/{rnd.code}/close", {}),
            (f"/api/screening/rounds/{rnd.code}/recount", {}),
            (f"/api/screening/rounds/{rnd.code}/sites", {"code": "S-X", "name": "x", "jurisdiction": district.code}),
            (f"/api/screening/sites/{site.pk}/tubes", {"barcodes": "X001-X002"}),
        ):  # fmt: skip
            r = post(cmd, url, body)
            if r.status_code == 404:  # the Changping commander does not see the Fengtai site at all
                assert district == city.changping and "/tubes" in url, url
                continue
            assert r.status_code == 403, (district.code, url, r.status_code, r.content)
            assert r.json()["detail"] == (
                "This belongs to Synthetic Capital: only Synthetic Capital or a level above it may change it."
            )
        for url, data in (
            (f"/screening/rounds/{rnd.code}/close/", {}),
            (f"/screening/rounds/{rnd.code}/recount/", {}),
            (f"/screening/rounds/{rnd.code}/sites/", {"code": "S-X", "name": "x", "jurisdiction": district.code}),
            (f"/screening/sites/{site.pk}/tubes/", {"barcodes": "X001-X002"}),
        ):  # fmt: skip
            r = cmd.post(url, data)
            assert r.status_code in (403, 404), (district.code, url, r.status_code)
            if r.status_code == 403:
                assert "only Synthetic Capital or a level above it may change it" in r.content.decode()
        assert _state(rnd) == before
        # The round's page offers the district none of the buttons.
        page = cmd.get(f"/screening/rounds/{rnd.code}/").content.decode()
        assert "Close the round" not in page and "Issue tubes" not in page
    assert rnd.status == RoundStatus.OPEN


def test_the_city_runs_a_districts_round_and_the_district_its_own(
    city: Any, make_user: Any, english: Any
) -> None:
    """A level above may: the city closes Fengtai's round; Fengtai runs its own; Changping does not see it."""
    own = _round(city.fengtai, "R-FT", [city.fengtai])
    other = _round(city.fengtai, "R-FT2", [city.beigong])
    ft = english(make_user("district_commander", city.fengtai))
    cp = english(make_user("district_commander", city.changping))
    assert post(cp, f"/api/screening/rounds/{own.code}/close", {}).status_code == 404
    # A level below the organiser (a commander's role given to a street of Fengtai) does not run it either.
    street = english(make_user("district_commander", city.beigong))
    r = post(street, f"/api/screening/rounds/{own.code}/close", {})
    assert r.status_code == 403 and r.json()["detail"].startswith("This belongs to Fengtai")
    assert post(ft, f"/api/screening/rounds/{own.code}/recount", {}).status_code == 200
    r = post(
        ft, f"/api/screening/rounds/{own.code}/sites", {"code": "S", "name": "s", "jurisdiction": "110106010"}
    )
    assert r.status_code == 201
    assert post(ft, f"/api/screening/rounds/{own.code}/close", {}).status_code == 200
    city_cmd = english(make_user("city_commander", city.city))
    assert post(city_cmd, f"/api/screening/rounds/{other.code}/close", {}).status_code == 200
    # A district cannot organise a round for the city either.
    now = timezone.now()
    r = post(
        ft,
        "/api/screening/rounds",
        {"code": "R-UP", "name": "x", "owner": city.city.code, "starts_at": now.isoformat(),
         "ends_at": (now + dt.timedelta(hours=2)).isoformat(), "areas": [city.fengtai.code]},
    )  # fmt: skip
    assert r.status_code == 422 and not ScreeningRound.objects.filter(code="R-UP").exists()
    with translation.override("en"), pytest.raises(NotYours, match="only Synthetic Capital"):
        actions.create_round(
            actor=user_of(ft),
            data=actions.RoundData(
                code="R-UP", name="x", owner=city.city, starts_at=now, ends_at=now + dt.timedelta(hours=1),
                jurisdictions=[city.fengtai],
            ),
        )  # fmt: skip


def test_a_district_tightens_the_city_rule_for_itself_but_never_loosens_or_changes_it(
    city: Any, make_user: Any, english: Any
) -> None:
    city_cmd = english(make_user("city_commander", city.city))
    cp = english(make_user("district_commander", city.changping))
    r = post(city_cmd, "/api/screening/rules", {"sector": "courier", "every_days": 7})
    assert r.status_code == 200 and r.json() == {
        "sector": "courier",
        "every_days": 7,
        "jurisdiction": "110000",
    }
    n_audit = AuditEntry.objects.count()
    # The issue's reproduction: Changping's 30 days would have replaced the city-wide rule.
    r = post(cp, "/api/screening/rules", {"sector": "courier", "every_days": 30})
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "every_days": "Synthetic Capital screens this sector every 7 days: a rule here may be as strict or "
        "stricter, not looser."
    }
    r = post(cp, "/api/screening/rules", {"sector": "courier", "every_days": 30, "jurisdiction": "110000"})
    assert r.status_code == 422 and r.json()["errors"] == {"jurisdiction": "Unknown jurisdiction 110000."}
    r = post(cp, "/api/screening/rules", {"sector": "courier", "every_days": 1, "jurisdiction": "110106"})
    assert r.status_code == 422  # nor Fengtai's
    assert list(FrequencyRule.objects.values_list("jurisdiction__code", "every_days")) == [("110000", 7)]
    assert AuditEntry.objects.count() == n_audit
    with translation.override("en"), pytest.raises(NotYours, match="only Synthetic Capital or a level above"):
        actions.save_rule(actor=user_of(cp), sector=city.courier_sector, every_days=1, jurisdiction=city.city)
    # Tightening for itself is allowed; the city's rule is untouched.
    r = post(cp, "/api/screening/rules", {"sector": "courier", "every_days": 2})
    assert r.status_code == 200 and r.json()["jurisdiction"] == city.changping.code
    assert FrequencyRule.objects.get(jurisdiction=city.city).every_days == 7
    # The stricter rule holds: the Changping courier sampled 3 days ago is overdue for Changping (2 days), not
    # for the city's own rule (7 days); the city sees both rules.
    _sample(city, city.courier, days_ago=3)
    assert Binding.objects.filter(person=city.courier).exists()
    (row,) = cp.get("/api/screening/overdue").json()
    assert row["every_days"] == 2 and [w["person_id"] for w in row["workers"]] == [city.courier.pk]
    (row,) = city_cmd.get("/api/screening/overdue").json()
    assert row["every_days"] == 7 and row["overdue"] == 1
    assert {(x["jurisdiction"], x["every_days"]) for x in row["rules"]} == {("110000", 7), ("110114", 2)}
    page = city_cmd.get("/screening/key-industries/").content.decode()
    assert 'data-testid="rules"' in page
    # The city loosening its own rule does not loosen Changping's.
    assert post(city_cmd, "/api/screening/rules", {"sector": "courier", "every_days": 14}).status_code == 200
    assert cp.get("/api/screening/overdue").json()[0]["overdue"] == 1
    # The city may set Changping's rule too (a level above), within its own rule.
    r = post(
        city_cmd, "/api/screening/rules", {"sector": "courier", "every_days": 20, "jurisdiction": "110114"}
    )
    assert r.status_code == 422
    r = post(
        city_cmd, "/api/screening/rules", {"sector": "courier", "every_days": 5, "jurisdiction": "110114"}
    )
    assert r.status_code == 200
    assert cp.get("/api/screening/overdue").json()[0]["overdue"] == 0


def user_of(client: Any) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=client.session["_auth_user_id"])


def _sample(city: Any, person: Any, *, days_ago: int) -> None:
    """A sample of ``person`` taken ``days_ago`` days ago in a round of their own."""
    when = timezone.now() - dt.timedelta(days=days_ago)
    rnd = actions.create_round(
        actor=None,
        data=actions.RoundData(
            code=f"R-S{person.pk}", name="s", owner=city.city, starts_at=when - dt.timedelta(hours=1),
            ends_at=when + dt.timedelta(hours=1), jurisdictions=[city.city],
        ),
    )  # fmt: skip
    site = actions.add_site(actor=None, round=rnd, data=actions.SiteData("S", "s", person.jurisdiction))
    actions.issue_tubes(actor=None, site=site, barcodes=f"Q{person.pk}01", size=1)
    res = actions.bind_samples(
        actor=None, site=site, rows=[actions.BindingIn(f"Q{person.pk}01", person.national_id, when)], now=when
    )
    assert res.bound == [0], res.refused


def test_a_districts_administrator_does_not_play_the_citys_next_day(city: Any, make_user: Any) -> None:
    """The demo's next day writes the whole city's cases: only an administrator of the city starts or plays it
    (the matrix cannot show it without a loaded demo, so the job's start and the action are asked directly)."""
    from django.core.exceptions import PermissionDenied

    from cordon.apps.demo import actions as demo
    from cordon.apps.jobs import actions as jobs
    from cordon.apps.jobs.models import Job

    district_admin = make_user("administrator", city.fengtai)
    with pytest.raises(PermissionDenied):
        jobs.start(actor=district_admin, kind="demo.next_day")
    with translation.override("en"), pytest.raises(NotYours, match="only Synthetic Capital"):
        demo.play_next_day(actor=district_admin)
    assert not Job.objects.exists()
    city_admin = make_user("administrator", city.city)
    assert jobs.start(actor=city_admin, kind="demo.next_day").kind == "demo.next_day"


def test_a_district_neither_moves_another_districts_cases_nor_changes_the_citys_plan(
    city: Any, make_user: Any, english: Any, fengtai_case: Any
) -> None:
    """Beyond screening, the same class: merging a cluster moves every case of it (a Changping investigator may
    not move Fengtai's case; the city's may), and the quarantine plans are the city's (a district's
    administrator may not put a new version in force). Both refusals say whose record it is."""
    from cordon.apps.control.models import QuarantinePlan
    from cordon.apps.tracing import actions as tracing
    from cordon.apps.tracing.models import Case

    def report(person: Any) -> Any:
        return tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=person,
                onset_date=timezone.localdate(),
                sampled_at=timezone.now(),
                found_by="fever_clinic",
            ),
        )

    ft_case, cp_case, cp_case2 = fengtai_case(), report(city.cp_person), report(city.courier)
    mixed = tracing.create_cluster(actor=None, name="跨区聚集", cases=[ft_case, cp_case])
    own = tracing.create_cluster(actor=None, name="昌平聚集", cases=[cp_case2])
    cp_inv = english(make_user("investigator", city.changping))
    n_audit = AuditEntry.objects.count()
    r = post(cp_inv, f"/api/clusters/{own.code}/merge", {"clusters": [mixed.code]})
    assert r.status_code == 403 and r.json()["detail"] == (
        "This belongs to Fengtai: only Fengtai or a level above it may change it."
    )
    assert Case.objects.get(pk=ft_case.pk).cluster_id == mixed.pk and AuditEntry.objects.count() == n_audit
    city_inv = english(make_user("investigator", city.city))
    assert post(city_inv, f"/api/clusters/{own.code}/merge", {"clusters": [mixed.code]}).status_code == 200
    assert Case.objects.get(pk=ft_case.pk).cluster_id == own.pk

    plan = QuarantinePlan.objects.filter(applies_to="close", in_force=True).order_by("-version").first()
    assert plan is not None
    in_force = set(QuarantinePlan.objects.filter(in_force=True).values_list("pk", flat=True))
    body = {"applies_to": "close", "definition": {**plan.definition, "transfer_within_hours": 6}, "note": "x"}
    r = post(english(make_user("administrator", city.changping)), "/api/control/plans", body)
    assert r.status_code == 403 and "only Synthetic Capital or a level above it" in r.json()["detail"]
    assert set(QuarantinePlan.objects.filter(in_force=True).values_list("pk", flat=True)) == in_force
    assert post(english(make_user("administrator", city.city)), "/api/control/plans", body).status_code == 201
