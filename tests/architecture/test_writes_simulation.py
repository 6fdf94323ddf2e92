"""The simulation app's write paths (tests/test_simulation.py runs them through pages, the API and a worker;
here under the audit watch, the same way as every app's)."""

from __future__ import annotations

from typing import Any

import pytest

from cordon.apps.audit.models import AuditEntry
from cordon.apps.simulation import actions
from cordon.engine.sim.strategy import Scenario, outcome

SIM = "cordon.apps.simulation.actions"
COVERS = {f"{SIM}.start_run", f"{SIM}.record_result"}

pytestmark = pytest.mark.django_db


def test_a_run_is_audited_when_started_and_when_recorded_once(city: Any, make_user: Any) -> None:
    commander = make_user("city_commander", city.city)
    scenario = Scenario(population=1000, days=3, seed=2)
    run = actions.start_run(actor=commander, scenario=scenario, title="t", source="cli")
    sim = scenario.simulation()
    sim.run(scenario.days)
    result = outcome(sim)
    actions.record_result(actor=commander, run=run, outcome=result, seconds=1.0)
    actions.record_result(actor=commander, run=run, outcome=result, seconds=2.0)  # recorded once: no change
    rows = list(
        AuditEntry.objects.filter(model="simulation.simulationrun", object_pk=str(run.pk)).order_by("id")
    )
    assert [r.verb for r in rows] == ["create", "update"]
    assert rows[1].changes["summary"][1] == result.summary and "series" not in rows[1].changes
    run.refresh_from_db()
    assert run.series == result.series and run.seconds == 1.0
