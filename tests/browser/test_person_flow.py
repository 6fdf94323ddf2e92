"""Log in, switch language, search a person, open their page, take screenshots; the phone layout works."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_switch_language_search_and_open_a_person(
    live_server: Any, page: Any, city: Any, make_user: Any, screenshot: Any, login: Any
) -> None:
    make_user("grid_worker", city.zhangguozhuang, username="zgz.grid")
    base = live_server.url
    login(page, base, "zgz.grid")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("link", name="人员").first.is_visible()

    page.click("[data-testid=lang-en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="Persons").first.click()

    # Live search (htmx) by the last digits of the national ID, then by name.
    search = page.locator("[data-testid=person-search]")
    search.fill(city.ft_person.national_id[-6:])
    page.locator("[data-testid=person-results]").get_by_role("link", name=city.ft_person.name).wait_for()
    search.fill(city.ft_person2.name)
    results = page.locator("[data-testid=person-results]")
    results.get_by_role("link", name=city.ft_person2.name).wait_for()
    assert city.cp_person.name not in results.inner_text()  # another district: never listed
    screenshot(page, "person-search-en")

    results.get_by_role("link", name=city.ft_person2.name).click()
    page.wait_for_url(f"{base}/persons/{city.ft_person2.pk}/")
    fields = page.locator("[data-testid=person-fields]").inner_text()
    assert city.ft_person2.national_id in fields  # a grid worker needs the full ID
    assert "Pregnant" in page.locator("h1").inner_text()
    screenshot(page, "person-page-en")

    page.click("[data-testid=lang-zh-hans]")
    page.wait_for_load_state()
    assert "孕妇" in page.locator("h1").inner_text()
    screenshot(page, "person-page-zh")


def test_phone_layout_menu_and_jurisdiction_tree(
    live_server: Any, phone_page: Any, city: Any, make_user: Any, screenshot: Any, login: Any
) -> None:
    make_user("district_commander", city.fengtai, username="ft.commander")
    base = live_server.url
    page = phone_page
    login(page, base, "ft.commander")
    nav_link = page.get_by_role("navigation").get_by_role("link", name="辖区", exact=True)
    assert not nav_link.is_visible()  # collapsed behind the menu button on a phone
    page.click("[data-testid=nav-toggle]")
    nav_link.click()
    page.wait_for_url(f"{base}/jurisdictions/{city.fengtai.code}/")
    tree = page.locator("[data-testid=tree]")
    opener = tree.get_by_role("button", name="北宫镇 的下级区域")
    opener.click()  # opening a node loads its children with htmx
    tree.get_by_role("link", name="张郭庄村").wait_for()
    assert opener.get_attribute("aria-expanded") == "true"
    opener.click()  # and closes it again
    assert not tree.get_by_role("link", name="张郭庄村").is_visible()
    assert "昌平区" not in page.content()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is wider than the phone screen: {width}px"
    screenshot(page, "jurisdictions-phone")
