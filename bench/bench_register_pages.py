"""How fast the everyday pages stay with a city-sized resident register.

Builds a synthetic register of N persons (default 1,000,000) in a throwaway database (SQLite file under a temp
dir unless DATABASE_URL is set), then times the pages and API calls people use all day, warm, median of R runs:
a city commander's home page (rolled-up counts), a district's jurisdiction page, person search by name, by the
last digits of a national ID, a person page, and the persons API.

    .venv/bin/python bench/bench_register_pages.py --persons 1000000

No baseline is named for these pages (issue 2 sets no target); the figures go to docs/benchmarks.md as absolute
latencies so later changes can be compared against them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from typing import Any


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if args.persons < 1000:
        parser.error("--persons must be at least 1000")

    tmp = tempfile.mkdtemp(prefix="cordon-bench-")
    os.environ["CORDON_VAR"] = tmp
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from tqdm import tqdm

    from cordon.apps.accounts import actions as accounts
    from cordon.apps.geo import actions as geo
    from cordon.apps.geo.models import Building, Jurisdiction, Level
    from cordon.apps.people.models import Person
    from cordon.engine import identity

    if connection.vendor != "sqlite":
        print("Using", connection.vendor, "— the database must be empty and disposable.", file=sys.stderr)
    call_command("migrate", verbosity=0)
    rng = random.Random(7)

    # Tree: 1 city, 10 districts x 10 streets x 10 communities x 4 grids; 20 buildings per grid.
    city = geo.create_jurisdiction(actor=None, code="110000", name="基准城市", level=Level.CITY)
    grids: list[Jurisdiction] = []
    for d in range(10):
        dist = geo.create_jurisdiction(
            actor=None, code=f"1101{d:02d}", name=f"第{d}区", level=Level.DISTRICT, parent=city
        )
        for s in range(10):
            st = geo.create_jurisdiction(
                actor=None, code=f"{dist.code}{s:03d}", name=f"街道{s}", level=Level.STREET, parent=dist
            )
            for c in range(10):
                com = geo.create_jurisdiction(
                    actor=None, code=f"{st.code}{c:03d}", name=f"社区{c}", level=Level.COMMUNITY, parent=st
                )
                for g in range(4):
                    grids.append(
                        geo.create_jurisdiction(
                            actor=None,
                            code=f"{com.code}-{g:02d}",
                            name=f"网格{g}",
                            level=Level.GRID,
                            parent=com,
                        )
                    )
    buildings = Building.objects.bulk_create(
        [
            Building(code=f"B{gi:05d}{b:02d}", address=f"地址 {gi}-{b}", jurisdiction=grid)
            for gi, grid in enumerate(grids)
            for b in range(20)
        ],
        batch_size=5000,
    )
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
    batch: list[Person] = []
    with tqdm(total=args.persons, desc="persons", unit="p") as bar:
        for _i in range(args.persons):
            b = buildings[rng.randrange(len(buildings))]
            birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(30000))
            batch.append(
                Person(
                    name=rng.choice(surnames) + rng.choice(given) + rng.choice(given),
                    birth_date=birth,
                    phone=(phone := f"13{rng.randrange(10**9):09d}"),
                    phone_rev=phone[::-1],
                    jurisdiction_id=b.jurisdiction_id,
                    home_building=b,
                    tags=["elderly_alone"] if rng.random() < 0.02 else [],
                )
            )
            if len(batch) == 20000:
                Person.objects.bulk_create(batch)
                bar.update(len(batch))
                batch = []
        if batch:
            Person.objects.bulk_create(batch)
            bar.update(len(batch))
    # National IDs must be unique: give every person one derived from their id.
    print("assigning national IDs ...", file=sys.stderr)
    with connection.cursor() as cur:
        cur.execute("SELECT id, birth_date FROM people_person")
        rows = cur.fetchall()
    updates = []
    for pid, birth in rows:
        birth = birth if isinstance(birth, dt.date) else dt.date.fromisoformat(birth)
        area = f"{110101 + pid // 1000:06d}"  # unique with pid % 1000 up to 9.8 million persons
        nid = identity.make(area, birth, pid % 1000)
        updates.append(Person(pk=pid, national_id=nid, national_id_rev=nid[::-1]))
    for start in range(0, len(updates), 20000):
        Person.objects.bulk_update(updates[start : start + 20000], ["national_id", "national_id_rev"])
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")

    commander = accounts.create_user(
        actor=None, username="cc", password="bench-pw-1", role="city_commander", jurisdiction_code="110000"
    )
    worker = accounts.create_user(
        actor=None, username="gw", password="bench-pw-1", role="grid_worker", jurisdiction_code="110101"
    )
    sample = Person.objects.filter(jurisdiction__path__startswith="/110000/110101/").order_by("id").first()
    assert sample is not None and sample.national_id
    cc, gw = Client(), Client()
    cc.force_login(commander)
    gw.force_login(worker)

    cases = [
        ("city commander home (rolled-up counts, whole city)", cc, "/"),
        ("district jurisdiction page (counts for its subtree)", cc, "/jurisdictions/110101/"),
        ("person search by name (district scope)", gw, "/persons/?q=" + sample.name),
        ("person search by last 6 ID digits (district scope)", gw, "/persons/?q=" + sample.national_id[-6:]),
        ("person page (access-logged)", gw, f"/persons/{sample.pk}/"),
        ("persons API, first page (district scope)", gw, "/api/persons?limit=50"),
    ]
    print(f"\nCordon register pages — {args.persons:,} persons, {connection.vendor}, {platform.node()}")
    print(f"{dt.datetime.now():%Y-%m-%d %H:%M}, Python {platform.python_version()}, {os.cpu_count()} cores\n")
    print("| page | median ms | max ms |\n|---|---:|---:|")
    for label, client, url in cases:
        client.get(url)  # warm
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        print(f"| {label} | {statistics.median(times):.0f} | {max(times):.0f} |")

    # Search itself, side by side: the indexed search against the previous full-scan query (the baseline).
    from django.db.models import Q

    from cordon.apps.people import selectors

    def old_search(user: Any, q: str) -> Any:
        normalized = identity.normalize(q)
        cond = Q(name__icontains=q) | Q(home_building__address__icontains=q) | Q(workplace_name__icontains=q)
        if len(normalized) >= 4 and normalized.rstrip("X").isdigit():
            cond |= Q(national_id__endswith=normalized) | Q(phone__endswith=normalized)
        return selectors.persons_visible_to(user).filter(cond)

    def run(search: Any, user: Any, q: str) -> float:
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            qs = search(user, q)
            qs.count()
            list(qs.order_by("name", "id")[:25])
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)

    print(
        "\n| search (count + first page of 25) | indexed ms | baseline full-scan ms | ratio |\n|---|---:|---:|---:|"
    )
    for label, user, q in (
        ("name, district scope", worker, sample.name),
        ("last 6 ID digits, district scope", worker, sample.national_id[-6:]),
        ("last 4 phone digits, district scope", worker, sample.phone[-4:]),
        ("name, whole city", commander, sample.name),
    ):
        new, old = run(selectors.search_persons, user, q), run(old_search, user, q)
        print(f"| {label} | {new:.1f} | {old:.1f} | {old / new:.1f}x |")
    if connection.vendor == "sqlite":
        print(f"\n(database in {tmp}; delete it when done)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
