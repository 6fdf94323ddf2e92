"""The daily-zero board (``/command/zero/``, ``GET /api/command/zero``): read from the kept counts it equals the
board counted now (due today included) for city and district commanders, now and three days on; "due today"
equals a recount of its definition; yesterday's close is stored once, equals a recount at midnight, and says
"cleared" exactly when nothing of a kind was overdue; a district commander sees its streets only and is refused
another district's; the page and the API show the same figures; every cell links to a list that opens."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from cordon.apps.command import zero
from cordon.apps.control import actions as control
from cordon.apps.control.models import ControlOrder, SampleTask
from cordon.apps.geo.models import Jurisdiction
from cordon.apps.people import actions as people
from cordon.apps.screening.models import ResampleTask, TemporaryControl
from cordon.apps.tallies import actions
from cordon.apps.tallies import selectors as tallies
from cordon.apps.tallies.models import OpenItemClose
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Case, Contact, Linkage
from cordon.core import openitems
from cordon.core.access import may_open
from cordon.core.scoping import NotFound, Scope
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
    _tracing_objects(city)
    _control_objects(city)
    _screening_objects(city)
    _zone_objects(city)
    _gridwork_objects(city)
    return city


def _figures(data: dict[str, Any]) -> dict[str, Any]:
    return {r["code"]: r["cells"] for r in [data["area"], *data["rows"]]}


@pytest.mark.parametrize("days", [0, 3])
def test_the_board_from_kept_counts_equals_the_board_counted_now(
    world: Any, make_user: Any, days: int
) -> None:
    now = timezone.now() + dt.timedelta(days=days)
    users = [
        (make_user("city_commander", world.city), ""),
        (make_user("city_commander", world.city), world.changping.code),
        (make_user("district_commander", world.fengtai), ""),
        (make_user("district_commander", world.changping), ""),
        (make_user("street_officer", world.beigong), ""),
    ]
    live = [zero.board(u, area=a, now=now) for u, a in users]
    assert all(b["counted_at"] is None for b in live)
    assert actions.refresh(now=now) > 0
    kept = [zero.board(u, area=a, now=now) for u, a in users]
    assert all(b["counted_at"] == now for b in kept)
    for a, b in zip(live, kept, strict=True):
        assert _figures(a) == _figures(b)
    city = _figures(kept[0])
    assert sum(c["open"] for c in city[world.city.code]) > 0
    assert any(c["overdue"] for c in city[world.city.code])
    # "Due today" of cases not traced, recounted from its definition: not overdue, overdue before midnight.
    judge = dt.timedelta(hours=settings.CORDON_JUDGE_HOURS)
    expected = Case.objects.filter(
        traced_at__isnull=True, reported_at__gte=now - judge, reported_at__lt=openitems.day_end(now) - judge
    ).count()
    untraced = next(c for c in city[world.city.code] if c["kind"] == "untraced")
    assert untraced["due_today"] == expected
    assert untraced["due_today"] + untraced["overdue"] <= untraced["open"]


def test_due_today_of_a_case_reported_now(world: Any, make_user: Any) -> None:
    """A case reported an hour before the local day ends falls due tomorrow; one reported early falls due today."""
    today = timezone.localdate()
    judge = dt.timedelta(hours=settings.CORDON_JUDGE_HOURS)
    end = openitems.day_end(timezone.make_aware(dt.datetime.combine(today, dt.time(12))))
    commander = make_user("city_commander", world.city)
    case = Case.objects.filter(traced_at__isnull=True).first()
    assert case is not None
    Case.objects.filter(traced_at__isnull=True).exclude(pk=case.pk).update(traced_at=timezone.now())
    for reported, due in (
        (end - judge - dt.timedelta(minutes=5), 1),
        (end - judge + dt.timedelta(minutes=5), 0),
    ):
        Case.objects.filter(pk=case.pk).update(reported_at=reported)
        now = reported + dt.timedelta(minutes=1)
        cell = next(c for c in zero.board(commander, now=now)["area"]["cells"] if c["kind"] == "untraced")
        assert (cell["open"], cell["overdue"], cell["due_today"]) == (1, 0, due)


def test_yesterday_is_closed_once_and_equals_a_recount_at_midnight(world: Any, make_user: Any) -> None:
    today = timezone.localdate() + dt.timedelta(days=2)  # two days on: some items are overdue by then
    midnight = timezone.make_aware(dt.datetime.combine(today, dt.time()))
    now = midnight + dt.timedelta(minutes=3)
    users = [make_user("city_commander", world.city), make_user("district_commander", world.fengtai)]
    before = [zero.board(u, now=now) for u in users]
    assert not before[0]["closed"] and before[0]["area"]["cleared"] is None
    written = actions.close_day(now=now)
    assert written == OpenItemClose.objects.filter(day=today - dt.timedelta(days=1)).count() > 0
    assert actions.close_day(now=now + dt.timedelta(minutes=1)) == 0  # closed once
    for user in users:
        data = zero.board(user, now=now)
        assert data["closed"] and data["yesterday"] == (today - dt.timedelta(days=1)).isoformat()
        scope_kinds = [k for k in openitems.kinds() if Scope.of(user).can(k.capability)]
        ids = [Jurisdiction.objects.get(code=r["code"]).pk for r in [data["area"], *data["rows"]]]
        recount = tallies.counted_node_counts(user, scope_kinds, ids, midnight)
        for row, pk in zip([data["area"], *data["rows"]], ids, strict=True):
            for cell in row["cells"]:
                n, late, _due = recount.get(pk, {}).get(cell["kind"], (0, 0, 0))
                assert (cell["closed_open"], cell["closed_overdue"]) == (n, late)
                assert cell["cleared"] is (late == 0)
            assert row["cleared"] is all(c["cleared"] for c in row["cells"])
    city = zero.board(users[0], now=now)["area"]
    assert any(c["cleared"] is False for c in city["cells"]) and any(c["cleared"] for c in city["cells"])
    # The stored close counts every sector's items: a reader limited to one sector is not shown it.
    limited = zero.board(make_user("city_commander", world.city, sector=world.courier_sector), now=now)
    assert not limited["closed"] and limited["area"]["cleared"] is None


def test_a_district_sees_its_streets_only(world: Any, make_user: Any, client_for: Any) -> None:
    fengtai = make_user("district_commander", world.fengtai)
    data = zero.board(fengtai)
    streets = set(Jurisdiction.objects.filter(parent=world.fengtai).values_list("code", flat=True))
    assert data["area"]["code"] == world.fengtai.code and {r["code"] for r in data["rows"]} == streets
    assert data["up"] == ""
    with pytest.raises(NotFound):
        zero.board(fengtai, area=world.changping.code)
    with pytest.raises(NotFound):
        zero.board(fengtai, area=world.city.code)
    client = client_for(fengtai)
    assert client.get("/command/zero/", {"area": world.changping.code}).status_code == 404
    assert client.get("/api/command/zero", {"area": world.changping.code}).status_code == 404
    assert client.get("/command/zero/", {"area": world.beigong.code}).status_code == 200
    city = zero.board(make_user("city_commander", world.city))
    districts = set(Jurisdiction.objects.filter(parent=world.city).values_list("code", flat=True))
    assert {r["code"] for r in city["rows"]} == districts
    drilled = zero.board(make_user("city_commander", world.city), area=world.fengtai.code)
    assert {r["code"] for r in drilled["rows"]} == streets and drilled["up"] == world.city.code


def test_the_page_and_the_api_show_the_same_figures_and_every_link_opens(
    world: Any, make_user: Any, client_for: Any
) -> None:
    now = timezone.now()
    actions.refresh(now=now)
    commander = make_user("city_commander", world.city)
    client = client_for(commander)
    api = client.get("/api/command/zero").json()
    assert [r["code"] for r in api["rows"]] == [world.fengtai.code, world.changping.code]
    page = client.get("/command/zero/")
    assert page.status_code == 200
    html = page.content.decode()
    for row in [api["area"], *api["rows"]]:
        for cell in row["cells"]:
            assert f'data-testid="zero-cell-{row["code"]}-{cell["kind"]}"' in html
    links = {k["link"] for k in api["kinds"] if k["link"]}
    assert len(links) >= 4
    for link in links:
        assert client.get(link).status_code == 200, link
    # Chinese.
    zh = client.get("/command/zero/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "每日清零" in zh and "无对应列表" in zh  # a kind without a list says so
    cell = next(c for c in api["area"]["cells"] if c["kind"] == "untraced")
    listed = client.get(cell["links"]["overdue"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "每日清零：仅显示当前已超时的事项。" in listed
    listed = client.get(cell["links"]["overdue"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Daily-zero board: only the items overdue now." in listed


def test_the_close_runs_on_a_clock() -> None:
    from cordon.core import periodic

    tasks = {t.name: t for t in periodic.tasks()}
    assert tasks["tallies.close_day"].every() <= 300


def test_a_cell_leads_to_a_list_of_as_many_items(world: Any, make_user: Any, client_for: Any) -> None:
    """Handovers to acknowledge: the district's cell counts what its inbox lists."""
    actions.refresh(now=timezone.now())
    commander = make_user("district_commander", world.changping)
    data = zero.board(commander)
    cell = next(c for c in data["area"]["cells"] if c["kind"] == "linkage")
    assert cell["open"] == 1 and cell["link"]
    listed = client_for(commander).get(cell["link"])
    assert listed.status_code == 200 and listed.context["page_obj"].paginator.count == cell["open"]


def _listed(client: Any, link: str) -> int:
    response = client.get(link)
    assert response.status_code == 200, (link, response.status_code)
    ctx = response.context
    if "controls" in ctx:  # positives follow-up: two lists
        return len(ctx["controls"]) + len(ctx["tasks"])
    count: int = ctx["page_obj"].paginator.count
    return count + (len(ctx["alerts"]) if "alerts" in ctx else 0)  # tests and alerts: two lists


def _spread(world: Any) -> None:
    """Items of the linked kinds in every state: one of each overdue (long past its deadline), one falling due
    today (its deadline later today) and one open beyond today, shifting the world's own items."""
    places = [(world.zgz_grid, world.fengtai, world.ft_building)] * 2 + [
        (world.lx_grid, world.changping, world.cp_building)
    ]
    for i, (grid, district, building) in enumerate(places * 2):
        person = people.create_person(
            actor=None,
            data=people.PersonData(
                name=f"等待{i}", national_id=identity.make("110106", dt.date(1980, 1, 1 + i), 500 + i),
                phone=f"1380000700{i}", home_building=building,
            ),
        )  # fmt: skip
        if i < 3:  # waiting for control
            waiting = Contact.objects.create(
                case=world.case, person=person, degree=1, contact_type="venue", jurisdiction=grid,
                district=district, status="confirmed",
            )  # fmt: skip
            assert len(control.open_orders(actor=None, contacts=[waiting])) == 1
            continue
        # to judge, handed over to Changping, and a case not traced
        contact = Contact.objects.create(
            case=world.case, person=person, degree=1, contact_type="venue", jurisdiction=world.lx_grid,
            district=world.changping,
        )  # fmt: skip
        Linkage.objects.create(contact=contact, from_district=world.fengtai, to_district=world.changping)
        # under temporary control, and a re-sample overdue
        TemporaryControl.objects.create(
            person=person, jurisdiction=grid, district=district, round=world.round, tube=world.tube
        )
        ResampleTask.objects.create(
            round=world.round, person=person, source_tube=world.tube, jurisdiction=grid, district=district,
            due_at=timezone.now() - dt.timedelta(hours=1),
        )  # fmt: skip
        tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=person, onset_date=timezone.localdate(), sampled_at=timezone.now(), found_by="fever_clinic",
                control="community",
            ),
        )  # fmt: skip
    # a test missed yesterday
    first = world.order.sample_tasks.filter(status="due").order_by("due_on").first()
    SampleTask.objects.filter(pk=first.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    now = timezone.now()
    judge = dt.timedelta(hours=settings.CORDON_JUDGE_HOURS)
    ack = dt.timedelta(hours=settings.CORDON_LINKAGE_ACK_HOURS)
    end = openitems.day_end(now)
    soon = now + (end - now) / 2  # later today
    later = end + dt.timedelta(hours=2)  # tomorrow
    for qs, field, limit in (
        (Case.objects.filter(traced_at__isnull=True), "reported_at", judge),
        (Contact.objects.filter(status="candidate", degree__gt=0), "found_at", judge),
        (Linkage.objects.filter(acknowledged_at__isnull=True), "created_at", ack),
    ):
        pks = list(qs.order_by("pk").values_list("pk", flat=True))
        assert len(pks) >= 3
        for i, pk in enumerate(pks):
            deadline = (now - dt.timedelta(days=2), soon, later)[i % 3]
            qs.model.objects.filter(pk=pk).update(**{field: deadline - limit})
    waiting = ControlOrder.objects.filter(status="waiting").order_by("pk").values_list("pk", flat=True)
    for i, pk in enumerate(waiting):
        ControlOrder.objects.filter(pk=pk).update(due_at=(now - dt.timedelta(days=2), soon, later)[i % 3])


@pytest.mark.parametrize("who", ["city", "fengtai", "changping"])
def test_every_figure_of_the_board_leads_to_a_list_of_as_many(
    world: Any, make_user: Any, client_for: Any, who: str
) -> None:
    """Each figure of each cell (overdue, due today, open) opens its kind's list narrowed to the row's area and
    to that state, and the list holds exactly as many; a kind with no such list says so and links nowhere."""
    _spread(world)
    node = getattr(world, who)
    user = make_user("city_commander" if who == "city" else "district_commander", node)
    actions.refresh(now=timezone.now())
    client = client_for(user)
    data = zero.board(user)
    html = client.get("/command/zero/").content.decode()
    seen: dict[str, set[str]] = {}
    for row in [data["area"], *data["rows"]]:
        for cell in row["cells"]:
            if not cell["listed"]:
                assert cell["links"] == {} and not cell["link"]
                continue
            if not may_open(user, zero.LISTS[cell["kind"]][0]):  # a list the user may not open: no link
                assert cell["links"] == {}
                continue
            assert set(cell["links"]) == set(openitems.STATES), cell["kind"]
            for state, link in cell["links"].items():
                param = zero.STATE_PARAM.get(zero.LISTS[cell["kind"]][0], "state")
                assert f"area={row['code']}" in link and f"{param}={state}" in link
                assert _listed(client, link) == cell[state], (row["code"], cell["kind"], state)
                assert link.replace("&", "&amp;") in html
                if cell[state]:
                    seen.setdefault(cell["kind"], set()).add(state)
    assert 'data-testid="no-list"' in html
    if (
        who == "city"
    ):  # the seeded world has something in every state of the linked kinds, so it means something
        # (a city commander receives no handovers; no release falls due in this world; some kinds are all
        # overdue, or never overdue)
        for kind in ("untraced", "to_judge", "waiting"):
            assert seen.get(kind) == set(openitems.STATES), (kind, seen.get(kind))
        for kind in ("missed_tests", "alerts", "resamples"):
            assert seen.get(kind) == {"overdue", "open"}, (kind, seen.get(kind))
        assert seen.get("temporary_controls") == {"open"}
    if who == "changping":  # the handovers, seen by the district they are handed to
        assert seen.get("linkage") == set(openitems.STATES)


def test_a_zone_across_two_districts_counts_once(world: Any, make_user: Any) -> None:
    """The world's one proposed zone holds a Fengtai and a Changping building: Fengtai's cell counts it once."""
    data = zero.board(make_user("district_commander", world.fengtai))
    cell = next(c for c in data["area"]["cells"] if c["kind"] == "zones_to_decide")
    assert cell["open"] == 1
