"""In the browser (issue 20): a city commander opens the home, follows the residents-to-transfer figure to the
filtered order list, which counts as many; sees the epidemic curve and the Rt chart drawn; asks for today's daily
report, waits for the job and downloads its PDF, which names the city and prints the headline. The home in
Chinese shows no untranslated English."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from test_command import outbreak  # noqa: F401  (the fixture)
from test_command_home import world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db(transaction=True)

# English words a Chinese page may show: names of things, units and codes, not sentences.
ALLOWED_LATIN = {"PDF", "Rt", "Cordon"}


def _drawn(page: Any, testid: str) -> bool:
    """Whether the chart's canvas has any pixel painted (ECharts draws on a canvas)."""
    return bool(
        page.evaluate(
            """(id) => { const c = document.querySelector(`[data-testid=${id}] canvas`);
            if (!c || !c.width || !c.height) return false;
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
            return false; }""",
            testid,
        )
    )


def _english_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in ALLOWED_LATIN}


def test_a_city_commander_from_the_home_to_the_daily_report(
    live_server: Any,
    browser: Any,
    world: Any,  # noqa: F811
    outbreak: Any,  # noqa: F811
    make_user: Any,
    login: Any,
    job_worker: Any,
    screenshot: Any,
    settings: Any,
) -> None:
    settings.CORDON_LIVE_SECONDS = 1
    city = world
    make_user("city_commander", city.city, username="city.commander")
    base = live_server.url
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(30000)
    login(page, base, "city.commander")

    # The home, in Chinese: the headline of the city, every word translated.
    assert page.locator("[data-testid=headline-area]").inner_text() == city.city.name
    main = page.inner_text("main")
    assert not _english_words(main), _english_words(main)
    menu = page.inner_text("nav").replace("city.commander", "")  # the user's name
    assert _english_words(menu) <= {"English"}, menu  # the language switch names its language
    screenshot(page, "command-home-zh")
    cases_today = int(page.locator("[data-testid=fig-cases]").get_attribute("data-value") or -1)
    assert cases_today >= 1

    # The residents to transfer: the number opens the filtered list, which counts as many.
    figure = page.locator("[data-testid=fig-to_transfer]")
    n = int(figure.get_attribute("data-value") or -1)
    assert n >= 1 and figure.inner_text() == str(n)
    figure.click()
    page.wait_for_url(re.compile(r"/control/orders/\?.*status=to_transfer"))
    assert page.locator("main h1 small").inner_text() == str(n)
    assert page.locator("[data-testid=order-row]").count() == n
    assert page.locator("main select[name=status]").input_value() == "to_transfer"
    screenshot(page, "command-to-transfer-zh")

    # The situation analysis: the curve and Rt drawn, not empty.
    page.goto(f"{base}/")
    page.click("[data-testid=to-analysis]")
    page.wait_for_url(f"{base}/command/analysis/")
    for chart in ("chart-curve", "chart-rt"):
        page.wait_for_selector(f"[data-testid={chart}] canvas")
        page.wait_for_function(
            "(id) => { const c = document.querySelector(`[data-testid=${id}] canvas`);"
            " return c && c.width > 0 && c.height > 0; }",
            arg=chart,
        )
    page.wait_for_timeout(500)  # ECharts' first frame
    assert _drawn(page, "chart-curve") and _drawn(page, "chart-rt")
    screenshot(page, "command-analysis-flow-zh")

    # Today's report: asked for, made by the job, its PDF downloaded.
    page.click("nav >> text=日报")
    page.wait_for_url(f"{base}/command/reports/")
    assert page.locator("[data-testid=report-none]").is_visible()
    page.select_option("#report-area", city.city.code)
    page.click("[data-testid=report-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/jobs/\d+/"))
    page.wait_for_selector("[data-testid=job-status][data-status=done]", timeout=120000)
    assert city.city.name in page.locator("[data-testid=job-result]").inner_text()
    page.click("[data-testid=job-link]")
    page.wait_for_url(re.compile(r"/command/reports/\d+/$"))
    new_cases = page.locator("[data-figure=new]").inner_text()
    screenshot(page, "command-report-zh")
    with page.expect_download() as info:
        page.evaluate(
            "() => { const a = document.querySelector('[data-testid=report-pdf]');"
            " a.setAttribute('download', ''); a.click(); }"
        )
    content = Path(info.value.path()).read_bytes()
    assert content.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).replace("\x00", "")
    assert "疫情防控日报" in text and city.city.name in text
    assert new_cases == str(cases_today)  # the report's new cases: the home's
    line = next(x for x in text.splitlines() if "New today" in x)
    assert "当日新增" in line and line.rstrip().endswith(new_cases), line
    context.close()
