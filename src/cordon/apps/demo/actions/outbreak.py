"""The demo outbreak, played day by day: the simulator runs in the demo city from the outbreak's first day; each
day's check-in scans go into the scan store (simulator ids mapped to the register's), the simulator's own tables
to ``CORDON_DEMO_DIR``; the cases reported each day are entered through tracing's actions and traced.

The load plays the first ``OUTBREAK_DAYS`` days, the last of them today (in the city's time zone), so today has
its scans and its reported cases; ``play_next_day`` plays one more (``cordon demo --next-day`` and the
administrator's demo page). The simulator keeps no state between processes: a play runs it again from the first
day with the same seed (about a tenth of a second a day at the demo's size), which gives the same days again,
and keeps only the new day's scans and cases. ``run.json`` says from which date and how many days were played."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.geo import selectors as geo
from cordon.apps.people.models import Person
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing import selectors as tracing_reads
from cordon.apps.tracing.models import Case, Classification, Control, FoundBy
from cordon.apps.zones import actions as zones
from cordon.core.actions import action
from cordon.core.actors import Actor
from cordon.core.scoping import require_may_change

from .. import selectors
from ..scenario import OUTBREAK_DAYS, SEED, SOURCE, Summary, city_of, simulation
from .city import Register
from .zones import screen_zones_due

if TYPE_CHECKING:
    import numpy.typing as npt

    from cordon.engine.sim import Simulation
    from cordon.engine.sim.city import City

_FOUND_BY = {
    "fever_clinic": FoundBy.FEVER_CLINIC,
    "quarantine": FoundBy.IN_QUARANTINE,
    "seed": FoundBy.SELF_REPORT,
}


@dataclass(frozen=True)
class DayPlayed:
    """What playing a day of the outbreak did."""

    date: dt.date
    scans: int
    cases: int
    proposed: int = 0  # zone steps the rules proposed that day

    def describe(self) -> str:
        text = _(
            "Played %(date)s: %(scans)d venue scans ingested, %(cases)d new cases reported and traced."
        ) % {
            "date": self.date.isoformat(),
            "scans": self.scans,
            "cases": self.cases,
        }
        if self.proposed:
            text += " " + _("The zone rules proposed %(n)d steps to decide (Zones to decide).") % {
                "n": self.proposed
            }
        return text


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
    """Play the outbreak's first ``OUTBREAK_DAYS`` days, the last of them ``today``: the scans of every day, the
    cases reported by today entered and traced (counts go to ``summary``)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(settings.CORDON_DEMO_DIR)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(tracing_reads.scan_store().root, ignore_errors=True)
    start = today - dt.timedelta(days=OUTBREAK_DAYS - 1)
    person_pk = np.array([p.pk for p in register.persons], dtype=np.int64)
    venue_pk = np.array([v.pk for v in register.venues], dtype=np.int64)
    sim, summary.scans = _simulate(city, person_pk, venue_pk, start, OUTBREAK_DAYS, 0, progress)
    pq.write_table(
        pa.table(
            {
                "person_id": list(range(city.n_persons)),
                "register_id": person_pk,
                "national_id": register.national_ids,
            }
        ),
        folder / "persons.parquet",
    )
    pq.write_table(
        pa.table({"venue_id": list(range(city.n_venues)), "register_id": venue_pk}),
        folder / "venue_ids.parquet",
    )
    made = _report_cases(actor, city, sim, register.persons.__getitem__, 0, OUTBREAK_DAYS - 1, source)
    if progress:
        print(f"tracing {len(made)} cases ...", file=sys.stderr, flush=True)
    tracing.trace_cases(actor=actor, cases=made, source=source)
    _save_run(folder, start, OUTBREAK_DAYS, city.n_persons)
    summary.cases = len(made)
    return made


@action
def play_next_day(
    *, actor: Actor | None, progress: bool = False, city: City | None = None, source: str = SOURCE
) -> DayPlayed:
    """Play the day after the last one played: the simulator runs one more day, its scans are ingested and the
    cases reported that day entered and traced. Refused when that day is after today (cases cannot be reported
    in the future): one day a day, as an exercise runs; a demo that fell behind catches up a day at a time.
    ``city`` is the simulator's city the demo was loaded with (by default the demo preset's at the population
    the load recorded). The day is the whole city's: only the city's level plays it."""
    import numpy as np
    import pyarrow.parquet as pq

    root = geo.city_root()
    if root is not None:
        require_may_change(actor, root)
    refusal = selectors.next_day_refusal()
    if refusal:
        raise ValidationError(refusal)
    run = selectors.demo_run()
    assert run is not None
    city = city or city_of(run.population)
    folder = Path(settings.CORDON_DEMO_DIR)
    person_pk = np.asarray(pq.read_table(folder / "persons.parquet").column("register_id").to_numpy())
    venue_pk = np.asarray(pq.read_table(folder / "venue_ids.parquet").column("register_id").to_numpy())
    sim, scans = _simulate(city, person_pk, venue_pk, run.start, run.days + 1, run.days, progress)
    persons = selectors.persons_by_pk(_reported_persons(sim, run.days, person_pk))
    made = _report_cases(actor, city, sim, lambda p: persons[int(person_pk[p])], run.days, run.days, source)
    if progress:
        print(f"tracing {len(made)} cases ...", file=sys.stderr, flush=True)
    tracing.trace_cases(actor=actor, cases=made, source=source)
    screen_zones_due(actor=actor, day=run.next_date, source=source)  # the rounds the rules ask for that day
    evaluation = zones.evaluate_zones(actor=actor, today=run.next_date, source=source)  # the day's proposals
    _save_run(folder, run.start, run.days + 1, run.population)
    return DayPlayed(run.next_date, scans, len(made), evaluation.proposed)


def quiet_building(
    city: City, start: dt.date, days: int, since: int, prefer: str = "", avoid: str = ""
) -> str | None:
    """The code of a building the outbreak leaves alone from day ``since``: none of its residents is a case
    reported on the simulator's days ``since`` to ``days - 1`` from ``start``. Of those, the one with the most
    residents in the community ``prefer`` when it has one, else in the city outside the area ``avoid`` (a code
    prefix: the district whose open round still waits for results would hold the lift); None when every
    building is hit.
    The simulator is seeded, so the demo knows its own week ahead: a zone it controls there from day
    ``since - 1`` can be lifted once that week is played."""
    import numpy as np

    sim = simulation(city, start)
    sim.run(days)
    cases = sim.case_list()
    home = city.hh_building[city.household]  # each person's building
    hit = {
        int(home[int(p)])
        for p, day in zip(cases.person, cases.reported, strict=True)
        if since <= int(day) < days
    }
    residents = np.bincount(home, minlength=len(city.bld_grid))
    quiet = [b for b in np.flatnonzero(residents).tolist() if b not in hit]
    if not quiet:
        return None
    community = {b: city.jur_code[int(city.jur_parent[city.bld_grid[b]])] for b in quiet}
    preferred = [b for b in quiet if community[b] == prefer] or [
        b for b in quiet if not (avoid and community[b].startswith(avoid))
    ]
    if not preferred:
        return None
    best = max(preferred, key=lambda b: (int(residents[b]), -b))
    return f"B{city.config.code}{best:06d}"


def _save_run(folder: Path, start: dt.date, days: int, population: int) -> None:
    (folder / "run.json").write_text(
        json.dumps({"start": start.isoformat(), "days": days, "population": population, "seed": SEED}),
        encoding="utf-8",
    )


def _simulate(
    city: City,
    person_pk: npt.NDArray[Any],
    venue_pk: npt.NDArray[Any],
    start: dt.date,
    days: int,
    keep_from: int,
    progress: bool,
) -> tuple[Simulation, int]:
    """Run the simulator over ``days`` days from ``start`` (a progress bar of days with ``progress``); the scans
    of the days from ``keep_from`` go into the scan store (returns the simulation and how many scans were
    added), its tables into ``CORDON_DEMO_DIR``."""
    import pyarrow as pa

    from cordon.engine.sim.output import scan_table, write_run

    store = tracing_reads.scan_store()
    added = 0

    def on_visits(day: int, date: dt.date, visits: Any) -> None:
        nonlocal added
        if day < keep_from:
            return
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
        added += store.ingest(table).added

    sim = simulation(city, start)
    if progress:
        from tqdm import tqdm

        with tqdm(total=days, desc="outbreak days", unit="day", file=sys.stderr) as bar:
            sim.run(days, progress=lambda _day: bar.update(), on_visits=on_visits)
    else:
        sim.run(days, on_visits=on_visits)
    folder = Path(settings.CORDON_DEMO_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    write_run(sim, folder)
    return sim, added


def _reported_persons(sim: Simulation, day: int, person_pk: npt.NDArray[Any]) -> list[int]:
    cases = sim.case_list()
    return [int(person_pk[int(p)]) for p, r in zip(cases.person, cases.reported, strict=True) if r == day]


def _report_cases(
    actor: Actor | None,
    city: City,
    sim: Simulation,
    person_of: Callable[[int], Person],
    first: int,
    last: int,
    source: str,
) -> list[Case]:
    """The cases reported on the simulator's days ``first`` to ``last``, as investigators would have entered
    them, in the order reported (none reported later than now)."""
    import numpy as np

    cases = sim.case_list()
    rng = random.Random(SEED + 1 + first)
    key = city.is_key_worker()
    made = []
    for i in np.argsort(cases.reported, kind="stable").tolist():
        if not first <= int(cases.reported[i]) <= last:
            continue
        p = int(cases.person[i])
        data = _case_data(sim, cases, i, person_of(p), bool(key[p]), rng)
        made.append(tracing.report_case(actor=actor, data=data, source=source))
    return made


def _case_data(
    sim: Simulation, cases: Any, i: int, person: Person, key_worker: bool, rng: random.Random
) -> tracing.CaseData:
    from cordon.engine.sim.interventions import FOUND_BY as FOUND_BY_SIM
    from cordon.engine.sim.outbreak import NEVER as NEVER_SIM

    p = int(cases.person[i])
    start = sim.start_date
    reported_day = start + dt.timedelta(days=int(cases.reported[i]))
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
    if onset is not None and onset > sampled_day:
        onset = None  # found before symptoms (screening): reported as an asymptomatic infection
    sampled_at = _at(sampled_day, 8 * 60 + rng.randrange(10 * 60))
    reported_at = max(_at(reported_day, 10 * 60 + rng.randrange(10 * 60)), sampled_at + dt.timedelta(hours=4))
    # A case reported today is reported by now, not later in the day.
    reported_at = max(min(reported_at, timezone.now()), sampled_at + dt.timedelta(minutes=1))
    controlled = bool(cases.under_control[i])
    return tracing.CaseData(
        person=person,
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
