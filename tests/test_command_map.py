"""Jurisdiction outlines and the command map (issues 19 and 20), through the pages and the API: every building
lies inside or on the kept outline of every jurisdiction above it; the outlines and every layer of the command
map are scoped (a district commander sees its district only) and bounded; cases are counted, never listed."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cordon.apps.control import actions as control
from cordon.apps.geo import actions as geo
from cordon.apps.geo.models import Building, Level, Outline
from cordon.apps.tracing import actions as tracing
from cordon.apps.zones import actions as zones
from cordon.engine import outlines as engine

pytestmark = pytest.mark.django_db


def _client(make_user: Any, role: str, node: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(make_user(role, node))
    return client


def _more_buildings(city: Any, n: int = 60, seed: int = 7) -> None:
    rng = random.Random(seed)
    for i in range(n):
        grid, (x, y) = rng.choice([(city.zgz_grid, (116.16, 39.86)), (city.lx_grid, (116.33, 40.07))])
        geo.create_building(
            actor=None,
            code=f"B-X-{i}",
            address=f"楼{i}",
            jurisdiction=grid,
            longitude=x + rng.uniform(-0.02, 0.02),
            latitude=y + rng.uniform(-0.02, 0.02),
        )


def test_every_building_lies_inside_or_on_the_outline_of_every_jurisdiction_above_it(city: Any) -> None:
    _more_buildings(city)
    written = geo.refresh_outlines()
    kept = {o.jurisdiction.path: o for o in Outline.objects.select_related("jurisdiction")}
    assert written == len(kept)
    assert {o.level for o in kept.values()} == {Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID}
    assert city.city.path not in kept  # the city itself is not outlined
    for b in Building.objects.select_related("jurisdiction"):
        above = [path for path in kept if b.jurisdiction.path.startswith(path)]
        assert len(above) == 4  # district, street, community, grid
        for path in above:
            assert engine.contains(kept[path].ring, (b.longitude, b.latitude)), (b.code, path)
    ft = kept[city.fengtai.path]
    assert ft.buildings == Building.objects.filter(jurisdiction__path__startswith=city.fengtai.path).count()
    assert ft.west <= 116.16 <= ft.east and ft.south <= 39.86 <= ft.north
    assert geo.refresh_outlines() == written  # replaced whole, not added to


def test_the_outlines_are_scoped_by_level_box_and_district(city: Any, make_user: Any) -> None:
    geo.refresh_outlines()
    fengtai = _client(make_user, "district_commander", city.fengtai)
    whole = _client(make_user, "city_commander", city.city)

    def codes(client: Client, query: str) -> set[str]:
        r = client.get(f"/jurisdictions/outlines.geojson?{query}")
        assert r.status_code == 200, r.content
        data = r.json()
        assert data["type"] == "FeatureCollection" and data["truncated"] is False
        return {f["properties"]["code"] for f in data["features"]}

    assert codes(whole, "level=2") == {city.fengtai.code, city.changping.code}
    assert codes(fengtai, "level=2") == {city.fengtai.code}
    assert codes(fengtai, "level=4") == {city.zhangguozhuang.code}
    assert codes(whole, "level=4&under=" + city.changping.code) == {city.longxiang.code}
    assert codes(whole, "level=3&bbox=116.3,40.0,116.4,40.1") == {city.huilongguan.code}
    assert (
        fengtai.get("/jurisdictions/outlines.geojson?level=4&under=" + city.changping.code).status_code == 404
    )
    assert whole.get("/jurisdictions/outlines.geojson?level=9").status_code == 400
    ring = whole.get("/jurisdictions/outlines.geojson?level=2").json()["features"][0]["geometry"][
        "coordinates"
    ][0]
    assert ring[0] == ring[-1] and len(ring) >= 4


def _case(person: Any, days_ago: int, where: str, code: str) -> Any:
    reported = timezone.now() - dt.timedelta(days=days_ago, hours=1)
    return tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=person,
            sampled_at=reported - dt.timedelta(hours=5),
            reported_at=reported,
            found_by="fever_clinic",
            classification="asymptomatic",
            control=where,
            code=code,
        ),
    )


def _layer(client: Client, layer: str, extra: str = "") -> dict[str, Any]:
    r = client.get(f"/api/command/map?layer={layer}{extra}")
    assert r.status_code == 200, r.content
    data: dict[str, Any] = r.json()
    assert data["layer"] == layer and data["type"] == "FeatureCollection"
    return data


def test_the_command_map_counts_cases_per_area_and_building_within_the_scope(
    city: Any, make_user: Any
) -> None:
    geo.refresh_outlines()
    _case(city.ft_person, 1, "community", "C-1")
    _case(city.ft_person2, 2, "quarantine", "C-2")
    _case(city.cp_person, 3, "community", "C-3")
    _case(city.courier, 40, "community", "C-4")  # too old for 14 days
    whole = _client(make_user, "city_commander", city.city)
    fengtai = _client(make_user, "district_commander", city.fengtai)

    wide = _layer(whole, "cases")
    assert wide["grain"] == "street"
    by_area = {f["properties"]["code"]: f["properties"] for f in wide["features"]}
    assert by_area[city.beigong.code]["community"] == 1 and by_area[city.beigong.code]["control"] == 1
    assert by_area[city.huilongguan.code]["community"] == 1 and by_area[city.huilongguan.code]["control"] == 0
    assert sum(p["community"] + p["control"] for p in by_area.values()) == 3
    assert {f["properties"]["code"] for f in _layer(whole, "cases", "&days=60")["features"]} == set(by_area)
    assert _layer(whole, "cases", "&days=60")["features"][-1]["properties"]["community"] >= 1

    mine = _layer(fengtai, "cases")
    assert [f["properties"]["code"] for f in mine["features"]] == [city.beigong.code]  # its district only

    grid = _layer(whole, "cases", "&bbox=116.1,39.8,116.25,39.95")
    assert grid["grain"] == "grid"
    assert [f["properties"]["code"] for f in grid["features"]] == [city.zgz_grid.code]

    near = _layer(fengtai, "cases", "&bbox=116.15,39.85,116.17,39.87")
    assert near["grain"] == "building"
    assert [(f["properties"]["code"], f["properties"]["community"], f["properties"]["control"]) for f in
            near["features"]] == [(city.ft_building.code, 1, 1)]  # fmt: skip
    assert near["features"][0]["geometry"]["coordinates"] == [116.16, 39.86]
    assert (
        _layer(fengtai, "cases", "&bbox=116.32,40.06,116.34,40.08")["features"] == []
    )  # Changping's building


def test_the_command_map_shows_zones_sites_venues_and_districts_within_the_scope(
    city: Any, make_user: Any
) -> None:
    geo.refresh_outlines()
    ft_zone = zones.create_zone(
        actor=None,
        data=zones.ZoneData(
            name="封控A", kind="sealed", owner=city.zhangguozhuang, buildings=[city.ft_building]
        ),
    )
    zones.create_zone(
        actor=None,
        data=zones.ZoneData(
            name="管控B", kind="controlled", owner=city.longxiang, buildings=[city.cp_building]
        ),
    )
    site = control.save_site(
        actor=None,
        data=control.SiteData(
            code="S-1", name="酒店一", jurisdiction=city.fengtai, latitude=39.85, longitude=116.15
        ),
    )
    control.add_rooms(actor=None, site=site, numbers="301-305", beds=2)
    control.save_site(
        actor=None,
        data=control.SiteData(
            code="S-2", name="酒店二", jurisdiction=city.changping, latitude=40.0, longitude=116.3
        ),
    )
    whole = _client(make_user, "city_commander", city.city)
    fengtai = _client(make_user, "district_commander", city.fengtai)

    far = _layer(whole, "zones")
    assert far["grain"] == "street"
    assert {f["properties"]["code"]: f["properties"].get("sealed", 0) for f in far["features"]} == {
        city.beigong.code: 1, city.huilongguan.code: 0,
    }  # fmt: skip
    middle = _layer(fengtai, "zones", "&bbox=116.1,39.8,116.25,39.95")
    assert middle["grain"] == "community"
    assert [(f["properties"]["code"], f["properties"]["sealed"]) for f in middle["features"]] == [
        (city.zhangguozhuang.code, 1)
    ]
    near = _layer(fengtai, "zones", "&bbox=116.15,39.85,116.17,39.87")
    assert [(f["properties"]["code"], f["properties"]["kind"]) for f in near["features"]] == [
        (ft_zone.code, "sealed")
    ]

    sites = _layer(fengtai, "sites")["features"]
    assert [s["properties"]["code"] for s in sites] == ["S-1"]
    assert sites[0]["properties"]["rooms"] == 5 and sites[0]["properties"]["beds"] == 10
    assert {s["properties"]["code"] for s in _layer(whole, "sites")["features"]} == {"S-1", "S-2"}

    assert [f["properties"]["code"] for f in _layer(fengtai, "districts")["features"]] == [city.fengtai.code]
    assert _layer(fengtai, "venues")["features"] == []  # no risk venue yet

    assert whole.get("/api/command/map?layer=people").status_code == 422
    assert whole.get("/api/command/map?layer=cases&bbox=1,2,3").status_code == 422
    assert whole.get("/api/command/map?layer=cases&days=365").status_code == 422


def test_the_command_map_page_in_both_languages(city: Any, make_user: Any) -> None:
    geo.refresh_outlines()
    en = _client(make_user, "district_commander", city.fengtai).get("/command/map/")
    assert en.status_code == 200
    text = en.content.decode()
    assert "Command map" in text and 'data-layers="cases,venues,zones,sites,districts"' in text
    zh = _client(make_user, "district_commander", city.fengtai, "zh-hans").get("/command/map/?days=7")
    assert zh.status_code == 200
    assert "指挥地图" in zh.content.decode()
    assert _client(make_user, "screening_staff", city.fengtai).get("/command/map/").status_code == 403


def test_the_outlines_job_recomputes_them_and_only_importers_and_administrators_start_it(
    city: Any, make_user: Any
) -> None:
    from cordon.core import jobs

    kind = jobs.kind("geo.outlines")
    assert kind is not None
    assert kind.may_start(make_user("administrator", city.city))
    assert not kind.may_start(make_user("grid_worker", city.zgz_grid))
    notes: list[int] = []
    result = kind.run(lambda done, total=None, note="": notes.append(done), {}, None)
    assert result is not None and "8" in result["summary"]
    assert Outline.objects.count() == 8 and notes == [0, 1]
