"""Grid management (issue 19): duty posts, plans, shifts and patrols through the API and the pages, scoped;
bad input refused with clear errors and nothing written; missed patrols counted on the open-items board (kept
counts included); the grid worker's phone view."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from cordon.apps.audit.models import AuditEntry
from cordon.apps.gridwork import actions, selectors
from cordon.apps.gridwork.models import DutyPost, DutyShift, Patrol, PatrolPlan
from cordon.apps.zones.models import Zone, ZoneBuilding
from cordon.core import openitems
from cordon.core.actors import CityReader
from test_ownership_matrix import fingerprint

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def grid(city: Any, make_user: Any) -> Any:
    today = timezone.localdate()
    city.zone = Zone.objects.create(
        code="Z-1",
        name="龙祥封控区",
        kind="sealed",
        state="in_force",
        owner=city.changping,
        starts_on=today - dt.timedelta(days=5),
        in_force_on=today - dt.timedelta(days=5),
    )
    ZoneBuilding.objects.create(zone=city.zone, building=city.cp_building)
    city.post = actions.create_post(actor=None, zone=city.zone, name="北门", building=city.cp_building)
    city.cp_worker = make_user("grid_worker", city.lx_grid, username="lx.worker")
    city.ft_worker = make_user("grid_worker", city.zgz_grid, username="zgz.worker")
    city.cp_commander = make_user("district_commander", city.changping, username="cp.commander")
    city.ft_commander = make_user("district_commander", city.fengtai, username="ft.commander")
    return city


def _client(user: Any, lang: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.force_login(user)
    return client


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _local(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hh, mm)))


# --- API ------------------------------------------------------------------------------------------------------


def test_a_district_sets_up_a_post_its_plan_and_shift_and_the_worker_records_a_patrol(grid: Any) -> None:
    boss = _client(grid.cp_commander)
    r = _post(
        boss,
        "/api/gridwork/posts",
        {"zone": grid.zone.pk, "name": "东门", "kind": "entrance", "building": grid.cp_building.code},
    )
    assert r.status_code == 201, r.content
    post = r.json()
    assert post["grid"] == grid.lx_grid.code and post["kind"] == "entrance" and post["latitude"] == 40.07
    r = _post(
        boss, f"/api/gridwork/posts/{post['id']}/plan", {"times": ["20:00", "08:00"], "tolerance_minutes": 20}
    )
    assert r.status_code == 201 and r.json()["times"] == ["08:00", "20:00"]
    now = timezone.now()
    r = _post(
        boss,
        f"/api/gridwork/posts/{post['id']}/shifts",
        {
            "username": "lx.worker",
            "starts_at": (now - dt.timedelta(hours=1)).isoformat(),
            "ends_at": (now + dt.timedelta(hours=7)).isoformat(),
        },
    )
    assert r.status_code == 201, r.content
    detail = boss.get(f"/api/gridwork/posts/{post['id']}").json()
    assert detail["plan"]["times"] == ["08:00", "20:00"] and [s["username"] for s in detail["on_duty"]] == [
        "lx.worker"
    ]

    worker = _client(grid.cp_worker)
    r = _post(
        worker, f"/api/gridwork/posts/{post['id']}/patrols", {"findings": "crowding", "note": "门口聚集"}
    )
    assert r.status_code == 201, r.content
    assert r.json()["result"] == "problem" and r.json()["by"] == "lx.worker"
    listed = worker.get(f"/api/gridwork/posts/{post['id']}/patrols").json()
    assert [p["findings"] for p in listed] == ["crowding"]
    assert AuditEntry.objects.filter(model="gridwork.patrol", verb="create").count() == 1


def test_another_districts_worker_cannot_record_on_my_post_and_nothing_changes(grid: Any) -> None:
    worker, commander = _client(grid.ft_worker), _client(grid.ft_commander)
    before = fingerprint()
    r = _post(worker, f"/api/gridwork/posts/{grid.post.pk}/patrols", {"findings": "all_clear"})
    assert r.status_code == 404
    page = worker.post(f"/gridwork/posts/{grid.post.pk}/patrol/", {"findings": "all_clear"})
    assert page.status_code == 404
    r = _post(commander, f"/api/gridwork/posts/{grid.post.pk}/plan", {"times": ["08:00"]})
    assert r.status_code == 404
    body = {"zone": grid.zone.pk, "name": "西门", "building": grid.cp_building.code}
    r = _post(commander, "/api/gridwork/posts", body)
    assert r.status_code == 422 and "zone" in r.json()["errors"]
    assert worker.get("/api/gridwork/posts").json() == []
    assert fingerprint() == before


def test_a_worker_of_another_grid_may_record_only_while_on_duty_at_the_post(
    grid: Any, make_user: Any
) -> None:
    from cordon.apps.geo import actions as geo

    grid2 = geo.create_jurisdiction(
        actor=None,
        code="110114011005-02",
        name="龙祥社区东区第2网格",
        level=grid.lx_grid.level,
        parent=grid.lx_grid.parent,
    )
    helper = make_user("grid_worker", grid2, username="lx2.worker")
    url = f"/api/gridwork/posts/{grid.post.pk}/patrols"
    assert _post(_client(helper), url, {"findings": "all_clear"}).status_code == 404  # not theirs to see
    now = timezone.now()
    actions.assign_duty(
        actor=grid.cp_commander,
        post=grid.post,
        user=helper,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
    )
    r = _post(_client(helper), url, {"findings": "all_clear"})
    assert r.status_code == 201, r.content
    # Outside the shift, refused: the post is not of their grid.
    r = _post(
        _client(helper), url, {"findings": "all_clear", "at": (now - dt.timedelta(hours=3)).isoformat()}
    )
    assert r.status_code == 403 and Patrol.objects.count() == 1


# --- Bad input ------------------------------------------------------------------------------------------------


def test_a_patrol_at_a_post_of_a_closed_zone_is_refused_and_writes_nothing(grid: Any) -> None:
    Zone.objects.filter(pk=grid.zone.pk).update(state="closed", closed_on=timezone.localdate())
    worker = _client(grid.cp_worker)
    before = fingerprint()
    r = _post(worker, f"/api/gridwork/posts/{grid.post.pk}/patrols", {"findings": "all_clear"})
    assert r.status_code == 422 and "closed" in r.json()["errors"]["post"]
    page = worker.post(f"/gridwork/posts/{grid.post.pk}/patrol/", {"findings": "all_clear"})
    assert page.status_code == 200 and "closed" in page.content.decode()
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("big.jpg", b"\xff\xd8\xff" + b"\x00" * (actions.PHOTO_LIMIT + 1), "too large"),
        ("notes.png", b"%PDF-1.4 not an image", "JPEG, PNG or WebP"),
    ],
)
def test_a_photo_too_large_or_not_an_image_is_refused(
    grid: Any, name: str, content: bytes, said: str
) -> None:
    from django.conf import settings

    worker = _client(grid.cp_worker)
    before = fingerprint()
    photo = SimpleUploadedFile(name, content, content_type="image/png")
    r = worker.post(f"/gridwork/posts/{grid.post.pk}/patrol/", {"findings": "all_clear", "photo": photo})
    assert r.status_code == 200 and said in r.content.decode()
    assert fingerprint() == before
    folder = settings.CORDON_UPLOAD_DIR
    assert not folder.exists() or not any(folder.iterdir())  # nothing kept


def test_a_photo_is_kept_and_shown_to_those_who_see_the_post(grid: Any) -> None:
    photo = SimpleUploadedFile("door.png", PNG, content_type="image/png")
    r = _client(grid.cp_worker).post(
        f"/gridwork/posts/{grid.post.pk}/patrol/", {"findings": "fence", "note": "围栏破损", "photo": photo}
    )
    assert r.status_code == 302 and r["Location"] == "/gridwork/me/"
    patrol = Patrol.objects.get()
    assert patrol.photo.endswith(".png") and patrol.result == "problem"
    shown = _client(grid.cp_commander).get(f"/gridwork/patrols/{patrol.pk}/photo/")
    assert shown.status_code == 200 and b"".join(shown.streaming_content) == PNG
    assert _client(grid.ft_commander).get(f"/gridwork/patrols/{patrol.pk}/photo/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "times"),
        ({"times": ["25:00"]}, "times"),
        ({"times": ["08:00"], "every_hours": 4}, "every_hours"),
        ({"every_hours": 0}, "every_hours"),
        ({"times": ["08:00"], "tolerance_minutes": 1}, "tolerance_minutes"),
        ({"times": ["08:00"], "active_from": "2026-05-02", "active_to": "2026-05-01"}, "active_to"),
    ],
)
def test_a_plan_without_times_or_with_bad_values_is_refused(
    grid: Any, body: dict[str, Any], field: str
) -> None:
    boss = _client(grid.cp_commander)
    before = fingerprint()
    r = _post(boss, f"/api/gridwork/posts/{grid.post.pk}/plan", body)
    assert r.status_code == 422 and field in r.json()["errors"], r.content
    assert fingerprint() == before


def test_bad_posts_shifts_and_patrols_are_refused_with_the_field_named(grid: Any) -> None:
    boss, worker = _client(grid.cp_commander), _client(grid.cp_worker)
    before = fingerprint()
    cases = [
        (
            boss,
            "/api/gridwork/posts",
            {"zone": grid.zone.pk, "name": "北门", "building": grid.cp_building.code},
            "name",
        ),
        (
            boss,
            "/api/gridwork/posts",
            {"zone": grid.zone.pk, "name": "X", "kind": "tower", "building": grid.cp_building.code},
            "kind",
        ),
        (boss, "/api/gridwork/posts", {"zone": grid.zone.pk, "name": "X"}, "building"),
        (
            boss,
            "/api/gridwork/posts",
            {"zone": grid.zone.pk, "name": "X", "building": grid.ft_building.code},
            "building",
        ),
        (
            boss,
            f"/api/gridwork/posts/{grid.post.pk}/shifts",
            {
                "username": "zgz.worker",
                "starts_at": "2026-01-01T08:00:00+08:00",
                "ends_at": "2026-01-01T20:00:00+08:00",
            },
            "user",
        ),
        (
            boss,
            f"/api/gridwork/posts/{grid.post.pk}/shifts",
            {
                "username": "lx.worker",
                "starts_at": "2026-01-01T08:00:00+08:00",
                "ends_at": "2026-01-01T07:00:00+08:00",
            },
            "ends_at",
        ),
        (worker, f"/api/gridwork/posts/{grid.post.pk}/patrols", {"findings": "maybe"}, "findings"),
        (worker, f"/api/gridwork/posts/{grid.post.pk}/patrols", {"findings": "other"}, "note"),
        (
            worker,
            f"/api/gridwork/posts/{grid.post.pk}/patrols",
            {"findings": "all_clear", "at": (timezone.now() + dt.timedelta(hours=2)).isoformat()},
            "at",
        ),
        (
            worker,
            f"/api/gridwork/posts/{grid.post.pk}/patrols",
            {"findings": "all_clear", "at": (timezone.now() - dt.timedelta(days=9)).isoformat()},
            "at",
        ),
    ]
    for client, url, body, field in cases:
        r = _post(client, url, body)
        assert r.status_code == 422 and field in r.json()["errors"], (url, body, r.content)
    assert fingerprint() == before


# --- Missed patrols -------------------------------------------------------------------------------------------


def test_missed_patrols_are_counted_per_district_and_closed_by_the_next_patrol(
    grid: Any, make_user: Any
) -> None:
    base = timezone.localdate() - dt.timedelta(days=3)
    actions.set_plan(actor=None, post=grid.post, times="08:00,20:00", active_from=base - dt.timedelta(days=1))
    actions.record_patrol(actor=grid.cp_worker, post=grid.post, findings="all_clear", at=_local(base, 8, 10))
    actions.record_patrol(actor=grid.cp_worker, post=grid.post, findings="all_clear", at=_local(base, 20, 20))
    now = _local(base + dt.timedelta(days=1), 21)
    # due base+1 08:00 (13 h ago: overdue) and 20:00 (window closed 20:30) missed; base 08:00 and 20:00 done
    kind = {k.key: k for k in openitems.kinds()}["missed_patrols"]
    reader = CityReader(grid.city)
    assert kind.count(reader, now) == {grid.changping.pk: (2, 1)}
    assert kind.count(grid.ft_commander, now) == {}
    missed = selectors.missed_patrols(grid.cp_worker, now)
    assert [timezone.localtime(m.due).hour for m in missed] == [8, 20] and [m.overdue for m in missed] == [
        True,
        False,
    ]
    # Earlier, the second was not missed yet: its window was still open.
    assert kind.count(reader, _local(base + dt.timedelta(days=1), 20, 15)) == {grid.changping.pk: (1, 1)}
    assert kind.count(reader, _local(base + dt.timedelta(days=1), 19)) == {grid.changping.pk: (1, 0)}
    # The kept counts pick it up: the board read from them shows it.
    from cordon.apps.control import selectors as control
    from cordon.apps.tallies import actions as tallies

    tallies.refresh(now=now)
    board = control.open_items(grid.cp_commander, now)
    row = next(r for r in board["rows"] if r.district.pk == grid.changping.pk)
    assert (
        board["counted_at"] == now
        and row.counts["missed_patrols"] == 2
        and row.overdue["missed_patrols"] == 1
    )
    # A patrol recorded later closes the misses before it.
    actions.record_patrol(
        actor=grid.cp_worker,
        post=grid.post,
        findings="all_clear",
        at=_local(base + dt.timedelta(days=1), 20, 50),
    )
    assert kind.count(reader, now) == {}
    # A closed zone's posts are no longer counted.
    Zone.objects.filter(pk=grid.zone.pk).update(state="closed")
    assert kind.count(reader, _local(base + dt.timedelta(days=2), 21)) == {}


def test_a_new_plan_ends_the_one_before(grid: Any) -> None:
    today = timezone.localdate()
    first = actions.set_plan(
        actor=None, post=grid.post, every_hours=6, active_from=today - dt.timedelta(days=3)
    )
    second = actions.set_plan(actor=None, post=grid.post, times=["09:00"], active_from=today)
    first.refresh_from_db()
    assert first.active_to == today - dt.timedelta(days=1)
    assert selectors.plan_in_force(grid.post, today) == second
    assert selectors.plan_in_force(grid.post, today - dt.timedelta(days=1)) == first
    assert PatrolPlan.objects.count() == 2


# --- Pages ----------------------------------------------------------------------------------------------------


def test_the_phone_view_shows_my_zone_posts_buildings_residents_and_tasks(grid: Any) -> None:
    from cordon.apps.audit.models import AccessLog
    from cordon.apps.people import actions as people
    from cordon.apps.people.models import Person

    person = Person.objects.get(pk=grid.cp_person.pk)
    people.update_person(actor=None, person=person, changes={"tags": ["elderly_alone"]})
    actions.set_plan(actor=None, post=grid.post, every_hours=2, active_from=timezone.localdate())
    r = _client(grid.cp_worker).get("/gridwork/me/")
    body = r.content.decode()
    assert r.status_code == 200
    assert grid.zone.name in body and "北门" in body and grid.cp_building.address in body
    assert grid.cp_person.name in body and "Elderly living alone" in body
    if grid.cp_person.phone:
        assert grid.cp_person.phone not in body  # a list: masked
    assert "Today&#x27;s patrols" in body or "Today's patrols" in body
    assert body.count('class="task"') == 12  # every two hours
    assert AccessLog.objects.filter(query__contains="/gridwork/me/").count() == 1
    zh = _client(grid.cp_worker, "zh-hans").get("/gridwork/me/").content.decode()
    assert "我的" in zh
    # Another district's worker sees none of it.
    other = _client(grid.ft_worker).get("/gridwork/me/").content.decode()
    assert "北门" not in other and grid.cp_person.name not in other


def test_post_pages_set_up_plan_and_shift(grid: Any) -> None:
    boss = _client(grid.cp_commander)
    r = boss.post(
        "/gridwork/posts/new/",
        {"zone": grid.zone.pk, "name": "南门", "kind": "gate", "building": grid.cp_building.code},
    )
    post = DutyPost.objects.get(name="南门")
    assert r.status_code == 302 and r["Location"] == f"/gridwork/posts/{post.pk}/"
    r = boss.post(f"/gridwork/posts/{post.pk}/plan/", {"times": "08:00，20:00", "tolerance_minutes": "30"})
    assert r.status_code == 302 and PatrolPlan.objects.get(post=post).times == ["08:00", "20:00"]
    start = timezone.localtime() - dt.timedelta(hours=1)
    r = boss.post(
        f"/gridwork/posts/{post.pk}/shifts/",
        {
            "username": "lx.worker",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + dt.timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert r.status_code == 302 and DutyShift.objects.filter(post=post).count() == 1
    page = boss.get(f"/gridwork/posts/{post.pk}/").content.decode()
    assert "lx.worker" in page and "08:00, 20:00" in page
    r = boss.post(f"/gridwork/posts/{post.pk}/plan/", {"times": ""})
    page = boss.get(f"/gridwork/posts/{post.pk}/").content.decode()
    assert "Give the times of day" in page
    listing = boss.get("/gridwork/").content.decode()
    assert "南门" in listing and "北门" in listing
    assert "南门" not in boss.get("/gridwork/?zone=Z-OTHER").content.decode()
    assert "南门" in boss.get("/gridwork/?zone=Z-1").content.decode()
    # later in the day the 08:00 patrol is missed: the zone filter applies to the missed patrols too
    boss.post(f"/gridwork/posts/{post.pk}/plan/", {"times": "08:00", "tolerance_minutes": "30"})
    nine = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(9, 0)))
    with time_machine.travel(nine, tick=False):
        assert "南门" in _missed_table(boss.get("/gridwork/").content.decode())
        assert "南门" in _missed_table(boss.get("/gridwork/?zone=Z-1").content.decode())
        assert "南门" not in boss.get("/gridwork/?zone=Z-OTHER").content.decode()


def _missed_table(page: str) -> str:
    return page.split('data-testid="missed"', 1)[1].split("</section>", 1)[0]
