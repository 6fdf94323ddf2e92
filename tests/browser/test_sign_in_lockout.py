"""A person locked out after failed sign-ins sees why (in Chinese), an administrator finds the lock on the failed
sign-ins page and unlocks it, and the person signs in; both pages pass axe-core."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from browser.test_accessibility import _axe


def _try(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")


def test_locked_out_then_unlocked_by_an_administrator(
    live_server: Any, browser: Any, city: Any, make_user: Any, login: Any, screenshot: Any
) -> None:
    make_user("grid_worker", city.zgz_grid, username="zhang.wei")
    make_user("administrator", city.city, username="city.admin")
    base = live_server.url
    person = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _try(person, base, "zhang.wei", "not-the-password")
    _try(person, base, "zhang.wei", "pw-test-0001")  # the right password, refused while locked
    locked = person.get_by_test_id("locked-out")
    assert "登录失败次数过多" in locked.inner_text()
    assert not _axe(person)
    screenshot(person, "sign-in-locked")

    admin = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    login(admin, base, "city.admin")
    admin.goto(f"{base}/audit/sign-ins/")
    row = admin.get_by_test_id("sign-in-counts").locator("tbody tr")
    assert row.count() == 1 and "zhang.wei" in row.inner_text() and "已锁定" in row.inner_text()
    assert not _axe(admin)
    screenshot(admin, "sign-ins-page")
    row.get_by_role("button", name="解锁").click()
    admin.wait_for_url(f"{base}/audit/sign-ins/")
    assert "已解锁" in admin.content()

    _try(person, base, "zhang.wei", "pw-test-0001")
    person.wait_for_url(f"{base}/")
