"""In the browser (issue 16, item 12): Enter on a contact's checkbox or in the note field never submits a bulk
judgment, and the bulk buttons say how many records they will change before they do."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.geo import selectors as geo_selectors
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Contact

pytestmark = pytest.mark.django_db(transaction=True)


def test_enter_never_submits_a_bulk_judgment_and_buttons_count_what_they_change(
    live_server: Any, browser: Any, city: Any, make_user: Any, login: Any
) -> None:
    make_user("investigator", city.fengtai, username="ft.inv")
    case = tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=city.ft_person, onset_date=timezone.localdate(), sampled_at=timezone.now(),
            found_by="fever_clinic",
        ),
    )  # fmt: skip
    for p in (city.ft_person2, city.cp_person, city.courier):
        Contact.objects.create(
            case=case, person=p, degree=1, contact_type="venue", jurisdiction=p.jurisdiction,
            district=geo_selectors.district_of(p.jurisdiction),
        )  # fmt: skip
    base = live_server.url
    page = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15000)
    login(page, base, "ft.inv")
    page.goto(f"{base}/tracing/cases/{case.pk}/")
    confirm = page.locator("[data-testid=confirm-selected]")
    assert confirm.inner_text() == "Confirm selected (0)" and confirm.is_disabled()

    box = page.get_by_label(city.cp_person.name, exact=True)
    box.check()
    box.press("Enter")
    note = page.get_by_label("Note", exact=True)
    note.fill("checked by phone")
    note.press("Enter")
    page.wait_for_timeout(500)  # a submission, had there been one, would have reloaded the page by now
    assert page.locator(".messages").count() == 0
    assert not Contact.objects.filter(case=case).exclude(status="candidate").exists()
    assert box.is_checked() and note.input_value() == "checked by phone"  # still the same page
    assert confirm.inner_text() == "Confirm selected (1)" and confirm.is_enabled()

    page.locator("[data-testid=select-all]").check()
    assert confirm.inner_text() == "Confirm selected (3)"
    assert page.locator("[data-testid=dismiss-selected]").inner_text() == "Dismiss selected (3)"
    page.get_by_label(city.courier.name, exact=True).uncheck()
    assert confirm.inner_text() == "Confirm selected (2)"
    confirm.click()
    page.wait_for_selector("text=2 contacts: Confirmed.")
    assert Contact.objects.filter(case=case, status="confirmed").count() == 2
