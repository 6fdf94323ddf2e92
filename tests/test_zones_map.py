"""The zone map, the drawing preview and the printed notice, through the pages: the map's GeoJSON is scoped
(a district sees only the zones it may see) and limited to the box asked for; a drawn boundary's preview counts
exactly what creating the zone takes; the notice is a PDF naming the zone."""

from __future__ import annotations

import gzip
import json
import random
from typing import Any

import pytest
from django.test import Client

from cordon.apps.zones import actions, maps
from cordon.apps.zones.models import Zone, ZoneBuilding
from cordon.core.roles import Role

pytestmark = pytest.mark.django_db


def _square(lon: float, lat: float, d: float = 0.01) -> dict[str, Any]:
    ring = [
        [lon - d, lat - d],
        [lon + d, lat - d],
        [lon + d, lat + d],
        [lon - d, lat + d],
        [lon - d, lat - d],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def _client(make_user: Any, role: str, node: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_user(role, node))
    return client


def _zone(owner: Any, buildings: list[Any], kind: str = "sealed", **kw: Any) -> Zone:
    return actions.create_zone(
        actor=None,
        data=actions.ZoneData(
            name=kw.pop("name", "测试区"), kind=kind, owner=owner, buildings=buildings, **kw
        ),
    )


def _codes(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {f["properties"]["code"] for f in response.json()["features"]}


def test_the_map_shows_each_user_only_the_zones_it_may_see(city: Any, make_user: Any) -> None:
    ft = _zone(city.fengtai, [city.ft_building], "sealed")
    cp = _zone(city.changping, [city.cp_building], "controlled")
    whole = _zone(city.city, [city.ft_building, city.cp_building], "prevention")
    fengtai = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    assert _codes(fengtai.get("/zones/map/zones/")) == {ft.code, whole.code}
    assert _codes(_client(make_user, Role.CITY_COMMANDER, city.city).get("/zones/map/zones/")) == {
        ft.code, cp.code, whole.code,
    }  # fmt: skip
    feature = next(
        f for f in fengtai.get("/zones/map/zones/").json()["features"] if f["properties"]["code"] == ft.code
    )
    assert feature["properties"]["kind"] == "sealed" and feature["geometry"]["type"] == "Polygon"
    ring = feature["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) >= 4  # a closed box around the one building
    # the box: around Changping only -> only the zones with a building there
    city_user = _client(make_user, Role.CITY_COMMANDER, city.city)
    assert _codes(city_user.get("/zones/map/zones/?bbox=116.3,40.0,116.4,40.1")) == {cp.code, whole.code}
    assert _codes(fengtai.get("/zones/map/zones/?bbox=116.3,40.0,116.4,40.1")) == {whole.code}
    assert _codes(city_user.get("/zones/map/zones/?bbox=0,0,1,1")) == set()


def test_a_drawn_zone_is_drawn_as_its_boundary_and_closed_zones_only_when_asked(
    city: Any, make_user: Any
) -> None:
    drawn = _zone(city.fengtai, [], "controlled", boundary=_square(116.16, 39.86))
    client = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    feature = client.get("/zones/map/zones/").json()["features"][0]
    assert feature["properties"]["code"] == drawn.code and feature["geometry"]["type"] == "MultiPolygon"
    assert feature["geometry"]["coordinates"][0][0][0] == [116.15, 39.85]
    Zone.objects.filter(pk=drawn.pk).update(state="closed")  # a test's shortcut to the end of its life
    assert _codes(client.get("/zones/map/zones/")) == set()
    assert _codes(client.get("/zones/map/zones/?closed=1")) == {drawn.code}


def test_the_preview_counts_what_creating_the_zone_takes(city: Any, make_user: Any) -> None:
    client = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    boundary = json.dumps(_square(116.16, 39.86, 0.2))
    r = client.get("/zones/map/preview/", {"boundary": boundary})
    assert r.status_code == 200 and r.json() == {"owner": city.fengtai.code, "buildings": 1, "residents": 2}
    created = client.post(
        "/zones/new/", {"name": "画的区", "kind": "sealed", "owner": city.fengtai.code, "boundary": boundary}
    )
    assert created.status_code == 302
    zone = Zone.objects.get(name="画的区")
    assert ZoneBuilding.objects.filter(zone=zone).count() == r.json()["buildings"]
    # a box over Changping from Fengtai: its building is not Fengtai's, counts nothing
    over_cp = json.dumps(_square(116.33, 40.07))
    assert client.get("/zones/map/preview/", {"boundary": over_cp}).json()["buildings"] == 0
    city_user = _client(make_user, Role.CITY_COMMANDER, city.city)
    assert city_user.get("/zones/map/preview/", {"boundary": over_cp}).json() == {
        "owner": city.city.code, "buildings": 1, "residents": 2,
    }  # fmt: skip
    # another district's code is out of scope; a broken polygon is refused with the reason
    r = client.get("/zones/map/preview/", {"boundary": over_cp, "owner": city.changping.code})
    assert (
        r.status_code == 200 and "Unknown jurisdiction" in r.json()["error"] and "buildings" not in r.json()
    )
    r = client.get(
        "/zones/map/preview/", {"boundary": '{"type": "Polygon", "coordinates": [[[1, 2], [3, 4]]]}'}
    )
    assert r.status_code == 200 and "three corners" in r.json()["error"]


def test_the_map_page_and_the_new_zone_page_carry_the_map(city: Any, make_user: Any) -> None:
    client = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    page = client.get("/zones/map/").content.decode()
    assert 'data-testid="zone-map"' in page and "Sealed zone" in page and "封控区" in page
    assert 'data-extent="116.160000,39.860000,116.160000,39.860000"' in page
    assert "/zones/map/" in client.get("/zones/").content.decode()
    new = client.get("/zones/new/").content.decode()
    assert 'data-testid="draw-map"' in new and "/zones/map/preview/" in new


def test_the_zone_notice_is_a_pdf_naming_the_zone(city: Any, make_user: Any) -> None:
    pytest.importorskip("fpdf")
    from cordon.apps.zones import pdf

    try:
        pdf.font_path()
    except pdf.PdfUnavailable:
        pytest.skip("no CJK font on this machine")
    zone = _zone(city.fengtai, [city.ft_building], "sealed", boundary=_square(116.16, 39.86))
    client = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    assert f"/zones/{zone.code}/notice.pdf" in client.get(f"/zones/{zone.code}/").content.decode()
    r = client.get(f"/zones/{zone.code}/notice.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    assert zone.code.encode() in r.content  # the document's title names it
    other = _zone(city.changping, [city.cp_building], "controlled")
    assert client.get(f"/zones/{other.code}/notice.pdf").status_code == 404


def test_the_map_draws_the_buildings_a_user_sees_within_the_box(city: Any, make_user: Any) -> None:
    client = _client(make_user, Role.DISTRICT_COMMANDER, city.fengtai)
    around_both = {"bbox": "116.0,39.8,116.4,40.1"}
    r = client.get("/zones/map/buildings/", around_both)
    assert [b["code"] for b in r.json()["buildings"]] == ["B-FT-1"]  # not Changping's
    city_user = _client(make_user, Role.CITY_COMMANDER, city.city)
    assert {b["code"] for b in city_user.get("/zones/map/buildings/", around_both).json()["buildings"]} == {
        "B-FT-1", "B-CP-1",
    }  # fmt: skip
    assert client.get("/zones/map/buildings/", {"bbox": "0,0,1,1"}).json()["buildings"] == []
    assert client.get("/zones/map/buildings/").json()["buildings"] == []


def _random_city_zones(city: Any, seed: int) -> list[Zone]:
    """Buildings spread over both districts and zones of every kind and owner over them, a few drawn."""
    from cordon.apps.geo import actions as geo

    rng = random.Random(seed)
    buildings = [city.ft_building, city.cp_building]
    for i in range(12):
        ft = rng.random() < 0.5
        buildings.append(
            geo.create_building(
                actor=None,
                code=f"B-R-{seed}-{i}",
                address=f"随机楼{i}",
                jurisdiction=city.zgz_grid if ft else city.lx_grid,
                longitude=(116.16 if ft else 116.33) + rng.uniform(-0.02, 0.02),
                latitude=(39.86 if ft else 40.07) + rng.uniform(-0.02, 0.02),
            )
        )
    zones = []
    for i in range(15):
        owner = rng.choice([city.city, city.fengtai, city.changping])
        mine = [b for b in buildings if owner == city.city or b.jurisdiction.path.startswith(owner.path)]
        boundary = None
        if rng.random() < 0.3:
            x, y = mine[0].longitude, mine[0].latitude
            boundary = _square(x, y, rng.uniform(0.0001, 0.01))
        zones.append(
            _zone(owner, rng.sample(mine, rng.randint(1, min(4, len(mine)))), rng.choice(KINDS),
                  name=f"随机区{i}", boundary=boundary)
        )  # fmt: skip
    return zones


KINDS = ["sealed", "controlled", "prevention"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_kept_whole_area_answer_is_the_one_built_for_the_request(
    city: Any, make_user: Any, seed: int
) -> None:
    """The whole area's answer (how the map opens) is kept per area and zones' mark: on random zones it is
    exactly what ``map_zones`` builds for the user, compressed or not, for the city and for a district (which
    gets only its zones even when the city's answer was kept first), and a zone created or changed since shows
    at once."""
    zones = _random_city_zones(city, seed)
    users = {
        "city": make_user(Role.CITY_COMMANDER, city.city),
        "fengtai": make_user(Role.DISTRICT_COMMANDER, city.fengtai),
    }
    clients = {}
    for label, user in users.items():
        clients[label] = Client(HTTP_ACCEPT_LANGUAGE="en")
        clients[label].force_login(user)

    def built(label: str) -> Any:
        found = maps.map_zones(users[label], None)
        return {"type": "FeatureCollection", "features": found.features, "truncated": found.truncated}

    def check() -> None:
        for label, client in clients.items():
            plain = client.get("/zones/map/zones/")
            assert plain.status_code == 200 and "Content-Encoding" not in plain
            packed = client.get("/zones/map/zones/", HTTP_ACCEPT_ENCODING="gzip, deflate")
            assert packed.status_code == 200 and packed["Content-Encoding"] == "gzip"
            expected = json.loads(json.dumps(built(label)))
            assert plain.json() == expected
            assert json.loads(gzip.decompress(packed.content)) == expected

    check()  # the city's answer kept first, then Fengtai's
    fengtai_codes = _codes(clients["fengtai"].get("/zones/map/zones/"))
    assert all(
        z.owner_id == city.fengtai.pk
        or z.members.filter(building__jurisdiction__path__startswith=city.fengtai.path).exists()
        for z in Zone.objects.filter(code__in=fengtai_codes)
    )
    assert fengtai_codes < _codes(clients["city"].get("/zones/map/zones/"))
    actions.transition(actor=None, zone=zones[0], act="put_in_force")
    _zone(city.fengtai, [city.ft_building], "sealed", name="新区")
    check()
    changed = next(
        f
        for f in clients["city"].get("/zones/map/zones/").json()["features"]
        if f["properties"]["code"] == zones[0].code
    )
    assert changed["properties"]["state"] == "in_force"


def test_a_worker_builds_the_whole_area_answers_every_process_reads(
    city: Any, make_user: Any, settings: Any
) -> None:
    """After a change of the zones a worker builds the city's and each district's whole-area answer once
    (``warm_whole_areas``) into a file; another server process (an empty cache of its own) then reads it rather
    than building it, and gets exactly what it would have built; a change replaces the file."""
    from django.core.cache import cache

    _zone(city.city, [city.ft_building, city.cp_building], "controlled", name="全市区")
    assert maps.warm_whole_areas() == 3  # the city and its two districts
    assert maps.warm_whole_areas() == 0  # nothing changed since
    files = sorted(p.name for p in settings.CORDON_ZONE_MAP_DIR.iterdir())
    assert len(files) == 3 and all(f.endswith(".json.gz") for f in files)
    user = make_user(Role.DISTRICT_COMMANDER, city.fengtai)
    cache.clear()  # another process
    body, built = maps._whole_area(user, city.fengtai.path, maps.LIVE)
    assert not built
    found = maps.map_zones(user, None)
    assert json.loads(gzip.decompress(body)) == json.loads(
        json.dumps({"type": "FeatureCollection", "features": found.features, "truncated": found.truncated})
    )
    zone = _zone(city.fengtai, [city.ft_building], "sealed", name="新区")
    assert maps.warm_whole_areas() == 3  # the mark is the whole city's: every area is built again
    assert len(list(settings.CORDON_ZONE_MAP_DIR.iterdir())) == 3  # the old files replaced
    cache.clear()
    body, built = maps._whole_area(user, city.fengtai.path, maps.LIVE)
    assert not built and zone.code in {
        f["properties"]["code"] for f in json.loads(gzip.decompress(body))["features"]
    }
