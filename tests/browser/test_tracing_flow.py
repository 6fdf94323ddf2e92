"""End to end in the browser: report a case, trace it, see candidates with evidence, confirm some in bulk, and
see them arrive in another district's linkage inbox; the cluster's chain graph draws."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pyarrow as pa
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cordon.apps.tracing.store import scan_store

pytestmark = pytest.mark.django_db(transaction=True)


def test_report_trace_confirm_and_hand_over(
    live_server: Any,
    browser: Any,
    city: Any,
    make_user: Any,
    screenshot: Any,
    login: Any,
    job_worker: Any,
    settings: Any,
) -> None:
    settings.CORDON_LIVE_SECONDS = 1
    make_user("investigator", city.fengtai, username="ft.inv")
    make_user("investigator", city.changping, username="cp.inv")
    day = timezone.localdate() - dt.timedelta(days=2)

    def t(hhmm: str) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(*map(int, hhmm.split(":"))))

    scan_store().ingest(
        pa.table({
            "person_id": pa.array([city.ft_person.pk, city.cp_person.pk, city.courier.pk], pa.int64()),
            "venue_id": pa.array([city.ft_venue.pk] * 3, pa.int64()),
            "subarea": pa.array([None, None, None], pa.int16()),
            "time_in": pa.array([t("10:00"), t("11:00"), t("11:40")], pa.timestamp("ms")),
            "time_out": pa.array([t("12:00"), t("12:30"), t("13:00")], pa.timestamp("ms")),
        })
    )  # fmt: skip
    base = live_server.url
    ft = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    ft.set_default_timeout(15000)
    login(ft, base, "ft.inv")
    ft.goto(f"{base}/tracing/cases/")
    ft.click("[data-testid=case-new]")
    ft.fill("#person", city.ft_person.national_id)
    ft.fill("#onset_date", (timezone.localdate() - dt.timedelta(days=1)).isoformat())
    ft.fill("#sampled_at", f"{timezone.localdate() - dt.timedelta(days=1)}T08:00")
    ft.select_option("#found_by", "fever_clinic")
    ft.click("[data-testid=case-submit]")
    ft.wait_for_selector("[data-testid=trace]")
    assert city.ft_person.name in ft.locator("h1").inner_text()

    # Tracing runs as a job: its page shows the progress, then the result with a link back to the case.
    ft.click("[data-testid=trace]")
    ft.wait_for_selector("[data-testid=job-status][data-status=done]")
    assert "3 new candidates" in ft.locator("[data-testid=job-result]").inner_text()
    screenshot(ft, "tracing-job-done-en")
    ft.click("[data-testid=job-link]")
    rows = ft.locator("[data-testid=contact-row]")
    rows.first.wait_for()
    table = ft.locator("[data-testid=contacts]").inner_text()
    for name in (city.ft_person2.name, city.cp_person.name, city.courier.name):
        assert name in table
    assert city.ft_venue.name in table and "min together" in table  # the evidence
    assert "other district" in table
    screenshot(ft, "tracing-candidates-en")

    # Changping's investigator has the linkage inbox open, empty.
    cp = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    cp.set_default_timeout(15000)
    login(cp, base, "cp.inv")
    cp.get_by_role("link", name="Linkage inbox").click()
    assert cp.locator("[data-testid=linkage-row]").count() == 0
    cp.evaluate("window.notReloaded = true")

    # Confirm the two Changping contacts in one go.
    for name in (city.cp_person.name, city.courier.name):
        ft.get_by_label(name, exact=True).check()
    ft.click("[data-testid=confirm-selected]")
    ft.wait_for_selector("text=2 contacts: Confirmed.")
    # The page returns to the contacts further down; the message is still in view (it stays at the top).
    expect(ft.get_by_text("2 contacts: Confirmed.")).to_be_in_viewport()
    confirmed = ft.locator("[data-testid=contact-row][data-status=confirmed]")
    assert confirmed.count() == 2

    # They arrive in Changping's open inbox without a reload, with the clock, and the menu's badge counts them;
    # acknowledge both.
    cp.locator("[data-testid=linkage-row]").nth(1).wait_for()
    assert cp.evaluate("window.notReloaded") is True
    cp.wait_for_selector("#badge-linkage[data-n='2']")
    inbox = cp.locator("[data-testid=linkage-table]").inner_text()
    assert city.cp_person.name in inbox and city.courier.name in inbox and "left" in inbox
    assert re.search(r"\d\s+hour", inbox) and not re.search(r"(?<!\d)0\s+minutes", inbox)  # counts down
    assert city.ft_person2.name not in inbox  # same district as the case: not handed over
    screenshot(cp, "tracing-linkage-inbox-en")
    cp.locator("[data-testid=linkage-table] thead input[type=checkbox]").check()
    cp.click("[data-testid=linkage-ack]")
    cp.wait_for_selector("text=2 contacts acknowledged.")
    assert cp.locator("[data-testid=linkage-row]").count() == 0

    # A cluster from the case; its chain graph draws.
    ft.fill("input[name=name]", "Hotel cluster")
    ft.get_by_role("button", name="Put into a cluster").click()
    ft.locator("h1 a").click()
    ft.wait_for_selector("[data-testid=graph][data-ready='1']")
    assert ft.locator("[data-testid=graph]").get_attribute("data-nodes") == "1"
    screenshot(ft, "tracing-cluster-en")
