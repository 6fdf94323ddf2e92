"""In the browser: a city commander and a district commander walk every command page (their home, the analysis,
the timeliness, the daily-zero board, the command map, the daily reports) through its tabs, on a desk and on a
390 px phone, in Chinese and in English: every page answers 200, asks for nothing that is missing (no 404, no
script error), fits the phone's width, and in Chinese shows no untranslated English. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from test_command import outbreak  # noqa: F401  (the fixture)
from test_command_home import world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "/",
    "/command/analysis/",
    "/command/timeliness/",
    "/command/zero/",
    "/command/map/",
    "/command/reports/",
]
# Latin words a Chinese page may show: names, units, codes, not sentences (Cori's method, the pathogen profile
# covid19-omicron, the fixture's cluster "matrix", the brand, the language switch).
ALLOWED_LATIN = {"PDF", "Rt", "English", "Cordon", "Cori", "covid", "omicron", "matrix"}


def _latin(text: str, username: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z]{3,}", text.replace(username, "")) if w not in ALLOWED_LATIN}


@pytest.mark.parametrize("who", ["city", "fengtai"])
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_commanders_walk_the_command_pages(
    live_server: Any,
    browser: Any,
    world: Any,  # noqa: F811
    outbreak: Any,  # noqa: F811
    make_user: Any,
    login: Any,
    screenshot: Any,
    who: str,
    locale: str,
) -> None:
    city = world
    username = f"{who}.walker"
    make_user(
        "city_commander" if who == "city" else "district_commander", getattr(city, who), username=username
    )
    base = live_server.url
    problems: list[str] = []
    for name, viewport, mobile in (
        ("desk", {"width": 1280, "height": 900}, False),
        ("phone", {"width": 390, "height": 844}, True),
    ):
        context = browser.new_context(locale=locale, viewport=viewport, is_mobile=mobile)
        page = context.new_page()
        page.set_default_timeout(30000)
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
        login(page, base, username)
        # The tabs lead to every page.
        tabs = page.locator("[data-testid=command-nav] a").evaluate_all(
            "as => as.map(a => a.getAttribute('href'))"
        )
        assert tabs == PAGES, tabs
        for path in PAGES:
            response = page.goto(f"{base}{path}")
            assert response is not None and response.status == 200, (path, response and response.status)
            page.wait_for_load_state("networkidle")
            slug = path.strip("/").replace("/", "-") or "home"
            screenshot(page, f"walk-{who}-{locale}-{name}-{slug}")
            if mobile:
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > 390:
                    problems.append(f"{path} is {width}px wide on a phone")
            if locale == "zh-CN":
                text = page.inner_text("body")
                legend = page.locator("[data-testid=zone-legend]")  # zone kinds: named in both languages
                if legend.count():
                    text = text.replace(legend.inner_text(), "")
                words = _latin(text, username)
                if words:
                    problems.append(f"{path}: untranslated {sorted(words)}")
        context.close()
    assert not problems, "\n".join(problems)
