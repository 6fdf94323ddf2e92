"""The command map and the jurisdiction outlines on a synthetic city, through the pages and the API (a signed-in
city commander, Django's test client, on a PostgreSQL database created for the run and dropped after it).

The city: ``--districts`` districts of 10 streets of 5 communities of 2 grids, ``--buildings`` buildings on a
grid of points about 100 m apart (a grid's 100 buildings a tile of about 1 km, a community two tiles side by side,
a street ten), one resident per case, ``--cases`` cases
reported over the last 30 days (a quarter found under control), ``--zones`` zones in force (5 buildings each,
every kind), ``--sites`` isolation sites of 20 rooms and ``--venues`` risk venues. Then, best of ``--repeat``:

- **the outlines' refresh** (``geo.actions.refresh_outlines``: every district, street, community and grid);
- **the page** ``/command/map/``;
- **each layer** of ``GET /api/command/map`` as the map opens (the whole city: counts per street), for a box of
  about 10 km (counts per grid, zones one by one) and of about 2 km (cases per building).

Prints a Markdown table for docs/benchmarks.md, with the machine's load average.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_command_map.py \
        [--database NAME]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import sys
import time
from collections.abc import Iterator
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

from _board_city import say

SIDE = 400  # buildings per row of the synthetic grid of points
STEP = 0.001  # degrees between two buildings (about 100 m)


def _point(i: int) -> tuple[float, float]:
    return 116.0 + (i % SIDE) * STEP, 39.6 + (i // SIDE) * STEP


@contextlib.contextmanager
def database(admin_url: str, name: str, keep: bool) -> Iterator[None]:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{admin_url.rsplit('/', 1)[0]}/{name}"
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build(args: argparse.Namespace) -> Any:
    from django.utils import timezone

    from cordon.apps.control.models import IsolationSite, Room
    from cordon.apps.geo import actions as geo
    from cordon.apps.geo.models import Building, Jurisdiction, Level
    from cordon.apps.people.models import Person
    from cordon.apps.tracing.models import Case, RiskVenue
    from cordon.apps.venues.models import Venue
    from cordon.apps.zones.models import Zone, ZoneBuilding

    rng = random.Random(20)
    now = timezone.now()
    today = timezone.localdate()
    city = geo.create_jurisdiction(actor=None, code="990000", name="基准市", level=Level.CITY, parent=None)

    def nodes(parents: list[Any], n: int, level: int, word: str) -> list[Any]:
        return Jurisdiction.objects.bulk_create(
            [
                Jurisdiction(code=f"{p.code}{k:02d}", name=f"{p.name}{word}{k}", level=level, parent=p,
                             path=f"{p.path}{p.code}{k:02d}/")
                for p in parents for k in range(n)
            ],
            batch_size=5000,
        )  # fmt: skip

    districts = nodes([city], args.districts, Level.DISTRICT, "区")
    streets = nodes(districts, 10, Level.STREET, "街道")
    communities = nodes(streets, 5, Level.COMMUNITY, "社区")
    grids = nodes(communities, 2, Level.GRID, "网格")

    # the points in tiles of 10 x 10 buildings (about 1 km), grid k the k-th tile row by row: a community is two
    # tiles side by side, a street ten, so each node's buildings sit together on the map
    def tile(i: int) -> int:
        return min((i // SIDE // 10) * (SIDE // 10) + (i % SIDE) // 10, len(grids) - 1)

    buildings = Building.objects.bulk_create(
        [
            Building(code=f"BB{i:07d}", address=f"基准楼{i}", jurisdiction=grids[tile(i)],
                     longitude=_point(i)[0], latitude=_point(i)[1])
            for i in range(args.buildings)
        ],
        batch_size=5000,
    )  # fmt: skip
    homes = [buildings[rng.randrange(len(buildings))] for _ in range(args.cases)]
    persons = Person.objects.bulk_create(
        [
            Person(name=f"居民{i}", jurisdiction_id=b.jurisdiction_id, home_building=b)
            for i, b in enumerate(homes)
        ],
        batch_size=5000,
    )
    district_of = {g.pk: g.path.split("/")[2] for g in grids}
    district_ids = {d.code: d.pk for d in districts}
    cases = []
    for i, p in enumerate(persons):
        reported = now - dt.timedelta(days=rng.uniform(0, 30))
        cases.append(
            Case(code=f"CB{i:07d}", person=p, sampled_at=reported - dt.timedelta(hours=6), reported_at=reported,
                 found_by="fever_clinic", control="quarantine" if i % 4 == 0 else "community",
                 jurisdiction_id=p.jurisdiction_id, district_id=district_ids[district_of[p.jurisdiction_id]])
        )  # fmt: skip
    cases = Case.objects.bulk_create(cases, batch_size=5000)
    kinds = ["sealed", "controlled", "prevention"]
    zones = Zone.objects.bulk_create(
        [
            Zone(code=f"ZB{z:06d}", name=f"基准区域{z}", kind=kinds[z % 3], state="in_force",
                 owner=communities[z % len(communities)], starts_on=today, in_force_on=today)
            for z in range(args.zones)
        ],
        batch_size=5000,
    )  # fmt: skip
    ZoneBuilding.objects.bulk_create(
        [ZoneBuilding(zone=z, building=buildings[(i * 5 + k) % len(buildings)]) for i, z in enumerate(zones)
         for k in range(5)],
        batch_size=10_000,
        ignore_conflicts=True,
    )  # fmt: skip
    sites = IsolationSite.objects.bulk_create(
        [
            IsolationSite(code=f"SB{s:04d}", name=f"隔离酒店{s}", jurisdiction=districts[s % len(districts)],
                          district=districts[s % len(districts)], longitude=_point(s * 97)[0],
                          latitude=_point(s * 97)[1])
            for s in range(args.sites)
        ]
    )  # fmt: skip
    Room.objects.bulk_create(
        [Room(site=s, number=str(100 + r), status="occupied" if r % 3 else "available") for s in sites
         for r in range(20)],
        batch_size=5000,
    )  # fmt: skip
    venues = Venue.objects.bulk_create(
        [
            Venue(code=f"VB{v:06d}", name=f"场所{v}", venue_type="restaurant",
                  jurisdiction=buildings[v * 31 % len(buildings)].jurisdiction,
                  building=buildings[v * 31 % len(buildings)])
            for v in range(args.venues)
        ],
        batch_size=5000,
    )  # fmt: skip
    RiskVenue.objects.bulk_create(
        [
            RiskVenue(venue=venues[k % len(venues)], case=cases[k * 7 % len(cases)],
                      first_in=now - dt.timedelta(days=k % 10, hours=2), last_out=now - dt.timedelta(days=k % 10))
            for k in range(args.venues * 3)
        ],
        batch_size=5000,
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
    parser.add_argument("--districts", type=int, default=16)
    parser.add_argument("--buildings", type=int, default=160_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--zones", type=int, default=20_000)
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--venues", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", default=f"cordon_bench_command_map_{os.getpid()}")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    with database(admin_url, args.database, args.keep):
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from cordon.apps.accounts import actions as accounts
        from cordon.apps.geo import actions as geo

        settings.ALLOWED_HOSTS = ["*"]
        call_command("migrate", verbosity=0)
        t = time.perf_counter()
        city = build(args)
        say(f"built in {time.perf_counter() - t:.1f} s")
        connection.cursor().execute("ANALYZE")
        n_outlines, refresh_s = best(lambda: geo.refresh_outlines(), args.repeat)
        connection.cursor().execute("ANALYZE")
        user = accounts.create_user(
            actor=None, username="bench.cmd", password="pw-bench-0001", role="city_commander",
            jurisdiction_code=city.code,
        )  # fmt: skip
        client = Client()
        client.force_login(user)

        def get(url: str, **params: Any) -> Any:
            r = client.get(url, params)
            assert r.status_code == 200, r.content[:300]
            return r

        rows = []
        _page, page_s = best(lambda: get("/command/map/"), args.repeat)
        rows.append(("`/command/map/`, the page", "", page_s))
        x, y = _point(args.buildings // 2 + SIDE // 2)
        views = [
            ("the whole city", {}),
            (
                "a box of about 10 km",
                {"bbox": f"{x - 0.05:.5f},{y - 0.05:.5f},{x + 0.05:.5f},{y + 0.05:.5f}"},
            ),
            ("a box of about 2 km", {"bbox": f"{x - 0.01:.5f},{y - 0.01:.5f},{x + 0.01:.5f},{y + 0.01:.5f}"}),
        ]
        for where, params in views:
            for layer in ("districts", "cases", "zones", "venues", "sites"):
                if layer == "districts" and params:
                    continue
                r, s = best(lambda layer=layer, params=params: get("/api/command/map", layer=layer, **params),
                            args.repeat)  # fmt: skip
                data = r.json()
                what = f"{len(data['features']):,} {data['grain']} features, {len(r.content) / 1e3:.0f} kB"
                if data["truncated"]:
                    what += " (cut)"
                rows.append((f"`layer={layer}`, {where}", what, s))
        load = os.getloadavg()
        print(
            f"\n{dt.date.today()}, {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / "
            f"{load[2]:.1f}; {args.districts} districts, {args.districts * 100:,} grids, {args.buildings:,} "
            f"buildings, {args.cases:,} cases (30 days), {args.zones:,} zones, {args.sites} sites, "
            f"{args.venues:,} venues; best of {args.repeat}.\n"
        )
        print("| request | answer | time |")
        print("|---|---|---:|")
        print(f"| `geo.actions.refresh_outlines` | {n_outlines:,} outlines | {refresh_s * 1000:.0f} ms |")
        for what, answer, s in rows:
            print(f"| {what} | {answer} | {s * 1000:.0f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
