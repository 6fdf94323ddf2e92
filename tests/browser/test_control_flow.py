"""In the browser: the open-items board and the transfer board. Judged contacts wait in the queue, rooms are
proposed and reserved, a vehicle is assigned, one person is not at home (back to the queue), the vehicle departs
and arrives; the board's counts follow."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.control import actions as control
from cordon.apps.geo import selectors as geo_selectors
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Contact

pytestmark = pytest.mark.django_db(transaction=True)


def _cell(page: Any, district: str, item: str) -> str:
    return str(
        page.locator(
            f"[data-testid=board-row][data-district='{district}'] td[data-item='{item}']"
        ).inner_text()
    )


def test_queue_transfer_board_and_open_items_board(
    live_server: Any, browser: Any, city: Any, make_user: Any, screenshot: Any, login: Any
) -> None:
    make_user("quarantine_officer", city.city, username="city.q")
    case = tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=city.ft_person,
            onset_date=timezone.localdate(),
            sampled_at=timezone.now(),
            found_by="fever_clinic",
        ),
    )
    contacts = [
        Contact.objects.create(
            case=case, person=p, degree=1, contact_type="venue", jurisdiction=p.jurisdiction,
            district=geo_selectors.district_of(p.jurisdiction),
        )
        for p in (city.ft_person2, city.courier)
    ]  # fmt: skip
    tracing.decide_contacts(actor=None, case=case, contact_ids=[c.pk for c in contacts], decision="confirmed")
    site = control.save_site(
        actor=None,
        data=control.SiteData(
            code="FT-H1", name="北宫隔离酒店", name_en="Beigong quarantine hotel", jurisdiction=city.beigong,
            latitude=39.87, longitude=116.17, takes_special_needs=True,
        ),
    )  # fmt: skip
    control.add_rooms(actor=None, site=site, numbers="101-104")
    control.add_rooms(actor=None, site=site, numbers="105", accessible=True)

    base = live_server.url
    page = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15000)
    login(page, base, "city.q")
    page.goto(f"{base}/control/")
    assert _cell(page, city.fengtai.code, "waiting").startswith("1")
    assert _cell(page, city.changping.code, "waiting").startswith("1")
    screenshot(page, "control-board-before")

    # Queue -> proposal -> reserve.
    page.goto(f"{base}/control/queue/")
    assert page.locator("[data-testid=queue-row]").count() == 2
    page.check("[data-testid=select-all]")
    page.click("[data-testid=propose]")
    page.wait_for_selector("[data-testid=proposal-row]")
    proposal = page.locator("[data-testid=proposal]").inner_text()
    assert "105 (1 bed, accessible)" in proposal  # the pregnant woman gets the accessible room
    page.click("[data-testid=accept]")

    # Transfer board: assign one vehicle to both, one is not at home, depart, arrive.
    page.wait_for_selector("[data-testid=site-group][data-site='FT-H1']")
    group = page.locator("[data-testid=site-group][data-site='FT-H1']")
    group.locator("input[name=vehicle]").fill("京A·12345")
    group.locator("input[name=team]").fill("丰台转运一组")
    group.locator("[data-testid=assign]").click()
    task = page.locator("[data-testid=column-assigned] [data-testid=task]")
    task.wait_for()
    assert task.locator("[data-testid=member]").count() == 2
    courier = task.locator("[data-testid=member]", has_text=city.courier.name)
    courier.locator("select[name=reason]").select_option("not_home")
    courier.locator("[data-testid=fail]").click()
    page.wait_for_selector("text=is back in the queue")
    page.locator("[data-testid=column-assigned] [data-testid=depart]").click()
    page.locator("[data-testid=column-en_route] [data-testid=task]").wait_for()
    page.locator("[data-testid=column-en_route] [data-testid=arrive]").click()
    arrived = page.locator("[data-testid=column-arrived] [data-testid=task]")
    arrived.wait_for()
    assert "Not at home" in arrived.inner_text() and "arrived" in arrived.inner_text()
    screenshot(page, "control-transfer-board")

    # The board: Fengtai is at zero for "not yet under control"; the courier (Changping) is still waiting.
    page.goto(f"{base}/control/")
    assert _cell(page, city.fengtai.code, "waiting") == "0"
    assert _cell(page, city.changping.code, "waiting").startswith("1")
    clock = page.locator("[data-testid=clock-row]").first.inner_text()
    assert "1/2" in clock  # one of two close contacts transferred
    screenshot(page, "control-board-after")
    # On a phone the board still reads.
    phone = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    ).new_page()
    login(phone, base, "city.q")
    phone.goto(f"{base}/control/transfers/")
    phone.locator("[data-testid=column-arrived] [data-testid=task]").wait_for()
    screenshot(phone, "control-transfer-board-phone")
