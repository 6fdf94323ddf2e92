"""Missed patrols counted for the open-items board (the kind ``missed_patrols``, recounted by every worker with
the kept counts): ``--posts`` duty posts of zones in force, each with a plan every ``--every`` hours and the
patrols of the last eight days recorded for most of its due times, on a throwaway PostgreSQL database. Times
the count per district as the recount reads it (a city's reader) and one grid worker's phone view of today.
Prints a Markdown table for docs/benchmarks.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_patrols.py
    ... bench/bench_patrols.py --posts 200      # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

from _board_city import say
from _one_district import one_district
from _pgdb import throwaway_database


def build(args: argparse.Namespace) -> dict[str, Any]:
    from django.utils import timezone

    from cordon.apps.accounts import actions as accounts
    from cordon.apps.geo.models import Building
    from cordon.apps.gridwork.models import DutyPost, Patrol, PatrolPlan
    from cordon.apps.zones.models import Zone

    rng = random.Random(args.seed)
    today = timezone.localdate()
    city, district, grids = one_district(args.grids)
    buildings = Building.objects.bulk_create(
        [
            Building(code=f"BB{i:06d}", address=f"基准楼{i}", jurisdiction=grids[i % len(grids)])
            for i in range(args.posts)
        ]
    )
    zones = Zone.objects.bulk_create(
        [
            Zone(code=f"ZB{i:05d}", name=f"基准区域{i}", kind="controlled", state="in_force", owner=district,
                 starts_on=today - dt.timedelta(days=10), in_force_on=today - dt.timedelta(days=10))
            for i in range(max(1, args.posts // 4))
        ]
    )  # fmt: skip
    posts = DutyPost.objects.bulk_create(
        [
            DutyPost(zone=zones[i % len(zones)], name=f"门{i}", kind="gate", jurisdiction=b.jurisdiction,
                     district=district, building=b)
            for i, b in enumerate(buildings)
        ]
    )  # fmt: skip
    PatrolPlan.objects.bulk_create(
        [PatrolPlan(post=p, every_hours=args.every, active_from=today - dt.timedelta(days=9)) for p in posts]
    )
    worker = accounts.create_user(
        actor=None,
        username="bench.grid",
        password="pw-bench-0001",
        role="grid_worker",
        jurisdiction_code=grids[0].code,
    )
    now = timezone.now()
    rows = []
    start = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=8), dt.time()))
    for p in posts:
        at = start
        while at < now:
            if rng.random() < args.done:
                rows.append(Patrol(post=p, by=worker, at=at + dt.timedelta(minutes=rng.randint(-20, 20)),
                                   findings="all_clear", result="ok"))  # fmt: skip
            at += dt.timedelta(hours=args.every)
    Patrol.objects.bulk_create(rows, batch_size=10000)
    return {"city": city, "worker": worker, "patrols": len(rows)}


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--grids", type=int, default=200)
    parser.add_argument("--every", type=int, default=2, help="hours between patrols of a plan")
    parser.add_argument("--done", type=float, default=0.9, help="share of due patrols recorded")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    admin = os.environ.get("DATABASE_URL", "")
    if not admin.startswith("postgres"):
        raise SystemExit(
            "DATABASE_URL must name a PostgreSQL server (a throwaway database is made beside it)"
        )
    with throwaway_database(admin, "cordon_bench_patrols"):
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
        django.setup()
        from django.core.management import call_command
        from django.utils import timezone

        from cordon.apps.gridwork import selectors
        from cordon.core.actors import CityReader

        call_command("migrate", verbosity=0)
        say("building…")
        t = time.perf_counter()
        world = build(args)
        say(f"built in {time.perf_counter() - t:.1f} s: {args.posts} posts, {world['patrols']} patrols")
        reader = CityReader(world["city"])
        now = timezone.now()
        count_s, counts = timed(lambda: selectors.missed_by_district(reader, now), args.repeat)
        tasks_s, tasks = timed(lambda: selectors.today_tasks(world["worker"], now), args.repeat)
        ((open_, overdue),) = counts.values()
        load = os.getloadavg()
        head = "| posts | patrols (8 days) | missed open / overdue | count per district (recount) "
        print(head + f"| one worker's today ({len(tasks)} tasks) | load |")
        print("|---|---|---|---|---|---|")
        print(
            f"| {args.posts} | {world['patrols']} | {open_} / {overdue} | {count_s * 1000:.0f} ms "
            f"| {tasks_s * 1000:.0f} ms | {load[0]:.1f} |"
        )


if __name__ == "__main__":
    main()
