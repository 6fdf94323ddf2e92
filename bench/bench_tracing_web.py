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
import cProfile
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from _pgdb import throwaway_database


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=3_700_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--cases", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--profile",
        type=Path,
        help="also run each trace under cProfile (its overhead then counts in the times) and write <case>.prof here",
    )
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/postgres", help="admin connection"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cordon-trace-web-"))
    os.environ["CORDON_VAR"] = str(work / "var")
    os.environ["CORDON_SCAN_DIR"] = str(work / "store")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    try:
        with throwaway_database(args.pg, "cordon_bench_trace"):
            return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def copy_rows(target: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """``COPY target FROM STDIN`` of the rows (PostgreSQL; the bench database is always PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cur, cur.cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def run(args: argparse.Namespace, work: Path) -> int:
    import django

    django.setup()
    import duckdb
    import numpy as np
    import pyarrow.parquet as pq
    from _midnight import time_out_sql
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from tqdm import tqdm

    from cordon.apps.accounts import actions as accounts
    from cordon.apps.geo.models import Jurisdiction, Level
    from cordon.apps.people.models import Person
    from cordon.apps.tracing import actions as tracing
    from cordon.apps.tracing.models import Contact
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

    # The scan store in the platform's own layout: register ids (simulator id + 1), each file sorted; 2 % of
    # the stays lengthened past midnight (bench/_midnight.py).
    con = duckdb.connect()
    for f in tqdm(partition_files(raw / "scans"), desc="store", unit="day"):
        out = work / "store" / f.parent.name / "part-bench.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT person_id + 1 AS person_id, venue_id + 1 AS venue_id, subarea::SMALLINT AS subarea, "
            f"time_in, {time_out_sql()} AS time_out FROM read_parquet('{f}') ORDER BY venue_id, time_in) "
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
    # Written with COPY (bulk_create took about 10 minutes for 3.7 million residents); the same columns and
    # values as the models' defaults.
    now = dt.datetime.now(dt.UTC)
    bld_district = district_of_node[city.bld_grid].tolist()
    district_pk = {d: j.pk for d, j in districts.items()}
    copy_rows(
        "geo_building (id, code, address, jurisdiction_id)",
        ((b + 1, f"B{b}", f"楼{b}", district_pk[d]) for b, d in enumerate(bld_district)),
    )
    copy_rows(
        "people_household (id, code, building_id, unit)",
        ((h + 1, f"H{h}", b + 1, "") for h, b in enumerate(city.hh_building.tolist())),
    )
    kinds = [k.kind for k in config.venue_kinds]
    copy_rows(
        "venues_venue (id, code, name, venue_type, jurisdiction_id, building_id, sub_areas, responsible_unit)",
        (
            (v + 1, city.venue_code(v), str(city.venue_name[v]), kinds[k], district_pk[d], b + 1,
             json.dumps(list(city.venue_subarea_names[v])), "")
            for v, k, d, b in zip(range(city.n_venues), city.venue_kind.tolist(), city.venue_district.tolist(),
                                  city.venue_building.tolist(), strict=True)
        ),
    )  # fmt: skip
    wp_venue, school_venue = city.wp_venue.tolist(), city.school_venue.tolist()

    def persons() -> Iterator[tuple[Any, ...]]:
        for p, (d, b, hh, w, s, u, k) in enumerate(
            zip(city.district.tolist(), city.building.tolist(), city.household.tolist(), city.workplace.tolist(),
                city.school.tolist(), city.unit.tolist(), city.klass.tolist(), strict=True)
        ):  # fmt: skip
            if w >= 0:
                venue, unit = wp_venue[w] + 1, (f"班组{u}" if u >= 0 else "")
            elif s >= 0:
                venue, unit = school_venue[s] + 1, f"班级{k}"
            else:
                venue, unit = None, ""
            yield (
                p + 1, f"居民{p}", "U", "", district_pk[d], b + 1, hh + 1, venue, "", unit, "", "[]", "", "",
                now, now,
            )  # fmt: skip

    copy_rows(
        "people_person (id, name, sex, phone, jurisdiction_id, home_building_id, household_id, workplace_id, "
        "workplace_name, work_unit, occupation, tags, national_id_rev, phone_rev, created_at, updated_at)",
        tqdm(persons(), total=city.n_persons, desc="persons", unit="", unit_scale=True, mininterval=5),
    )
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
        profiler = cProfile.Profile() if args.profile else None
        t = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        result = tracing.trace_case(actor=investigator, case=case)
        t_trace = time.perf_counter() - t
        if profiler is not None:
            profiler.disable()
            args.profile.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(args.profile / f"{case.code}.prof")
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
