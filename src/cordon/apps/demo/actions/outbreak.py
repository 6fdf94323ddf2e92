"""The first two weeks of the demo outbreak: the simulator runs them in the demo city; every day's check-in scans
go into the scan store (simulator ids mapped to the register's), the simulator's own tables to
``<var>/sim/demo``; the cases reported by today are entered through tracing's actions and traced."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing import selectors as tracing_reads
from cordon.apps.tracing.models import Case, Classification, Control, FoundBy
from cordon.core.actions import action
from cordon.core.actors import Actor

from ..scenario import OUTBREAK_DAYS, SEED, SOURCE, Summary
from .city import Register

if TYPE_CHECKING:
    from cordon.engine.sim import Simulation
    from cordon.engine.sim.city import City

_FOUND_BY = {
    "fever_clinic": FoundBy.FEVER_CLINIC,
    "quarantine": FoundBy.IN_QUARANTINE,
    "seed": FoundBy.SELF_REPORT,
}


@action
def run_outbreak(
    *,
    actor: Actor | None,
    city: City,
    register: Register,
    today: dt.date,
    summary: Summary,
    progress: bool = False,
    source: str = SOURCE,
) -> list[Case]:
    """Simulate the outbreak's first days, then report and trace the cases reported before today (counts go to
    ``summary``)."""
    sim = _simulate(city, register, today, summary)
    made = _report_cases(actor, city, sim, register, today, source)
    if progress:
        print(f"tracing {len(made)} cases ...", file=sys.stderr, flush=True)
    tracing.trace_cases(actor=actor, cases=made, source=source)
    summary.cases = len(made)
    return made


def _simulate(city: City, register: Register, today: dt.date, summary: Summary) -> Simulation:
    """Run the simulator over the days before today, its scans into an emptied scan store and its tables (with
    ``persons.parquet`` mapping its person ids to register ids and national IDs) into ``<var>/sim/demo``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cordon.engine.sim import Simulation, built_in, load_profile
    from cordon.engine.sim.output import scan_table, write_run

    out = Path(settings.VAR_DIR)
    shutil.rmtree(out / "sim" / "demo", ignore_errors=True)
    store = tracing_reads.scan_store()
    shutil.rmtree(store.root, ignore_errors=True)
    person_pk = np.array([p.pk for p in register.persons], dtype=np.int64)
    venue_pk = np.array([v.pk for v in register.venues], dtype=np.int64)

    def on_visits(day: int, date: dt.date, visits: Any) -> None:
        raw = scan_table(date, visits)
        table = pa.table(
            {
                "person_id": person_pk[raw.column("person_id").to_numpy()],
                "venue_id": venue_pk[raw.column("venue_id").to_numpy()],
                "subarea": raw.column("subarea").cast(pa.int16()),
                "time_in": raw.column("time_in"),
                "time_out": raw.column("time_out"),
            }
        )
        summary.scans += store.ingest(table).added

    sim = Simulation(
        city,
        load_profile(),
        built_in("basic"),
        seed=SEED,
        start_date=today - dt.timedelta(days=OUTBREAK_DAYS),
    )
    sim.run(OUTBREAK_DAYS, on_visits=on_visits)
    write_run(sim, out / "sim" / "demo")
    pq.write_table(
        pa.table(
            {
                "person_id": list(range(city.n_persons)),
                "register_id": person_pk,
                "national_id": register.national_ids,
            }
        ),
        out / "sim" / "demo" / "persons.parquet",
    )
    return sim


def _report_cases(
    actor: Actor | None, city: City, sim: Simulation, register: Register, today: dt.date, source: str
) -> list[Case]:
    """The cases reported before today, as investigators would have entered them, in the order reported."""
    import numpy as np

    cases = sim.case_list()
    rng = random.Random(SEED + 1)
    key = city.is_key_worker()
    made = []
    for i in np.argsort(cases.reported, kind="stable").tolist():
        reported_day = sim.start_date + dt.timedelta(days=int(cases.reported[i]))
        if reported_day >= today:
            continue
        data = _case_data(sim, cases, i, register, reported_day, bool(key[int(cases.person[i])]), rng)
        made.append(tracing.report_case(actor=actor, data=data, source=source))
    return made


def _case_data(
    sim: Simulation,
    cases: Any,
    i: int,
    register: Register,
    reported_day: dt.date,
    key_worker: bool,
    rng: random.Random,
) -> tracing.CaseData:
    from cordon.engine.sim.interventions import FOUND_BY as FOUND_BY_SIM
    from cordon.engine.sim.outbreak import NEVER as NEVER_SIM

    p = int(cases.person[i])
    start = sim.start_date
    sampled_day = start + dt.timedelta(days=int(cases.sampled[i]))
    found = FOUND_BY_SIM[int(cases.found_by[i])]
    if found == "screening":
        found_by = FoundBy.KEY_INDUSTRY_SCREENING if key_worker else FoundBy.AREA_SCREENING
    else:
        found_by = _FOUND_BY.get(found, FoundBy.SELF_REPORT)
    asymptomatic = bool(sim.asymptomatic[p])
    onset = (
        None if asymptomatic or sim.onset[p] == NEVER_SIM else start + dt.timedelta(days=int(sim.onset[p]))
    )
    if onset is not None and onset > reported_day:
        onset = reported_day
    sampled_at = _at(sampled_day, 8 * 60 + rng.randrange(10 * 60))
    reported_at = max(_at(reported_day, 10 * 60 + rng.randrange(10 * 60)), sampled_at + dt.timedelta(hours=4))
    controlled = bool(cases.under_control[i])
    return tracing.CaseData(
        person=register.persons[p],
        classification=Classification.ASYMPTOMATIC if onset is None else Classification.CONFIRMED,
        onset_date=onset,
        sampled_at=sampled_at,
        reported_at=reported_at,
        found_by=found_by,
        control=Control.QUARANTINE if controlled else Control.COMMUNITY,
        isolated_at=sampled_at - dt.timedelta(days=2) if controlled else None,
    )


def _at(day: dt.date, minutes: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes))
