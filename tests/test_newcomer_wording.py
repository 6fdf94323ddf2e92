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


def test_a_key_industry_round_over_the_prefilled_area_targets_the_sectors_workers_there(
    city: Any, make_user: Any, client_for: Any
) -> None:
    """Item 7: ticking a sector with the pre-filled area (the whole city) targets the sector's workers in the
    area (the courier), not everyone living there; the form says how many before the round is created."""
    from cordon.apps.screening.models import RoundTarget, ScreeningRound

    commander = client_for(make_user("city_commander", city.city))
    commander.cookies["django_language"] = "en"
    preview = commander.get(
        "/screening/rounds/new/target/", {"areas": city.city.code, "sectors": ["courier"]}
    )
    assert "The round will target 1 person" in preview.content.decode()
    everyone = commander.get("/screening/rounds/new/target/", {"areas": city.city.code})
    assert "The round will target 4 people" in everyone.content.decode()
    unknown = commander.get("/screening/rounds/new/target/", {"areas": "999999"})
    assert "Unknown jurisdiction 999999" in unknown.content.decode()
    r = commander.post(
        "/screening/rounds/new/",
        {
            "code": "KI-1", "name": "Couriers", "owner": city.city.code, "areas": city.city.code,
            "sectors": ["courier"], "starts_at": "2026-12-01 08:00", "ends_at": "2026-12-01 20:00",
            "design": "10-in-1",
        },
    )  # fmt: skip
    assert r.status_code == 302
    rnd = ScreeningRound.objects.get(code="KI-1")
    assert rnd.key_industry
    targets = {t.jurisdiction_id: t.persons for t in RoundTarget.objects.filter(round=rnd)}
    assert targets == {city.courier.jurisdiction_id: 1}


@pytest.mark.parametrize(("lang", "short"), LANGS)
def test_the_station_says_tubes_must_be_issued_first(
    city: Any, make_user: Any, client_for: Any, lang: str, short: str
) -> None:
    """Item 9: a station with no tube issued says so, and an unknown barcode is answered with the hint that
    tubes are issued first (on the round's page), not only "unknown tube"."""
    import datetime as dt

    from cordon.apps.screening import actions as screening

    now = timezone.now()
    rnd = screening.create_round(
        actor=None,
        data=screening.RoundData(
            code="FT-R1", name="丰台区全员核酸", owner=city.fengtai, starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=8), design="5-in-1", jurisdictions=[city.fengtai],
        ),
    )  # fmt: skip
    site = screening.add_site(
        actor=None, round=rnd, data=screening.SiteData("S1", "北宫采样点", city.zgz_grid)
    )
    staff = client_for(make_user("screening_staff", city.fengtai))
    hint = {"zh": "采样管须先在轮次页面发放", "en": "Tubes must be issued first"}[short]
    station = f"/screening/sites/{site.pk}/station/"
    assert hint in _get(staff, station, lang)  # nothing issued yet
    page = staff.post(f"/screening/sites/{site.pk}/station/bind/", {"tube": "FT001"}, follow=True)
    text = page.content.decode()
    assert {"zh": "未知的采样管 FT001", "en": "Unknown tube FT001"}[short] in text and text.count(hint) == 2
    screening.issue_tubes(actor=None, site=site, barcodes="FT001-FT003")
    assert hint not in _get(staff, station, lang)
    page = staff.post(f"/screening/sites/{site.pk}/station/bind/", {"tube": "NOPE"}, follow=True)
    assert page.content.decode().count(hint) == 1  # the message only: this site has tubes


def test_a_station_flags_a_resident_outside_a_key_industry_round_by_the_same_rule(city: Any) -> None:
    """Item 7, at the station: in a courier round over the city, the courier is in scope and a resident who is
    not a courier is bound but flagged; a sectors-only round takes the courier wherever he lives."""
    import datetime as dt

    from cordon.apps.screening import actions as screening

    now = timezone.now()

    def round_and_site(code: str, areas: list[Any]) -> Any:
        rnd = screening.create_round(
            actor=None,
            data=screening.RoundData(
                code=code, name=code, owner=city.city, starts_at=now - dt.timedelta(hours=1),
                ends_at=now + dt.timedelta(hours=8), design="individual", jurisdictions=areas,
                sectors=[city.courier_sector],
            ),
        )  # fmt: skip
        site = screening.add_site(actor=None, round=rnd, data=screening.SiteData(code, code, city.lx_grid))
        screening.issue_tubes(actor=None, site=site, barcodes=f"{code}1-{code}3")
        return site

    site = round_and_site("K", [city.city])
    rows = [
        screening.BindingIn("K1", city.courier.national_id),
        screening.BindingIn("K2", city.cp_person.national_id),
    ]
    out = screening.bind_samples(actor=None, site=site, rows=rows)
    assert out.bound == [0, 1] and out.flagged == [1]
    site = round_and_site("S", [])
    out = screening.bind_samples(
        actor=None, site=site, rows=[screening.BindingIn("S1", city.courier.national_id)]
    )
    assert out.bound == [0] and out.flagged == []


def test_a_bulk_form_submitted_by_enter_changes_nothing(city: Any, make_user: Any, client_for: Any) -> None:
    """Item 12, without the script: Enter submits a bulk form by its hidden first button (``implicit``), and
    the judgment, acknowledgement, placement, release and sample views change nothing and say why."""
    from cordon.apps.control.models import ControlOrder, OrderStatus
    from cordon.apps.tracing.models import Linkage

    case = _case_with_confirmed_contacts(city)
    extra = Contact.objects.create(
        case=case, person=city.courier, degree=1, contact_type="venue", jurisdiction=city.courier.jurisdiction,
        district=geo_selectors.district_of(city.courier.jurisdiction),
    )  # fmt: skip
    admin = client_for(make_user("administrator", city.city))
    admin.cookies["django_language"] = "en"
    waiting = ControlOrder.objects.get(person=city.cp_person)
    link = Linkage.objects.get(contact__person=city.cp_person)
    for url, data in (
        (f"/tracing/cases/{case.pk}/decide/", {"contact": [extra.pk], "note": "x"}),
        ("/tracing/linkage/acknowledge/", {"linkage": [link.pk]}),
        ("/control/allocate/", {"order": [waiting.pk]}),
        ("/control/orders/bulk/", {"order": [waiting.pk]}),
    ):
        page = admin.post(url, {**data, "implicit": "1"}, follow=True).content.decode()
        assert "Enter does not submit this form" in page, url
    extra.refresh_from_db()
    link.refresh_from_db()
    waiting.refresh_from_db()
    assert (
        extra.status == "candidate" and link.acknowledged_at is None and waiting.status == OrderStatus.WAITING
    )
