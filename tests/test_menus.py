"""Menus offer only what the user may open: for every role, every link of every menu (the main menu and the
tabs of control and screening) on the pages those menus lead to answers without a 403. Menus ask the same rule
as the pages' access decorators (``cordon.core.access.may_open``), so they cannot disagree."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cordon.core.access import may_open
from cordon.core.roles import Role

pytestmark = pytest.mark.django_db

NAV = re.compile(r"<nav\b[^>]*>(.*?)</nav>", re.S)
HREF = re.compile(r'href="(/[^"]*)"')


def _menu_links(html: str) -> set[str]:
    return {href for block in NAV.findall(html) for href in HREF.findall(block)}


@pytest.mark.parametrize("role", Role.values)
def test_every_menu_link_opens(role: str, city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user(role, city.city))
    seen: dict[str, int] = {}
    todo = ["/"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        response = client.get(path)
        seen[path] = response.status_code
        if response.status_code == 200 and not path.startswith("/admin/"):
            todo.extend(_menu_links(response.content.decode()) - set(seen))
    refused = sorted(p for p, status in seen.items() if status == 403)
    assert not refused, f"{role} is offered pages that refuse it: {refused}"
    assert len(seen) > 1


def test_lab_staff_see_the_lab_and_not_the_screening_tabs(city: Any, make_user: Any, client_for: Any) -> None:
    lab = make_user("lab_staff", city.fengtai)
    html = client_for(lab).get("/screening/lab/").content.decode()
    links = _menu_links(html)
    assert "/screening/lab/" in links
    assert not links & {"/screening/", "/screening/alerts/", "/screening/key-industries/"}
    assert may_open(lab, "screening:lab") and not may_open(lab, "screening:alerts")
    assert not may_open(lab, "admin:index")  # a route without a Cordon rule is never offered
