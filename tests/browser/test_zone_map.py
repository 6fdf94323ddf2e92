"""In the browser (issue 19): draw a zone on the map by clicking its corners, see how many buildings and
residents it takes before it is created, create it, see its population, put it in force, and find it on the
zone map coloured by its kind with a link to its page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cordon.apps.zones.models import Zone

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"


def _serious_axe_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id)"
    )
    return list(found)


def test_draw_a_zone_see_its_population_and_put_it_in_force(
    live_server: Any, browser: Any, city: Any, make_user: Any, login: Any, screenshot: Any
) -> None:
    make_user("district_commander", city.fengtai, username="ft.cmd")
    base = live_server.url
    page = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15000)
    login(page, base, "ft.cmd")
    page.goto(f"{base}/zones/new/")
    page.fill("#name", "Zhangguozhuang drawn")
    page.select_option("#kind", "sealed")
    the_map = page.locator("[data-testid=draw-map]")
    the_map.scroll_into_view_if_needed()
    page.wait_for_function("document.getElementById('map').dataset.loaded !== undefined")
    box = the_map.bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2  # the map opens on Fengtai's building
    page.click("[data-testid=draw-start]")
    for dx, dy in ((-120, -90), (120, -90), (120, 90), (-120, 90)):
        page.mouse.click(cx + dx, cy + dy)
    page.click("[data-testid=draw-finish]")
    preview = page.locator("[data-testid=zone-preview]")
    page.wait_for_function("document.getElementById('zone-preview').dataset.residents === '2'")
    assert "1 buildings, 2 residents" in preview.inner_text()
    assert '"Polygon"' in page.input_value("#boundary")
    screenshot(page, "zones-draw-preview")
    assert _serious_axe_violations(page) == []
    page.click("[data-testid=zone-submit]")
    page.wait_for_url(f"{base}/zones/Z-*/")
    zone = Zone.objects.get(name="Zhangguozhuang drawn")
    assert zone.boundary is not None and zone.boundary["type"] == "Polygon"
    assert page.inner_text("[data-testid=zone-population]").strip() == "2"
    page.select_option("#action", "put_in_force")
    page.fill("#note", "Decided by the headquarters")
    page.click("[data-testid=step-now]")
    page.wait_for_load_state()
    zone.refresh_from_db()
    assert zone.state == "in_force"
    assert "In force" in page.inner_text("[data-testid=zone-state]")

    page.click("[data-testid=zone-map-link]")
    page.wait_for_function("document.getElementById('map').dataset.loaded === '1'")
    assert "1 zones shown" in page.inner_text("[data-testid=map-status]")
    page.wait_for_function(
        "document.getElementById('map').dataset.houses === '1'"
    )  # Fengtai's building under it
    screenshot(page, "zones-map")
    assert _serious_axe_violations(page) == []
    box = page.locator("[data-testid=zone-map]").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    link = page.locator("[data-testid=zone-popup-link]")
    assert zone.code in link.inner_text()
    link.click()
    page.wait_for_url(f"{base}/zones/{zone.code}/")
