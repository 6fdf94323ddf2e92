"""The commanders' home (``/`` for city and district commanders, ``/command/``, ``GET /api/command/home``):
every number links to the list it counts, and following each link as a city and a district commander lists
exactly that many; the figures read from kept counts equal those counted live; a district commander sees only
its district and is refused another; the figures stored for a day equal a recount, and the change from
yesterday is read from them. Other roles keep the shell's home."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django.utils import timezone

from cordon.apps.command import actions, figures
from cordon.apps.command.models import DayFigures
from cordon.apps.control import actions as control
from cordon.apps.geo import actions as geo
from cordon.apps.geo.models import Jurisdiction, Level
from cordon.apps.people import actions as people
from cordon.apps.screening import actions as screening
from cordon.apps.screening import selectors as screening_reads
from cordon.apps.tallies import actions as tallies
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Contact
from cordon.apps.zones import selectors as zone_reads
from cordon.apps.zones.models import Zone, ZoneBuilding
from cordon.core import periodic
from cordon.core.actors import CityReader
from cordon.engine import identity
from test_authorization_matrix import (
    _control_objects,
    _gridwork_objects,
    _screening_objects,
    _tracing_objects,
    _zone_objects,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(city: Any) -> Any:
    """Open items of every kind (the matrix's objects), and more: cases today in the community and under
    control, contacts to judge in both districts, a Fengtai resident waiting for a transfer, zones in force of
    every kind."""
    _tracing_objects(city)  # a Fengtai case today (community), a confirmed Changping contact
    _control_objects(city)  # the Changping contact isolated at a Changping site, an alert
    _screening_objects(city)  # a city round running today
    _zone_objects(city)  # a proposed city zone
    _gridwork_objects(city)  # a Changping sealed zone in force, patrols due
    today = timezone.localdate()
    cp_case = tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=city.courier, onset_date=today, sampled_at=timezone.now(), found_by="in_quarantine",
            control="quarantine",
        ),
    )  # fmt: skip
    for case, person, grid, district in [
        (city.case, city.ft_person2, city.zgz_grid, city.fengtai),
        (cp_case, city.cp_person, city.lx_grid, city.changping),
    ]:
        Contact.objects.create(
            case=case, person=person, degree=1, contact_type="household", jurisdiction=grid, district=district,
        )  # fmt: skip
    neighbour = people.create_person(
        actor=None,
        data=people.PersonData(
            name="赵磊", national_id=identity.make("110106", dt.date(1975, 2, 3), 411), phone="13800005555",
            home_building=city.ft_building,
        ),
    )  # fmt: skip
    waiting = Contact.objects.create(
        case=cp_case, person=neighbour, degree=1, contact_type="venue", jurisdiction=city.zgz_grid,
        district=city.fengtai, status="confirmed",
    )  # fmt: skip
    assert len(control.open_orders(actor=None, contacts=[waiting])) == 1
    for code, kind, owner, building in [
        ("Z-C", "controlled", city.fengtai, city.ft_building),
        ("Z-P", "prevention", city.city, city.cp_building),
    ]:
        zone = Zone.objects.create(
            code=code, name=code, kind=kind, state="in_force", owner=owner, starts_on=today, in_force_on=today
        )
        ZoneBuilding.objects.create(zone=zone, building=building)
    return city


def _headline(client: Client, **params: str) -> dict[str, Any]:
    response = client.get("/api/command/home", params)
    assert response.status_code == 200, response.content
    data: dict[str, Any] = response.json()
    return data


def _listed(client: Client, link: str, key: str, area: str) -> int:
    """How many the page at ``link`` lists (or, for the day's persons sampled and to sample, the coverage of the
    rounds it lists, each round's coverage page opened under ``area``)."""
    response = client.get(link)
    assert response.status_code == 200, (link, response.status_code)
    ctx = response.context
    path = urlparse(link).path
    if path == "/command/zero/":  # the overdue items: the area's row of the daily-zero board
        return int(ctx["z"]["area"]["overdue"])
    if path == "/zones/":
        return len(ctx["zones"])
    if path == "/screening/":
        rounds = list(ctx["rounds"])
        if key == "screening_rounds":
            return len(rounds)
        total = 0
        for r in rounds:
            cov = client.get(f"/screening/rounds/{r.code}/coverage/", {"node": area}).context["cov"].total
            total += cov.sampled if key == "screening_sampled" else cov.target
        return total
    count: int = ctx["page_obj"].paginator.count
    return count


@pytest.mark.parametrize("who", ["city", "fengtai", "changping"])
def test_every_number_on_the_home_lists_as_many(
    world: Any, make_user: Any, client_for: Any, who: str
) -> None:
    node = getattr(world, who)
    user = make_user("city_commander" if who == "city" else "district_commander", node)
    client = client_for(user)
    page = client.get("/")
    assert page.status_code == 200
    assert page.templates[0].name == "command/home.html"
    h = page.context["h"]
    api = _headline(client)
    assert {**h, "taken_at": None} == {**api, "taken_at": None}  # the page and the API: one function
    assert h["area"]["code"] == node.code
    shown = {k: f for k, f in h["figures"].items() if f["value"] is not None}
    assert set(shown) == set(figures.KEYS)  # a commander sees every figure
    html = page.content.decode()
    for key, f in shown.items():
        assert f'data-testid="fig-{key}" data-value="{f["value"]}"' in html  # every number is a link
        assert _listed(client, f["link"], key, node.code) == f["value"], key
    # Something of each is there to count (the world has it), so the equality above means something.
    if who == "city":
        zero = {k for k in figures.KEYS if not shown[k]["value"]}
        assert zero == {"screening_sampled"}, zero  # nobody sampled yet
    assert shown["cases"]["value"] == shown["cases_community"]["value"] + shown["cases_control"]["value"]


def test_a_city_commander_follows_the_links_of_a_district(
    world: Any, make_user: Any, client_for: Any
) -> None:
    client = client_for(make_user("city_commander", world.city))
    h = _headline(client, district=world.fengtai.code)
    district = _headline(client_for(make_user("district_commander", world.fengtai)))
    assert {k: f["value"] for k, f in h["figures"].items()} == {
        k: f["value"] for k, f in district["figures"].items()
    }
    for key, f in h["figures"].items():
        assert parse_qs(urlparse(f["link"]).query)["area"] == [world.fengtai.code]
        assert _listed(client, f["link"], key, world.fengtai.code) == f["value"], key


def test_kept_counts_give_the_figures_counted_live(world: Any, make_user: Any) -> None:
    """Every figure read from the kept counts (the board's, the control, case and zone groups) equals the figure
    counted live, for the city and both districts: a prevention zone over both districts counts once in each
    and once in the city, and yesterday's cases (for the change) are kept too."""
    ZoneBuilding.objects.create(zone=Zone.objects.get(code="Z-P"), building=world.ft_building)
    tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=world.ft_person2, onset_date=timezone.localdate() - dt.timedelta(days=2),
            sampled_at=timezone.now() - dt.timedelta(days=1, hours=2), found_by="fever_clinic",
            reported_at=timezone.now() - dt.timedelta(days=1),
        ),
    )  # fmt: skip
    # A Fengtai round today with a person sampled, beside the city's round: Changping does not see it.
    now = timezone.now()
    fengtai_round = screening.create_round(
        actor=None,
        data=screening.RoundData(
            code="R-FT", name="丰台筛查", owner=world.fengtai, starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=8), jurisdictions=[world.fengtai],
        ),
    )  # fmt: skip
    site = screening.add_site(
        actor=None, round=fengtai_round, data=screening.SiteData("S-FT", "丰台采样点", world.zgz_grid)
    )
    screening.issue_tubes(actor=None, site=site, barcodes="F001")
    screening.bind_samples(
        actor=None, site=site, rows=[screening.BindingIn("F001", world.ft_person2.national_id, now)], now=now
    )
    users = [
        make_user("city_commander", world.city),
        make_user("district_commander", world.fengtai),
        make_user("district_commander", world.changping),
    ]
    today = timezone.localdate()
    live = [figures.headline(u, today)["figures"] for u in users]
    assert [f["zones_prevention"]["value"] for f in live] == [1, 1, 1]
    assert [f["screening_rounds"]["value"] for f in live] == [2, 2, 1]
    assert [f["screening_sampled"]["value"] for f in live] == [1, 1, 0]
    assert live[0]["cases"]["yesterday"] == 1
    now = timezone.now()
    tallies.refresh(now=now)
    geo.refresh_rollups(now=now)
    geo.refresh_fast_rollups(now=now)
    for group in (
        figures.CONTROL_GROUP,
        figures.CASES_GROUP,
        zone_reads.IN_FORCE,
        screening_reads.COVERAGE_TODAY,
    ):
        assert all(geo_kept(u, group) for u in users), group
    kept = [figures.headline(u, today)["figures"] for u in users]
    assert kept == live


def geo_kept(user: Any, group: str = figures.CONTROL_GROUP) -> bool:
    from cordon.apps.geo import selectors

    return selectors.kept_group(user, group) is not None


def test_a_district_commander_sees_only_its_district(world: Any, make_user: Any, client_for: Any) -> None:
    fengtai = client_for(make_user("district_commander", world.fengtai))
    h = _headline(fengtai)
    assert [a["code"] for a in h["areas"]] == [world.fengtai.code, world.beigong.code]
    assert h["figures"]["under_control"]["value"] == 0  # the isolated resident lives in Changping
    assert _headline(fengtai, district=world.beigong.code)["area"]["code"] == world.beigong.code
    for other in (world.changping.code, world.city.code, world.huilongguan.code, "nowhere"):
        assert fengtai.get("/api/command/home", {"district": other}).status_code == 404
        assert fengtai.get("/command/", {"district": other}).status_code == 404
        assert fengtai.get("/tracing/cases/", {"area": other}).status_code == 404
        assert fengtai.get("/control/orders/", {"area": other, "status": "under_control"}).status_code == 404
    city = _headline(client_for(make_user("city_commander", world.city)))
    assert city["figures"]["under_control"]["value"] == 1
    grid = client_for(make_user("grid_worker", world.zgz_grid))
    assert grid.get("/api/command/home").status_code == 403
    assert grid.get("/command/").status_code == 403


def test_other_roles_keep_the_shells_home(world: Any, make_user: Any, client_for: Any) -> None:
    for role in ("street_officer", "quarantine_officer", "auditor"):
        page = client_for(make_user(role, world.beigong)).get("/")
        assert page.status_code == 200
        assert page.templates[0].name == "web/home.html"


def test_both_languages(world: Any, make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("city_commander", world.city))
    zh = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "今日新增病例" in zh and "待研判接触者" in zh and "社会面发现" in zh
    en = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "New cases today" in en and "Contacts to judge" in en


def test_the_days_figures_equal_a_recount_and_give_the_change(
    world: Any, make_user: Any, client_for: Any
) -> None:
    now = timezone.now()
    today = timezone.localdate(now)
    areas = Jurisdiction.objects.filter(level__in=[Level.CITY, Level.DISTRICT, Level.STREET]).count()
    assert areas > 3  # the city, its two districts and their streets
    assert actions.take_day_figures(now=now - dt.timedelta(days=1)) == areas
    assert actions.take_day_figures(now=now) == areas
    assert actions.take_day_figures(now=now) == areas  # taken again: replaced, not added
    assert DayFigures.objects.filter(day=today).count() == areas
    for node in (world.city, world.fengtai, world.changping, world.beigong):
        stored = DayFigures.objects.get(day=today, jurisdiction=node)
        assert stored.figures == figures.values(CityReader(node), today, now)
    user = make_user("district_commander", world.changping)
    commander = make_user("city_commander", world.city)
    fengtai = make_user("district_commander", world.fengtai)
    for u, node, area in (
        (user, world.changping, ""),
        (commander, world.city, ""),
        (fengtai, world.beigong, world.beigong.code),  # a street of the district: its yesterday is stored too
    ):
        h = figures.headline(u, today, area=area)
        assert h["yesterday_stored"]
        before = DayFigures.objects.get(day=today - dt.timedelta(days=1), jurisdiction=node).figures
        for key, f in h["figures"].items():
            expected = 0 if key.startswith("cases") else before[key]  # yesterday's cases: none reported
            assert f["yesterday"] == expected and f["change"] == f["value"] - expected, key
    # A past day shows what was stored that day.
    past = _headline(client_for(commander), day=(today - dt.timedelta(days=1)).isoformat())
    assert (
        past["figures"]["to_judge"]["value"]
        == figures.headline(commander, today)["figures"]["to_judge"]["value"]
    )
    # Before anything is stored, only the new cases show a change.
    DayFigures.objects.all().delete()
    h = figures.headline(commander, today)
    assert not h["yesterday_stored"]
    assert (
        h["figures"]["to_judge"]["change"] is None
        and h["figures"]["cases"]["change"] == h["figures"]["cases"]["value"]
    )
    page = client_for(commander).get("/").content.decode()
    assert 'data-testid="change-to_judge">—' in page


def test_workers_take_the_days_figures_on_a_clock(settings: Any) -> None:
    settings.CORDON_DAY_FIGURES_SECONDS = 120
    tasks = {t.name: t for t in periodic.tasks()}
    assert tasks["command.day_figures"].every() == 120


def test_stored_figures_show_only_what_the_readers_role_may_see(world: Any, make_user: Any) -> None:
    """The workers store each node's figures with every capability; an investigator (cases, not screening)
    sees yesterday's screening figures as unknown, as today's, never the stored ones."""
    now = timezone.now()
    today = timezone.localdate(now)
    actions.take_day_figures(now=now - dt.timedelta(days=1))
    investigator = make_user("investigator", world.fengtai)
    h = figures.headline(investigator, today)
    assert h["yesterday_stored"]
    for key in ("screening_rounds", "screening_sampled", "screening_target"):
        assert h["figures"][key]["value"] is None and h["figures"][key]["yesterday"] is None, key
    commander = figures.headline(make_user("district_commander", world.fengtai), today)
    assert commander["figures"]["screening_rounds"]["yesterday"] is not None
