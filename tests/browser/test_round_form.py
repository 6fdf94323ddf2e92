"""In the browser (issue 16, item 7): the new-round form says how many people the round will target before it
is created, and a key-industry round over the pre-filled area targets the sector's workers there."""

from __future__ import annotations

from typing import Any

import pytest

from cordon.apps.screening.models import RoundTarget

pytestmark = pytest.mark.django_db(transaction=True)


def test_new_round_form_counts_the_target_before_the_round_is_created(
    live_server: Any, browser: Any, city: Any, make_user: Any, login: Any, screenshot: Any
) -> None:
    make_user("city_commander", city.city, username="city.cmd")
    base = live_server.url
    page = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15000)
    login(page, base, "city.cmd")
    page.goto(f"{base}/screening/")
    target = page.locator("#round-target")
    page.wait_for_function("document.getElementById('round-target').innerText.includes('4 people')")
    assert "everyone living in these areas" in target.inner_text()  # the pre-filled area: the whole city

    page.fill("#code", "KI-1")
    page.fill("#name", "Couriers")
    page.get_by_label("Courier", exact=False).check()
    page.wait_for_function("document.getElementById('round-target').innerText.includes('1 person')")
    assert "workers living in these areas" in target.inner_text()
    screenshot(page, "screening-new-round-target")
    page.click("[data-testid=round-submit]")
    page.wait_for_url(f"{base}/screening/rounds/KI-1/")
    assert sum(t.persons for t in RoundTarget.objects.filter(round__code="KI-1")) == 1
