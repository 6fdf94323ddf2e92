"""A confirmed case's candidate list in the web app with a 100-million-scan store (issue target: within 5 s).

Builds a synthetic city (the simulator's ``city-1m`` preset at 3.7 million residents, as bench_scans.py) and its
14 days of venue check-in scans (about 100 million), then a throwaway PostgreSQL database (created and dropped by
the script) holding the whole register: every resident with their household, home building, workplace and work
unit, every venue with its type (hubs) and sub-areas. The scans go into the platform's scan store in its own
layout (a folder per date, each file sorted by venue and time in; register ids). Then for each of N cases
(residents with scans on the last day, seeded): report the case (onset the last day), and time what an
investigator waits for:

1. "Trace contacts" (``tracing.actions.trace_case``: the case's scans and every scan at those venues from the
   store through DuckDB, the engine, households and work units from the register, the candidates and their
   evidence written to the database, risk venues),
2. the case page with its close contacts, then with its secondary contacts (Django test client, the whole
   request).

    .venv/bin/python bench/bench_tracing_web.py                            # 3.7M residents, 14 days, 5 cases
    .venv/bin/python bench/bench_tracing_web.py --persons 200000 --days 3 --cases 3   # a quick look

Prints a markdown block for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=3_700_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--cases", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/postgres", help="admin connection"
    )
    args = parser.parse_args()

    import psycopg

    work = Path(tempfile.mkdtemp(prefix="cordon-trace-web-"))
    name = f"cordon_bench_trace_{os.getpid()}"
    admin = psycopg.connect(args.pg, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{args.pg.rsplit('/', 1)[0]}/{name}"
    os.environ["CORDON_VAR"] = str(work / "var")
    os.environ["CORDON_SCAN_DIR"] = str(work / "store")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    try:
        return run(args, work)
    finally:
        from django.db import connections

        connections.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
        shutil.rmtree(work, ignore_errors=True)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(args: argparse.Namespace, work: Path) -> int:
    import django

    django.setup()
    import duckdb
    import numpy as np
    import pyarrow.parquet as pq
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from tqdm import tqdm

    from cordon.apps.accounts import actions as accounts
    from cordon.apps.geo.models import Building, Jurisdiction, Level
    from cordon.apps.people.models import Household, Person
    from cordon.apps.tracing import actions as tracing
    from cordon.apps.tracing.models import Contact
    from cordon.apps.venues.models import Venue
    from cordon.engine.scanstore import partition_files
    from cordon.engine.sim import generate_city, preset
    from cordon.engine.sim.output import generate_scans

    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    start = today - dt.timedelta(days=args.days)
    t0 = time.perf_counter()
    city = generate_city(preset("city-1m", population=args.persons), seed=args.seed)
    config = city.config
    log(f"city: {city.n_persons:,} residents, {city.n_venues:,} venues ({time.perf_counter() - t0:.0f} s)")
    raw = work / "raw"
    n_scans = generate_scans(city, args.days, start, raw, seed=args.seed)
    log(f"scans: {n_scans:,} ({time.perf_counter() - t0:.0f} s)")

    # The scan store in the platform's own layout: register ids (simulator id + 1), each file sorted.
    con = duckdb.connect()
    for f in tqdm(partition_files(raw / "scans"), desc="store", unit="day"):
        out = work / "store" / f.parent.name / "part-bench.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT person_id + 1 AS person_id, venue_id + 1 AS venue_id, subarea::SMALLINT AS subarea, "
            f"time_in, time_out FROM read_parquet('{f}') ORDER BY venue_id, time_in) "
            f"TO '{out}' (FORMAT parquet, COMPRESSION zstd)"
        )
    shutil.rmtree(raw)

    # The register: a city node and one node per district; buildings, households, venues and persons with the
    # simulator's ids + 1 as primary keys (so the store's ids are the register's).
    root = Jurisdiction.objects.create(code="110000", name="基准城市", level=Level.CITY, path="/110000/")
    districts = {}
    district_of_node = city.district_of_jurisdiction()
    for d in city.districts().tolist():
        code = f"D{d:03d}"
        districts[d] = Jurisdiction.objects.create(
            code=code, name=f"区{d}", level=Level.DISTRICT, parent=root, path=f"/110000/{code}/"
        )
    bld_district = district_of_node[city.bld_grid]
    Building.objects.bulk_create(
        (
            Building(pk=b + 1, code=f"B{b}", address=f"楼{b}", jurisdiction=districts[int(bld_district[b])])
            for b in range(len(city.bld_grid))
        ),
        batch_size=20000,
    )
    hh_building = city.hh_building
    Household.objects.bulk_create(
        (
            Household(pk=h + 1, code=f"H{h}", building_id=int(hh_building[h]) + 1)
            for h in range(len(hh_building))
        ),
        batch_size=20000,
    )
    kinds = [k.kind for k in config.venue_kinds]
    venue_district = city.venue_district
    Venue.objects.bulk_create(
        (
            Venue(
                pk=v + 1, code=city.venue_code(v), name=str(city.venue_name[v]),
                venue_type=kinds[int(city.venue_kind[v])],
                jurisdiction=districts[int(venue_district[v])], building_id=int(city.venue_building[v]) + 1,
                sub_areas=list(city.venue_subarea_names[v]),
            )
            for v in range(city.n_venues)
        ),
        batch_size=5000,
    )  # fmt: skip
    person_district = city.district
    building = city.building
    wp_venue = city.wp_venue
    school_venue = city.school_venue

    def person(p: int) -> Person:
        w, s = int(city.workplace[p]), int(city.school[p])
        if w >= 0:
            venue, unit = int(wp_venue[w]) + 1, (f"班组{int(city.unit[p])}" if city.unit[p] >= 0 else "")
        elif s >= 0:
            venue, unit = int(school_venue[s]) + 1, f"班级{int(city.klass[p])}"
        else:
            venue, unit = None, ""
        return Person(
            pk=p + 1, name=f"居民{p}", jurisdiction=districts[int(person_district[p])],
            home_building_id=int(building[p]) + 1, household_id=int(city.household[p]) + 1,
            workplace_id=venue, work_unit=unit,
        )  # fmt: skip

    step = 20000
    for i in tqdm(range(0, city.n_persons, step), desc="persons", unit="batch"):
        Person.objects.bulk_create([person(p) for p in range(i, min(i + step, city.n_persons))])
    with connection.cursor() as cur:
        for table in (
            "people_person",
            "people_household",
            "geo_building",
            "venues_venue",
            "geo_jurisdiction",
        ):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cur.execute("ANALYZE")
    t_build = time.perf_counter() - t0
    log(f"register loaded ({t_build:.0f} s)")

    investigator = accounts.create_user(
        actor=None,
        username="bench.inv",
        password="bench-pw-1",
        role="investigator",
        jurisdiction_code="110000",
    )
    client = Client()
    client.force_login(investigator)
    last = partition_files(work / "store")[-1]
    rng = np.random.default_rng(args.seed)
    people_last = np.unique(pq.read_table(last, columns=["person_id"]).column("person_id").to_numpy())
    picks = rng.choice(people_last, size=args.cases, replace=False)
    rows = []
    for pid in picks.tolist():
        p = Person.objects.get(pk=int(pid))
        case = tracing.report_case(
            actor=investigator,
            data=tracing.CaseData(
                person=p, onset_date=today - dt.timedelta(days=1), found_by="fever_clinic",
                sampled_at=timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=1), dt.time(18))),
            ),
        )  # fmt: skip
        t = time.perf_counter()
        result = tracing.trace_case(actor=investigator, case=case)
        t_trace = time.perf_counter() - t
        t = time.perf_counter()
        page = client.get(f"/tracing/cases/{case.pk}/?tab=close")
        t_close = time.perf_counter() - t
        t = time.perf_counter()
        page2 = client.get(f"/tracing/cases/{case.pk}/?tab=secondary")
        t_second = time.perf_counter() - t
        assert page.status_code == page2.status_code == 200
        counts = {d: Contact.objects.filter(case=case, degree=d).count() for d in (0, 1, 2)}
        rows.append((case.code, t_trace, t_close, t_second, counts, result.risk_venues))
        log(f"{case.code}: trace {t_trace:.2f} s, pages {t_close:.2f} + {t_second:.2f} s, {counts}")

    totals = [r[1] + r[2] + r[3] for r in rows]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs"
    print(
        f"""
### Tracing in the web app with a {n_scans / 1e6:.0f}-million-scan store ({dt.date.today()}, {machine})

{city.n_persons:,} residents in the register (PostgreSQL {connection.cursor().connection.info.server_version // 10000}),
{city.n_venues:,} venues, {n_scans:,} scans over {args.days} days; built in {t_build:.0f} s (not timed).

| case | trace (s) | close page (s) | secondary page (s) | total (s) | close | secondary | risk-venue visitors |
|---|---:|---:|---:|---:|---:|---:|---:|
"""
        + "\n".join(
            f"| {c} | {a:.2f} | {b:.2f} | {s:.2f} | {a + b + s:.2f} | {n[1]:,} | {n[2]:,} | {n[0]:,} |"
            for c, a, b, s, n, _rv in rows
        )
        + f"""

Median total {statistics.median(totals):.2f} s, max {max(totals):.2f} s (target: within 5 s). Peak RSS {peak:.1f} GiB.
"""
    )
    return 0 if max(totals) <= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
