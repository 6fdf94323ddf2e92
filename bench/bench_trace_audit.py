"""The cost of tracing one dense case in the web app, audit rows included, in a small register.

A case who spent two hours at a restaurant where ``--close`` other residents checked in at the same time (close
contacts by co-presence), each of whom shares a household with one more resident (secondary contacts): about
2 x ``--close`` contacts for one case. Times ``tracing.actions.trace_case``: the first trace (every contact
new), a re-trace with nothing new in the scans (every contact known), and a re-trace after the contacts'
scans changed (every contact refreshed). With ``--without-audit`` the per-contact audit rows are not written
(``audit.record_rows`` replaced by a no-op), to tell their cost apart; the last column is the time spent in
``audit.record_rows`` (writing the contacts' audit rows).

    .venv/bin/python bench/bench_trace_audit.py --close 15000                 # SQLite (a temporary file)
    .venv/bin/python bench/bench_trace_audit.py --close 15000 --pg postgres://postgres@127.0.0.1:5432/postgres

With ``--pg`` a throwaway database (``cordon_tracing_bench_<pid>``) is created and dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _pgdb import throwaway_database


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--close", type=int, default=15_000, help="close contacts (as many secondary ones)")
    parser.add_argument("--pg", help="admin connection to PostgreSQL (default: SQLite in a temporary file)")
    parser.add_argument("--without-audit", action="store_true", help="do not write the contacts' audit rows")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cordon-trace-audit-"))
    os.environ["CORDON_VAR"] = str(work / "var")
    os.environ["CORDON_SCAN_DIR"] = str(work / "store")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    if not args.pg:
        os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    try:
        with throwaway_database(args.pg, "cordon_tracing_bench") if args.pg else contextlib.nullcontext():
            return run(args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    import pyarrow as pa
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from cordon.apps.audit import actions as audit
    from cordon.apps.audit.models import AuditEntry
    from cordon.apps.geo import actions as geo
    from cordon.apps.geo.models import Level
    from cordon.apps.people.models import Household, Person
    from cordon.apps.tracing import actions as tracing
    from cordon.apps.tracing.models import Contact
    from cordon.apps.venues import actions as venues

    call_command("migrate", verbosity=0)
    in_audit = [0.0]  # seconds spent writing the contacts' audit rows
    record_rows = audit.record_rows

    def timed_record_rows(*a: object, **k: object) -> int:
        t0 = time.perf_counter()
        try:
            return 0 if args.without_audit else record_rows(*a, **k)  # type: ignore[arg-type]
        finally:
            in_audit[0] += time.perf_counter() - t0

    audit.record_rows = timed_record_rows  # type: ignore[assignment]
    city = geo.create_jurisdiction(actor=None, code="110000", name="城", level=Level.CITY, parent=None)
    district = geo.create_jurisdiction(
        actor=None, code="110106", name="区", level=Level.DISTRICT, parent=city
    )
    street = geo.create_jurisdiction(
        actor=None, code="110106010", name="街", level=Level.STREET, parent=district
    )
    building = geo.create_building(actor=None, code="B-1", address="1号楼", jurisdiction=street)
    venue = venues.create_venue(
        actor=None, data=venues.VenueData(code="V-1", name="饭店", venue_type="restaurant", building=building)
    )
    n = args.close
    households = Household.objects.bulk_create(
        [Household(code=f"H{i}", building=building, unit="") for i in range(n)], batch_size=5000
    )
    people = [Person(name=f"病例{k}", jurisdiction=street, home_building=building) for k in range(2)]
    for i, hh in enumerate(households):
        people.append(Person(name=f"甲{i}", jurisdiction=street, home_building=building, household=hh))
        people.append(Person(name=f"乙{i}", jurisdiction=street, home_building=building, household=hh))
    people = Person.objects.bulk_create(people, batch_size=5000)
    if people[0].pk is None:  # a backend that does not return ids from bulk inserts
        people = list(Person.objects.order_by("pk"))
    case_person, warm_person, close = people[0], people[1], people[2::2]
    onset = timezone.localdate() - dt.timedelta(days=1)
    day = dt.datetime.combine(onset, dt.time(10))

    def scans(shift: int) -> pa.Table:
        rows = [(case_person.pk, day, day + dt.timedelta(hours=2))]
        rows.append((warm_person.pk, day + dt.timedelta(hours=10), day + dt.timedelta(hours=11)))
        for i, p in enumerate(close):
            t_in = day + dt.timedelta(minutes=15 + i % 30 + shift)
            rows.append((p.pk, t_in, t_in + dt.timedelta(minutes=40 + i % 20)))
        return pa.table(
            {
                "person_id": pa.array([r[0] for r in rows], pa.int64()),
                "venue_id": pa.array([venue.pk] * len(rows), pa.int64()),
                "subarea": pa.array([None] * len(rows), pa.int16()),
                "time_in": pa.array([r[1] for r in rows], pa.timestamp("us")),
                "time_out": pa.array([r[2] for r in rows], pa.timestamp("us")),
            }
        )

    tracing.ingest_scans(actor=None, source_file=scans(0))
    case, warm = (
        tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=p,
                sampled_at=timezone.now() - dt.timedelta(hours=1),
                found_by="fever_clinic",
                onset_date=onset,
            ),
        )
        for p in (case_person, warm_person)
    )
    tracing.trace_case(actor=None, case=warm)  # loads the engine's compiled kernels (alone at the venue)
    log(f"{connection.vendor}: a case with {n:,} close contacts, each with one household member")
    audit_rows = AuditEntry.objects.count()

    def timed(label: str) -> None:
        nonlocal audit_rows
        in_audit[0] = 0.0
        t0 = time.perf_counter()
        result = tracing.trace_case(actor=None, case=case)
        took = time.perf_counter() - t0
        rows, audit_rows = AuditEntry.objects.count() - audit_rows, AuditEntry.objects.count()
        print(
            f"| {label} | {result.added:,} | {result.updated:,} | {rows:,} | {took:.2f} s | {in_audit[0]:.2f} s |",
            flush=True,
        )

    print(
        f"\n{connection.vendor}, {n:,} close + {n:,} secondary contacts"
        + (" (no audit rows)" if args.without_audit else "")
    )
    print(
        "| trace | added | refreshed | audit rows | time | of which audit rows |\n|---|---|---|---|---|---|"
    )
    timed("first trace")
    timed("re-trace, same scans")
    tracing.ingest_scans(actor=None, source_file=scans(1))  # every contact's stays one minute later too
    timed("re-trace, new scans")
    assert Contact.objects.filter(case=case).count() == 2 * n
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
