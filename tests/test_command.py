"""The situation analysis (apps/command): the page and the API show the same figures (one selector), the figures
equal a recount from the cases, the city's curve is the sum of its districts', a district user cannot get
another district's figures, and an area with no case shows the empty state."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.people import actions as people_actions
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Case
from cordon.engine import identity

pytestmark = pytest.mark.django_db


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def outbreak(city: Any) -> list[Case]:
    """Cases over the last three weeks in both districts: some found in the community, some under control,
    some without an onset date, a cluster growing this week."""
    today = timezone.localdate()
    cases = []
    plan = [  # (days ago reported, onset days before report or None, control, person index)
        (20, 2, "community", 0), (18, 3, "community", 2), (15, None, "quarantine", 1), (12, 1, "community", 3),
        (9, 2, "isolation", 0), (6, 2, "community", 2), (5, None, "community", 1), (3, 1, "quarantine", 3),
        (2, 2, "community", 0), (1, 1, "community", 2), (1, 3, "sealed_area", 1), (0, 1, "community", 3),
        (0, None, "community", 0),
    ]  # fmt: skip
    for i, (ago, onset, where, who) in enumerate(plan):
        reported = _at(today - dt.timedelta(days=ago), 9 + i % 8)
        if ago == 0:  # today, before now
            reported = max(_at(today, 0), timezone.now() - dt.timedelta(minutes=1 + i))
        fengtai = who < 2
        person = people_actions.create_person(
            actor=None,
            data=people_actions.PersonData(
                name=f"病例{i}",
                national_id=identity.make("110106" if fengtai else "110114", dt.date(1980, 1, 1), 500 + i),
                phone=f"138000{i:05d}",
                home_building=city.ft_building if fengtai else city.cp_building,
            ),
        )
        cases.append(
            tracing.report_case(
                actor=None,
                data=tracing.CaseData(
                    person=person,
                    onset_date=None if onset is None else reported.date() - dt.timedelta(days=onset),
                    sampled_at=reported - dt.timedelta(hours=20),
                    reported_at=reported,
                    found_by="fever_clinic",
                    classification="confirmed" if onset is not None else "asymptomatic",
                    control=where,
                    code=f"C-{i:03d}",
                ),
            )
        )
    tracing.create_cluster(actor=None, name="北宫聚集", cases=cases[-6:-1])
    return cases


def _api(client: Any, language: str = "zh-hans", **params: str) -> Any:
    return client.get("/api/command/analysis", params, HTTP_ACCEPT_LANGUAGE=language)


def _recount(cases: list[Case], basis: str, dates: list[str]) -> tuple[list[int], list[int]]:
    def day(c: Case) -> dt.date:
        rep = timezone.localtime(c.reported_at).date()
        if basis == "report":
            return rep
        if basis == "sampling":
            return min(timezone.localtime(c.sampled_at).date(), rep)
        return min(c.onset_date, rep) if c.onset_date else rep

    community = Counter(day(c).isoformat() for c in cases if c.control == "community")
    control = Counter(day(c).isoformat() for c in cases if c.control != "community")
    return [community[d] for d in dates], [control[d] for d in dates]


@pytest.mark.parametrize("basis", ["onset", "sampling", "report"])
def test_the_curve_is_a_recount_of_the_cases_and_the_city_is_the_sum_of_its_districts(
    city: Any, make_user: Any, client_for: Any, outbreak: list[Case], basis: str
) -> None:
    client = client_for(make_user("city_commander", city.city))
    whole = _api(client, basis=basis).json()
    dates = whole["curve"]["dates"]
    assert dates[-1] == timezone.localdate().isoformat()
    community, control = _recount(outbreak, basis, dates)
    assert whole["curve"]["community"] == community
    assert whole["curve"]["control"] == control
    assert whole["cases"] == len(outbreak)
    assert [a["code"] for a in whole["areas"]] == [city.city.code, city.fengtai.code, city.changping.code]
    parts = [_api(client, basis=basis, district=d.code).json() for d in (city.fengtai, city.changping)]
    for key in ("community", "control"):
        summed = [0] * len(dates)
        for part in parts:
            offset = len(dates) - len(part["curve"]["dates"])
            assert part["curve"]["dates"] == dates[offset:]
            for i, v in enumerate(part["curve"][key]):
                summed[offset + i] += v
        assert summed == whole["curve"][key]
    # the table of areas: today's and yesterday's reports per district
    today = timezone.localdate()
    for row in whole["moved"]:
        mine = [c for c in outbreak if c.district.code == row["code"]]
        assert row["today"] == sum(1 for c in mine if timezone.localtime(c.reported_at).date() == today)
        assert row["yesterday"] == sum(
            1 for c in mine if timezone.localtime(c.reported_at).date() == today - dt.timedelta(days=1)
        )
        assert row["change"] == row["today"] - row["yesterday"]


def test_known_source_clusters_growth_and_rt_are_reported(
    city: Any, make_user: Any, client_for: Any, outbreak: list[Case]
) -> None:
    data = _api(client_for(make_user("city_commander", city.city))).json()
    today = timezone.localdate()
    recent = [c for c in outbreak if (today - timezone.localtime(c.reported_at).date()).days < 14]
    recent = list(Case.objects.filter(pk__in=[c.pk for c in recent]))  # the cluster was set after the report
    known = [c for c in recent if c.control != "community" or c.cluster_id is not None]
    assert data["known_source"]["cases"] == len(recent)
    assert data["known_source"]["known"] == len(known)
    assert [c["name"] for c in data["clusters"]] == ["北宫聚集"]
    assert data["clusters"][0]["last_7"] == 5
    assert [g["days"] for g in data["growth"]] == [7, 14]
    for g in data["growth"]:
        assert g["cases"] == sum(
            1 for c in outbreak if 1 <= (today - timezone.localtime(c.reported_at).date()).days <= g["days"]
        )
    assert len(data["rt"]["mean"]) == len(data["curve"]["dates"])
    latest = data["rt"]["latest"]
    assert latest["mean"] is not None and latest["lower"] < latest["mean"] < latest["upper"]
    assert latest["warning"] is True  # a dozen cases: the CV is far above 0.3
    assert data["nowcast"]["dates"][-1] == today.isoformat()
    assert len(data["nowcast"]["dates"]) == 14


def test_the_page_shows_the_apis_figures(
    city: Any, make_user: Any, client_for: Any, outbreak: list[Case]
) -> None:
    client = client_for(make_user("district_commander", city.fengtai))
    data = _api(client, "en", basis="report").json()
    page = client.get("/command/analysis/", {"basis": "report"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-testid="fact-cases">{data["cases"]}<' in html
    assert f'data-testid="fact-today">{data["reported_today"]}<' in html
    assert f'data-testid="fact-yesterday">{data["reported_yesterday"]}<' in html
    chart = page.context["charts"]["curve"]
    assert chart["community"] == data["curve"]["community"] and chart["control"] == data["curve"]["control"]
    assert page.context["a"] == data
    assert 'data-testid="chart-rt"' in html and "vendor/echarts/echarts.min.js" in html
    assert 'data-testid="rt-warning"' in html
    zh = client.get("/command/analysis/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "态势研判" in zh


def test_a_district_user_cannot_get_another_districts_figures(
    city: Any, make_user: Any, client_for: Any, outbreak: list[Case]
) -> None:
    client = client_for(make_user("district_commander", city.fengtai))
    assert _api(client, district=city.changping.code).status_code == 404
    assert _api(client, district=city.city.code).status_code == 404
    assert client.get("/command/analysis/", {"district": city.changping.code}).status_code == 404
    own = _api(client).json()
    assert own["area"]["code"] == city.fengtai.code
    assert own["cases"] == sum(1 for c in outbreak if c.district_id == city.fengtai.pk)
    assert [a["code"] for a in own["areas"]] == [city.fengtai.code, city.beigong.code]


def test_no_cases_yet_shows_the_empty_state(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("city_commander", city.city))
    data = _api(client).json()
    assert data["cases"] == 0 and set(data["curve"]["community"]) == {0}
    assert [g["cases"] for g in data["growth"]] == [0, 0] and data["growth"][1]["rate"] is None
    assert data["rt"]["latest"]["mean"] is None or data["rt"]["latest"]["warning"]
    page = client.get("/command/analysis/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert 'data-testid="analysis-empty"' in page.content.decode()
    assert "echarts" not in page.content.decode()


def test_growth_covers_14_days_even_when_the_first_case_is_recent(
    city: Any, make_user: Any, client_for: Any
) -> None:
    """With cases only in the last few days, the 14-day window still holds them (zeros before the first)."""
    today = timezone.localdate()
    for i, ago in enumerate((3, 2, 2, 1)):
        person = people_actions.create_person(
            actor=None,
            data=people_actions.PersonData(
                name=f"新病例{i}",
                national_id=identity.make("110106", dt.date(1985, 1, 1), 700 + i),
                phone=f"139000{i:05d}",
                home_building=city.ft_building,
            ),
        )
        reported = _at(today - dt.timedelta(days=ago))
        tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=person, onset_date=reported.date(), sampled_at=reported - dt.timedelta(hours=3),
                reported_at=reported, found_by="fever_clinic",
            ),
        )  # fmt: skip
    data = _api(client_for(make_user("city_commander", city.city))).json()
    assert [g["cases"] for g in data["growth"]] == [4, 4]
    assert data["growth"][1]["rate"] is not None
