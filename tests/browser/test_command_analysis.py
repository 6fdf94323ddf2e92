"""In the browser: a city commander opens the situation analysis in Chinese, on a desk and on a phone, with the
three charts drawn by ECharts (a canvas each), switches to a district and the report-date basis, reads it in
English, and axe-core finds no serious or critical violation."""

from __future__ import annotations

from typing import Any

import pytest
from test_accessibility import _axe

from test_command import outbreak  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_commander_reads_the_analysis(
    live_server: Any,
    browser: Any,
    city: Any,
    make_user: Any,
    login: Any,
    screenshot: Any,
    outbreak: Any,  # noqa: F811
) -> None:
    make_user("city_commander", city.city, username="commander.zh")
    base = live_server.url
    for name, viewport in (
        ("desk", {"width": 1280, "height": 900}),
        ("phone", {"width": 390, "height": 844}),
    ):
        page = browser.new_context(locale="zh-CN", viewport=viewport).new_page()
        page.set_default_timeout(30000)
        login(page, base, "commander.zh")
        if name == "desk":
            page.click("nav >> text=态势研判")
        else:
            page.goto(f"{base}/command/analysis/")
        page.wait_for_selector("[data-testid=chart-curve] canvas")
        page.wait_for_selector("[data-testid=chart-rt] canvas")
        page.wait_for_selector("[data-testid=chart-nowcast] canvas")
        assert "流行曲线" in page.inner_text("main")
        screenshot(page, f"command-analysis-zh-{name}")
        if name == "desk":
            assert not _axe(page)
            page.select_option("#analysis-district", city.fengtai.code)
            page.select_option("#analysis-basis", "report")
            page.click("form[data-testid=analysis-form] button")
            page.wait_for_selector("[data-testid=chart-curve] canvas")
            assert "丰台区" in page.inner_text("h1")
        page.context.close()
    page = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(30000)
    login(page, base, "commander.zh")
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(f"{base}/command/analysis/")
    page.wait_for_selector("[data-testid=chart-rt] canvas")
    screenshot(page, "command-analysis-en")
    page.context.close()
