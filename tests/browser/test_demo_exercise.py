"""In the browser: the administrator's demo exercise page plays the next day of the demo outbreak as a job (the same
action as ``cordon demo --next-day``) and then says the outbreak has been played up to today."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.demo import actions, selectors
from cordon.apps.tracing.models import Case
from cordon.engine.sim import generate_city, preset

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_administrator_plays_the_next_day(
    live_server: Any, browser: Any, screenshot: Any, job_worker: Any
) -> None:
    today = timezone.localdate()
    small = generate_city(preset("demo", population=1000), seed=actions.SEED)
    actions.load(city=small, today=today - dt.timedelta(days=1))  # an exercise with today still to play
    before = Case.objects.count()

    base = live_server.url
    page = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(60000)  # the play takes seconds
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", actions.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.click("nav >> text=Demo exercise")
    button = page.locator("[data-testid=play-next-day]")
    assert today.isoformat() in button.inner_text()
    screenshot(page, "demo-exercise-before")
    button.click()  # a job: its page follows it, then links back
    page.wait_for_selector("[data-testid=job-status][data-status=done]")
    assert f"Played {today.isoformat()}" in page.locator("[data-testid=job-result]").inner_text()
    screenshot(page, "demo-exercise-job")
    page.click("[data-testid=job-link]")
    page.wait_for_selector("[data-testid=demo-up-to-date]")
    assert page.locator("[data-testid=play-next-day]").count() == 0
    run = selectors.demo_run()
    assert run is not None and run.last_date == today
    assert Case.objects.count() >= before and not Case.objects.filter(traced_at__isnull=True).exists()
    screenshot(page, "demo-exercise-after")
