"""Zones through the API, the pages and the actions: defining a zone three ways, bad input refused with nothing
written, scoping and ownership across levels, the lifecycle with its rules (lift proposed after a clean streak
and an all-negative round, refused while a result is pending, guarded then closed), a new case resetting a
zone's clock and arguing for sealing a controlled zone, overlaps, a person's zone kind, and the open items."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from cordon.apps.screening.models import Tube
from cordon.apps.zones import actions, selectors
from cordon.apps.zones.models import Zone, ZoneBuilding, ZoneRuleSet, ZoneTransition
from cordon.core.roles import Role
from cordon.engine import zones as engine

pytestmark = pytest.mark.django_db


def _square(lon: float, lat: float, d: float = 0.01, *, closed: bool = True) -> dict[str, Any]:
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [ring + ([ring[0]] if closed else [])]}


def _client(make_user: Any, role: str, node: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_user(role, node))
    return client


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _zone(city: Any, kind: str = "sealed", owner: Any = None, buildings: Any = None, **kw: Any) -> Zone:
    return actions.create_zone(
        actor=None,
        data=actions.ZoneData(
            name=kw.pop("name", "测试区"),
            kind=kind,
            owner=owner or city.fengtai,
            buildings=buildings if buildings is not None else [city.ft_building],
            **kw,
        ),
    )


def _in_force(zone: Zone, today: dt.date | None = None) -> Zone:
    t = selectors.open_proposal(zone, engine.PUT_IN_FORCE)
    assert t is not None
    actions.decide(actor=None, transition=t, confirm=True, note="指挥部决定", today=today)
    zone.refresh_from_db()
    return zone


def _round(city: Any, day: dt.date, result: str, code: str = "FT-R7") -> Any:
    """An area screening round over Fengtai's building sampled on ``day``, one tube with ``result``."""
    from cordon.apps.screening import actions as screening
    from cordon.apps.screening.models import Tube

    start = timezone.make_aware(dt.datetime.combine(day, dt.time(8)))
    r = screening.create_round(
        actor=None,
        data=screening.RoundData(
            code=code, name="区域核酸", owner=city.fengtai, starts_at=start, ends_at=start + dt.timedelta(hours=10),
            buildings=[city.ft_building],
        ),
    )  # fmt: skip
    site = screening.add_site(
        actor=None, round=r, data=screening.SiteData(f"S-{code}", "采样点", city.zgz_grid)
    )
    screening.issue_tubes(actor=None, site=site, barcodes=f"ZT{sum(map(ord, code)) % 1000:03d}")
    Tube.objects.filter(round=r).update(bound=1, result=result)  # a test's shortcut to a lab's result
    return r


# --- Defining a zone --------------------------------------------------------------------------------------------


def test_a_district_proposes_a_zone_by_polygon_and_sees_its_residents(city: Any, make_user: Any) -> None:
    client = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    body = {
        "name": "张郭庄封控区",
        "kind": "sealed",
        "owner": city.fengtai.code,
        "boundary": _square(116.16, 39.86),
    }
    r = _post(client, "/api/zones", body)
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["state"] == "proposed" and out["buildings"] == 1 and out["population"] == 2
    zone = Zone.objects.get(code=out["code"])
    assert list(ZoneBuilding.objects.filter(zone=zone).values_list("building__code", flat=True)) == ["B-FT-1"]
    assert zone.transitions.get().action == engine.PUT_IN_FORCE


def test_a_zone_from_areas_and_from_a_geojson_file_on_the_page(city: Any, make_user: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    r = _post(client, "/api/zones", {"name": "社区", "kind": "controlled", "owner": city.fengtai.code,
                                      "areas": [city.zhangguozhuang.code]})  # fmt: skip
    assert r.status_code == 201 and r.json()["population"] == 2
    feature = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": _square(116.16, 39.86)}],
    }
    upload = SimpleUploadedFile(
        "zone.geojson", json.dumps(feature).encode(), content_type="application/geo+json"
    )
    page = client.post(
        "/zones/new/", {"name": "导入区", "kind": "prevention", "owner": city.fengtai.code, "geojson": upload}
    )
    assert page.status_code == 302
    assert Zone.objects.filter(name="导入区", kind="prevention").exists()


@pytest.mark.parametrize(
    ("boundary", "says"),
    [
        (_square(116.16, 39.86, closed=False), "does not close"),
        (_square(100.0, 30.0), "covers no building"),
        ("{not json", "not valid GeoJSON"),
        ({"type": "Point", "coordinates": [116.16, 39.86]}, "Polygon or MultiPolygon"),
        (  # a boundary of 12,001 corners: refused before any building is tested against it
            {
                "type": "Polygon",
                "coordinates": [[[116 + i / 1e5, 39.86] for i in range(12_000)] + [[116, 39.86]]],
            },
            "more than 10,000 corners",
        ),
        (  # a collection inside a collection
            {"type": "FeatureCollection", "features": [{"type": "FeatureCollection", "features": [{}]}]},
            "Polygon or MultiPolygon",
        ),
    ],
)
def test_bad_boundaries_are_refused_and_nothing_is_written(
    city: Any, make_user: Any, boundary: Any, says: str
) -> None:
    client = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    before = (Zone.objects.count(), ZoneBuilding.objects.count(), ZoneTransition.objects.count())
    r = _post(
        client,
        "/api/zones",
        {"name": "x", "kind": "sealed", "owner": city.fengtai.code, "boundary": boundary},
    )
    assert r.status_code == 422
    assert says in r.json()["errors"]["boundary"]
    text = boundary if isinstance(boundary, str) else json.dumps(boundary)
    page = client.post(
        "/zones/new/", {"name": "x", "kind": "sealed", "owner": city.fengtai.code, "boundary": text}
    )
    assert page.status_code == 422 and says in page.content.decode()
    assert (Zone.objects.count(), ZoneBuilding.objects.count(), ZoneTransition.objects.count()) == before


@pytest.mark.parametrize("code", ["a/b", "new", "map", "12", "Z" * 36, "-Z"])
def test_a_zone_code_that_a_page_address_cannot_hold_is_refused(city: Any, make_user: Any, code: str) -> None:
    client = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    body = {"name": "x", "kind": "sealed", "owner": city.fengtai.code, "code": code,
            "buildings": [city.ft_building.code]}  # fmt: skip
    before = Zone.objects.count()
    r = _post(client, "/api/zones", body)
    assert r.status_code == 422 and "code" in r.json()["errors"], r.content
    page = client.post("/zones/new/", {k: v for k, v in body.items() if k != "buildings"}
                       | {"buildings": city.ft_building.code})  # fmt: skip
    assert page.status_code == 422
    assert Zone.objects.count() == before


# --- Scoping and ownership -------------------------------------------------------------------------------------


def test_a_city_zone_across_two_districts_is_seen_by_both_and_changed_only_by_the_city(
    city: Any, make_user: Any
) -> None:
    zone = _zone(city, owner=city.city, buildings=[city.ft_building, city.cp_building])
    ft = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    cp = _client(make_user, Role.DISTRICT_COMMANDER, city.changping)
    for client in (ft, cp):
        assert client.get(f"/api/zones/{zone.code}").status_code == 200
        assert zone.code in client.get("/zones/").content.decode()
        r = _post(client, f"/api/zones/{zone.code}/transitions", {"action": "put_in_force", "confirm": True})
        assert r.status_code == 403 and "only" in r.json()["detail"]
    zone.refresh_from_db()
    assert zone.state == "proposed" and zone.version == 1
    assert _client(make_user, Role.CITY_COMMANDER, city.city).get(f"/api/zones/{zone.code}").json()[
        "districts"
    ] == [
        city.fengtai.code,
        city.changping.code,
    ]
    city_cc = _client(make_user, Role.CITY_COMMANDER, city.city)
    r = _post(city_cc, f"/api/zones/{zone.code}/transitions", {"action": "put_in_force", "confirm": True})
    assert r.status_code == 201 and r.json()["status"] == "confirmed"


def test_a_zone_put_in_force_on_an_earlier_day_recorded_later(city: Any, make_user: Any) -> None:
    """A decision taken at the headquarters and entered later: the zone starts and is put in force on the day
    it was taken (its clock runs from then), on the page and the API. A day before the zone's start, after
    today, on a step other than putting in force, or on a mere proposal is refused, nothing written."""
    today = timezone.localdate()
    client = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    page = client.post(
        "/zones/new/",
        {"name": "补录封控区", "kind": "sealed", "owner": city.fengtai.code, "buildings": city.ft_building.code,
         "starts_on": (today - dt.timedelta(days=3)).isoformat()},
    )  # fmt: skip
    assert page.status_code == 302, page.content.decode()[-2000:]
    zone = Zone.objects.get(name="补录封控区")
    assert zone.starts_on == today - dt.timedelta(days=3)
    url = f"/api/zones/{zone.code}/transitions"
    refused = [
        (
            {"action": "put_in_force", "confirm": True, "on": (today - dt.timedelta(days=4)).isoformat()},
            "start",
        ),
        (
            {"action": "put_in_force", "confirm": True, "on": (today + dt.timedelta(days=1)).isoformat()},
            "start",
        ),
        ({"action": "put_in_force", "on": (today - dt.timedelta(days=2)).isoformat()}, "proposal"),
    ]
    for body, word in refused:
        r = _post(client, url, body)
        assert r.status_code in (400, 422) and word in r.content.decode(), (body, r.content)
    bad = client.post(
        f"/zones/{zone.code}/step/", {"action": "put_in_force", "mode": "now", "note": "x", "on": "3/4"}
    )
    assert bad.status_code == 302
    zone.refresh_from_db()
    assert zone.state == "proposed" and zone.version == 1
    step = client.post(
        f"/zones/{zone.code}/step/",
        {"action": "put_in_force", "mode": "now", "note": "指挥部3天前决定",
         "on": (today - dt.timedelta(days=2)).isoformat()},
    )  # fmt: skip
    assert step.status_code == 302
    zone.refresh_from_db()
    assert zone.state == "in_force" and zone.in_force_on == today - dt.timedelta(days=2)
    assert selectors.summary(zone).days_since_case == 2
    r = _post(
        client, url, {"action": "lift", "confirm": True, "on": (today - dt.timedelta(days=1)).isoformat()}
    )
    assert r.status_code == 422 and "Only putting a zone in force" in r.content.decode()
    zone.refresh_from_db()
    assert zone.state == "in_force"
    # A start in the future is refused on the form.
    future = client.post(
        "/zones/new/",
        {"name": "未来区", "kind": "sealed", "owner": city.fengtai.code, "buildings": city.ft_building.code,
         "starts_on": (today + dt.timedelta(days=1)).isoformat()},
    )  # fmt: skip
    assert future.status_code == 422 and "starts today or on an earlier day" in future.content.decode()
    assert not Zone.objects.filter(name="未来区").exists()


def test_confirm_and_reject_are_shown_only_to_who_may_decide(city: Any, make_user: Any) -> None:
    """A district sees a city zone crossing it and its proposal, without buttons it would be refused (it is
    told who decides); the city gets the buttons, on the list and on the zone page."""
    zone = _zone(city, owner=city.city, buildings=[city.ft_building, city.cp_building])
    t = selectors.open_proposal(zone, engine.PUT_IN_FORCE)
    assert t is not None
    ft = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    for url in ("/zones/proposals/", f"/zones/{zone.code}/"):
        page = ft.get(url).content.decode()
        assert (
            zone.code in page
            and f"/zones/transitions/{t.pk}/decide/" not in page
            and 'value="confirm"' not in page
        )
    assert f'data-testid="decided-by-{t.pk}"' in ft.get("/zones/proposals/").content.decode()
    assert ft.post(f"/zones/transitions/{t.pk}/decide/", {"decision": "confirm"}).status_code == 403
    cc = _client(make_user, Role.CITY_COMMANDER, city.city)
    for url in ("/zones/proposals/", f"/zones/{zone.code}/"):
        assert 'value="confirm"' in cc.get(url).content.decode()
    assert f'data-testid="confirm-{t.pk}"' in cc.get("/zones/proposals/").content.decode()
    # Its own zone's proposal, the district decides.
    own = _zone(city, name="丰台区自有")
    mine = selectors.open_proposal(own, engine.PUT_IN_FORCE)
    assert (
        mine is not None
        and f'data-testid="confirm-{mine.pk}"' in ft.get("/zones/proposals/").content.decode()
    )


def test_a_district_zone_is_not_seen_from_the_other_district(city: Any, make_user: Any) -> None:
    zone = _zone(city)
    cp = _client(make_user, Role.DISTRICT_COMMANDER, city.changping)
    assert cp.get(f"/api/zones/{zone.code}").status_code == 404
    assert cp.get(f"/zones/{zone.code}/").status_code == 404
    assert cp.get("/api/zones").json() == []
    # Nor may it define a zone over the other district's buildings.
    r = _post(
        cp,
        "/api/zones",
        {"name": "x", "kind": "sealed", "owner": city.changping.code, "buildings": ["B-FT-1"]},
    )
    assert r.status_code == 422 and Zone.objects.count() == 1


def test_a_grid_worker_reads_zones_but_cannot_change_them(city: Any, make_user: Any) -> None:
    zone = _zone(city)
    gw = _client(make_user, Role.GRID_WORKER, city.zgz_grid)
    assert gw.get(f"/zones/{zone.code}/").status_code == 200
    r = _post(gw, f"/api/zones/{zone.code}/transitions", {"action": "put_in_force"})
    assert r.status_code == 403


# --- The lifecycle and its rules -----------------------------------------------------------------------------


def test_a_clean_week_and_a_negative_round_propose_the_lift_and_a_commander_confirms(city: Any) -> None:
    today = timezone.localdate()
    zone = _in_force(_zone(city), today)
    _round(city, today + dt.timedelta(days=7), "negative")
    assert actions.evaluate_zones(today=today + dt.timedelta(days=6)).proposed == 0
    result = actions.evaluate_zones(today=today + dt.timedelta(days=7))
    assert result.proposed == 1
    lift = ZoneTransition.objects.get(zone=zone, action="lift", status="proposed")
    assert [r["code"] for r in lift.reasons] == ["clean_days", "round_negative"]
    assert lift.proposed_by is None
    zone.refresh_from_db()
    assert zone.state == "in_force"  # nothing lifts on its own
    assert actions.evaluate_zones(today=today + dt.timedelta(days=7)).proposed == 0  # not twice
    actions.decide(actor=None, transition=lift, confirm=True, note="解封", today=today + dt.timedelta(days=7))
    zone.refresh_from_db()
    assert zone.state == "guarded" and zone.guarded_until == today + dt.timedelta(days=14)
    # Guarded for the rule's days, then closing is proposed.
    assert actions.evaluate_zones(today=today + dt.timedelta(days=14)).proposed == 1
    assert ZoneTransition.objects.filter(zone=zone, action="close", status="proposed").exists()


def test_a_lift_is_refused_while_a_round_result_is_pending(city: Any, make_user: Any) -> None:
    today = timezone.localdate()
    zone = _in_force(_zone(city), today - dt.timedelta(days=8))
    _round(city, today - dt.timedelta(days=1), "", code="FT-P")
    client = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    r = _post(client, f"/api/zones/{zone.code}/transitions", {"action": "lift", "confirm": True, "note": "x"})
    assert r.status_code == 422 and "FT-P" in r.json()["errors"]["transition"]
    zone.refresh_from_db()
    assert zone.state == "in_force" and not ZoneTransition.objects.filter(zone=zone, action="lift").exists()


def test_a_zone_is_screened_and_its_lift_waits_for_the_results(city: Any, make_user: Any) -> None:
    today = timezone.localdate()
    zone = _in_force(_zone(city), today - dt.timedelta(days=8))
    client = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    r = client.post(f"/api/zones/{zone.code}/rounds")
    assert r.status_code == 201 and r.json() == {"code": f"{zone.code}-R1", "buildings": 1}
    lift = _post(client, f"/api/zones/{zone.code}/transitions", {"action": "lift", "confirm": True})
    assert lift.status_code == 422 and f"{zone.code}-R1" in lift.json()["errors"]["transition"]
    cp = _client(make_user, Role.DISTRICT_COMMANDER, city.changping)
    assert cp.post(f"/api/zones/{zone.code}/rounds").status_code == 404


def test_the_rules_are_data_a_second_rule_set_downgrades_first(city: Any, make_user: Any) -> None:
    today = timezone.localdate()
    zone = _in_force(_zone(city), today)
    _round(city, today + dt.timedelta(days=7), "negative")
    actions.load_default_rules()  # stored by the migration; again after a transactional test's flush
    second = ZoneRuleSet.objects.get(code=engine.SEALED_THEN_MONITORED.code)
    admin = _client(make_user, Role.ADMINISTRATOR, city.city)
    r = _post(
        admin, "/api/zones/rules", {"code": second.code, "definition": second.definition, "note": "改用"}
    )
    assert r.status_code == 201 and r.json()["version"] == 2
    assert ZoneRuleSet.objects.filter(in_force=True).get().code == second.code
    actions.evaluate_zones(today=today + dt.timedelta(days=7))
    t = ZoneTransition.objects.get(zone=zone, status="proposed")
    assert (t.action, t.to_kind) == ("downgrade", "controlled")
    bad = _post(admin, "/api/zones/rules", {"code": "x", "definition": {"kinds": {}}})
    assert bad.status_code == 422 and ZoneRuleSet.objects.filter(in_force=True).get().code == second.code


def test_a_case_in_a_controlled_zone_resets_its_clock_and_proposes_sealing(
    city: Any, fengtai_case: Any
) -> None:
    today = timezone.localdate()
    zone = _in_force(_zone(city, kind="controlled"), today - dt.timedelta(days=5))
    case = fengtai_case()
    zone.refresh_from_db()
    assert zone.last_case_on == today and zone.case_flag
    t = ZoneTransition.objects.get(zone=zone, action="escalate", status="proposed")
    assert t.to_kind == "sealed" and t.reasons[0]["code"] == "case_in_zone"
    case.refresh_from_db()
    assert case.control == "sealed_area"  # found under control
    assert zone.case_links.filter(case=case).exists()
    actions.decide(actor=None, transition=t, confirm=True, note="升级")
    zone.refresh_from_db()
    assert zone.kind == "sealed" and not zone.case_flag
    # The clock runs from the case: nothing to propose a week after going in force.
    assert actions.evaluate_zones(today=today + dt.timedelta(days=2)).proposed == 0


# --- Effects elsewhere ----------------------------------------------------------------------------------------


def test_overlapping_zones_show_the_stricter_kind_on_both_pages(city: Any, make_user: Any) -> None:
    sealed = _zone(city, kind="sealed", name="封控")
    prevention = _zone(
        city, kind="prevention", owner=city.city, buildings=[city.ft_building, city.cp_building]
    )
    client = _client(make_user, Role.CITY_COMMANDER, city.city)
    for zone, other in ((sealed, prevention), (prevention, sealed)):
        out = client.get(f"/api/zones/{zone.code}").json()
        assert out["overlaps"] == [
            {"zone": other.code, "kind": other.kind, "shared_buildings": 1, "applies": "sealed"}
        ]
        assert other.code in client.get(f"/zones/{zone.code}/").content.decode()


def test_a_person_living_in_a_zone_shows_its_kind(city: Any, make_user: Any) -> None:
    _in_force(_zone(city, kind="controlled"))
    _in_force(_zone(city, kind="sealed"))
    client = _client(make_user, Role.STREET_OFFICER, city.beigong)
    page = client.get(f"/persons/{city.ft_person.pk}/").content.decode()
    assert "Sealed zone" in page
    search = client.get("/persons/", {"q": "张伟"}).content.decode()
    assert "Sealed zone" in search
    cp = client.get(f"/persons/{city.cp_person.pk}/")
    assert cp.status_code == 404 or "zone" not in cp.content.decode().lower()


def test_open_items_count_zones_to_decide_and_guards_lapsing(city: Any, make_user: Any) -> None:
    from cordon.core import openitems

    _zone(city)  # proposed: to decide
    kinds = {k.key: k for k in openitems.kinds()}
    user = make_user(Role.DISTRICT_COMMANDER, city.fengtai)
    now = timezone.now()
    assert kinds["zones_to_decide"].count(user, now) == {city.fengtai.pk: (1, 0)}
    assert kinds["zones_to_decide"].count(user, now + dt.timedelta(days=2)) == {city.fengtai.pk: (1, 1)}
    other = make_user(Role.DISTRICT_COMMANDER, city.changping)
    assert kinds["zones_to_decide"].count(other, now) == {}
    assert kinds["zones_guard_lapsing"].count(user, now) == {}


def test_the_pages_open_in_both_languages(city: Any, make_user: Any) -> None:
    zone = _zone(city)
    user = make_user(Role.DISTRICT_COMMANDER, city.fengtai)
    for lang in ("en", "zh-hans"):
        client = Client(HTTP_ACCEPT_LANGUAGE=lang)
        client.force_login(user)
        for url in ("/zones/", f"/zones/{zone.code}/", "/zones/new/", "/zones/proposals/"):
            assert client.get(url).status_code == 200, url
    client = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    r = client.post(f"/zones/{zone.code}/step/", {"action": "put_in_force", "mode": "now", "note": "决定"})
    assert r.status_code == 302
    zone.refresh_from_db()
    assert zone.state == "in_force"
    assert "In force" in client.get(f"/zones/{zone.code}/").content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks need PostgreSQL")
def test_two_commanders_proposing_the_same_step_at_once_record_it_once(city: Any) -> None:
    zone = _in_force(_zone(city, kind="controlled"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def propose() -> None:
        try:
            barrier.wait()
            with translation.override("en"):
                actions.propose(
                    actor=None, zone=Zone.objects.get(pk=zone.pk), act="escalate", to_kind="sealed"
                )
            outcomes.append("proposed")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=propose) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("proposed") == 1, outcomes
    assert "already proposed" in next(o for o in outcomes if o != "proposed")
    assert ZoneTransition.objects.filter(zone=zone, action="escalate", status="proposed").count() == 1


def test_a_positive_counts_against_the_zone_it_was_found_in_only(city: Any) -> None:
    """A city round on day 7 (the only round over Fengtai's zone) finds a positive pool: it holds the zone's lift
    only when the pool holds one of the zone's residents; a positive elsewhere in the city says nothing against
    the zone (the round is negative for it, on its page too)."""
    from cordon.apps.screening import actions as screening

    today = timezone.localdate()
    zone = _in_force(_zone(city, kind="controlled"), today)
    day7 = today + dt.timedelta(days=7)
    start = timezone.make_aware(dt.datetime.combine(day7, dt.time(9)))
    city_round = screening.create_round(
        actor=None,
        data=screening.RoundData(
            code="CITY-R", name="全市筛查", owner=city.city, starts_at=start, ends_at=start + dt.timedelta(hours=10),
            jurisdictions=[city.city],
        ),
    )  # fmt: skip
    site = screening.add_site(
        actor=None, round=city_round, data=screening.SiteData("S-C", "采样点", city.lx_grid)
    )
    screening.issue_tubes(actor=None, site=site, barcodes="CP001-CP002")
    screening.bind_samples(
        actor=None,
        site=site,
        rows=[screening.BindingIn("CP001", city.cp_person.national_id, start)],
        now=start,
    )
    Tube.objects.filter(barcode="CP001").update(result="positive")  # a lab's result, the tests' shortcut
    facts = selectors.zone_facts([zone.pk], today=day7)[0]
    assert {r.code: r.outcome for r in facts.rounds}["CITY-R"] == engine.NEGATIVE  # positive elsewhere
    assert actions.evaluate_zones(today=day7).proposed == 1
    lift = ZoneTransition.objects.get(zone=zone, action="lift", status="proposed")
    actions.decide(actor=None, transition=lift, confirm=False, note="再看看", today=day7)
    # A positive pool holding one of the zone's residents: the lift is held.
    screening.bind_samples(
        actor=None,
        site=site,
        rows=[screening.BindingIn("CP002", city.ft_person2.national_id, start)],
        now=start,
    )
    Tube.objects.filter(barcode="CP002").update(result="positive")
    facts = selectors.zone_facts([zone.pk], today=day7)[0]
    assert {r.code: r.outcome for r in facts.rounds}["CITY-R"] == engine.POSITIVE
    finding = engine.evaluate_one(facts, selectors.rules_in_force().rules, day7)
    assert finding is not None and finding.hold
    assert [r.code for r in finding.reasons][-1] == engine.R_ROUND_POSITIVE
