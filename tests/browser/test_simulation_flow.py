"""In the browser, in Chinese: a commander starts a simulator run from the form, follows its progress on the
run's page until it is done, opens the result with its chart (ECharts draws it), starts a second run like the
first with one setting changed, and compares the two side by side."""

from __future__ import annotations

from typing import Any

import pytest
from test_accessibility import _axe

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_commander_runs_two_strategies_and_compares_them(
    live_server: Any, browser: Any, city: Any, make_user: Any, login: Any, job_worker: Any, screenshot: Any
) -> None:
    make_user("city_commander", city.city, username="commander.zh")
    base = live_server.url
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(60000)
    login(page, base, "commander.zh")
    page.goto(f"{base}/")
    page.click("nav >> text=疫情模拟")
    page.fill("#id_title", "无措施")
    page.fill("#id_population", "3000")
    page.fill("#id_days", "30")
    page.click("[data-testid=run-start]")

    # The run's page follows its job until it is done, then opens the result.
    page.wait_for_selector("[data-testid=job-status][data-status=done]")
    page.click("[data-testid=job-link]")
    page.wait_for_selector("[data-testid=run-summary]")
    page.wait_for_selector("[data-testid=sim-chart] canvas")  # drawn by ECharts from /static/vendor
    screenshot(page, "simulation-run-zh")

    # A second run like the first, with isolation of cases ticked.
    page.click("[data-testid=run-vary]")
    assert page.input_value("#id_population") == "3000"
    page.fill("#id_title", "隔离病例")
    page.check("#id_isolate_cases")
    page.click("[data-testid=run-start]")
    page.wait_for_selector("[data-testid=job-status][data-status=done]")
    page.click("[data-testid=job-link]")
    page.wait_for_selector("[data-testid=run-summary]")
    page.click("[data-testid=compare]")
    page.wait_for_selector("[data-testid=compare-table]")
    assert page.locator("[data-testid=sim-chart] canvas").count() >= 3
    table = page.locator("[data-testid=compare-table]").inner_text()
    assert "无措施" in table and "隔离病例" in table and "感染人数" in table
    screenshot(page, "simulation-compare-zh")

    # The three pages with axe-core: no serious or critical violation.
    found = {"compare": _axe(page)}
    page.go_back()
    page.wait_for_selector("[data-testid=run-summary]")
    found["run"] = _axe(page)
    page.goto(f"{base}/simulation/")
    found["list"] = _axe(page)
    assert not any(found.values()), found
