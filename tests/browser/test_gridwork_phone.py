"""On a phone (375 x 812): a grid worker opens their day, taps a post, attaches a photo and taps "all clear";
the patrol is recorded and today's task turns done. Both languages, with screenshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.gridwork import actions
from cordon.apps.gridwork.models import Patrol
from cordon.apps.people import actions as people
from cordon.apps.people.models import Person
from cordon.apps.zones.models import Zone, ZoneBuilding

pytestmark = pytest.mark.django_db(transaction=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 812}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_a_grid_worker_records_a_patrol_from_a_phone(
    live_server: Any, phone: Any, city: Any, make_user: Any, screenshot: Any, login: Any, tmp_path: Path
) -> None:
    today = timezone.localdate()
    zone = Zone.objects.create(
        code="Z-P", name="龙祥封控区", kind="sealed", state="in_force", owner=city.changping,
        starts_on=today - dt.timedelta(days=1), in_force_on=today - dt.timedelta(days=1),
    )  # fmt: skip
    ZoneBuilding.objects.create(zone=zone, building=city.cp_building)
    post = actions.create_post(actor=None, zone=zone, name="北门", building=city.cp_building)
    now = timezone.localtime()
    actions.set_plan(
        actor=None, post=post, times=[now.strftime("%H:%M")], tolerance_minutes=60, active_from=today
    )
    people.update_person(
        actor=None, person=Person.objects.get(pk=city.cp_person.pk), changes={"tags": ["elderly_alone"]}
    )
    make_user("grid_worker", city.lx_grid, username="lx.grid")
    base = live_server.url
    page = phone
    login(page, base, "lx.grid")
    page.goto(f"{base}/gridwork/me/")
    assert page.locator("h1").inner_text() == "我的今日"
    tasks = page.locator("[data-testid=tasks]")
    assert "北门" in tasks.inner_text() and "现在应巡" in tasks.inner_text()
    assert city.cp_person.name in page.locator("[data-testid=residents]").inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px)"
    screenshot(page, "gridwork-me-zh")

    page.locator(f"[data-testid=patrol-{post.pk}]").click()
    page.wait_for_url(f"{base}/gridwork/posts/{post.pk}/patrol/")
    button = page.locator("[data-testid=finding-all_clear]")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 48 and box["width"] >= 300  # a big target
    photo = tmp_path / "gate.png"
    photo.write_bytes(PNG)
    page.set_input_files("input[name=photo]", str(photo))
    screenshot(page, "gridwork-patrol-zh")
    button.click()
    page.wait_for_url(f"{base}/gridwork/me/")
    assert "已登记" in page.locator("[data-testid=messages]").inner_text()
    assert "已巡查" in page.locator("[data-testid=tasks]").inner_text()
    patrol = Patrol.objects.get()
    assert patrol.findings == "all_clear" and patrol.photo.endswith(".png") and patrol.post_id == post.pk

    page.click("[data-testid=nav-toggle]")
    page.click("[data-testid=lang-en]")
    page.wait_for_load_state()
    page.goto(f"{base}/gridwork/me/")
    assert page.locator("h1").inner_text() == "My day"
    assert "done" in page.locator("[data-testid=tasks]").inner_text()
    screenshot(page, "gridwork-me-en")
    page.locator(f"[data-testid=patrol-{post.pk}]").click()
    page.fill("textarea[name=note]", "门口有人聚集")
    screenshot(page, "gridwork-patrol-en")
    page.locator("[data-testid=finding-crowding]").click()
    page.wait_for_url(f"{base}/gridwork/me/")
    assert "People gathering" in page.locator("[data-testid=messages]").inner_text()
    screenshot(page, "gridwork-recorded-en")
    assert Patrol.objects.filter(result="problem").count() == 1
