"""Accessibility and layout in the browser: an axe-core scan of the main pages in both languages finds no
serious or critical violation; the phone menu works from the keyboard; a phone shows the open-items board
with its column labels and nothing wider than the screen; menus offer only what the user may open; every page
has an icon (no request answered 404)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"


def _pages(city: Any, chain: Any) -> list[str]:
    """One page of each main type (the jurisdiction page of a community has the map)."""
    case = chain.index
    return [
        "/",
        f"/jurisdictions/{city.fengtai.code}/",
        f"/jurisdictions/{city.zhangguozhuang.code}/",
        "/persons/?q=",
        f"/persons/{city.ft_person.pk}/",
        "/venues/?q=",
        f"/venues/{city.ft_venue.pk}/",
        "/tracing/cases/",
        f"/tracing/cases/{case.pk}/",
        f"/tracing/clusters/{chain.cluster.code}/",
        "/tracing/risk-venues/",
        "/control/",
        "/screening/",
        "/audit/",
        "/no-such-page/",
    ]


def _work_pages(city: Any, chain: Any) -> list[str]:
    """The pages of daily work, with something on each: contacts judged close (the queue, the linkage inbox of
    the other district), an isolation site with rooms, a screening round with a sampling site."""
    from cordon.apps.control import actions as control
    from cordon.apps.screening import actions as screening
    from cordon.apps.tracing import actions as tracing
    from cordon.apps.tracing.models import Contact

    tracing.decide_contacts(
        actor=None,
        case=chain.index,
        contact_ids=list(Contact.objects.filter(case=chain.index).values_list("pk", flat=True)),
        decision="confirmed",
    )
    site = control.save_site(
        actor=None,
        data=control.SiteData(
            code="FT-H1", name="北宫隔离酒店", jurisdiction=city.beigong, latitude=39.87, longitude=116.17
        ),
    )
    control.add_rooms(actor=None, site=site, numbers="101-104")
    now = timezone.now()
    rnd = screening.create_round(
        actor=None,
        data=screening.RoundData(
            code="FT-R1", name="丰台区全员核酸", owner=city.fengtai, starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=8), design="5-in-1", jurisdictions=[city.fengtai],
        ),
    )  # fmt: skip
    spot = screening.add_site(
        actor=None, round=rnd, data=screening.SiteData("S1", "北宫采样点", city.zgz_grid)
    )
    return [
        "/tracing/cases/new/",
        "/tracing/clusters/",
        "/tracing/linkage/",
        "/tracing/scans/",
        "/control/queue/",
        "/control/transfers/",
        "/control/orders/",
        "/control/follow-up/",
        "/control/homes/",
        "/control/sites/",
        "/control/sites/FT-H1/",
        "/control/plans/",
        "/screening/rounds/FT-R1/",
        "/screening/rounds/FT-R1/coverage/",
        f"/screening/sites/{spot.pk}/station/",
        "/screening/lab/",
        "/screening/alerts/",
        "/screening/key-industries/",
        "/persons/new/",
        "/data/",
        "/audit/access-log/",
        "/audit/sign-ins/",
        "/audit/read-alerts/",
        "/command/",
        "/command/analysis/",
        "/command/timeliness/",
        "/command/zero/",
        "/command/map/",
        "/command/reports/",
    ]


def _axe(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (from the npm package, injected by the test) and return the serious and critical
    violations with their nodes."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))})); }"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_axe_finds_no_serious_violation(
    live_server: Any, browser: Any, city: Any, chain: Any, make_user: Any, login: Any, locale: str
) -> None:
    assert AXE.exists(), "axe-core is missing: run scripts/bootstrap (frontend/package.json)"
    make_user("administrator", city.city, username="city.admin")
    base = live_server.url
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{base}/login/")
    found = {"/login/": _axe(page)}
    login(page, base, "city.admin")
    for path in _pages(city, chain):
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        found[path] = _axe(page)
    # The phone layout too (the menu button, responsive tables).
    phone = browser.new_context(locale=locale, viewport={"width": 390, "height": 844}, is_mobile=True)
    p = phone.new_page()
    login(p, base, "city.admin")
    for path in ("/", "/control/", f"/jurisdictions/{city.zhangguozhuang.code}/"):
        p.goto(f"{base}{path}")
        p.wait_for_load_state("networkidle")
        found[f"phone {path}"] = _axe(p)
    bad = {path: v for path, v in found.items() if v}
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=1)
    assert len(found) == 19
    context.close()
    phone.close()


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_axe_finds_no_serious_violation_on_work_pages(
    live_server: Any, browser: Any, city: Any, chain: Any, make_user: Any, login: Any, locale: str
) -> None:
    make_user("administrator", city.city, username="city.admin")
    paths = _work_pages(city, chain)
    base = live_server.url
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    login(page, base, "city.admin")
    found = {}
    for path in paths:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        found[path] = _axe(page)
    bad = {path: v for path, v in found.items() if v}
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=1)
    context.close()


def test_phone_menu_by_keyboard_and_screen_reader(
    live_server: Any, phone_page: Any, city: Any, make_user: Any, login: Any
) -> None:
    make_user("district_commander", city.fengtai, username="ft.commander")
    base = live_server.url
    page = phone_page
    login(page, base, "ft.commander")
    toggle = page.get_by_role("button", name="菜单")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    menu = page.get_by_role("navigation", name="主菜单")
    link = menu.get_by_role("link", name="辖区", exact=True)
    assert not link.is_visible()
    # From the top of the page: Tab reaches the skip link, the brand, then the menu button.
    page.locator("body").focus()
    for _ in range(3):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "nav-toggle":
            break
    assert page.evaluate("document.activeElement.dataset.testid") == "nav-toggle"
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true" and link.is_visible()
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false" and not link.is_visible()
    assert page.evaluate("document.activeElement.dataset.testid") == "nav-toggle"
    page.keyboard.press("Space")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/jurisdictions/{city.fengtai.code}/")


def test_form_errors_take_the_focus_and_describe_the_field(
    live_server: Any, page: Any, city: Any, make_user: Any, login: Any
) -> None:
    make_user("administrator", city.city, username="city.admin")
    base = live_server.url
    login(page, base, "city.admin")
    page.goto(f"{base}/control/sites/new/")
    page.fill("#code", "FT-H9")
    page.fill("#name", "测试酒店")
    page.fill("#jurisdiction", "NOPE")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".has-error")
    field = page.locator("#jurisdiction")
    assert page.evaluate("document.activeElement.id") == "jurisdiction"
    assert field.get_attribute("aria-invalid") == "true"
    described = field.get_attribute("aria-describedby")
    message = page.locator(f"#{described}").inner_text()
    assert message and message in page.locator(".has-error").inner_text()


def test_map_speaks_the_page_language(
    live_server: Any, page: Any, city: Any, make_user: Any, login: Any
) -> None:
    make_user("street_officer", city.fengtai, username="ft.officer")
    base = live_server.url
    login(page, base, "ft.officer")
    page.goto(f"{base}/jurisdictions/{city.zhangguozhuang.code}/")
    region = page.get_by_role("region", name="楼栋地图;楼栋在地图下方列出。")
    region.locator(".leaflet-control-zoom-in").wait_for()
    assert region.get_by_role("button", name="放大").is_visible()
    assert region.get_by_role("button", name="缩小").is_visible()
    page.get_by_text("以列表查看 1 栋楼").click()
    assert page.get_by_text(city.ft_building.address).is_visible()


def test_phone_open_items_board_keeps_labels_and_fits(
    live_server: Any, phone_page: Any, city: Any, make_user: Any, login: Any, screenshot: Any
) -> None:
    make_user("city_commander", city.city, username="city.commander")
    base = live_server.url
    page = phone_page
    login(page, base, "city.commander")
    page.goto(f"{base}/control/")
    row = page.locator("[data-testid=board-row]").first
    cell = row.locator("td[data-item]").first
    label = page.locator("[data-testid=board] thead th").nth(1).inner_text()
    assert label and cell.get_attribute("data-label") == label
    before = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label in before  # the column's label is shown in front of each number
    capacity = page.locator("[data-testid=capacity] tbody tr").last.locator(":scope > *").nth(2)
    rooms = page.locator("[data-testid=capacity] thead th").nth(2).inner_text()
    assert rooms and capacity.get_attribute("data-label") == rooms
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is wider than the phone screen: {width}px"
    screenshot(page, "control-board-phone")


def test_menus_show_only_what_the_lab_user_may_open(
    live_server: Any, page: Any, city: Any, make_user: Any, login: Any
) -> None:
    make_user("lab_staff", city.fengtai, username="ft.lab")
    base = live_server.url
    login(page, base, "ft.lab")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="实验室").click()
    page.wait_for_url(f"{base}/screening/lab/")
    links = page.locator("nav a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    for tab in ("/screening/", "/screening/alerts/", "/screening/key-industries/"):
        assert tab not in links, f"{tab} is offered to the lab user"
    for href in links:
        if href.startswith("/"):
            assert page.request.get(f"{base}{href}").status != 403, href


def test_every_page_has_an_icon(live_server: Any, page: Any, city: Any, make_user: Any, login: Any) -> None:
    make_user("grid_worker", city.zhangguozhuang, username="zgz.grid")
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    base = live_server.url
    login(page, base, "zgz.grid")
    page.goto(f"{base}/persons/?q=")
    page.wait_for_load_state("networkidle")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    response = page.request.get(f"{base}{icon}")
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in response.body()
    assert missing == []
