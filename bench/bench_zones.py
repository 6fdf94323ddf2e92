"""The daily zone evaluation over 20,000 zones: Cordon's set-based evaluation against evaluating zone by zone
through the ORM, side by side, in one run, on a throwaway PostgreSQL database.

The city: one district of ``--grids`` grids, ``--zones`` zones in force of ``--per-zone`` buildings each (every
kind; in force 0-20 days ago; a third with a case since), and one area screening round per grid on each of the
last 20 days with an all-negative, a pending or a positive tube (the tubes carry no samples, so a positive one
holds none of a zone's residents: positive for no zone, though both paths look). Then:

- **set-based** (``zones.actions.evaluate_zones``): the facts of every zone in a few queries (a query per round),
  the engine over all of them, the proposals written in one insert (audited in one), as the worker runs it;
- **engine only**: ``engine.zones.evaluate`` over the facts already read;
- **zone by zone**: for each zone, its buildings, the rounds covering them with their tubes, the open proposal,
  then the same engine rule for that zone and its proposal saved: the plain ORM way.

Both evaluations run inside a transaction rolled back afterwards, on the same data, and must propose the same
transitions. Prints a Markdown table for docs/benchmarks.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_zones.py
    ... bench/bench_zones.py --zones 2000 --orm-zones 500      # a quick look
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

    from cordon.apps.geo.models import Building
    from cordon.apps.screening.models import SamplingSite, ScreeningRound, Tube
    from cordon.apps.zones.models import Zone, ZoneBuilding

    rng = random.Random(args.seed)
    today = timezone.localdate()
    _city, district, grids = one_district(args.grids)
    n_buildings = args.zones * args.per_zone
    buildings = Building.objects.bulk_create(
        [
            Building(code=f"BB{i:07d}", address=f"基准楼{i}", jurisdiction=grids[i % len(grids)],
                     latitude=39 + (i % 1000) / 1000, longitude=116 + (i // 1000) / 1000)
            for i in range(n_buildings)
        ],
        batch_size=5000,
    )  # fmt: skip
    kinds = ["sealed", "controlled", "prevention"]
    zones = []
    for i in range(args.zones):
        in_force = today - dt.timedelta(days=rng.randint(0, 20))
        case = in_force + dt.timedelta(days=rng.randint(0, (today - in_force).days)) if i % 3 == 0 else None
        zones.append(
            Zone(code=f"ZB{i:06d}", name=f"基准区域{i}", kind=kinds[i % 3], state="in_force", owner=district,
                 starts_on=in_force, in_force_on=in_force, last_case_on=case)
        )  # fmt: skip
    zones = Zone.objects.bulk_create(zones, batch_size=5000)
    ZoneBuilding.objects.bulk_create(
        [ZoneBuilding(zone=z, building=buildings[i * args.per_zone + k]) for i, z in enumerate(zones)
         for k in range(args.per_zone)],
        batch_size=10000,
    )  # fmt: skip
    rounds = 0
    for day in range(20):
        start = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=day), dt.time(8)))
        for g in rng.sample(grids, max(1, len(grids) // 20)):
            r = ScreeningRound.objects.create(
                code=f"RB{day:02d}-{g.code}", name="基准筛查", owner=district, starts_at=start,
                ends_at=start + dt.timedelta(hours=10),
            )  # fmt: skip
            r.jurisdictions.add(g)
            site = SamplingSite.objects.create(round=r, code=f"S{r.pk}", name="点", jurisdiction=g)
            result = rng.choices(["negative", "", "positive"], weights=[90, 8, 2])[0]
            Tube.objects.create(barcode=f"TB{r.pk:06d}", round=r, site=site, size=10, bound=10, result=result)
            rounds += 1
    return {"buildings": n_buildings, "rounds": rounds, "today": today}


def zone_by_zone(today: dt.date, limit: int | None) -> list[tuple[int, str]]:
    """The plain ORM way: every zone read, its rounds found and judged, its proposal saved, one at a time."""
    from django.db.models import Q
    from django.utils import timezone

    from cordon.apps.screening.models import Binding, ScreeningRound, Tube
    from cordon.apps.zones.models import Zone, ZoneRuleSet, ZoneTransition
    from cordon.engine import zones as engine

    rules = ZoneRuleSet.objects.get(in_force=True)
    out = []
    qs = Zone.objects.filter(state__in=("in_force", "guarded")).order_by("pk")
    for zone in qs[:limit] if limit else qs:
        buildings = list(zone.buildings.select_related("jurisdiction"))
        clock = max(d for d in (zone.in_force_on, zone.last_case_on) if d is not None)
        q = Q(buildings__in=buildings)
        for b in buildings:
            for jid in {b.jurisdiction_id, b.jurisdiction.parent_id}:
                q |= Q(jurisdictions=jid)
        facts = []
        for r in ScreeningRound.objects.filter(q, key_industry=False, starts_at__date__gte=clock).distinct():
            tubes = list(Tube.objects.filter(round=r, bound__gt=0))
            positive = [t for t in tubes if t.result == "positive"]
            outcome = (
                engine.PENDING
                if any(t.result == "" for t in tubes)
                else engine.POSITIVE  # positive for this zone: a positive tube holds one of its residents
                if positive
                and Binding.objects.filter(tube__in=positive, person__home_building__in=buildings).exists()
                else engine.NEGATIVE
            )
            facts.append(engine.RoundFact(r.code, timezone.localtime(r.starts_at).date(), outcome))
        f = engine.evaluate_one(
            engine.ZoneFacts(zone.pk, zone.kind, zone.state, zone.in_force_on, zone.last_case_on,
                             zone.guarded_on, tuple(facts), zone.case_flag),
            rules.rules,
            today,
        )  # fmt: skip
        if f is None or f.hold:
            continue
        if ZoneTransition.objects.filter(zone=zone, action=f.action, status="proposed").exists():
            continue
        ZoneTransition.objects.create(
            zone=zone, action=f.action, from_state=zone.state, to_state=f.state, from_kind=zone.kind,
            to_kind=f.kind, reasons=[r.to_json() for r in f.reasons], rule_set=rules, proposed_on=today,
        )  # fmt: skip
        out.append((zone.pk, f.action))
    return out


def rolled_back(fn: Any) -> tuple[Any, float]:
    from django.db import transaction

    with transaction.atomic():
        t, cpu = time.perf_counter(), time.process_time()
        result = fn()
        elapsed = time.perf_counter() - t
        CPU.append(time.process_time() - cpu)
        transaction.set_rollback(True)
    return result, elapsed


CPU: list[float] = []  # this process's CPU time of each rolled-back run (PostgreSQL's own time not counted)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--zones", type=int, default=20_000)
    parser.add_argument("--per-zone", type=int, default=5)
    parser.add_argument("--grids", type=int, default=400)
    parser.add_argument("--orm-zones", type=int, default=0, help="zones for the zone-by-zone run (0: all)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    with throwaway_database(admin_url, "cordon_bench_zones", keep=args.keep):
        import django

        django.setup()
        from django.core.management import call_command

        from cordon.apps.zones import actions, selectors
        from cordon.apps.zones.models import ZoneTransition
        from cordon.engine import zones as engine

        call_command("migrate", verbosity=0)
        t = time.perf_counter()
        made = build(args)
        say(f"built {args.zones:,} zones over {made['buildings']:,} buildings, {made['rounds']} rounds "
            f"in {time.perf_counter() - t:.1f} s")  # fmt: skip
        today = made["today"]
        start_load = os.getloadavg()
        say(f"load average before measuring: {start_load[0]:.1f} / {start_load[1]:.1f} / {start_load[2]:.1f}")
        runs = []
        for _ in range(3):
            (ev, proposed), s = rolled_back(
                lambda: (
                    actions.evaluate_zones(today=today),
                    sorted(ZoneTransition.objects.filter(status="proposed").values_list("zone_id", "action")),
                )
            )
            runs.append(s)
        set_based = min(runs)
        set_based_cpu = min(CPU[:3])  # the three set-based runs above

        def twice() -> float:
            actions.evaluate_zones(today=today)
            t = time.perf_counter()
            actions.evaluate_zones(today=today)  # the worker's next run: everything is already proposed
            return time.perf_counter() - t

        again, _s = rolled_back(twice)
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            prof = cProfile.Profile()
            rolled_back(lambda: prof.runcall(actions.evaluate_zones, today=today))
            pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
        rules = selectors.rules_in_force().rules
        t = time.perf_counter()
        facts = selectors.zone_facts(today=today, rules=rules)
        read = time.perf_counter() - t
        t = time.perf_counter()
        findings = engine.evaluate(facts, rules, today)
        engine_only = time.perf_counter() - t

        def write(rows: list[dict[str, Any]]) -> float:
            t = time.perf_counter()
            actions._insert_proposals(None, rows, source="job")
            return time.perf_counter() - t

        def write_instances(rows: list[dict[str, Any]]) -> float:
            """The write as it was: model instances, ``bulk_create``, then ``record_bulk_create``."""
            from cordon.apps.audit import actions as audit

            t = time.perf_counter()
            made = ZoneTransition.objects.bulk_create(ZoneTransition(**r) for r in rows)
            audit.record_bulk_create(None, made, source="job")
            return time.perf_counter() - t

        ruleset = selectors.rules_in_force()
        new_rows = actions.proposal_rows(facts, findings, ruleset, today)
        written = min(rolled_back(lambda: write([dict(r) for r in new_rows]))[0] for _ in range(3))
        as_instances = min(rolled_back(lambda: write_instances(new_rows))[0] for _ in range(3))
        limit = args.orm_zones or None
        orm, orm_s = rolled_back(lambda: zone_by_zone(today, limit))
        n_orm = limit or args.zones
        per_zone_orm = orm_s / n_orm
        orm_full = per_zone_orm * args.zones
        if limit is None:
            assert sorted(orm) == proposed, "the two evaluations propose different transitions"
        load = os.getloadavg()
        print(
            f"\n{dt.date.today()}, {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / "
            f"{load[2]:.1f}; {args.zones:,} zones in force, {made['buildings']:,} buildings, "
            f"{made['rounds']} rounds; {ev.proposed:,} transitions proposed, {ev.held:,} held for a round.\n"
        )
        print("| evaluation | zones | time | per zone |")
        print("|---|---:|---:|---:|")
        print(f"| set-based (`evaluate_zones`: read, evaluate, write) | {args.zones:,} | {set_based:.2f} s | "
              f"{set_based / args.zones * 1e6:.0f} µs |")  # fmt: skip
        print(f"| the same, run again that day (nothing new to propose) | {args.zones:,} | {again:.2f} s | "
              f"{again / args.zones * 1e6:.0f} µs |")  # fmt: skip
        print(f"| reading the facts (`selectors.zone_facts`) | {len(facts):,} | {read * 1000:.0f} ms | "
              f"{read / max(1, len(facts)) * 1e6:.1f} µs |")  # fmt: skip
        print(f"| engine only (`engine.zones.evaluate`) | {len(facts):,} | {engine_only * 1000:.0f} ms | "
              f"{engine_only / max(1, len(facts)) * 1e6:.1f} µs |")  # fmt: skip
        print(f"| writing the {len(new_rows):,} proposals and their audit rows (`_insert_proposals`: ids from the "
              f"sequence, `COPY`) | {len(new_rows):,} | {written * 1000:.0f} ms | "
              f"{written / max(1, len(new_rows)) * 1e6:.1f} µs |")  # fmt: skip
        print(f"| the same written as model instances (`bulk_create` + `record_bulk_create`, before) | "
              f"{len(new_rows):,} | {as_instances * 1000:.0f} ms | "
              f"{as_instances / max(1, len(new_rows)) * 1e6:.1f} µs |")  # fmt: skip
        label = "" if limit is None else f" (measured on {n_orm:,}, times {args.zones // n_orm})"
        print(f"| zone by zone through the ORM{label} | {args.zones:,} | {orm_full:.1f} s | "
              f"{per_zone_orm * 1e6:.0f} µs |")  # fmt: skip
        print(f"\nThe set-based run's own CPU time (Python, best of 3; PostgreSQL's not counted): "
              f"{set_based_cpu:.2f} s.")  # fmt: skip
        print(f"\nSet-based is {orm_full / set_based:.0f}x faster; {len(findings):,} findings.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
