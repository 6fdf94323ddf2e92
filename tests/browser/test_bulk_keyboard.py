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

    # Without the script, Enter submits by the form's hidden first button, and the page changes nothing.
    bare = browser.new_context(locale="en-US", java_script_enabled=False).new_page()
    bare.set_default_timeout(15000)
    login(bare, base, "ft.inv")
    bare.goto(f"{base}/tracing/cases/{case.pk}/")
    bare.get_by_label(city.cp_person.name, exact=True).check()
    bare.get_by_label(city.cp_person.name, exact=True).press("Enter")
    bare.get_by_label("Note", exact=True).press("Enter")
    bare.wait_for_timeout(500)
    assert "Enter does not submit this form" in bare.locator(".messages").inner_text()
    assert not Contact.objects.filter(case=case).exclude(status="candidate").exists()

    page.locator("[data-testid=select-all]").check()
    assert confirm.inner_text() == "Confirm selected (3)"
    assert page.locator("[data-testid=dismiss-selected]").inner_text() == "Dismiss selected (3)"
    page.get_by_label(city.courier.name, exact=True).uncheck()
    assert confirm.inner_text() == "Confirm selected (2)"
    confirm.click()
    page.wait_for_selector("text=2 contacts: Confirmed.")
    assert Contact.objects.filter(case=case, status="confirmed").count() == 2


def test_the_queues_bulk_buttons_count_and_enter_places_nobody(
    live_server: Any, browser: Any, city: Any, make_user: Any, login: Any
) -> None:
    from cordon.apps.control.models import ControlOrder, OrderStatus

    make_user("quarantine_officer", city.city, username="city.q")
    case = tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=city.ft_person, onset_date=timezone.localdate(), sampled_at=timezone.now(),
            found_by="fever_clinic",
        ),
    )  # fmt: skip
    contacts = [
        Contact.objects.create(
            case=case, person=p, degree=1, contact_type="venue", jurisdiction=p.jurisdiction,
            district=geo_selectors.district_of(p.jurisdiction),
        )
        for p in (city.ft_person2, city.courier)
    ]  # fmt: skip
    tracing.decide_contacts(actor=None, case=case, contact_ids=[c.pk for c in contacts], decision="confirmed")
    base = live_server.url
    page = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15000)
    login(page, base, "city.q")
    page.goto(f"{base}/control/queue/")
    home = page.locator("[data-testid=home]")
    assert home.inner_text() == "Start home quarantine for the selected (0)" and home.is_disabled()
    box = page.get_by_label(city.courier.name, exact=True)
    box.check()
    box.press("Enter")
    page.wait_for_timeout(500)
    assert page.locator(".messages").count() == 0
    assert not ControlOrder.objects.exclude(status=OrderStatus.WAITING).filter(person=city.courier).exists()
    assert home.inner_text() == "Start home quarantine for the selected (1)"
    page.locator("[data-testid=select-all]").check()
    assert page.locator("[data-testid=propose]").inner_text() == "Propose rooms for the selected (2)"
