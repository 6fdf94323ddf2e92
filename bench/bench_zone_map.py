"""The zone map and the drawing preview on a large synthetic city, through the pages (a signed-in city commander,
Django's test client, on a throwaway PostgreSQL database).

The city: one district of ``--grids`` grids and ``--buildings`` buildings on a grid of points about 100 m apart,
``--residents`` residents per building, and ``--zones`` zones (every kind, 5 buildings each, a tenth drawn with a
boundary). Then, best of ``--repeat``:

- **the map's zones**, `/zones/map/zones/` without a box (the whole city, as the map opens) and with a box of
  about 5 km (a district's view);
- **the preview** of a drawn square over about 300 buildings, `/zones/map/preview/`: buildings and residents
  inside (the same selection as creating the zone).

Prints a Markdown table for docs/benchmarks.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_zone_map.py
    .venv/bin/python bench/bench_zone_map.py --reuse cordon_bench_board_N   # the Beijing city of bench_board.py

``--reuse DB`` measures in a database kept by ``bench_board.py --keep --build-only`` (migrated first, not
rebuilt): ``--zones`` zones in force of 5 neighbouring buildings each (on the build's lattice), spread over the
whole city, each owned by its first building's district, a tenth drawn with a boundary, are added to its
buildings in bulk as above, their codes starting ``ZB`` (the bench's mark): a rerun keeps them when there are
as many, else replaces them (``--replace`` always does, ``--remove`` only takes them away). Measured as
Beijing's city commander (``bench-city``): the map page ``/zones/map/`` and its first data request (the whole
city: what opening the map costs the server), the box of a district's view and of a street's (with its
buildings, asked once zoomed in), and the preview of a square drawn over a few hundred buildings in the middle
of the city (sized from the buildings' density there).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

from _board_city import say
from _one_district import one_district
from _pgdb import throwaway_database

SIDE = 500  # buildings per row of the synthetic grid of points


def _point(i: int) -> tuple[float, float]:
    return 116.0 + (i % SIDE) / 1000, 39.7 + (i // SIDE) / 1000


def build(args: argparse.Namespace) -> Any:
    from django.utils import timezone

    from cordon.apps.geo.models import Building
    from cordon.apps.people.models import Person
    from cordon.apps.zones.models import Zone, ZoneBuilding

    today = timezone.localdate()
    city, district, grids = one_district(args.grids)
    buildings = Building.objects.bulk_create(
        [
            Building(code=f"BB{i:07d}", address=f"基准楼{i}", jurisdiction=grids[i % len(grids)],
                     longitude=_point(i)[0], latitude=_point(i)[1])
            for i in range(args.buildings)
        ],
        batch_size=5000,
    )  # fmt: skip
    for start in range(0, len(buildings), 20_000):
        Person.objects.bulk_create(
            [
                Person(name=f"居民{b.pk}-{k}", jurisdiction_id=b.jurisdiction_id, home_building=b)
                for b in buildings[start : start + 20_000]
                for k in range(args.residents)
            ],
            batch_size=5000,
        )
    kinds = ["sealed", "controlled", "prevention"]
    zones = []
    per = 5
    for z in range(args.zones):
        boundary = None
        if z % 10 == 0:
            x, y = _point((z * per) % args.buildings)
            d = 0.0015
            boundary = {"type": "Polygon", "coordinates": [[[x - d, y - d], [x + d, y - d], [x + d, y + d],
                                                             [x - d, y + d], [x - d, y - d]]]}  # fmt: skip
        zones.append(
            Zone(code=f"ZB{z:06d}", name=f"基准区域{z}", kind=kinds[z % 3], state="in_force", owner=district,
                 starts_on=today, in_force_on=today, boundary=boundary)
        )  # fmt: skip
    zones = Zone.objects.bulk_create(zones, batch_size=5000)
    ZoneBuilding.objects.bulk_create(
        [ZoneBuilding(zone=z, building=buildings[(i * per + k) % len(buildings)]) for i, z in enumerate(zones)
         for k in range(per)],
        batch_size=10_000,
        ignore_conflicts=True,
    )  # fmt: skip
    return city


MARK = "ZB"  # the code prefix of the zones this script adds (to a reused database too)


def add_zones(n: int) -> None:
    """``n`` zones in force (every kind) of 5 neighbouring buildings each over a reused city's buildings, spread
    over the whole city (the buildings by id, a stride apart: the build's lattice puts consecutive ids next to each
    other), each owned by its first building's district, a tenth drawn with a boundary; in bulk, as ``build``."""
    from django.utils import timezone

    from cordon.apps.geo.models import Building, Jurisdiction
    from cordon.apps.zones.models import Zone, ZoneBuilding

    today = timezone.localdate()
    per = 5
    ids = list(Building.objects.filter(longitude__isnull=False).order_by("pk").values_list("pk", flat=True))
    stride = max(per, len(ids) // n)
    picked = [ids[(z * stride + k) % len(ids)] for z in range(n) for k in range(per)]
    where = {
        pk: (x, y, path)
        for pk, x, y, path in Building.objects.filter(pk__in=picked[::per]).values_list(
            "pk", "longitude", "latitude", "jurisdiction__path"
        )
    }
    districts = {j.path: j for j in Jurisdiction.objects.filter(level=2)}
    kinds = ["sealed", "controlled", "prevention"]
    zones = []
    for z in range(n):
        x, y, path = where[picked[z * per]]
        owner = districts["/".join(path.split("/")[:3]) + "/"]
        boundary = None
        if z % 10 == 0:
            d = 0.0015
            boundary = {"type": "Polygon", "coordinates": [[[x - d, y - d], [x + d, y - d], [x + d, y + d],
                                                             [x - d, y + d], [x - d, y - d]]]}  # fmt: skip
        zones.append(
            Zone(code=f"{MARK}{z:06d}", name=f"基准区域{z}", kind=kinds[z % 3], state="in_force", owner=owner,
                 starts_on=today, in_force_on=today, boundary=boundary)
        )  # fmt: skip
    zones = Zone.objects.bulk_create(zones, batch_size=5000)
    ZoneBuilding.objects.bulk_create(
        [
            ZoneBuilding(zone=z, building_id=picked[i * per + k])
            for i, z in enumerate(zones)
            for k in range(per)
        ],
        batch_size=10_000,
        ignore_conflicts=True,
    )


def reused_zones(args: argparse.Namespace) -> str:
    """The bench's zones in a reused database: kept when there are ``--zones`` of them, else replaced."""
    from django.db import connection, transaction

    from cordon.apps.zones.models import Zone, ZoneBuilding

    mine = Zone.objects.filter(code__startswith=MARK)
    have = mine.count()
    if have == args.zones and not args.replace and not args.remove:
        return f"kept the {have:,} zones {MARK}* already there"
    t = time.perf_counter()
    with transaction.atomic():
        ZoneBuilding.objects.filter(zone__in=mine).delete()
        mine.delete()
        if not args.remove:
            add_zones(args.zones)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE zones_zone, zones_zonebuilding")  # as a settled city's tables
    added = 0 if args.remove else args.zones
    return f"removed {have:,} zones {MARK}*, added {added:,} in {time.perf_counter() - t:.0f} s"


def best(fn: Any, repeat: int) -> tuple[Any, float]:
    out, times = timed(fn, repeat)
    return out, min(times)


def timed(fn: Any, repeat: int) -> tuple[Any, list[float]]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, times


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--zones", type=int, default=20_000)
    parser.add_argument("--buildings", type=int, default=200_000)
    parser.add_argument("--residents", type=int, default=3)
    parser.add_argument("--grids", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--reuse",
        metavar="DB",
        help="measure in a database kept by bench_board.py --keep (migrated, not rebuilt)",
    )
    parser.add_argument("--replace", action="store_true", help="with --reuse: add the bench's zones anew")
    parser.add_argument(
        "--remove", action="store_true", help="with --reuse: take the bench's zones away, stop"
    )
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    if args.reuse:
        os.environ["DATABASE_URL"] = f"{admin_url.rsplit('/', 1)[0]}/{args.reuse}"
        os.environ.setdefault("CORDON_VAR", tempfile.mkdtemp(prefix="cordon-bench-"))
        return run(args, contextlib.nullcontext())
    return run(args, throwaway_database(admin_url, "cordon_bench_zone_map", keep=args.keep))


def run(args: argparse.Namespace, database: Any) -> int:
    with database:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client

        from cordon.apps.accounts import actions as accounts

        settings.ALLOWED_HOSTS = ["*"]
        call_command("migrate", verbosity=0)
        if args.reuse:
            say(reused_zones(args))
            if args.remove:
                return 0
            return measure_reused(args)
        t = time.perf_counter()
        city = build(args)
        say(f"built in {time.perf_counter() - t:.1f} s")
        call_command(
            "shell", command="from django.db import connection; connection.cursor().execute('ANALYZE')"
        )
        user = accounts.create_user(
            actor=None, username="bench.cmd", password="pw-bench-0001", role="city_commander",
            jurisdiction_code=city.code,
        )  # fmt: skip
        client = Client()
        client.force_login(user)

        def get(url: str, **params: str) -> Any:
            r = client.get(url, params)
            assert r.status_code == 200, r.content[:300]
            return r

        whole, whole_s = best(lambda: get("/zones/map/zones/"), args.repeat)
        n_whole = len(whole.json()["features"])
        x, y = _point(args.buildings // 2 + SIDE // 2)  # the middle of the grid of points
        box = f"{x - 0.025:.5f},{y - 0.025:.5f},{x + 0.025:.5f},{y + 0.025:.5f}"
        part, part_s = best(lambda: get("/zones/map/zones/", bbox=box), args.repeat)
        n_part = len(part.json()["features"])
        d = 0.0085  # about 17 x 17 buildings
        square = {"type": "Polygon", "coordinates": [[[x - d, y - d], [x + d, y - d], [x + d, y + d],
                                                       [x - d, y + d], [x - d, y - d]]]}  # fmt: skip
        prev, prev_s = best(lambda: get("/zones/map/preview/", boundary=json.dumps(square)), args.repeat)
        p = prev.json()
        load = os.getloadavg()
        print(
            f"\n{dt.date.today()}, {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / "
            f"{load[2]:.1f}; {args.zones:,} zones in force over {args.buildings:,} buildings, "
            f"{args.buildings * args.residents:,} residents; best of {args.repeat}.\n"
        )
        print("| request | answer | time |")
        print("|---|---:|---:|")
        print(f"| `/zones/map/zones/`, the whole city | {n_whole:,} zones, {len(whole.content) / 1e6:.1f} MB | "
              f"{whole_s * 1000:.0f} ms |")  # fmt: skip
        print(f"| `/zones/map/zones/?bbox=` about 5 km | {n_part:,} zones, {len(part.content) / 1e3:.0f} kB | "
              f"{part_s * 1000:.0f} ms |")  # fmt: skip
        print(f"| `/zones/map/preview/`, a drawn square | {p['buildings']:,} buildings, {p['residents']:,} "
              f"residents | {prev_s * 1000:.0f} ms |")  # fmt: skip
    return 0


def measure_reused(args: argparse.Namespace) -> int:  # One piece: the requests and their table
    from bench_board import beijing_users
    from django.db import connection
    from django.test import Client

    from cordon.apps.geo.models import Building
    from cordon.apps.people.models import Person
    from cordon.apps.zones.models import Zone

    say(f"load average before measuring: {' / '.join(f'{v:.2f}' for v in os.getloadavg())}")
    user = beijing_users()["city"]
    client = Client()
    client.force_login(user)

    def get(url: str, **params: str) -> Any:
        r = client.get(url, params)
        assert r.status_code == 200, r.content[:300]
        return r

    rows: list[tuple[str, str, list[float]]] = []

    def row(what: str, fn: Any, answer: Any) -> Any:
        out, times = timed(fn, args.repeat)
        rows.append((what, answer(out), times))
        say(f"{what}: best {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms")
        return out

    row("`/zones/map/` (the page)", lambda: get("/zones/map/"), lambda r: f"{len(r.content) / 1e3:.0f} kB")
    whole = row(
        "`/zones/map/zones/`, the whole city (as the map opens)",
        lambda: get("/zones/map/zones/"),
        lambda r: f"{len(r.json()['features']):,} zones, {len(r.content) / 1e6:.1f} MB",
    )
    opens = [a + b for a, b in zip(rows[0][2], rows[1][2], strict=True)]
    rows.append(("the page and the whole city together (opening the map)", "", opens))
    x, y = 116.4, 39.9  # the middle of the city's buildings
    for what, half in (("about 10 km (a district's view)", 0.05), ("about 1.5 km (a street's view)", 0.0075)):
        box = f"{x - half:.5f},{y - half:.5f},{x + half:.5f},{y + half:.5f}"
        row(f"`/zones/map/zones/?bbox=` {what}", lambda b=box: get("/zones/map/zones/", bbox=b),
            lambda r: f"{len(r.json()['features']):,} zones, {len(r.content) / 1e3:.0f} kB")  # fmt: skip
    row("`/zones/map/buildings/?bbox=` about 1.5 km (zoomed in)",
        lambda b=box: get("/zones/map/buildings/", bbox=b),
        lambda r: f"{len(r.json()['buildings']):,} buildings")  # fmt: skip
    probe = 0.01
    near = Building.objects.filter(
        longitude__range=(x - probe, x + probe), latitude__range=(y - probe, y + probe)
    ).count()
    d = probe * (300 / max(near, 1)) ** 0.5  # a square over about 300 buildings
    square = {"type": "Polygon", "coordinates": [[[x - d, y - d], [x + d, y - d], [x + d, y + d],
                                                   [x - d, y + d], [x - d, y - d]]]}  # fmt: skip
    row(f"`/zones/map/preview/`, a square of {2 * d * 85:.1f} x {2 * d * 111:.1f} km drawn (target 200 ms)",
        lambda: get("/zones/map/preview/", boundary=json.dumps(square)),
        lambda r: f"{r.json()['buildings']:,} buildings, {r.json()['residents']:,} residents")  # fmt: skip
    load = os.getloadavg()
    version = connection.cursor().connection.info.server_version
    zones = Zone.objects.filter(state="in_force").count()
    print(
        f"\n{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, PostgreSQL {version // 10000}, "
        f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; `{args.reuse}` "
        f"(reused): {Building.objects.count():,} buildings, {Person.objects.count():,} residents, {zones:,} zones "
        f"in force ({Zone.objects.filter(code__startswith=MARK).count():,} of them the bench's, 5 buildings "
        f"each); as the city commander, {args.repeat} runs each.\n"
    )
    print("| request | answer | best | median | worst |")
    print("|---|---:|---:|---:|---:|")
    for what, answer, times in rows:
        print(f"| {what} | {answer} | {min(times) * 1000:,.0f} ms | {statistics.median(times) * 1000:,.0f} ms | "
              f"{max(times) * 1000:,.0f} ms |")  # fmt: skip
    say(f"the whole city's answer: {len(whole.content):,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
