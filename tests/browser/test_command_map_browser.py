"""In the browser (issues 19 and 20): a district commander opens the command map and sees its layers (district
outline, a zone coloured by kind, the cases counted per street, an isolation site) with a layer control that
switches them, in Chinese and in English; the zone map draws the district, street and community outlines."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from test_accessibility import _axe

from cordon.apps.control import actions as control
from cordon.apps.geo import actions as geo
from cordon.apps.tracing import actions as tracing
from cordon.apps.zones import actions as zones

pytestmark = pytest.mark.django_db(transaction=True)


def _situation(city: Any) -> None:
    now = timezone.now()
    for i, (person, where) in enumerate(((city.ft_person, "community"), (city.ft_person2, "quarantine"))):
        tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=person,
                sampled_at=now - dt.timedelta(hours=8),
                reported_at=now - dt.timedelta(hours=2),
                found_by="fever_clinic",
                classification="asymptomatic",
                control=where,
                code=f"C-M-{i}",
            ),
        )
    zones.create_zone(
        actor=None,
        data=zones.ZoneData(
            name="封控A", kind="sealed", owner=city.zhangguozhuang, buildings=[city.ft_building]
        ),
    )
    site = control.save_site(
        actor=None,
        data=control.SiteData(
            code="S-MAP", name="北宫酒店", jurisdiction=city.fengtai, latitude=39.862, longitude=116.158
        ),
    )
    control.add_rooms(actor=None, site=site, numbers="101-104")
    geo.refresh_outlines()


def _shown(page: Any, name: str) -> int:
    value = page.evaluate(f"document.getElementById('command-map').dataset.shown{name}")
    return int(value) if value else -1


def test_the_command_map_shows_its_layers_and_the_zone_map_its_outlines(
    live_server: Any, browser: Any, city: Any, make_user: Any, login: Any, screenshot: Any
) -> None:
    _situation(city)
    make_user("district_commander", city.fengtai, username="ft.map")
    base = live_server.url
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(30000)
    login(page, base, "ft.map")
    page.click("nav >> text=指挥地图")
    page.wait_for_function(
        "['Cases', 'Zones', 'Sites', 'Districts', 'Venues'].every("
        "n => document.getElementById('command-map').dataset['shown' + n] !== undefined)"
    )
    assert _shown(page, "Districts") == 1  # Fengtai only
    assert _shown(page, "Cases") == 1  # one street, two cases
    assert _shown(page, "Zones") == 1
    assert _shown(page, "Sites") == 1
    assert page.evaluate("document.getElementById('command-map').dataset.grainCases") == "street"
    control_box = page.locator(".leaflet-control-layers")
    for label in ("区轮廓", "封管控区", "病例", "风险点位", "隔离点"):
        assert label in control_box.inner_text()
    # two cases counted at Beigong's centre: one marker with its count, not one per case
    assert page.locator(".leaflet-tooltip", has_text="2").count() == 1
    screenshot(page, "command-map-zh")
    assert not _axe(page)
    # switching a layer off removes its markers
    page.locator(".leaflet-control-layers label", has_text="病例").locator("input").uncheck()
    page.wait_for_function("document.querySelectorAll('.leaflet-tooltip').length === 0")
    page.context.close()

    page = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(30000)
    login(page, base, "ft.map")
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(f"{base}/command/map/")
    page.wait_for_function("document.getElementById('command-map').dataset.shownCases !== undefined")
    assert "District outlines" in page.inner_text(".leaflet-control-layers")
    page.goto(f"{base}/zones/map/")
    page.wait_for_function("document.getElementById('map').dataset.outlines2 === '1'")
    labels = page.inner_text(".leaflet-control-layers")
    assert "District outlines" in labels and "Street outlines" in labels and "Community outlines" in labels
    screenshot(page, "zones-map-outlines")
    page.goto(f"{base}/zones/map/?district={city.fengtai.code}")
    page.wait_for_function("document.getElementById('map').dataset.outlines4 === '1'")  # communities under it
    page.context.close()
