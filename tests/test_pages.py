"""Pages a person uses every day: home per role, jurisdiction browser, search by special group, venues."""

from __future__ import annotations

from typing import Any


def test_grid_worker_home_lists_special_groups_and_links_to_them(
    city: Any, make_user: Any, client_for: Any
) -> None:
    client = client_for(make_user("grid_worker", city.zhangguozhuang))
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    groups = {tag: n for tag, _label, n in home.context["special_groups"]}
    assert groups["pregnant"] == 1 and groups["elderly_alone"] == 0
    page = client.get("/persons/", {"tag": "pregnant"}).content.decode()
    assert f"/persons/{city.ft_person2.pk}/" in page
    assert f"/persons/{city.ft_person.pk}/" not in page
    assert client.get("/persons/", {"tag": "no-such-tag"}).context["rows"] == []


def test_city_home_shows_area_counts_without_special_group_list(
    city: Any, make_user: Any, client_for: Any
) -> None:
    """A city user's home (an auditor's: the commanders' home is their headline, tests/test_command_home.py)."""
    client = client_for(make_user("auditor", city.city))
    home = client.get("/")
    assert "special_groups" not in home.context
    assert home.context["totals"] == {"persons": 4, "households": 1, "buildings": 2, "venues": 2}
    by_child = {child.code: counts for child, counts in home.context["children"]}
    assert by_child[city.fengtai.code]["persons"] == 2
    assert by_child[city.changping.code]["venues"] == 1


def test_jurisdiction_browser_children_and_map_data(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("street_officer", city.beigong))
    assert client.get("/jurisdictions/").url == f"/jurisdictions/{city.beigong.code}/"
    page = client.get(f"/jurisdictions/{city.zhangguozhuang.code}/")
    assert [b["code"] for b in page.context["buildings"]] == ["B-FT-1"]
    fragment = client.get(f"/jurisdictions/{city.beigong.code}/", HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode()
    assert city.zhangguozhuang.name in fragment.content.decode()
    # The breadcrumb stops at the user's own root.
    assert page.context["ancestors"] == [city.beigong]


def test_venue_search_and_page(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("checkpoint_staff", city.changping))
    listing = client.get("/venues/", {"q": "快递"}).content.decode()
    assert city.cp_venue.name in listing and city.ft_venue.name not in listing
    page = client.get(f"/venues/{city.cp_venue.pk}/").content.decode()
    assert "分拣区" in page and "venue-point" in page
