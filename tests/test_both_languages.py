"""Pages read in one language (issue 16, item 10): a page rendered in Chinese shows no English text the catalogue
translates, and a page rendered in English shows no Chinese text the catalogue translates, nor the Chinese name
of a jurisdiction or sector that has an English one."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from cordon.apps.control import actions as control
from cordon.apps.control.models import IsolationSite, QuarantinePlan
from cordon.apps.geo.models import IndustrySector, Jurisdiction
from cordon.apps.screening import actions as screening
from cordon.apps.tracing import actions as tracing
from test_newcomer_wording import _case_with_confirmed_contacts

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2}")
ZH_PAGE_NEVER = re.compile(
    r"\b\d+-in-1\b|\bindividual\b|\barray \d+x\d+|profile default|\bcentralized\b|\bhome_(?:quarantine|monitoring)\b"
)
AUDIT_NEVER = re.compile(
    r"\+00:00|\d{4}-\d\d-\d\dT\d\d:|^(?:people|tracing|control|screening|geo|venues)\.[a-z_]+$|_id\b"
)
VISIBLE_ATTRIBUTES = ("placeholder", "title", "aria-label", "data-label", "alt")


class _Texts(HTMLParser):
    """The visible text of a page: its text nodes (not scripts or styles) and the attributes people read."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(html: str) -> set[str]:
    parser = _Texts()
    parser.feed(html)
    return set(parser.texts)


def _catalogue() -> tuple[set[str], set[str]]:
    """(English strings the catalogue translates, their Chinese translations), placeholders left out."""
    english: set[str] = set()
    chinese: set[str] = set()
    for e in polib.pofile(str(LOCALE)):
        pairs = (
            [(e.msgid, e.msgstr)]
            if not e.msgid_plural
            else [(e.msgid_plural, s) for s in e.msgstr_plural.values()]
        )
        for en, zh in pairs:
            if "%" in en or "{" in en or not zh or en == zh:
                continue
            if LATIN.search(en):
                english.add(en)
            if CJK.search(zh):
                chinese.add(zh)
    return english, chinese


def _world(city: Any) -> dict[str, Any]:
    case = _case_with_confirmed_contacts(city)
    cluster = tracing.create_cluster(actor=None, name="酒店聚集", cases=[case])
    now = timezone.now()
    rnd = screening.create_round(
        actor=None,
        data=screening.RoundData(
            code="FT-R1", name="丰台区全员核酸", owner=city.fengtai, starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=8), design="10-in-1", jurisdictions=[city.fengtai],
        ),
    )  # fmt: skip
    site = screening.add_site(
        actor=None, round=rnd, data=screening.SiteData("S1", "北宫采样点", city.zgz_grid)
    )
    screening.issue_tubes(actor=None, site=site, barcodes="FT001-FT003")
    from cordon.apps.control.models import ControlOrder

    order = ControlOrder.objects.filter(person=city.ft_person2).first()
    assert order is not None
    control.save_site(
        actor=None,
        data=control.SiteData(
            code="S-2", name="丰台隔离酒店", name_en="Fengtai hotel", jurisdiction=city.fengtai
        ),
    )
    post = _duty_post(city)
    for _ in range(settings.AXES_FAILURE_LIMIT):  # a locked sign-in, for the failed sign-ins page
        Client().post("/login/", {"username": "nobody", "password": "not-the-password"})
    return {"case": case, "cluster": cluster, "round": rnd, "site": site, "order": order, "post": post}


def _duty_post(city: Any) -> Any:
    """A Fengtai zone in force with a gate post, its plan (a patrol missed) and a patrol with a problem."""
    from cordon.apps.gridwork import actions as gridwork
    from cordon.apps.zones.models import Zone, ZoneBuilding

    today = timezone.localdate()
    zone = Zone.objects.create(
        code="Z-FT", name="张郭庄封控区", kind="sealed", state="in_force", owner=city.fengtai,
        starts_on=today - dt.timedelta(days=2), in_force_on=today - dt.timedelta(days=2),
    )  # fmt: skip
    ZoneBuilding.objects.create(zone=zone, building=city.ft_building)
    post = gridwork.create_post(actor=None, zone=zone, name="北门", building=city.ft_building)
    gridwork.set_plan(actor=None, post=post, every_hours=4, active_from=today - dt.timedelta(days=1))
    gridwork.record_patrol(actor=None, post=post, findings="crowding", note="门口聚集")
    return post


def _daily_report(city: Any) -> Any:
    """The city's daily report of today, recorded as the clock would record it."""
    from cordon.apps.command import actions, selectors
    from cordon.core.actors import CityReader

    today = timezone.localdate()
    figures = selectors.daily_figures(CityReader(city.city), city.city, today)
    return actions.record_report(
        actor=None, area=city.city, day=today, figures=figures, file={}, scheduled=True
    )


def _simulator_run(user: Any, strategy: str) -> Any:
    """A simulator run recorded as its job would record it."""
    from cordon.apps.simulation import actions as simulation
    from cordon.engine.sim.strategy import Scenario, Strategy, outcome

    scenario = Scenario(population=1000, days=10, strategy=Strategy.named(strategy))
    run = simulation.start_run(actor=user, scenario=scenario, title="")
    sim = scenario.simulation()
    sim.run(scenario.days)
    return simulation.record_result(actor=user, run=run, outcome=outcome(sim), seconds=1.0)


def _urls(city: Any, w: dict[str, Any]) -> list[str]:
    return [
        "/",
        "/persons/",
        f"/persons/{city.ft_person.pk}/",
        "/venues/",
        f"/venues/{city.ft_venue.pk}/",
        f"/jurisdictions/{city.fengtai.code}/",
        "/tracing/cases/",
        "/tracing/contacts/",
        "/command/",  # the commanders' home (their "/")
        "/command/reports/",
        f"/command/reports/{w['report'].pk}/",
        "/tracing/cases/new/",
        f"/tracing/cases/{w['case'].pk}/",
        "/tracing/clusters/",
        f"/tracing/clusters/{w['cluster'].code}/",
        "/tracing/risk-venues/",
        "/tracing/scans/",
        "/control/",
        "/control/queue/",
        "/control/transfers/",
        "/control/orders/",
        "/control/orders/?status=under_control",
        f"/control/orders/{w['order'].pk}/",
        "/control/follow-up/",
        "/control/homes/",
        "/control/sites/",
        "/control/plans/",
        "/screening/",
        f"/screening/?day={timezone.localdate().isoformat()}",
        f"/screening/rounds/{w['round'].code}/",
        f"/screening/rounds/{w['round'].code}/?prevalence=0.002",  # the advisor names designs (array 20x20)
        f"/screening/rounds/{w['round'].code}/coverage/",
        f"/screening/sites/{w['site'].pk}/station/?tube=FT001",
        "/screening/alerts/",
        "/screening/key-industries/",
        "/data/",
        "/audit/",
        "/audit/access-log/",
        "/audit/sign-ins/",
        "/simulation/",
        f"/simulation/{w['sim_runs'][0].pk}/",
        f"/simulation/compare/?a={w['sim_runs'][0].pk}&b={w['sim_runs'][1].pk}",
        "/gridwork/",
        f"/gridwork/posts/{w['post'].pk}/",
        f"/gridwork/posts/{w['post'].pk}/patrol/",
        "/gridwork/me/",
        "/command/timeliness/",
    ]


@pytest.fixture
def pages(city: Any, make_user: Any, client_for: Any) -> dict[str, dict[str, str]]:
    """Every page above, rendered in Chinese and in English: {language: {url: html}}."""
    w = _world(city)
    admin_user = make_user("administrator", city.city)
    admin = client_for(admin_user)
    # Two simulator runs (one at a time per person: two people of the city).
    w["sim_runs"] = [
        _simulator_run(admin_user, "none"),
        _simulator_run(make_user("city_commander", city.city), "zero-covid"),
    ]
    w["report"] = _daily_report(city)
    out: dict[str, dict[str, str]] = {}
    for lang in ("zh-hans", "en"):
        admin.cookies["django_language"] = lang
        out[lang] = {}
        for url in _urls(city, w):
            r = admin.get(url)
            assert r.status_code == 200, (url, r.status_code)
            out[lang][url] = r.content.decode()
    return out


def test_no_page_shows_text_of_the_other_language(pages: dict[str, dict[str, str]], city: Any) -> None:
    english, chinese = _catalogue()
    chinese_names = {
        n
        for model in (Jurisdiction, IndustrySector, IsolationSite)
        for n in model.objects.exclude(name_en="").values_list("name", flat=True)
    } | set(QuarantinePlan.objects.exclude(name="").values_list("name_zh", flat=True))
    english_names = set(QuarantinePlan.objects.exclude(name_zh="").values_list("name", flat=True))
    wrong: list[tuple[str, str, str]] = []
    for url, html in pages["zh-hans"].items():
        texts = visible_texts(html)
        wrong += [("zh", url, t) for t in sorted(texts & (english | english_names))]
        # Pool designs, the plans' note and stage kinds are machine keys a Chinese page translates.
        # (The audit trail shows a stored design as it was recorded.)
        wrong += [("zh", url, t) for t in sorted(texts) if ZH_PAGE_NEVER.search(t) and url != "/audit/"]
    for url, html in pages["en"].items():
        wrong += [("en", url, t) for t in sorted(visible_texts(html) & (chinese | chinese_names))]
    for lang in pages:  # no record shown by Django's default description ("X_y object (1)")
        wrong += [
            (lang, u, t) for u, html in pages[lang].items() for t in visible_texts(html) if " object (" in t
        ]
    for lang in pages:  # the audit page: labels, not model and field names; local times, not UTC
        texts = visible_texts(pages[lang]["/audit/"])
        wrong += [(lang, "/audit/", t) for t in sorted(texts) if AUDIT_NEVER.search(t)]
    assert not wrong, "\n".join(f"{lang} {url}: {text!r}" for lang, url, text in wrong)


def _post_file(client: Any, worker: Any, url: str, lang: str, name: str, data: bytes, **extra: str) -> str:
    """Upload a file; the page queues a job, which a worker runs: the job's page once it has ended."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.cookies["django_language"] = lang
    with worker():
        response = client.post(url, {"file": SimpleUploadedFile(name, data), **extra})
    assert response.status_code == 302, response.content.decode()
    return str(client.get(response["Location"]).content.decode())


def test_scan_upload_problems_read_in_chinese_on_a_chinese_page(
    city: Any, make_user: Any, client_for: Any, worker: Any
) -> None:
    """A refused scan file and the reasons rows were skipped read in Chinese (the store says them in English)."""
    client = client_for(make_user("administrator", city.city))
    page = _post_file(
        client, worker, "/tracing/scans/", "zh-hans", "scans.csv", b"person_id,time_in\n1,2026-12-01 08:00\n"
    )
    assert "文件缺少必需的列" in page and "lacks required columns" not in page
    rows = (
        f"person_id,venue_id,time_in,time_out\n999999,{city.ft_venue.pk},2026-12-01 08:00,2026-12-01 09:00\n"
    )
    page = _post_file(client, worker, "/tracing/scans/", "zh-hans", "scans.csv", rows.encode())
    assert "人员不在人口库中" in page and "unknown person" not in page
    page = _post_file(
        client, worker, "/tracing/scans/", "en", "scans.csv", b"person_id,time_in\n1,2026-12-01 08:00\n"
    )
    assert "The file lacks required columns: venue_id (or venue_code), time_out" in page


def test_an_unclosed_quote_in_an_import_is_reported_as_such(
    city: Any, make_user: Any, client_for: Any, worker: Any
) -> None:
    """Not as a missing jurisdiction: the quote swallowed the rest of the file into one cell."""
    client = client_for(make_user("administrator", city.city))
    data = (
        "姓名,身份证号,手机号,楼栋编码,户编码,特殊人群\n"
        '赵一,"110106197001010011,13900000001,B-FT-1,H-FT-1,\n'
        "钱二,110106197001020022,13900000002,B-FT-1,H-FT-1,\n"
    ).encode()
    page = _post_file(client, worker, "/data/import/", "en", "people.csv", data, kind="persons")
    assert "quotation mark" in page and "never closed, on line 2" in page
    assert (
        "jurisdiction" not in page.split("<main", 1)[1].lower().split("</form>", 1)[0] or "quotation" in page
    )
    page = _post_file(client, worker, "/data/import/", "zh-hans", "people.csv", data, kind="persons")
    assert "第 2 行有一个未闭合的引号" in page
