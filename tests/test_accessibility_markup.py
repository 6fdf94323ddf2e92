"""Markup that assistive technology relies on (the browser tests run axe-core over the pages): messages are
announced, the search field has a label, the map is a named region with translated zoom buttons and a text
list of its buildings, the menu is a named navigation with a real button, no table header is empty, every
page (the admin's too) names its icon."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.django_db

EMPTY_TH = re.compile(r"<th\b[^>]*>\s*</th>")


def test_messages_are_announced(city: Any, chain: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("investigator", city.city))
    url = f"/tracing/cases/{chain.index.pk}/cluster/"
    html = client.post(url, {"cluster": "NOPE"}, follow=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert re.search(r'<li class="msg-error" role="alert">\s*Unknown cluster\.', html)
    html = client.post(url, {"cluster": chain.cluster.code}, follow=True).content.decode()
    assert 'class="msg-success" role="status"' in html


def test_search_fields_have_labels(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("street_officer", city.fengtai))
    html = client.get("/persons/").content.decode()
    assert re.search(r'<label for="person-q"[^>]*>[^<]+</label>', html) and 'id="person-q"' in html
    html = client.get("/venues/").content.decode()
    assert re.search(r'<label for="venue-q"[^>]*>[^<]+</label>', html) and 'id="venue-q"' in html


def test_map_is_named_with_translated_zoom_and_a_list(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("street_officer", city.fengtai))
    zh = client.get(
        f"/jurisdictions/{city.zhangguozhuang.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert re.search(r'<div id="map" class="map" role="region" aria-label="楼栋地图[^"]*"', zh)
    assert 'data-zoom-in="放大" data-zoom-out="缩小"' in zh
    listed = zh[zh.index('data-testid="building-list"') :]
    assert city.ft_building.address in listed[: listed.index("</details>")]
    en = client.get(f"/jurisdictions/{city.zhangguozhuang.code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-zoom-in="Zoom in" data-zoom-out="Zoom out"' in en


def test_menu_tree_and_tables(city: Any, make_user: Any, client_for: Any) -> None:
    admin = make_user("administrator", city.city)
    client = client_for(admin)
    html = client.get(f"/jurisdictions/{city.fengtai.code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<nav class="nav" id="site-nav" aria-label="Main menu">' in html
    assert re.search(
        r'<button type="button" class="nav-toggle" aria-expanded="false" aria-controls="site-nav"', html
    )
    assert "aria-hidden" not in html[html.index('class="nav-toggle"') - 30 : html.index('class="nav-toggle"')]
    tree = html[html.index('data-testid="tree"') :]
    assert "<summary" not in tree  # no link inside an expandable summary any more
    assert re.search(
        r'<button type="button" class="tree-toggle" aria-expanded="false" aria-controls="tree-', tree
    )
    for path in ("/control/", "/control/follow-up/"):
        page = client.get(path).content.decode()
        assert not EMPTY_TH.findall(page), (path, EMPTY_TH.findall(page))


def test_every_page_names_its_icon(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("administrator", city.city))
    for path in ("/", "/no-such-page/", "/admin/"):
        html = client.get(path).content.decode()
        assert re.search(r'<link rel="icon" href="/static/web/favicon\.svg" type="image/svg\+xml">', html), (
            path
        )
