"""The zones journey of issue 19, in the browser, on the demo city with a week of its outbreak still to play:

1. Fengtai's district commander draws a zone on the map around a Zhangguozhuang grid by clicking its corners,
   sees how many residents it takes, proposes it (starting on the exercise's first day, a week ago) and sees
   its population, puts it in force as of that day (the decision recorded later), sets up a duty post with a
   patrol plan for now;
2. the grid worker, on a phone (390 px wide), opens their day, taps the post and records an all-clear patrol;
3. the administrator plays the outbreak's days on the demo exercise page (each a job) until the zone rules
   propose lifting the drawn zone: no case in it for 7 days, and its day-7 area screening round (made by the
   played day) all negative;
4. another district's commander sees the proposal without the buttons; Fengtai's commander opens it from the
   list, confirms the lift on the zone page, and the zone shows lifted, still guarded, with its guard days, in
   both languages."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.demo import actions
from cordon.apps.geo.models import Building
from cordon.apps.gridwork.models import Patrol
from cordon.apps.zones.models import Zone, ZoneTransition
from cordon.engine.sim import generate_city, preset

pytestmark = pytest.mark.django_db(transaction=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# Keep a handle on the page's Leaflet maps, so the test can tell where a place is on the screen (and zoom to it
# as a user would): Leaflet sets window.L when its script runs.
CAPTURE_MAPS = """
window.__maps = [];
Object.defineProperty(window, "L", { configurable: true,
  get: function () { return window.__L; },
  set: function (v) { window.__L = v; v.Map.addInitHook(function () { window.__maps.push(this); }); } });
"""


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", actions.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def _draw_around(page: Any, buildings: list[Building], margin: int = 40) -> None:
    """Zoom the drawing map to the buildings, then click the four corners of a box ``margin`` pixels around them."""
    lats = [float(b.latitude) for b in buildings]
    lons = [float(b.longitude) for b in buildings]
    page.evaluate(
        "([s, w, n, e]) => new Promise(done => { const m = window.__maps[0]; m.once('moveend', () => done());"
        " m.fitBounds([[s, w], [n, e]], {padding: [160, 160], animate: false}); })",
        [min(lats), min(lons), max(lats), max(lons)],
    )
    box = page.locator("[data-testid=draw-map]").bounding_box()
    corners = page.evaluate(
        "([s, w, n, e]) => [[n, w], [n, e], [s, e], [s, w]].map(c => window.__maps[0].latLngToContainerPoint(c))",
        [min(lats), min(lons), max(lats), max(lons)],
    )
    page.click("[data-testid=draw-start]")
    for c, (dx, dy) in zip(corners, ((-1, -1), (1, -1), (1, 1), (-1, 1)), strict=True):
        page.mouse.click(box["x"] + c["x"] + dx * margin, box["y"] + c["y"] + dy * margin)
    page.click("[data-testid=draw-finish]")


def test_draw_patrol_play_days_and_lift_a_zone(
    live_server: Any, browser: Any, screenshot: Any, request: Any, tmp_path: Path
) -> None:
    today = timezone.localdate()
    first = today - dt.timedelta(days=7)  # the exercise's first day: a week to play
    actions.load(city=generate_city(preset("demo", population=1000), seed=actions.SEED), today=first)
    # The job worker starts once the city is loaded: the load is one long transaction, and SQLite's worker
    # would give up waiting for it on a busy machine.
    request.getfixturevalue("job_worker")
    base = live_server.url
    desk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    desk.add_init_script(CAPTURE_MAPS)
    page = desk.new_page()
    page.set_default_timeout(60000)

    # 1. Fengtai's commander draws a zone around the grid of Zhangguozhuang and puts it in force.
    _login(page, base, "fengtai")
    page.goto(f"{base}/zones/new/")
    page.fill("#name", "张郭庄村第1网格管控区")
    page.select_option("#kind", "controlled")
    page.locator("[data-testid=draw-map]").scroll_into_view_if_needed()
    page.wait_for_function("document.getElementById('map').dataset.loaded !== undefined")
    grid = list(Building.objects.filter(jurisdiction__code="110106010201-01"))
    assert grid
    _draw_around(page, grid)
    page.wait_for_function("(document.getElementById('zone-preview').dataset.residents || '') !== ''")
    residents = int(page.get_attribute("#zone-preview", "data-residents") or 0)
    assert residents > 0 and re.search(rf"\b{residents}\b", page.inner_text("[data-testid=zone-preview]"))
    screenshot(page, "journey-draw-zh")
    page.fill("#starts_on", first.isoformat())
    page.click("[data-testid=zone-submit]")
    page.wait_for_url(re.compile(r".*/zones/Z-[^/]+/$"))
    drawn = Zone.objects.get(name="张郭庄村第1网格管控区")
    assert drawn.boundary is not None and drawn.owner.code == "110106"
    assert page.inner_text("[data-testid=zone-population]").strip() == str(residents)
    page.select_option("#action", "put_in_force")
    page.fill("#note", "指挥部决定（补录）")
    page.fill("#on", first.isoformat())
    page.click("[data-testid=step-now]")
    page.wait_for_load_state()
    assert page.inner_text("[data-testid=zone-state]").strip() == "生效中"
    drawn.refresh_from_db()
    assert drawn.state == "in_force" and drawn.starts_on == drawn.in_force_on == first

    # ... and sets up a duty post at the grid with a patrol due now.
    page.goto(f"{base}/gridwork/")
    form = page.locator("form[action$='/gridwork/posts/new/']")
    form.locator("select[name=zone]").select_option(str(drawn.pk))
    form.locator("input[name=name]").fill("张郭庄北门")
    form.locator("input[name=grid]").fill("110106010201-01")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/gridwork/posts/\d+/$"))
    post_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    plan = page.locator("form[action$='/plan/']")
    plan.locator("input[name=times]").fill(timezone.localtime().strftime("%H:%M"))
    plan.locator("input[name=tolerance_minutes]").fill("120")
    plan.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert timezone.localtime().strftime("%H:") in page.inner_text("[data-testid=plan]")

    # 2. The grid worker records the patrol from a phone.
    phone_context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = phone_context.new_page()
    phone.set_default_timeout(60000)
    _login(phone, base, "grid")
    phone.goto(f"{base}/gridwork/me/")
    assert "张郭庄北门" in phone.inner_text("[data-testid=tasks]")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.locator(f"[data-testid=patrol-{post_id}]").click()
    phone.wait_for_url(f"{base}/gridwork/posts/{post_id}/patrol/")
    photo = tmp_path / "gate.png"
    photo.write_bytes(PNG)
    phone.set_input_files("input[name=photo]", str(photo))
    phone.locator("[data-testid=finding-all_clear]").click()
    phone.wait_for_url(f"{base}/gridwork/me/")
    assert "已登记" in phone.inner_text("[data-testid=messages]")
    assert "已巡查" in phone.inner_text("[data-testid=tasks]")
    screenshot(phone, "journey-patrol-phone-zh")
    assert Patrol.objects.get().post_id == post_id
    phone_context.close()

    # 3. The administrator plays days until the rules propose lifting the drawn zone.
    admin = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    admin.set_default_timeout(180000)  # a day is played in seconds, longer on a busy machine
    _login(admin, base, "admin")
    played = 0
    while not ZoneTransition.objects.filter(zone=drawn, action="lift", status="proposed").exists():
        assert played < 7, "no lift proposed after a week of played days"
        admin.goto(f"{base}/demo/")
        admin.click("[data-testid=play-next-day]")
        admin.wait_for_selector("[data-testid=job-status][data-status=done]")
        played += 1
        result = admin.inner_text("[data-testid=job-result]")
        assert (first + dt.timedelta(days=played)).isoformat() in result
    assert played == 7 and "条区域调整建议待决定" in result  # the day's job says the rules proposed steps
    screenshot(admin, "journey-day-played-zh")
    lift = ZoneTransition.objects.get(zone=drawn, action="lift", status="proposed")
    assert [r["code"] for r in lift.reasons] == ["clean_days", "round_negative"]
    admin.goto(f"{base}/zones/{drawn.code}/")
    rounds = admin.inner_text("[data-testid=zone-rounds]")
    assert f"{drawn.code}-R1" in rounds and "全部阴性" in rounds

    # Another district's commander does not see Fengtai's zone among the proposals to decide.
    other = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    other.set_default_timeout(60000)
    _login(other, base, "changping")
    other.goto(f"{base}/zones/proposals/")
    assert other.locator("[data-testid=proposals] tr", has_text=drawn.code).count() == 0

    # 4. Fengtai's commander confirms the lift on the zone page; the zone is lifted and still guarded.
    page.goto(f"{base}/zones/proposals/")
    page.locator("[data-testid=proposals] tr", has_text=drawn.code).locator("a").first.click()
    page.wait_for_url(f"{base}/zones/{drawn.code}/")
    assert "天无新增病例" in page.inner_text("[data-testid=zone-proposals]")
    screenshot(page, "journey-lift-proposed-zh")
    page.fill("[data-testid=zone-proposals] input[name=note]", "连续7天无新增，第7天筛查全阴")
    page.click("[data-testid=confirm-lift]")
    page.wait_for_url(f"{base}/zones/{drawn.code}/")
    drawn.refresh_from_db()
    assert drawn.state == "guarded" and drawn.guarded_on == today
    assert page.inner_text("[data-testid=zone-state]").strip() == "已解封，仍防范"
    until = page.inner_text("[data-testid=zone-guarded-until]")
    assert (today + dt.timedelta(days=7)).isoformat() in until and "还剩 7 天" in until
    assert page.locator("[data-testid=zone-proposals]").count() == 0
    screenshot(page, "journey-guarded-zh")
    if page.locator("[data-testid=nav-toggle]").is_visible():
        page.click("[data-testid=nav-toggle]")
    page.click("[data-testid=lang-en]")
    page.wait_for_load_state()
    page.goto(f"{base}/zones/{drawn.code}/")
    assert page.inner_text("[data-testid=zone-state]").strip() == "Lifted, still guarded"
    assert "7 days of guard left" in page.inner_text("[data-testid=zone-guarded-until]")
    screenshot(page, "journey-guarded-en")
