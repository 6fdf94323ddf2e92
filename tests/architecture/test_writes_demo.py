"""Write paths of the demo loader (``cordon.apps.demo.actions``), run on a small city of the demo preset under
the audit watch: building the register and the logins, the whole load and loading again. (``cordon demo
--reset`` discards the database outside any action: see ``test_a_reset_is_refused_beside_other_data``.)"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from architecture.audit_watch import WATCH as AUDIT_WATCH
from cordon import cli
from cordon.apps.demo import actions, selectors
from cordon.apps.people.models import Person
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
        "load", "build", "build_city", "ensure_logins", "run_outbreak", "set_up_control", "screen_fengtai"
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
