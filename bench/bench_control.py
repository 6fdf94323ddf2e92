"""Allocating and placing 5,000 contacts across 50 isolation sites on PostgreSQL (issue target: under 30 s).

Builds, in a throwaway PostgreSQL database (created and dropped by the script), a city of 10 districts with
5,000 persons (households of 1 to 4, some children and persons with special needs, homes with coordinates), one
case, and 5,000 confirmed close contacts (their judgment opens 5,000 control orders), and 50 sites (5 per
district) with 3,500 rooms of 1 to 4 beds (10% accessible). Then, timed, the way officers work through the pages
and API (the same selectors and actions), district by district in batches of 500:

1. proposal (``selectors.propose_placements``: the allocation engine over the district's open sites),
2. reservation of the proposed rooms (``actions.reserve_rooms``: row locks, checks, bulk writes),
3. transfer tasks of up to 40 persons per site (``actions.create_transfer``),
4. arrival of every task (``actions.arrive_transfer``: placements start, the plan's sample tasks are generated).

    .venv/bin/python bench/bench_control.py                        # 5,000 contacts, 50 sites
    .venv/bin/python bench/bench_control.py --contacts 500 --sites 10
    .venv/bin/python bench/bench_control.py --pg postgres://postgres@127.0.0.1:5432/postgres

Prints a markdown block for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sys
import tempfile
import time
from collections import defaultdict
from typing import Any

from _pgdb import throwaway_database


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/postgres", help="admin connection"
    )
    args = parser.parse_args()
    if args.sites < 10 or args.contacts < 100:
        parser.error("at least 10 sites and 100 contacts")

    os.environ["CORDON_VAR"] = tempfile.mkdtemp(prefix="cordon-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    with throwaway_database(args.pg, "cordon_bench_control"):
        return run(args)


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from cordon.apps.accounts import actions as accounts
    from cordon.apps.control import actions, selectors
    from cordon.apps.control.models import ControlOrder, OrderStatus, Room, SampleTask
    from cordon.apps.geo import actions as geo
    from cordon.apps.geo.models import Building, Level
    from cordon.apps.people.models import Household, Person
    from cordon.apps.tracing import actions as tracing
    from cordon.apps.tracing.models import Contact

    call_command("migrate", verbosity=0)
    rng = random.Random(5)
    t_setup = time.perf_counter()
    city = geo.create_jurisdiction(actor=None, code="110000", name="基准城市", level=Level.CITY)
    districts, grids = [], []
    for d in range(10):
        dist = geo.create_jurisdiction(
            actor=None, code=f"1101{d:02d}", name=f"第{d}区", level=Level.DISTRICT, parent=city
        )
        st = geo.create_jurisdiction(
            actor=None, code=f"{dist.code}001", name="街道", level=Level.STREET, parent=dist
        )
        com = geo.create_jurisdiction(
            actor=None, code=f"{st.code}001", name="社区", level=Level.COMMUNITY, parent=st
        )
        districts.append(dist)
        grids += [
            geo.create_jurisdiction(
                actor=None, code=f"{com.code}-{g:02d}", name=f"网格{g}", level=Level.GRID, parent=com
            )
            for g in range(4)
        ]
    buildings = Building.objects.bulk_create(
        [
            Building(
                code=f"B{i:05d}", address=f"楼 {i}", jurisdiction=grids[i % len(grids)],
                latitude=39.6 + rng.random() * 0.6, longitude=116.0 + rng.random() * 0.8,
            )
            for i in range(max(100, args.contacts // 10))
        ]
    )  # fmt: skip
    persons: list[Person] = []
    households: list[Household] = []
    while len(persons) < args.contacts:
        b = rng.choice(buildings)
        hh = Household(code=f"H{len(households):06d}", building=b)
        households.append(hh)
        size = min(rng.choice([1, 1, 2, 2, 3, 4]), args.contacts - len(persons))
        for k in range(size):
            child = k > 0 and rng.random() < 0.25
            birth = dt.date(2016, 1, 1) if child else dt.date(1960 + rng.randrange(40), 1, 1)
            persons.append(
                Person(
                    name=f"人{len(persons)}", birth_date=birth, jurisdiction_id=b.jurisdiction_id,
                    home_building=b, household=hh,
                    tags=["pregnant"] if not child and rng.random() < 0.03 else [],
                )
            )  # fmt: skip
    Household.objects.bulk_create(households, batch_size=5000)
    for p in persons:
        p.household_id = p.household.pk  # type: ignore[union-attr]
    Person.objects.bulk_create(persons, batch_size=5000)
    case_person = Person.objects.create(name="病例", jurisdiction=grids[0], home_building=buildings[0])
    case = tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=case_person,
            onset_date=timezone.localdate(),
            sampled_at=timezone.now(),
            found_by="fever_clinic",
        ),
    )
    district_of = {g.pk: districts[i // 4] for i, g in enumerate(grids)}
    contacts = Contact.objects.bulk_create(
        [
            Contact(case=case, person=p, degree=1, contact_type="household", jurisdiction_id=p.jurisdiction_id,
                    district=district_of[p.jurisdiction_id])
            for p in persons
        ],
        batch_size=5000,
    )  # fmt: skip
    per_district = args.sites // len(districts)
    rooms_wanted = int(args.contacts * 0.7)
    site_rooms = max(1, rooms_wanted // args.sites)
    for d, dist in enumerate(districts):
        for s in range(per_district):
            site = actions.save_site(
                actor=None,
                data=actions.SiteData(
                    code=f"S{d:02d}{s:02d}", name=f"隔离酒店{d}-{s}", jurisdiction=dist,
                    latitude=39.6 + rng.random() * 0.6, longitude=116.0 + rng.random() * 0.8,
                    takes_special_needs=True,
                ),
            )  # fmt: skip
            n_acc = site_rooms // 10
            for beds, share in ((1, 0.4), (2, 0.3), (3, 0.2), (4, 0.1)):
                n = max(1, int((site_rooms - n_acc) * share))
                actions.add_rooms(actor=None, site=site, numbers=f"{beds}001-{beds}{n:03d}", beds=beds)
            actions.add_rooms(actor=None, site=site, numbers=f"9001-9{n_acc:03d}", beds=2, accessible=True)
    officers = {
        dist.pk: accounts.create_user(
            actor=None, username=f"q{dist.code}", password="bench-pw-1", role="quarantine_officer",
            jurisdiction_code=dist.code,
        )
        for dist in districts
    }  # fmt: skip
    t_judge = time.perf_counter()
    ids = [c.pk for c in contacts]
    for i in range(0, len(ids), args.batch):
        tracing.decide_contacts(
            actor=None, case=case, contact_ids=ids[i : i + args.batch], decision="confirmed"
        )
    t_judge = time.perf_counter() - t_judge
    t_setup = time.perf_counter() - t_setup - t_judge
    n_rooms = Room.objects.count()
    n_beds = sum(Room.objects.values_list("beds", flat=True))

    # --- Timed: proposal, reservation, transfer tasks, arrival, district by district in batches. ----------
    timings: dict[str, float] = defaultdict(float)
    unplaced = 0
    t_all = time.perf_counter()
    for dist in districts:
        officer = officers[dist.pk]
        skipped: set[int] = set()  # no room fits them: they stay in the queue for an officer to decide
        while True:
            t = time.perf_counter()
            batch = list(selectors.queue(officer, centralized=True).exclude(pk__in=skipped)[: args.batch])
            if not batch:
                break
            view = selectors.propose_placements(officer, batch)
            timings["proposal"] += time.perf_counter() - t
            pairs = [(r.order, r.room) for r in view.rows if r.room is not None]
            skipped |= {r.order.pk for r in view.rows if r.room is None}
            unplaced += len(view.rows) - len(pairs)
            if not pairs:
                break
            t = time.perf_counter()
            actions.reserve_rooms(actor=officer, assignments=pairs)
            timings["reservation"] += time.perf_counter() - t
            t = time.perf_counter()
            by_site: dict[int, list[Any]] = defaultdict(list)
            for o, r in pairs:
                by_site[r.site_id].append(o)
            tasks = []
            for orders in by_site.values():
                for i in range(0, len(orders), actions.MAX_TRANSFER_GROUP):
                    tasks.append(
                        actions.create_transfer(
                            actor=officer, orders=orders[i : i + actions.MAX_TRANSFER_GROUP],
                            data=actions.TransferData("京A00000", "转运组", timezone.now()),
                        )
                    )  # fmt: skip
            timings["transfer tasks"] += time.perf_counter() - t
            t = time.perf_counter()
            for task in tasks:
                actions.arrive_transfer(actor=officer, task=task)
            timings["arrival + sample tasks"] += time.perf_counter() - t
    total = time.perf_counter() - t_all
    isolated = ControlOrder.objects.filter(status=OrderStatus.ISOLATED).count()
    n_tasks = SampleTask.objects.count()
    from cordon.apps.control.models import TransferTask

    n_transfers = TransferTask.objects.count()
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs"
    version = connection.cursor().connection.info.server_version
    print(
        f"""
### Control: placing {args.contacts:,} contacts across {args.sites} sites
({dt.date.today()}, {machine}, PostgreSQL {version // 10000})

{args.contacts:,} close contacts judged (orders opened: {t_judge:.1f} s, not in the total); {args.sites} sites with
{n_rooms:,} rooms and {n_beds:,} beds; district by district in batches of {args.batch}.

| step | seconds |
|---|---:|
"""
        + "\n".join(f"| {k} | {v:.1f} |" for k, v in timings.items())
        + f"""
| **total** | **{total:.1f}** (target < 30) |

- Persons in isolation: {isolated:,}; not placed (no room that fits): {unplaced:,}; transfer tasks: {n_transfers:,};
  sample tasks generated: {n_tasks:,}.
- Set-up (city, persons, sites, rooms; not timed): {t_setup:.0f} s.
"""
    )
    return 0 if total < 30 else 1


if __name__ == "__main__":
    sys.exit(main())
