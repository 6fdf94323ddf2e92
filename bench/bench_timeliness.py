"""The timeliness figures (``command.timeliness.timeliness``, ``GET /api/command/timeliness``) at 100,000 cases.

Builds, in a throwaway PostgreSQL database (created and dropped by the script), the Beijing-shaped city of
``bench_board.py`` (``_board_city.build``: bulk SQL; ``--cases`` cases over the last 10 days, ``--contacts``
open contacts, ``--controlled`` persons under control), then gives four cases in five a completed investigation
(a trajectory done 0 to 8 hours after the report) and lets every contact of a case be judged. Then times the
workers' refresh of the kept figures (``command.actions.refresh_timeliness``, every kept day on the first run,
then the recent and pending days) and the nightly recount, and, warm, for the city commander and the Chaoyang
district commander: the selector over 30 and 120 report days read from the kept rows and counted live side by
side (checking they are equal), and the API through Django's test client (median and worst of ``--runs`` runs).

    .venv/bin/python bench/bench_timeliness.py                  # 100,000 cases
    .venv/bin/python bench/bench_timeliness.py --cases 20000    # a quick run

Prints a markdown block for docs/benchmarks.md (with the load average: the machine may be loaded).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from _board_city import build, say
from _pgdb import throwaway_database


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=300_000)
    parser.add_argument("--controlled", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/postgres", help="admin connection"
    )
    args = parser.parse_args()
    if args.persons < 2 * (args.contacts + args.controlled + args.cases):
        parser.error("--persons must be at least twice the cases, contacts and controlled persons")
    os.environ["CORDON_VAR"] = tempfile.mkdtemp(prefix="cordon-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    os.environ["CORDON_TIMELINESS_STALE_SECONDS"] = str(24 * 3600)  # the live runs take minutes
    with throwaway_database(args.pg, "cordon_bench_timeliness"):
        return run(args)


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from cordon.apps.accounts import actions as accounts
    from cordon.apps.command import actions, timeliness
    from cordon.apps.tracing.models import Case

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    build(args)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO tracing_investigation (case_id, started_at, completed_at, notes, version) "
            "SELECT id, reported_at, CASE WHEN id % 5 = 0 THEN NULL "
            "ELSE reported_at + (id % 480) * interval '1 minute' END, '', 1 FROM tracing_case"
        )
        cur.execute(
            "UPDATE tracing_contact SET status = 'dismissed', decided_at = now() WHERE status = 'candidate'"
        )
        cur.execute("VACUUM ANALYZE")
    say(f"built in {time.perf_counter() - t0:.0f} s")
    users = {
        label: accounts.create_user(
            actor=None, username=f"tl-{i}", password="Timely-Bench-2026!", role=role, jurisdiction_code=code
        )
        for i, (label, role, code) in enumerate(
            (("city", "city_commander", "110000"), ("district (朝阳区)", "district_commander", "110105"))
        )
    }
    rows = []
    for label, fn in (
        ("refresh, first (every kept day)", actions.refresh_timeliness),
        ("refresh (recent and pending days)", actions.refresh_timeliness),
        ("nightly recount (every kept day)", actions.reconcile_timeliness),
    ):
        t = time.perf_counter()
        fn()
        rows.append((label, [time.perf_counter() - t]))
    for label, user in users.items():
        for days in (30, 120):
            kept = timeliness.timeliness(user, days=days)
            live = timeliness.timeliness(user, days=days, live=True)
            assert kept.pop("counted_at") is not None and live.pop("counted_at") is None
            assert kept == live, f"kept and live differ: {label}, {days} days"
            xs = timed(lambda u=user, d=days: timeliness.timeliness(u, days=d), args.runs)
            rows.append((f"selector, kept, {label}, {days} days", xs))
            xs = timed(lambda u=user, d=days: timeliness.timeliness(u, days=d, live=True), args.runs)
            rows.append((f"selector, live, {label}, {days} days", xs))
        client = Client()
        client.force_login(user)

        def get(c: Client = client) -> None:
            r = c.get("/api/command/timeliness", {"days": 30})
            assert r.status_code == 200, r.status_code

        rows.append((f"API (kept), {label}, 30 days", timed(get, args.runs)))
    data = timeliness.timeliness(users["city"], days=30)
    total = data["rows"][0]
    load = os.getloadavg()
    print(
        f"\n{dt.date.today()}, {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; PostgreSQL; {Case.objects.count():,} cases "
        f"({total['trajectory']['total']['done']:,} trajectories done, "
        f"{total['transfer']['total']['done']:,} with close contacts transferred, "
        f"{total['transfer']['total']['pending']:,} pending); {args.runs} warm runs.\n"
    )
    print("| call | median ms | worst ms |\n|---|---:|---:|")  # a single run: its time in both columns
    for label, xs in rows:
        print(f"| {label} | {statistics.median(xs) * 1000:.0f} | {max(xs) * 1000:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
