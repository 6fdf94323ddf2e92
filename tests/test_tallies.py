"""The kept counts of the open-items board: the board read from them equals the board counted live, for users of
every level of the jurisdiction tree (city, district, street, community, grid), on the same data; sector-limited
users and stale counts are counted live; a corrupted count is found and repaired by the reconciliation; workers
run the refresh on a clock."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.control import selectors as control
from cordon.apps.tallies import actions
from cordon.apps.tallies import selectors as tally_reads
from cordon.apps.tallies.models import OpenItemTally
from cordon.apps.tracing import actions as tracing
from cordon.core import periodic
from test_authorization_matrix import (
    _control_objects,
    _gridwork_objects,
    _screening_objects,
    _tracing_objects,
    _zone_objects,
)

pytestmark = pytest.mark.django_db


def _board(user: Any, now: dt.datetime) -> dict[str, Any]:
    data = control.open_items(user, now)
    rows = {r.district.code: (dict(r.counts), dict(r.overdue)) for r in data["rows"]}
    return {
        "rows": rows,
        "total": (dict(data["total"].counts), dict(data["total"].overdue)),
        "at": data["counted_at"],
    }


@pytest.fixture
def world(city: Any) -> Any:
    _tracing_objects(city)
    _control_objects(city)
    _screening_objects(city)
    _zone_objects(city)  # a city zone across both districts, its putting in force to decide
    _gridwork_objects(city)  # a Changping post whose plan has patrols due
    return city


@pytest.mark.parametrize("days", [0, 3])  # now, and three days on (more items overdue)
def test_the_board_from_kept_counts_equals_the_board_counted_live(
    world: Any, make_user: Any, days: int
) -> None:
    now = timezone.now() + dt.timedelta(days=days)
    users = [
        make_user("city_commander", world.city),
        make_user("district_commander", world.fengtai),
        make_user("district_commander", world.changping),
        make_user("quarantine_officer", world.changping),
        make_user("administrator", world.city),
        make_user("street_officer", world.beigong),
        make_user("street_officer", world.huilongguan),
        make_user("grid_worker", world.longxiang),
        make_user("grid_worker", world.zhangguozhuang),
        make_user("grid_worker", world.lx_grid),
        make_user("grid_worker", world.zgz_grid),
    ]
    live = [_board(u, now) for u in users]
    assert all(b["at"] is None for b in live)  # nothing kept yet: counted live
    assert sum(sum(v for v in row[0].values()) for b in live for row in b["rows"].values()) > 0
    assert live[0]["total"][0]["zones_to_decide"] == 1  # the city zone over two districts, once
    assert actions.refresh(now=now) == OpenItemTally.objects.count() > 0
    kept = [_board(u, now) for u in users]
    assert all(b["at"] == now for b in kept)
    for a, b in zip(live, kept, strict=True):
        assert a["rows"] == b["rows"] and a["total"] == b["total"]
    # The streets, communities and grids see some of what their district sees, not all of it.
    grids = [b["total"][0] for b in kept[-2:]]
    assert any(sum(g.values()) for g in grids)
    assert sum(sum(g.values()) for g in grids) < sum(kept[0]["total"][0].values())


def test_sector_users_and_stale_counts_are_counted_live(world: Any, make_user: Any) -> None:
    now = timezone.now()
    actions.refresh(now=now)
    street = make_user("street_officer", world.beigong)
    assert _board(street, now)["at"] == now
    regulator = make_user("industry_regulator", world.city, sector=world.courier_sector)
    assert tally_reads.board_counts(regulator, ["waiting"], now) is None  # a sector's share is counted live
    commander = make_user("city_commander", world.city)
    assert _board(commander, now + dt.timedelta(seconds=60))["at"] == now
    assert _board(commander, now + dt.timedelta(minutes=10))["at"] is None  # no worker refreshed: live


def test_the_reconciliation_finds_and_repairs_a_corrupted_count(world: Any, make_user: Any) -> None:
    now = timezone.now()
    actions.refresh(now=now)
    commander = make_user("city_commander", world.city)
    right = _board(commander, now)
    assert actions.reconcile(now=now) == []  # nothing drifted
    tally = OpenItemTally.objects.get(kind="waiting", jurisdiction=world.city, district=world.changping)
    OpenItemTally.objects.filter(pk=tally.pk).update(open=tally.open + 500)
    assert _board(commander, now)["rows"] != right["rows"]  # the board shows the corrupted count
    grid = make_user("grid_worker", world.lx_grid)
    grid_right = _board(grid, now)
    OpenItemTally.objects.filter(jurisdiction=world.lx_grid, kind="alerts").delete()  # a lost count
    assert _board(grid, now)["rows"] != grid_right["rows"]
    drift = actions.reconcile(now=now)
    found = {(d.kind, d.jurisdiction_id, d.district_id): (d.kept, d.actual) for d in drift}
    assert found[("waiting", world.city.pk, world.changping.pk)] == (
        (tally.open + 500, tally.overdue, tally.due_today),
        (tally.open, tally.overdue, tally.due_today),
    )
    assert found[("alerts", world.lx_grid.pk, world.changping.pk)][0] == (0, 0, 0)
    assert len(found) == 2
    assert _board(commander, now)["rows"] == right["rows"]
    assert _board(grid, now)["rows"] == grid_right["rows"]
    assert actions.reconcile(now=now) == []


def test_workers_refresh_on_a_clock(settings: Any) -> None:
    settings.CORDON_TALLY_SECONDS = 7
    tasks = {t.name: t for t in periodic.tasks()}
    assert tasks["tallies.refresh"].every() == 7 and tasks["tallies.reconcile"].every() == 24 * 3600
    settings.CORDON_ROLLUP_SECONDS = 45
    assert tasks["geo.rollups"].every() == 45


def test_kept_roll_ups_equal_the_roll_ups_counted_now(world: Any, make_user: Any) -> None:
    from cordon.apps.geo import actions as geo
    from cordon.apps.geo import selectors as geo_reads

    users = [
        (make_user("city_commander", world.city), world.city),
        (make_user("city_commander", world.city), world.fengtai),
        (make_user("district_commander", world.changping), world.changping),
        (make_user("street_officer", world.beigong), world.beigong),
        (make_user("lab_staff", world.city), world.city),  # sees no persons figure
    ]
    assert all(geo_reads.kept_subtree_counts(u, node) is None for u, node in users)  # nothing kept yet
    assert geo.refresh_rollups() > 0
    for user, node in users:
        kept = geo_reads.kept_subtree_counts(user, node)
        counted = geo_reads.counted_subtree_counts(user, node)
        assert kept is not None and kept.keys() <= counted.keys()
        assert {k: kept[k] for k in kept} == {k: counted[k] for k in kept}
        assert kept[node.pk] and any(kept[node.pk].values())
    regulator = make_user("industry_regulator", world.city, sector=world.courier_sector)
    assert geo_reads.kept_subtree_counts(regulator, world.city) is None  # sector-limited: counted now


def _tables(user: Any, now: dt.datetime) -> tuple[Any, Any]:
    sites = sorted(control.open_items(user, now)["sites"], key=lambda s: s["name"])
    rows, total = control.capacity_by_district(user, kept=True)
    return sites, ([(r["district"].code, r["sites"], r["capacity"]) for r in rows], total)


def test_the_kept_site_table_and_capacity_equal_those_counted_live(
    world: Any, make_user: Any, settings: Any
) -> None:
    from cordon.apps.control import actions as control_actions
    from cordon.apps.control.models import SiteCapacity, SiteTally

    now = timezone.now()
    users = [
        make_user("city_commander", world.city),
        make_user("district_commander", world.changping),
        make_user("district_commander", world.fengtai),
        make_user("street_officer", world.huilongguan),
        make_user("grid_worker", world.lx_grid),
        make_user("grid_worker", world.zgz_grid),
    ]
    live = [_tables(u, now) for u in users]
    assert any(sites for sites, _ in live)  # the Changping order at the site has an alert
    assert control_actions.refresh_board_tables(now=now) == SiteTally.objects.count() + 1
    assert SiteCapacity.objects.get().counted_at == now
    kept = [_tables(u, now) for u in users]
    assert kept == live
    # The kept rows are read, not recounted: a corrupted one shows until the next refresh repairs it.
    SiteTally.objects.filter(jurisdiction=world.city).update(alerts=99)
    SiteCapacity.objects.update(rooms=99)
    corrupted = _tables(users[0], now)
    assert corrupted[0][0]["alerts"] == 99 and corrupted[1][1].rooms == 99
    settings.CORDON_TALLY_STALE_SECONDS = -1  # no worker refreshed: counted live
    assert _tables(users[0], now) == live[0]
    settings.CORDON_TALLY_STALE_SECONDS = 120
    control_actions.refresh_board_tables(now=now)
    assert _tables(users[0], now) == live[0]


def test_the_clocks_page_shows_every_recent_case(world: Any, make_user: Any, client: Any) -> None:
    commander = make_user("city_commander", world.city)
    client.force_login(commander)
    r = client.get("/control/clocks/", HTTP_ACCEPT_LANGUAGE="en")
    n = len(control.recent_cases_with_clocks(commander))
    assert r.status_code == 200 and n > 0
    assert r.content.count(b'data-testid="clock-row"') == n
    board = client.get("/control/", HTTP_ACCEPT_LANGUAGE="en")
    assert board.content.count(b'data-testid="clock-row"') == min(n, control.CLOCKS_ON_BOARD)


def _kept_tables(client: Any, lang: str) -> list[str]:
    """The board page's tables that are read from kept counts, as rendered: per district, per site, capacity."""
    r = client.get("/control/", HTTP_ACCEPT_LANGUAGE=lang)
    assert r.status_code == 200
    html = r.content.decode()
    return re.findall(r'<table [^>]*data-testid="(?:board|sites|clocks|capacity)">.*?</table>', html, re.S)


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_board_page_renders_its_kept_tables_once_per_refresh(
    world: Any, make_user: Any, client: Any, settings: Any, lang: str
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cordon.apps.control import actions as control_actions

    users = [
        make_user("city_commander", world.city),
        make_user("district_commander", world.changping),
        make_user("quarantine_officer", world.changping),  # the same node, another role
        make_user("street_officer", world.huilongguan),
    ]

    def tables(user: Any) -> list[str]:
        client.force_login(user)
        return _kept_tables(client, lang)

    def refresh(now: dt.datetime) -> None:
        actions.refresh(now=now)
        control_actions.refresh_board_tables(now=now)

    settings.CORDON_TALLY_STALE_SECONDS = -1  # counted live
    live = [tables(u) for u in users]
    assert [len(t) for t in live] == [4, 3, 3, 3]  # the clocks of the Fengtai case, for the city only
    assert len({tuple(t) for t in live}) == len(users)  # each user's own
    settings.CORDON_TALLY_STALE_SECONDS = 120
    now = timezone.now()
    refresh(now)
    with CaptureQueriesContext(connection) as first:
        assert [tables(u) for u in users] == live  # rendered from the kept counts: the same tables
    with CaptureQueriesContext(connection) as again:
        assert [tables(u) for u in users] == live  # and again, from the parts rendered once
    assert len(again) < len(first)
    # A new alert (handled: one alert less), a room more and a new case change the counts, the site table, the
    # capacity and the clocks: the kept tables show them once the next refresh has counted them, not before.
    control_actions.handle_alert(actor=None, record=world.health, handling="called the doctor")
    tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=world.cp_person, onset_date=timezone.localdate(), sampled_at=timezone.now(),
            found_by="fever_clinic",
        ),
    )  # fmt: skip
    control_actions.add_rooms(actor=None, site=world.site, numbers="103")
    assert [tables(u) for u in users] == live
    settings.CORDON_TALLY_STALE_SECONDS = -1
    changed = [tables(u) for u in users]
    settings.CORDON_TALLY_STALE_SECONDS = 120
    assert all(a != b for a, b in zip(changed, live, strict=True))
    assert [len(t) for t in changed] == [
        4,
        4,
        4,
        4,
    ]  # the case in Huilongguan (Changping): all see its clocks
    refresh(now + dt.timedelta(seconds=1))
    assert [tables(u) for u in users] == changed
