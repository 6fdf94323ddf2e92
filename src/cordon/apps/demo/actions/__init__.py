"""The built-in demo city: the simulator's ``demo`` preset (the scenario of DOMAIN.md) loaded into the platform.

A synthetic capital with Fengtai, Changping, Chaoyang and Haidian districts, their streets, communities and
grids named as in the reports Cordon grew from (plus generated ones); buildings with coordinates and footprints;
about 20,000 residents in households with valid national IDs, a megacity age structure, occupations,
key-industry workers and special groups; venues with place codes and sub-areas (the economy hotel in Chaoyang,
courier depots, markets, metro stations, ...); and one login per role and scope. Everything is written
through the apps' actions with source ``demo``.

The simulator also plays the outbreak's first nine days, the last of them today in the city's time zone (first
cases in the Fengtai and Changping communities, found a few a day by regular testing and fever clinics, then in
quarantine, and today the first city-wide round's positives; the city's response in the simulator isolates
cases, quarantines and tests their households and work units, seals their communities, tests everyone weekly
and screens the city every three days from day 7: see ``scenario.simulation`` and docs/simulator.md);
``play_next_day`` plays one more day. The venue check-in scans of those days go into the scan store
(``CORDON_SCAN_DIR``, by default ``<var>/scans``; a reset empties it), the reported cases are entered as cases
and traced (candidates with evidence, risk venues), and the simulator's own tables (true infection tree, daily
counts) go to ``CORDON_DEMO_DIR`` (by default ``<var>/sim/demo``), where ``persons.parquet`` maps the
simulator's person ids to register ids and national IDs. Then control (isolation hotels, contacts judged,
placed and transferred), a screening round in Fengtai and zones over the first areas, as of today.

Deterministic (fixed seed) and idempotent: loading twice does nothing the second time (``cordon demo --reset``
discards the demo database first: see ``cordon.cli.demo``). One module per step: ``city``, ``logins``,
``outbreak``, ``control``, ``screening``, ``zones``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.utils import timezone

from cordon.apps.geo import actions as geo
from cordon.apps.tallies import actions as tallies
from cordon.core.actions import action
from cordon.core.actors import Actor

from .. import selectors
from ..scenario import LOGINS, OUTBREAK_DAYS, PASSWORD, SCREENED, SEED, SOURCE, Login, Summary, demo_city
from ..scenario import logins as logins_of
from .city import build_city
from .control import set_up_control
from .logins import ensure_logins
from .outbreak import DayPlayed, play_next_day, quiet_building, run_outbreak
from .screening import screen_fengtai
from .zones import PRECAUTION, screen_zones_due, zone_first_areas

if TYPE_CHECKING:
    from cordon.engine.sim.city import City

__all__ = [
    "LOGINS",
    "PASSWORD",
    "SCREENED",
    "SEED",
    "SOURCE",
    "DayPlayed",
    "Login",
    "Summary",
    "build",
    "build_city",
    "ensure_logins",
    "load",
    "logins_of",
    "play_next_day",
    "run_outbreak",
    "screen_fengtai",
    "screen_zones_due",
    "set_up_control",
    "zone_first_areas",
]


@action(atomic=False)
def load(
    *,
    progress: bool = False,
    city: City | None = None,
    actor: Actor | None = None,
    today: dt.date | None = None,
    source: str = SOURCE,
) -> Summary:
    """Load the demo city unless it is loaded (then only the missing logins are made). ``city`` is the
    simulator's city to load: the demo preset's by default (tests pass a smaller one); ``today`` the last day
    of the outbreak played, today by default (an exercise that starts with days to play gives an earlier one).

    Not one transaction: the load is ``build``, one transaction of its own, so a load that fails leaves no
    half-built city; making the missing logins of a loaded city is another."""
    city = city or demo_city()
    city_logins = LOGINS if city is demo_city() else logins_of(city)
    if selectors.is_loaded():
        ensure_logins(actor=actor, logins=city_logins, source=source)
        return Summary(loaded=False, persons=selectors.persons_loaded())
    summary = build(actor=actor, city=city, logins=city_logins, progress=progress, today=today, source=source)
    # The kept counts of the city just built (after its transaction: a recount reads outside one), so the boards
    # and the home page are right from the first request and the worker's first reconciliation finds no drift.
    tallies.refresh()
    geo.refresh_rollups()
    geo.refresh_fast_rollups()
    geo.refresh_outlines()  # the maps' district, street, community and grid outlines
    return summary


@action
def build(
    *,
    actor: Actor | None,
    city: City,
    logins: Sequence[Login],
    progress: bool = False,
    today: dt.date | None = None,
    source: str = SOURCE,
) -> Summary:
    """The whole demo in one transaction: the register, the logins, the first days of the outbreak traced (the
    last of them ``today``, by default today in the city's time zone), control and screening as of now."""
    summary = Summary(loaded=True)
    today = today or timezone.localdate()
    register = build_city(
        actor=actor, city=city, rng=random.Random(SEED), today=today, summary=summary, progress=progress,
        source=source,
    )  # fmt: skip
    summary.logins = ensure_logins(actor=actor, logins=logins, source=source)
    run_outbreak(
        actor=actor, city=city, register=register, today=today, summary=summary, progress=progress,
        source=source,
    )  # fmt: skip
    set_up_control(actor=actor, summary=summary, progress=progress, source=source)
    screen_fengtai(actor=actor, summary=summary, progress=progress, source=source)
    # A week ahead of the load's last day: the building a precautionary zone can be lifted in once it is played.
    start = today - dt.timedelta(days=OUTBREAK_DAYS - 1)
    quiet = quiet_building(city, start, OUTBREAK_DAYS + 7, OUTBREAK_DAYS, prefer=PRECAUTION)
    zone_first_areas(actor=actor, progress=progress, today=today, quiet=quiet, source=source)
    return summary
