"""In the browser: a job's progress bar moves while the job runs, without a reload, in Chinese; cancel stops a
running job; the job list shows both, and the menu's badge counts the jobs still running."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_jobs_progress_moves_on_its_page_and_cancel_stops_it(
    live_server: Any, browser: Any, city: Any, make_user: Any, login: Any, job_worker: Any, screenshot: Any,
    settings: Any,
) -> None:  # fmt: skip
    settings.CORDON_LIVE_SECONDS = 1
    make_user("administrator", city.city, username="admin.zh")
    base = live_server.url
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(30000)
    login(page, base, "admin.zh")
    page.goto(f"{base}/jobs/")
    assert page.locator("[data-testid=no-jobs]").is_visible()
    page.fill("#check-seconds", "4")
    page.click("[data-testid=job-check]")

    # Running: the bar fills second by second on the same page (htmx swaps the status in place).
    page.wait_for_selector("[data-testid=job-status][data-status=running]")
    page.evaluate("window.notReloaded = true")
    bar = page.locator("[data-testid=job-progress]")
    page.wait_for_function("document.querySelector('[data-testid=job-progress]').value >= 1")
    first = float(bar.get_attribute("value") or 0)
    page.wait_for_function(
        f"document.querySelector('[data-testid=job-progress]') && "
        f"document.querySelector('[data-testid=job-progress]').value > {first}"
    )
    assert "运行中" in page.locator("[data-testid=job-state]").inner_text()
    screenshot(page, "job-running-zh")
    page.wait_for_selector("[data-testid=job-status][data-status=done]")
    assert page.evaluate("window.notReloaded") is True
    assert "4" in page.locator("[data-testid=job-result]").inner_text()
    assert page.locator("[data-testid=job-progress]").get_attribute("value") == "4"

    # A longer one, cancelled while it runs: it stops at its next report and says so.
    page.goto(f"{base}/jobs/")
    page.fill("#check-seconds", "60")
    page.click("[data-testid=job-check]")
    page.wait_for_selector("[data-testid=job-status][data-status=running]")
    page.wait_for_selector("#badge-jobs[data-n='1']")  # the menu counts it
    page.click("[data-testid=job-cancel]")
    page.wait_for_selector("[data-testid=job-status][data-status=cancelled]")
    screenshot(page, "job-cancelled-zh")
    page.goto(f"{base}/jobs/")
    states = page.locator("[data-testid=jobs] tbody tr").all_inner_texts()
    assert len(states) == 2 and "已取消" in states[0] and "已完成" in states[1]
