"""The timeliness figures (apps/command/timeliness.py): on seeded random cases, every day's and every district's
median and 90th percentile equal a simple recount from the control board's own clocks
(``control.selectors.case_clocks``) and the investigations; a missing time is pending, not zero; a district user
sees only their district; the page shows the API's figures in both languages. The kept figures the page and the
API read (``TimelinessDay``, refreshed by the workers) equal the live count, also after a pending case completes
and the refresh runs; the nightly recount reports drift."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.command import actions as command_actions
from cordon.apps.command import timeliness
from cordon.apps.command.models import TimelinessDay
from cordon.apps.control.models import ControlOrder
from cordon.apps.control.selectors import case_clocks
from cordon.apps.geo import selectors as geo_selectors
from cordon.apps.people import actions as people_actions
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Case, Contact, Investigation
from cordon.engine import identity

pytestmark = pytest.mark.django_db

DAYS = 14


def _person(city: Any, n: int, fengtai: bool) -> Any:
    return people_actions.create_person(
        actor=None,
        data=people_actions.PersonData(
            name=f"人员{n}",
            national_id=identity.make("110106" if fengtai else "110114", dt.date(1980, 1, 1), 100 + n),
            phone=f"137{n:08d}",
            home_building=city.ft_building if fengtai else city.cp_building,
        ),
    )


@pytest.fixture
def response(city: Any) -> list[Case]:
    return _cases(city, 20)


def _cases(city: Any, seed: int) -> list[Case]:
    """Twenty-four cases over the last ten days in both districts, with random times: the trajectory done
    or not yet, the tracing done or not, close contacts confirmed and under control or not yet."""
    rng = random.Random(seed)
    now = timezone.now()
    cases = []
    n = 0
    for i in range(24):
        fengtai = i % 3 != 0
        reported = now - dt.timedelta(hours=rng.uniform(1, 24 * 10))
        n += 1
        case = tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=_person(city, n, fengtai), sampled_at=reported - dt.timedelta(hours=5),
                reported_at=reported, found_by="fever_clinic", classification="asymptomatic",
                control=rng.choice(["community", "community", "quarantine", "isolation"]), code=f"T-{i:03d}",
            ),
        )  # fmt: skip
        cases.append(case)
        if rng.random() < 0.75:
            done = reported + dt.timedelta(hours=rng.uniform(0, 12))
            Investigation.objects.filter(case=case).update(completed_at=done)
        if rng.random() < 0.2:
            continue  # not traced yet
        contacts = []
        for _ in range(rng.randint(0, 2)):
            n += 1
            person = _person(city, n, rng.random() < 0.5)
            contacts.append(
                Contact.objects.create(
                    case=case,
                    person=person,
                    degree=1,
                    contact_type="venue",
                    jurisdiction=person.jurisdiction,
                    district=geo_selectors.district_of(person.jurisdiction),
                )
            )
        judged = [c for c in contacts if rng.random() < 0.9]
        if judged:
            tracing.decide_contacts(
                actor=None, case=case, contact_ids=[c.pk for c in judged], decision="confirmed"
            )
        decided = reported + dt.timedelta(hours=rng.uniform(0, 6))
        Contact.objects.filter(pk__in=[c.pk for c in judged]).update(decided_at=decided)
        Case.objects.filter(pk=case.pk).update(traced_at=reported + dt.timedelta(hours=rng.uniform(0, 3)))
        for c in judged:
            if rng.random() < 0.8:
                at = reported + dt.timedelta(hours=rng.uniform(-2, 16))
                ControlOrder.objects.filter(person=c.person).update(controlled_at=at)
    return list(Case.objects.filter(pk__in=[c.pk for c in cases]).select_related("district", "investigation"))


def _api(client: Any, **params: Any) -> Any:
    return client.get("/api/command/timeliness", {"days": DAYS, **params})


def _q(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return round(values[0], 2), round(values[0], 2)
    return round(statistics.median(values), 2), round(
        statistics.quantiles(values, n=10, method="inclusive")[8], 2
    )


def _close(a: float | None, b: float | None) -> bool:
    return a == b or (a is not None and b is not None and abs(a - b) <= 0.011)


def test_the_medians_and_90th_percentiles_are_a_recount_of_the_clocks(
    city: Any, make_user: Any, client_for: Any, response: list[Case]
) -> None:
    data = _api(client_for(make_user("city_commander", city.city))).json()
    assert data["dates"][-1] == timezone.localdate().isoformat() and len(data["dates"]) == DAYS
    assert [r["code"] for r in data["rows"]] == [city.city.code, city.fengtai.code, city.changping.code]
    clocks = case_clocks(response)

    def hours(c: Case, key: str) -> float | None:
        end = c.investigation.completed_at if key == "trajectory" else clocks[c.pk].transferred_at
        return None if end is None else max(0.0, (end - c.reported_at).total_seconds() / 3600)

    pending_seen = 0
    for row in data["rows"]:
        mine = [c for c in response if row["code"] == city.city.code or c.district.code == row["code"]]
        assert row["total"]["cases"] == len(mine)
        for i, day in enumerate(data["dates"]):
            on_day = [c for c in mine if timezone.localtime(c.reported_at).date().isoformat() == day]
            assert row["cases"][i] == len(on_day)
            assert row["under_control"][i] == sum(1 for c in on_day if c.control != "community")
            for key in ("trajectory", "transfer"):
                known = [h for c in on_day if (h := hours(c, key)) is not None]
                m, p = _q(known)
                assert _close(row[key]["median"][i], m) and _close(row[key]["p90"][i], p), (
                    row["code"],
                    day,
                    key,
                )
                assert row[key]["done"][i] == len(known)
                assert row[key]["pending"][i] == len(on_day) - len(known)  # missing: pending, not zero
                pending_seen += row[key]["pending"][i]
        for key in ("trajectory", "transfer"):
            known = [h for c in mine if (h := hours(c, key)) is not None]
            m, p = _q(known)
            assert _close(row[key]["total"]["median"], m) and _close(row[key]["total"]["p90"], p)
            target = data["targets"][key]
            assert row[key]["total"]["within"] == sum(1 for h in known if h <= target)
    assert pending_seen > 0  # the random data has times not yet known


def test_a_district_user_sees_only_their_district(
    city: Any, make_user: Any, client_for: Any, response: list[Case]
) -> None:
    client = client_for(make_user("district_commander", city.fengtai))
    data = _api(client).json()
    assert [r["code"] for r in data["rows"]] == [city.fengtai.code]
    assert data["rows"][0]["total"]["cases"] == sum(1 for c in response if c.district_id == city.fengtai.pk)
    assert _api(client, district=city.changping.code).status_code == 404
    assert client.get("/command/timeliness/", {"district": city.changping.code}).status_code == 404
    assert _api(client, district=city.fengtai.code).json()["rows"] == data["rows"]
    city_client = client_for(make_user("city_commander", city.city))
    one = _api(city_client, district=city.changping.code).json()
    assert [r["code"] for r in one["rows"]] == [city.changping.code]
    assert one["rows"][0] == _api(city_client).json()["rows"][2]


def test_the_page_shows_the_apis_figures_in_both_languages(
    city: Any, make_user: Any, client_for: Any, response: list[Case]
) -> None:
    client = client_for(make_user("city_commander", city.city))
    data = client.get("/api/command/timeliness", {"days": DAYS}, HTTP_ACCEPT_LANGUAGE="en").json()
    page = client.get("/command/timeliness/", {"days": DAYS}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert page.context["t"]["rows"] == data["rows"]
    html = page.content.decode()
    assert 'data-testid="chart-trajectory"' in html and "vendor/echarts/echarts.min.js" in html
    assert f'data-testid="timeliness-row-{city.fengtai.code}"' in html
    assert "Timeliness of the response" in html
    zh = client.get("/command/timeliness/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "处置时效" in zh and "尚未完成" in zh
    analysis = client.get("/command/analysis/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="/command/timeliness/"' in analysis
    assert client.get("/command/timeliness/", {"days": "x", "district": "nope"}).status_code == 404
    assert client.get("/command/timeliness/", {"days": "x"}).status_code == 200
    assert _api(client, days=0).status_code == 422


def test_no_case_shows_the_empty_state(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("city_commander", city.city))
    data = _api(client).json()
    assert data["rows"][0]["total"] == {"cases": 0, "under_control": 0, "control_share": None}
    assert data["rows"][0]["trajectory"]["total"]["median"] is None
    page = client.get("/command/timeliness/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="timeliness-empty"' in page and "echarts" not in page


# --- the kept figures (command.TimelinessDay, actions.refresh_timeliness) ----------------------------------------


def _both(user: Any, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The figures read from the kept rows and counted live, the time of the count left out."""
    kept = timeliness.timeliness(user, **kw)
    live = timeliness.timeliness(user, live=True, **kw)
    assert kept.pop("counted_at") is not None, "read from the kept rows"
    assert live.pop("counted_at") is None
    return kept, live


def _assert_kept_is_live(city: Any, users: list[Any]) -> None:
    for user in users:
        for days in (DAYS, 30, timeliness.MAX_DAYS):
            kept, live = _both(user, days=days)
            assert kept == live, (user.role, days)
        for d in timeliness.districts_for(user):
            kept, live = _both(user, days=DAYS, district=d.code)
            assert kept == live


def test_the_kept_figures_are_the_live_ones_also_after_a_pending_case_completes(
    city: Any, make_user: Any, settings: Any, response: list[Case]
) -> None:
    settings.CORDON_TIMELINESS_RECENT_DAYS = 0  # today, the days with pending cases and the days not kept
    users = [
        make_user("city_commander", city.city),
        make_user("district_commander", city.fengtai),
        make_user("district_commander", city.changping),
    ]
    assert timeliness.timeliness(users[0])["counted_at"] is None  # nothing kept yet: counted live
    assert command_actions.refresh_timeliness() == 2 * timeliness.MAX_DAYS  # every district and day, zero too
    _assert_kept_is_live(city, users)

    # An investigation and a transfer of older days complete: the kept rows lag until the next refresh.
    today = timezone.localdate()
    old = [c for c in response if (today - timezone.localtime(c.reported_at).date()).days >= 2]
    case = next(c for c in old if c.investigation.completed_at is None)
    Investigation.objects.filter(case=case).update(completed_at=case.reported_at + dt.timedelta(hours=3))
    clocks = case_clocks(old)
    waiting = next(c for c in old if clocks[c.pk].transferred_at is None)
    Case.objects.filter(pk=waiting.pk).update(traced_at=waiting.reported_at + dt.timedelta(hours=1))
    to_judge = Contact.objects.filter(case=waiting, status="candidate").values_list("pk", flat=True)
    if to_judge:
        tracing.decide_contacts(actor=None, case=waiting, contact_ids=list(to_judge), decision="confirmed")
    for contact in Contact.objects.filter(case=waiting, degree=1, status="confirmed"):
        ControlOrder.objects.filter(person=contact.person).update(controlled_at=waiting.reported_at)
    waiting.refresh_from_db()
    assert case_clocks([waiting])[waiting.pk].transferred_at is not None
    kept, live = _both(users[0], days=DAYS)
    assert kept != live
    command_actions.refresh_timeliness()
    _assert_kept_is_live(city, users)
    assert command_actions.reconcile_timeliness() == []  # nothing left to repair


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_kept_figures_are_the_live_ones_on_other_random_cases(
    city: Any, make_user: Any, seed: int
) -> None:
    _cases(city, seed)
    command_actions.refresh_timeliness()
    _assert_kept_is_live(
        city, [make_user("city_commander", city.city), make_user("district_commander", city.fengtai)]
    )


def test_the_nightly_recount_reports_and_repairs_drift(
    city: Any, make_user: Any, settings: Any, response: list[Case]
) -> None:
    settings.CORDON_TIMELINESS_RECENT_DAYS = 0
    user = make_user("city_commander", city.city)
    command_actions.refresh_timeliness()
    row = TimelinessDay.objects.filter(cases__gt=0).order_by("day").first()
    assert row is not None
    TimelinessDay.objects.filter(pk=row.pk).update(under_control=row.under_control + 1, transfer_hours=b"")
    drift = command_actions.reconcile_timeliness()
    assert [(d.district_id, d.day, d.fields) for d in drift] == [
        (row.district_id, row.day, ("under_control", "transfer_hours"))
    ]
    kept, live = _both(user, days=DAYS)
    assert kept == live
    assert command_actions.reconcile_timeliness() == []


def test_stale_kept_figures_are_counted_live_and_the_page_says_when_they_were_counted(
    city: Any, make_user: Any, client_for: Any, settings: Any, response: list[Case]
) -> None:
    client = client_for(make_user("city_commander", city.city))
    command_actions.refresh_timeliness()
    data = _api(client).json()
    assert data["counted_at"] is not None
    assert 'data-testid="counted-at"' in client.get("/command/timeliness/").content.decode()
    street = timeliness.timeliness(make_user("street_officer", city.beigong))
    assert street["counted_at"] is None  # below a district: counted live
    TimelinessDay.objects.update(counted_at=timezone.now() - dt.timedelta(hours=1))
    settings.CORDON_TIMELINESS_STALE_SECONDS = 600
    stale = _api(client).json()
    assert stale["counted_at"] is None  # no worker refreshing: counted now
    assert stale["rows"] == data["rows"]
