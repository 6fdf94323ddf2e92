"""Write paths of the demo loader (``cordon.apps.demo.actions``), run on a small city of the demo preset under
the audit watch: building the register and the logins, the whole load and loading again. (``cordon demo
--reset`` discards the database outside any action: see ``test_a_reset_is_refused_beside_other_data``.)"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from architecture.audit_watch import WATCH as AUDIT_WATCH
from cordon import cli
from cordon.apps.accounts.models import User
from cordon.apps.demo import actions, selectors
from cordon.apps.demo.scenario import OUTBREAK_DAYS
from cordon.apps.people.models import Person
from cordon.apps.tracing import selectors as tracing_reads
from cordon.apps.tracing.models import Case
from cordon.engine.sim import generate_city, preset

DEMO = "cordon.apps.demo.actions"
COVERS = {
    f"{DEMO}.load",
    f"{DEMO}.build",
    f"{DEMO}.build_city",
    f"{DEMO}.ensure_logins",
    f"{DEMO}.run_outbreak",
    f"{DEMO}.set_up_control",
    f"{DEMO}.screen_fengtai",
    f"{DEMO}.zone_first_areas",
    f"{DEMO}.screen_zones_due",
    f"{DEMO}.play_next_day",
}

pytestmark = pytest.mark.django_db

POPULATION = 1000


@pytest.fixture(scope="module")
def small_city() -> Any:
    """The demo preset with fewer residents (the same named places, fewer generated ones)."""
    return generate_city(preset("demo", population=POPULATION), seed=actions.SEED)


class Ran:
    """Which of the named actions run inside the block (the audit watch counts every call)."""

    def __init__(self, *names: str) -> None:
        self.names = {n if n.startswith("cordon.") else f"{DEMO}.{n}" for n in names}
        assert self.names <= COVERS
        self.before = {n: AUDIT_WATCH.seen[n] for n in self.names}

    def check(self) -> None:
        missing = sorted(n for n in self.names if AUDIT_WATCH.seen[n] <= self.before[n])
        assert not missing, missing


def test_register_and_logins(small_city: Any) -> None:
    ran = Ran("build_city", "ensure_logins")
    summary = actions.Summary(loaded=True)
    register = actions.build_city(
        actor=None, city=small_city, rng=random.Random(actions.SEED), today=dt.date.today(), summary=summary
    )
    assert len(register.persons) == summary.persons == POPULATION == len(register.national_ids)
    logins = actions.logins_of(small_city)
    assert actions.ensure_logins(actor=None, logins=logins) == len(logins)
    assert actions.ensure_logins(actor=None, logins=logins) == 0
    assert selectors.is_loaded()
    ran.check()


def test_load_and_load_again(small_city: Any) -> None:
    ran = Ran(
        "load",
        "build",
        "build_city",
        "ensure_logins",
        "run_outbreak",
        "set_up_control",
        "screen_fengtai",
        "zone_first_areas",
    )
    summary = actions.load(city=small_city)
    assert summary.loaded and summary.persons == POPULATION and summary.cases > 0 and summary.samples > 0
    assert summary.sites == 4 and summary.orders > 0
    again = actions.load(city=small_city)
    assert not again.loaded and again.persons == POPULATION
    ran.check()


def test_a_reset_is_refused_beside_other_data(city: Any, capsys: Any) -> None:
    """``--reset`` discards the whole database: refused, with nothing changed, when it holds anything else."""
    persons = set(Person.objects.values_list("pk", "name"))
    assert cli.main(["demo", "--no-serve", "--reset"]) == 2
    assert "holds data besides the demo city" in capsys.readouterr().err
    assert set(Person.objects.values_list("pk", "name")) == persons
    assert selectors.data_outside_demo()


def _reported_on(day: dt.date) -> int:
    """How many cases the simulator's own table says were reported on ``day``."""
    cases = pq.read_table(Path(settings.CORDON_DEMO_DIR) / "cases.parquet").to_pydict()
    return sum(1 for d in cases["reported_on"] if d == day)


def test_playing_the_next_day_from_the_page_and_from_the_command_line(
    small_city: Any, capsys: Any, worker: Any
) -> None:
    """The administrator's button (a background job, run here by a worker) and ``cordon demo --next-day`` run the
    same action: each plays one more day (its scans ingested, its cases reported and traced); a day after today
    is refused; other roles get 403."""
    ran = Ran("load", "play_next_day")
    today = timezone.localdate()
    actions.load(city=small_city, today=today - dt.timedelta(days=2))
    run = selectors.demo_run()
    assert run is not None and run.last_date == today - dt.timedelta(days=2) and run.days == OUTBREAK_DAYS
    store = tracing_reads.scan_store()
    before = Case.objects.count()

    admin = Client()
    admin.force_login(User.objects.get(username="admin"))
    assert 'data-testid="play-next-day"' in admin.get("/demo/").content.decode()
    with worker():
        response = admin.post("/demo/next-day/")
        again = admin.post("/demo/next-day/")  # a second click while the first is queued follows the first
    assert response.status_code == 302 and response["Location"].startswith("/jobs/")
    assert again["Location"] == response["Location"]
    job = admin.get(response["Location"]).content.decode()
    assert 'data-status="done"' in job and 'href="/demo/"' in job
    yesterday = today - dt.timedelta(days=1)
    assert selectors.demo_run().last_date == yesterday  # type: ignore[union-attr]
    assert store.read(yesterday, yesterday).num_rows > 0
    assert Case.objects.count() == before + _reported_on(yesterday)
    assert Case.objects.filter(reported_at__date=yesterday).count() >= _reported_on(yesterday)

    assert cli.main(["demo", "--next-day"]) == 0
    assert today.isoformat() in capsys.readouterr().out
    assert selectors.demo_run().last_date == today  # type: ignore[union-attr]
    assert store.read(today, today).num_rows > 0
    assert Case.objects.count() == before + _reported_on(yesterday) + _reported_on(today)
    assert all(c.traced_at is not None for c in Case.objects.all())

    # Up to date: tomorrow cannot be played today, on either path.
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert cli.main(["demo", "--next-day"]) == 2
    assert tomorrow in capsys.readouterr().err
    assert 'data-testid="demo-up-to-date"' in admin.get("/demo/").content.decode()
    assert 'data-testid="play-next-day"' not in admin.get("/demo/").content.decode()
    refused = admin.post("/demo/next-day/", follow=True).content.decode()
    assert tomorrow in refused and selectors.demo_run().days == OUTBREAK_DAYS + 2  # type: ignore[union-attr]

    commander = Client()
    commander.force_login(User.objects.get(username="fengtai"))
    assert commander.get("/demo/").status_code == 403
    assert commander.post("/demo/next-day/").status_code == 403
    ran.check()


def test_the_next_day_needs_a_loaded_demo(capsys: Any) -> None:
    assert cli.main(["demo", "--next-day"]) == 2
    assert "cordon demo" in capsys.readouterr().err


def test_a_played_day_screens_the_zones_due_a_round(city: Any) -> None:
    """The day-7 round of a zone in force (tests/test_demo_zones.py says more), on the small test city."""
    from cordon.apps.screening import actions as screening
    from cordon.apps.zones import actions as zones
    from cordon.apps.zones import selectors as zone_reads

    ran = Ran("screen_zones_due")
    today = timezone.localdate()
    screening.create_lab(actor=None, code="LAB-110000", name="市检测基地", jurisdiction=city.city)
    zone = zones.create_zone(
        actor=None,
        data=zones.ZoneData(name="演练区", kind="sealed", owner=city.fengtai, buildings=[city.ft_building]),
    )
    t = zone_reads.open_proposal(zone, "put_in_force")
    assert t is not None
    zones.decide(actor=None, transition=t, confirm=True, note="演练", today=today - dt.timedelta(days=7))
    assert actions.screen_zones_due(actor=None, day=today) == [f"{zone.code}-R1"]
    ran.check()
