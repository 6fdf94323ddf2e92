"""In the browser: the sampling station driven by the keyboard as a scanner drives it (each scan is typed and
ends with Enter). Scan a tube, then persons; the tube's count follows; refusals show their reason and bind
nothing; a tube scanned into the person field switches tubes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.screening import actions
from cordon.apps.screening.models import Binding

pytestmark = pytest.mark.django_db(transaction=True)


def scan(page: Any, text: str) -> None:
    page.keyboard.type(text)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_station_by_keyboard(
    live_server: Any, browser: Any, city: Any, make_user: Any, screenshot: Any, login: Any
) -> None:
    now = timezone.now()
    rnd = actions.create_round(
        actor=None,
        data=actions.RoundData(
            code="FT-R1", name="丰台区全员核酸", owner=city.fengtai, starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=8), design="5-in-1", jurisdictions=[city.fengtai],
        ),
    )  # fmt: skip
    site = actions.add_site(actor=None, round=rnd, data=actions.SiteData("S1", "北宫采样点", city.zgz_grid))
    actions.issue_tubes(actor=None, site=site, barcodes="FT001-FT003")
    make_user("screening_staff", city.fengtai, username="ft.staff")

    base = live_server.url
    page = browser.new_context(locale="en-US", viewport={"width": 1024, "height": 768}).new_page()
    page.set_default_timeout(15000)
    login(page, base, "ft.staff")
    page.goto(f"{base}/screening/sites/{site.pk}/station/")
    assert page.evaluate("document.activeElement.id") == "tube"
    count = page.locator("[data-testid=tube-count]")
    messages = page.locator(".messages")

    scan(page, "FT001")  # the tube: the person field takes the next scans
    assert page.evaluate("document.activeElement.id") == "person"
    assert count.inner_text() == "0/5"
    scan(page, city.ft_person.national_id)
    assert count.inner_text() == "1/5" and "Bound to FT001" in messages.inner_text()
    scan(page, f"P{city.ft_person2.pk}")  # a pass code
    assert count.inner_text() == "2/5"
    screenshot(page, "screening-station")

    # Refusals: the same person again, an unknown person; nothing is bound.
    scan(page, city.ft_person.national_id)
    assert "already sampled" in messages.inner_text() and count.inner_text() == "2/5"
    scan(page, "110101199001011234")
    assert "Nobody in the register" in messages.inner_text() and count.inner_text() == "2/5"
    # A person from outside the round's scope is bound and flagged.
    scan(page, city.cp_person.national_id)
    assert "outside the round's scope" in messages.inner_text() and count.inner_text() == "3/5"
    assert Binding.objects.filter(round=rnd).count() == 3

    # Another tube scanned into the person field switches tubes; an unknown tube is refused.
    scan(page, "FT002")
    assert count.inner_text() == "0/5" and page.locator("#tube").input_value() == "FT002"
    page.locator("#tube").fill("")
    page.locator("#tube").focus()
    scan(page, "NOPE-9")
    assert "Unknown tube NOPE-9" in messages.inner_text()
    assert page.locator("[data-testid=site-count]").inner_text() == "3"
