"""The daily-zero board (``/command/zero/``, ``GET /api/command/zero``) at Beijing scale, read from kept rows.

The board reads kept rows only (``tallies.OpenItemTally`` for today, ``tallies.OpenItemClose`` for yesterday), so
its cost depends on how many kept rows there are, not on the residents: this script builds the Beijing-shaped
jurisdiction tree of ``bench_board.py`` (16 districts, about 336 streets, 21 communities a street, 3 grids a
community: about 28,000 nodes) and fills the kept tables densely, as in the worst hour of an outbreak: every
node has every kind of open item (a row per node, kind and district of the items, plus a second district's
items at every street), and ``--days`` days of closes for every node and kind. Then, for the city commander, a
district commander (朝阳区, the most streets) drilling nowhere, the city commander drilling into 朝阳区, and a
street officer: the page and the API through Django's test client, warm. What a worker pays for the kept figures
(the recount behind the refresh and the close) is measured by ``bench_board.py`` on the full register.

    .venv/bin/python bench/bench_zero.py                      # a throwaway database, dropped afterwards
    .venv/bin/python bench/bench_zero.py --into cordon_mine   # build into an existing empty database

Prints a markdown block for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from typing import Any

from _board_city import _copy, tree
from _pgdb import throwaway_database
from bench_board import fmt, page_getter, series

KINDS = [
    "untraced", "to_judge", "linkage", "waiting", "transfers", "missed_tests", "alerts", "releases",
    "temporary_controls", "resamples", "zones_to_decide", "zones_guard_lapsing", "missed_patrols",
]  # fmt: skip


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=30, help="days of stored closes")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--into", metavar="DB", help="an existing empty database to build into (kept)")
    args = parser.parse_args()
    os.environ["CORDON_VAR"] = tempfile.mkdtemp(prefix="cordon-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    if args.into:
        os.environ["DATABASE_URL"] = f"{args.pg.rsplit('/', 1)[0]}/{args.into}"
        return run(args)
    with throwaway_database(args.pg, "cordon_bench_zero"):
        return run(args)


def fill(days: int, now: dt.datetime) -> tuple[int, int]:
    """Kept counts and closes for every node (the tree's rows: id, code, name, name_en, level, path, parent)."""
    from django.utils import timezone

    rows, _grids = tree()
    district_of = {}
    by_code = {r[1]: r[0] for r in rows}
    for r in rows:
        parts = r[5].strip("/").split("/")
        district_of[r[0]] = by_code[parts[1]] if len(parts) > 1 else None
    districts = [r[0] for r in rows if r[4] == 2]
    tallies: list[tuple[Any, ...]] = []
    for r in rows:
        node, level = r[0], r[4]
        homes = districts if level == 1 else [district_of[node]]
        if level == 3:  # a street sees some items of a neighbouring district too (sites, handovers)
            homes = [district_of[node], districts[(districts.index(district_of[node]) + 1) % len(districts)]]
        for k, kind in enumerate(KINDS):
            for d in homes:
                n = 5 + (node * 7 + k) % 40
                tallies.append((kind, node, d, n, n // 3, n // 4, now))
    t = _copy(
        "tallies_openitemtally",
        "kind, jurisdiction_id, district_id, open, overdue, due_today, counted_at",
        tallies,
    )
    today = timezone.localdate(now)  # the local day, as the board reads it

    def closes() -> Any:
        for back in range(1, days + 1):
            day = today - dt.timedelta(days=back)
            for r in rows:
                for k, kind in enumerate(KINDS):
                    n = (r[0] + k + back) % 30
                    yield (day, kind, r[0], n, n % 3, now)

    c = _copy("tallies_openitemclose", "day, kind, jurisdiction_id, open, overdue, counted_at", closes())
    return t, c


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.utils import timezone

    from cordon.apps.accounts import actions as accounts
    from cordon.apps.accounts.models import User
    from cordon.apps.geo.models import Jurisdiction
    from cordon.apps.tallies.models import OpenItemClose, OpenItemTally

    call_command("migrate", verbosity=0)
    rows, _grids = tree()
    t0 = time.perf_counter()
    if (
        not Jurisdiction.objects.exists()
    ):  # an empty database: build (with --into, a second run measures again)
        _copy("geo_jurisdiction", "id, code, name, name_en, level, path, parent_id", rows)
        with connection.cursor() as cur:
            cur.execute("SELECT setval('geo_jurisdiction_id_seq', (SELECT max(id) FROM geo_jurisdiction))")
        fill(args.days, timezone.now())
        with connection.cursor() as cur:
            cur.execute("ANALYZE tallies_openitemtally")
            cur.execute("ANALYZE tallies_openitemclose")
    n_tally, n_close = OpenItemTally.objects.count(), OpenItemClose.objects.count()
    built = time.perf_counter() - t0
    say(f"built in {built:.0f} s: {n_tally:,} kept counts, {n_close:,} closes")
    street = Jurisdiction.objects.filter(level=3, path__startswith="/110000/110105/").order_by("code").first()
    assert street is not None
    users = {}
    for label, role, code in (
        ("city", "city_commander", "110000"),
        ("district (朝阳区)", "district_commander", "110105"),
        ("street", "street_officer", street.code),
    ):
        name = f"zero-{role}"
        users[label] = User.objects.filter(username=name).first() or accounts.create_user(
            actor=None, username=name, password="Daily-zero-bench-7", role=role, jurisdiction_code=code
        )
    get = page_getter(users)
    series_ = {
        ("city", "page: 16 districts"): get("city", "/command/zero/"),
        ("city", "API: 16 districts"): get("city", "/api/command/zero"),
        ("city", "page: 朝阳区's streets"): get("city", "/command/zero/?area=110105"),
        ("district (朝阳区)", "page: its streets"): get("district (朝阳区)", "/command/zero/"),
        ("district (朝阳区)", "API: its streets"): get("district (朝阳区)", "/api/command/zero"),
        ("street", "page: its communities"): get("street", "/command/zero/"),
    }
    with override_settings(CORDON_TALLY_STALE_SECONDS=10**9):  # the kept rows were counted before the build
        check = Client()
        check.force_login(users["city"])
        assert check.get("/api/command/zero").json()["counted_at"] is not None  # read kept, not counted now
        results = {key: series(fn, args.runs, args.budget) for key, fn in series_.items()}
    load = os.getloadavg()
    version = connection.cursor().connection.info.server_version
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"### The daily-zero board at Beijing scale ({when})",
        "",
        f"{machine}, PostgreSQL {version // 10000}; load average at the end {load[0]:.2f} / {load[1]:.2f} / "
        f"{load[2]:.2f}. {len(rows):,} jurisdiction nodes, {n_tally:,} kept counts (every node, every kind), "
        f"{n_close:,} closes ({args.days} days); built in {built:.0f} s. Times in ms, median / p95 / max (n), "
        "warm, through Django's test client.",
        "",
        "| user | what | ms |",
        "|---|---|---:|",
    ]
    out += [f"| {user} | {what} | {fmt(xs)} |" for (user, what), xs in results.items()]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
