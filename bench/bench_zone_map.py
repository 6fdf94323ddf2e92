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
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
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


def best(fn: Any, repeat: int) -> tuple[Any, float]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, min(times)


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
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    with throwaway_database(admin_url, "cordon_bench_zone_map", keep=args.keep):
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client

        from cordon.apps.accounts import actions as accounts

        settings.ALLOWED_HOSTS = ["*"]
        call_command("migrate", verbosity=0)
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


if __name__ == "__main__":
    raise SystemExit(main())
