"""On a phone (390 px wide): a district commander opens the daily-zero board; each street is a card, the page
body does not scroll sideways, the figures are the API's and a cell's link opens its list. Chinese, with a
screenshot."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.tallies import actions
from test_authorization_matrix import _control_objects, _tracing_objects

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_daily_zero_board_on_a_phone(
    live_server: Any, phone_page: Any, city: Any, make_user: Any, screenshot: Any, login: Any
) -> None:
    _tracing_objects(city)
    _control_objects(city)
    actions.refresh(now=timezone.now())
    make_user("district_commander", city.changping, username="cp.commander")
    base = live_server.url
    page = phone_page
    login(page, base, "cp.commander")
    page.goto(f"{base}/command/zero/")
    assert page.locator("h1").inner_text().startswith("每日清零")
    row = page.locator(f"[data-testid=zero-row-{city.huilongguan.code}]")
    assert row.is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    box = row.bounding_box()
    assert box is not None and box["width"] <= 390
    api = page.request.get(f"{base}/api/command/zero").json()
    waiting = next(c for c in api["area"]["cells"] if c["kind"] == "waiting")
    cell = page.locator(f"[data-testid=zero-cell-{city.changping.code}-waiting]")
    assert cell.locator("[data-testid=overdue]").inner_text() == str(waiting["overdue"])
    assert cell.locator("[data-testid=open]").inner_text() == str(waiting["open"])
    screenshot(page, "command-zero-phone-zh")
    cell.locator("a").first.click()
    page.wait_for_url(re.compile(re.escape(f"{base}/control/queue/") + r"\?.*area="))  # filtered to the row
