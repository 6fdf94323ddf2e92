"""What a newcomer hit on the pages (issue 16): countdowns, labels and times that read wrong in either language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.control import actions as control
from cordon.apps.geo import selectors as geo_selectors
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Case, Contact

LANGS = (("zh-hans", "zh"), ("en", "en"))

EVIDENCE = [
    {
        "venue": 1,
        "venue_name": "北宫快捷酒店",
        "venue_code": "V-FT-1",
        "subarea": None,
        "case_in": "2026-12-01T08:00:00",
        "case_out": "2026-12-01T17:00:00",
        "contact_in": "2026-12-01T08:23:00",
        "contact_out": "2026-12-01T16:40:00",
        "overlap_minutes": 497,
    }
]


def _case_with_confirmed_contacts(city: Any) -> Case:
    """A case of 张伟 (Fengtai); 王芳 (Fengtai) and 李娜 (Changping) confirmed, so both wait in the queue and
    李娜 is handed over to Changping's linkage inbox; 王芳 has a room reserved (on the transfer board)."""
    case = tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=city.ft_person, onset_date=timezone.localdate(), sampled_at=timezone.now(),
            found_by="fever_clinic",
        ),
    )  # fmt: skip
    contacts = [
        Contact.objects.create(
            case=case, person=p, degree=1, contact_type="venue", jurisdiction=p.jurisdiction,
            district=geo_selectors.district_of(p.jurisdiction), evidence=EVIDENCE, overlap_minutes=497,
        )
        for p in (city.ft_person2, city.cp_person)
    ]  # fmt: skip
    tracing.decide_contacts(actor=None, case=case, contact_ids=[c.pk for c in contacts], decision="confirmed")
    site = control.save_site(
        actor=None, data=control.SiteData(code="S-1", name="北宫隔离酒店", jurisdiction=city.fengtai)
    )
    (room,) = control.add_rooms(actor=None, site=site, numbers="101")
    order = next(o for o in control_orders(city) if o.person_id == city.ft_person2.pk)
    control.reserve_rooms(actor=None, assignments=[(order, room)])
    return case


def control_orders(city: Any) -> list[Any]:
    from cordon.apps.control.models import ControlOrder

    return list(ControlOrder.objects.filter(person__in=[city.ft_person2, city.cp_person]))


def _get(client: Any, url: str, lang: str) -> str:
    client.cookies["django_language"] = lang
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return str(response.content.decode())


@pytest.mark.parametrize(("lang", "short"), LANGS)
def test_countdowns_count_down_to_the_deadline(
    city: Any, make_user: Any, client_for: Any, lang: str, short: str
) -> None:
    """Item 1: a deadline hours away reads "N hours ... left", never "0 minutes left"."""
    _case_with_confirmed_contacts(city)
    officer = client_for(make_user("quarantine_officer", city.city))
    receiver = client_for(make_user("investigator", city.changping))
    zero, hours = (
        {"zh": r"(?<!\d)0\s分钟", "en": r"(?<!\d)0\sminutes"}[short],
        {"zh": "小时", "en": "hour"}[short],
    )
    pages = ((receiver, "/tracing/linkage/"), (officer, "/control/queue/"), (officer, "/control/transfers/"))
    for client, url in pages:
        page = _get(client, url, lang)
        clocks = re.findall(r"<td>[^<]*(?:剩余|left)[^<]*</td>", page)
        assert clocks, (url, "no countdown on the page")
        for clock in clocks:
            assert not re.search(zero, clock) and hours in clock, (url, clock)


@pytest.mark.parametrize(("lang", "short"), LANGS)
def test_home_address_is_labelled_as_an_address(
    city: Any, make_user: Any, client_for: Any, lang: str, short: str
) -> None:
    """Item 2: the home-address label reads 住址 (never 首页, the home page) on case, queue and order pages."""
    case = _case_with_confirmed_contacts(city)
    investigator = client_for(make_user("investigator", city.fengtai))
    officer = client_for(make_user("quarantine_officer", city.city))
    order = control_orders(city)[0]
    want = {"zh": "住址", "en": "Home"}[short]
    for client, url in (
        (investigator, f"/tracing/cases/{case.pk}/"),
        (officer, "/control/queue/"),
        (officer, f"/control/orders/{order.pk}/"),
    ):
        page = _get(client, url, lang)
        main = page.split("<main", 1)[1]  # the menu's link to the home page is not an address label
        assert want in main, url
        if short == "zh":
            assert "首页" not in main, url


@pytest.mark.parametrize(("lang", "short"), LANGS)
def test_evidence_times_have_a_space_between_day_and_time(
    city: Any, make_user: Any, client_for: Any, lang: str, short: str
) -> None:
    """Item 3: "12-01 08:23–16:40", not "12-0108:23–16:40"."""
    case = _case_with_confirmed_contacts(city)
    investigator = client_for(make_user("investigator", city.fengtai))
    page = _get(investigator, f"/tracing/cases/{case.pk}/", lang)
    assert "12-01 08:23–16:40" in page
    assert "12-0108:23" not in page


def test_round_and_cluster_names_are_not_labelled_as_a_persons_name(
    city: Any, make_user: Any, client_for: Any
) -> None:
    """Item 4: the new-round form and the cluster list label a name 名称 (a thing's), not 姓名 (a person's)."""
    case = _case_with_confirmed_contacts(city)
    tracing.create_cluster(actor=None, name="酒店聚集", cases=[case])
    commander = client_for(make_user("city_commander", city.city))
    rounds = _get(commander, "/screening/", "zh-hans")
    assert re.search(r'<label for="name">名称</label>', rounds)
    clusters = _get(commander, "/tracing/clusters/", "zh-hans")
    assert "<th>名称</th>" in clusters and "姓名" not in clusters
