"""The home page's special groups and the menu badges' poll: counted per request against kept roll-up groups.

Builds the Beijing-shaped city of ``bench_board.py`` (``_board_city.build``: the same tree, cases over the last 10
days, contacts, handovers between districts, persons under temporary control) in a throwaway PostgreSQL
database, gives residents special groups (about 8% carry one or more, in the demo city's proportions), then, for a
city commander, Chaoyang's commander, a street officer and a grid worker of that street, times through Django's
test client, warm: the badges' poll (``/live/badges/``) and the home page (``/``), counted live (the kept counts
treated as stale) and kept (after ``geo.actions.refresh_rollups`` and ``refresh_fast_rollups``, each timed), plus
``people.selectors.special_group_counts`` and each badge's count alone, and the nightly
``geo.actions.reconcile_rollups``.

    .venv/bin/python bench/bench_kept_figures.py --persons 2000000

Prints a markdown block for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from typing import Any

from _board_city import build, say
from _pgdb import throwaway_database
from bench_board import fmt, page_getter, series

# (tag, share of residents in thousandths, residents with id % 1000 in [lo, lo + share)): disjoint bands, so a
# few residents of the exam students' band also get the elderly tag (two groups at once).
GROUPS = [
    ("elderly_alone", 0, 30),
    ("disabled", 30, 15),
    ("pregnant", 45, 8),
    ("dialysis", 53, 3),
    ("exam_student", 56, 10),
    ("infant", 66, 10),
    ("bedridden", 76, 3),
    ("mental_health", 79, 2),
]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=2_000_000)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--controlled", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=10, help="timed requests per series (after one warm-up)")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds at most per series (min 3 runs)")
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/postgres", help="admin connection"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    args = parser.parse_args()
    if args.persons < 2 * (args.contacts + args.controlled + args.cases):
        parser.error("--persons must be at least twice the cases, contacts and controlled persons")
    os.environ["CORDON_VAR"] = tempfile.mkdtemp(prefix="cordon-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    with throwaway_database(args.pg, "cordon_bench_kept", keep=args.keep):
        return run(args)


def _tag_residents() -> int:
    from django.db import connection

    cases = " ".join(
        f"WHEN id % 1000 >= {lo} AND id % 1000 < {lo + n} THEN '[\"{tag}\"]'" for tag, lo, n in GROUPS
    )
    with connection.cursor() as cur:
        cur.execute(f"UPDATE people_person SET tags = (CASE {cases} END)::jsonb WHERE id % 1000 < 81")
        n = cur.rowcount
        cur.execute(
            "UPDATE people_person SET tags = tags || '[\"elderly_alone\"]'::jsonb WHERE id % 1000 = 60"
        )  # exam students living alone with a grandparent's tag: two groups on one row
        cur.execute("VACUUM ANALYZE people_person")
    return n


def _users() -> dict[str, Any]:
    from cordon.apps.accounts import actions as accounts
    from cordon.apps.geo.models import Jurisdiction

    street = Jurisdiction.objects.filter(level=3, path__startswith="/110000/110105/").order_by("code").first()
    assert street is not None
    grid = Jurisdiction.objects.filter(level=5, path__startswith=street.path).order_by("code").first()
    assert grid is not None
    return {
        label: accounts.create_user(
            actor=None, username=f"bench-{label}", password="bench-pw-1", role=role, jurisdiction_code=code
        )
        for label, role, code in (
            ("city", "city_commander", "110000"),
            ("district (朝阳区)", "district_commander", "110105"),
            ("street", "street_officer", street.code),
            ("grid", "grid_worker", grid.code),
        )
    }


def measure(users: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from django.test import override_settings

    from cordon.apps.geo import actions as geo_actions
    from cordon.apps.geo import selectors as geo
    from cordon.apps.geo.models import Jurisdiction
    from cordon.apps.people import selectors as people
    from cordon.core import badges, rollups
    from cordon.core.actors import CityReader

    get = page_getter(users)

    res: dict[str, Any] = {"pages": {}, "parts": {}, "refresh": {}}
    for mode, stale in (("live", -1.0), ("kept", 1e9)):
        with override_settings(CORDON_TALLY_STALE_SECONDS=stale, CORDON_ROLLUP_STALE_SECONDS=stale):
            if mode == "kept":
                res["refresh"]["geo.refresh_rollups (figures and special groups, every 60 s)"] = series(
                    geo_actions.refresh_rollups, 3, args.budget, 2
                )
                res["refresh"]["geo.refresh_fast_rollups (the badges, every 10 s)"] = series(
                    geo_actions.refresh_fast_rollups, 5, args.budget, 3
                )
                for k, v in res["refresh"].items():
                    say(f"{k}: {fmt(v)}")
            for label, user in users.items():
                for what, url in (("badges poll", "/live/badges/"), ("home", "/")):
                    xs = series(get(label, url), args.runs, args.budget)
                    res["pages"][(label, what, mode)] = xs
                    say(f"{mode} {label} {what}: {fmt(xs)}")
                xs = series(lambda u=user: people.special_group_counts(u), args.runs, args.budget)
                res["parts"][(label, "special_group_counts", mode)] = xs
                for badge, _n in badges.for_actor(user):
                    xs = series(lambda b=badge, u=user: b.count(u), args.runs, args.budget)
                    res["parts"][(label, f"badge {badge.key}", mode)] = xs
    res["refresh"]["of which the recount (geo.rollup_recount, figures and special groups)"] = series(
        lambda: geo.rollup_recount(fast=False), 3, args.budget, 2
    )
    city = Jurisdiction.objects.get(level=1)
    reader = CityReader(city)
    for group in rollups.groups():
        res["refresh"][f"recount of group {group.key} alone"] = series(
            lambda g=group: g.count(reader, city.path), 3, args.budget, 2
        )
    res["refresh"]["geo.reconcile_rollups (nightly)"] = series(
        geo_actions.reconcile_rollups, 2, args.budget, 1
    )
    assert geo_actions.reconcile_rollups() == []
    res["equal"] = all(
        geo.kept_group(u, people.SPECIAL_GROUPS) == people.counted_special_groups(u) for u in users.values()
    )
    return res


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from cordon.apps.people.models import Person

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    build(args)
    tagged = _tag_residents()
    t_build = time.perf_counter() - t0
    say(f"built in {t_build:.0f} s, {tagged:,} residents in special groups")
    users = _users()
    res = measure(users, args)
    load = os.getloadavg()
    version = connection.cursor().connection.info.server_version
    persons = Person.objects.count()
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"### Special groups and badges at {persons:,} residents ({when})",
        "",
        f"{machine}, PostgreSQL {version // 10000}; load average at the end {load[0]:.2f} / {load[1]:.2f} / "
        f"{load[2]:.2f}. {tagged:,} residents in special groups; built in {t_build:.0f} s. Times in ms, median / "
        "p95 / max (n); live = counted per request (kept counts stale), kept = from the kept roll-up groups. "
        f"Kept equal to counted for every user: {'yes' if res['equal'] else 'NO'}.",
        "",
        "| user | what | live | kept | live/kept (median) |",
        "|---|---|---:|---:|---:|",
    ]
    rows = {**res["pages"], **res["parts"]}
    for label, what in dict.fromkeys((k[0], k[1]) for k in rows):
        live, kept = rows[(label, what, "live")], rows[(label, what, "kept")]
        ratio = statistics.median(live) / max(statistics.median(kept), 1e-9)
        out.append(f"| {label} | {what} | {fmt(live)} | {fmt(kept)} | {ratio:.1f}x |")
    out += ["", "| what a worker pays | ms, median / p95 / max (n) |", "|---|---:|"]
    out += [f"| {k} | {fmt(v)} |" for k, v in res["refresh"].items()]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
