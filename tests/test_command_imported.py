"""Imported cases (输入病例) and Rt on the nowcast: the flag goes through the report form, the API and the case page;
the situation analysis's Rt counts only local cases in the numerator and local and imported ones as sources
(equal to a brute-force recount of Cori's posterior); by onset date the default Rt is the one on the nowcast
(the as-reported one stays available), by report date there is none."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from cordon.apps.command import selectors as command
from cordon.apps.people import actions as people_actions
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Case
from cordon.engine import identity, rt

pytestmark = pytest.mark.django_db


def _person(city: Any, n: int) -> Any:
    return people_actions.create_person(
        actor=None,
        data=people_actions.PersonData(
            name=f"输入{n}",
            national_id=identity.make("110106", dt.date(1990, 1, 1), 300 + n),
            phone=f"136{n:08d}",
            home_building=city.ft_building,
        ),
    )


def test_the_imported_flag_goes_through_the_form_the_api_and_the_case_page(
    city: Any, make_user: Any, client_for: Any
) -> None:
    client = client_for(make_user("investigator", city.fengtai))
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = {
        "person": city.ft_person.national_id, "classification": "asymptomatic", "found_by": "fever_clinic",
        "control": "community", "sampled_at": (now - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "imported": "on",
    }  # fmt: skip
    r = client.post("/tracing/cases/new/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    case = Case.objects.get(person=city.ft_person)
    assert case.imported is True
    page = client.get(f"/tracing/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="case-imported">yes<' in page
    zh = client.get(f"/tracing/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "输入病例" in zh and 'data-testid="case-imported">是<' in zh
    assert client.get(f"/api/cases/{case.pk}").json()["imported"] is True
    # edited on the case page and through the API
    assert 'data-testid="imported-form"' in page
    assert client.post(f"/tracing/cases/{case.pk}/imported/", {}).status_code == 302
    assert Case.objects.get(pk=case.pk).imported is False
    edited = client.post(
        f"/api/cases/{case.pk}/imported", data=json.dumps({"imported": True}), content_type="application/json"
    )
    assert edited.status_code == 200 and edited.json()["imported"] is True
    assert (
        client.post(
            f"/api/cases/{case.pk}/imported",
            data=json.dumps({"imported": "maybe"}),
            content_type="application/json",
        ).status_code
        == 422
    )
    # the form shows the box, and a case reported without it is local
    new = client.get("/tracing/cases/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="imported"' in new and "Imported case (infected elsewhere)" in new
    body = {
        "person_id": city.ft_person2.pk, "classification": "asymptomatic", "found_by": "fever_clinic",
        "sampled_at": (now - dt.timedelta(hours=1)).isoformat(),
    }  # fmt: skip
    local = client.post("/api/cases", data=json.dumps(body), content_type="application/json")
    assert local.status_code == 201 and local.json()["imported"] is False
    body = {**body, "person_id": city.cp_person.pk, "imported": True}
    other = client_for(make_user("investigator", city.changping))
    made = other.post("/api/cases", data=json.dumps(body), content_type="application/json")
    assert made.status_code == 201 and made.json()["imported"] is True
    assert Case.objects.get(pk=made.json()["id"]).imported is True


@pytest.fixture
def mixed(city: Any) -> list[Case]:
    """Cases over 30 days in Fengtai, a third of them imported, reported one to four days after onset."""
    today = timezone.localdate()
    cases = []
    n = 0
    for ago in range(30, -1, -1):
        for _k in range(1 + (30 - ago) // 6):
            n += 1
            onset = today - dt.timedelta(days=ago)
            reported = min(
                timezone.make_aware(dt.datetime.combine(onset + dt.timedelta(days=1 + (n % 4)), dt.time(9))),
                timezone.now() - dt.timedelta(minutes=n),
            )
            cases.append(
                tracing.report_case(
                    actor=None,
                    data=tracing.CaseData(
                        person=_person(city, n),
                        onset_date=min(onset, timezone.localtime(reported).date()),
                        sampled_at=reported - dt.timedelta(hours=4),
                        reported_at=reported,
                        found_by="fever_clinic",
                        imported=n % 3 == 0,
                        code=f"M-{n:03d}",
                    ),
                )
            )
    return cases


def _brute_force(local: list[float], imported: list[float], si: list[float], t: int, window: int) -> float:
    """Cori's posterior mean for the window ending on day ``t``, summed by hand: shape a + local cases, rate
    1/b + the infectiousness of local and imported cases (w_0 ignored)."""
    a, b = 1.0, 5.0
    total = [x + y for x, y in zip(local, imported, strict=True)]
    shape, rate = a, 1 / b
    for s in range(t - window + 1, t + 1):
        shape += local[s]
        rate += sum(total[s - k] * si[k] for k in range(1, len(si)) if s - k >= 0)
    return shape / rate


def test_rt_counts_imported_cases_as_sources_only(
    city: Any, make_user: Any, client_for: Any, mixed: list[Case]
) -> None:
    client = client_for(make_user("city_commander", city.city))
    data = client.get("/api/command/analysis", {"basis": "report"}).json()
    dates = data["curve"]["dates"]
    imported = [0.0] * len(dates)
    everyone = [0.0] * len(dates)
    for c in mixed:
        i = dates.index(timezone.localtime(c.reported_at).date().isoformat())
        everyone[i] += 1
        imported[i] += c.imported
    assert data["curve"]["imported"] == [int(x) for x in imported]
    assert [
        a + b for a, b in zip(data["curve"]["community"], data["curve"]["control"], strict=True)
    ] == everyone
    local = [e - i for e, i in zip(everyone, imported, strict=True)]
    _, mean, sd = command.serial_interval()
    si = [float(x) for x in rt.discretise_si(mean, sd)]
    assert data["rt"]["on"] == "reported" and data["rt"]["nowcast"] is None
    checked = 0
    for t, got in enumerate(data["rt"]["mean"]):
        if got is None:
            continue
        assert got == pytest.approx(_brute_force(local, imported, si, t, 7), abs=1e-4)
        as_local = _brute_force(everyone, [0.0] * len(dates), si, t, 7)
        checked += sum(imported[t - 6 : t + 1]) > 0 and not math.isclose(got, as_local, abs_tol=1e-3)
    assert checked > 0  # the imported cases changed the estimate
    # the district's row in the areas table is computed the same way
    fengtai = next(m for m in data["moved"] if m["code"] == city.fengtai.code)
    assert fengtai["rt"] == pytest.approx(_brute_force(local, imported, si, len(dates) - 1, 7), abs=1e-4)


def test_rt_on_the_nowcast_is_the_default_by_onset_and_the_as_reported_one_stays(
    city: Any, make_user: Any, client_for: Any, mixed: list[Case]
) -> None:
    client = client_for(make_user("city_commander", city.city))
    data = client.get("/api/command/analysis", {"basis": "onset"}).json()
    r = data["rt"]
    assert r["on"] == "nowcast" and r["nowcast"] is not None
    assert r["mean"] == r["nowcast"]["mean"] and r["latest"] == r["nowcast"]["latest"]
    dates = data["curve"]["dates"]
    n = len(dates)
    # before the nowcast's days both are the same; today (no nowcast yet: too few cases in) has no estimate
    for t in range(n - 14):
        assert r["nowcast"]["mean"][t] == r["reported"]["mean"][t]
    assert r["nowcast"]["mean"][-1] is None and r["reported"]["mean"][-1] is not None
    assert r["latest"]["date"] is not None and r["latest"]["date"] < dates[-1]
    # the corrected incidence: the local cases' nowcast median over the last 14 days, recounted here
    first = dt.date.fromisoformat(dates[0])
    local = [c for c in mixed if not c.imported]
    ev = np.array([((c.onset_date or c.reported_at.date()) - first).days for c in local])
    rp = np.array([(timezone.localtime(c.reported_at).date() - first).days for c in local])
    now = rt.nowcast(np.zeros(len(local), np.int64), ev, rp, n - 1, 1, max_delay=command.MAX_DELAY)
    counts = np.bincount(ev, minlength=n).astype(float)
    tail = now.median[0, n - 14 :]
    counts[n - 14 :] = np.where(now.reported[0, n - 14 :] > 0, tail, np.where(np.isnan(tail), np.nan, 0.0))
    assert (np.nan_to_num(now.median[0, n - 14 :], nan=np.inf) >= now.reported[0, n - 14 :]).all()
    imported = np.zeros(n)
    for c in mixed:
        if c.imported:
            imported[((c.onset_date or c.reported_at.date()) - first).days] += 1
    _, mean, sd = command.serial_interval()
    si = [float(x) for x in rt.discretise_si(mean, sd)]
    for t in range(n - 14, n - 1):
        if r["nowcast"]["mean"][t] is not None:
            ref = _brute_force(list(counts), list(imported), si, t, 7)
            assert r["nowcast"]["mean"][t] == pytest.approx(ref, abs=1e-4)
    page = client.get("/command/analysis/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="rt-on-nowcast"' in page and 'data-testid="fact-rt-reported"' in page
    zh = client.get("/command/analysis/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "基于已报告病例的 Rt" in zh
    by_report = client.get(
        "/command/analysis/", {"basis": "report"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'data-testid="rt-on-nowcast"' not in by_report
