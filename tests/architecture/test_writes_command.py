"""The command app's write path: the day's figures and the kept timeliness figures (derived rows: no audit rows
expected; the watch checks nothing else is written)."""

from __future__ import annotations

from typing import Any

import pytest

from architecture.audit_watch import WATCH
from cordon.apps.command import actions, timeliness
from cordon.apps.command.models import DayFigures, TimelinessDay

COMMAND = "cordon.apps.command.actions"
COVERS = {
    f"{COMMAND}.take_day_figures",
    f"{COMMAND}.refresh_timeliness",
    f"{COMMAND}.reconcile_timeliness",
}

pytestmark = pytest.mark.django_db


def test_take_day_figures(city: Any) -> None:
    assert actions.take_day_figures() == 3  # the city and its two districts
    assert actions.take_day_figures() == 3  # replaced, not added
    assert DayFigures.objects.count() == 3
    assert WATCH.seen[f"{COMMAND}.take_day_figures"]


def test_refresh_and_reconcile_timeliness(city: Any, settings: Any) -> None:
    settings.CORDON_TIMELINESS_RECENT_DAYS = 1
    kept = 2 * timeliness.MAX_DAYS  # every district and kept day, zero too
    assert actions.refresh_timeliness() == kept
    assert actions.refresh_timeliness() == 2  # today of each district (nothing pending)
    assert actions.reconcile_timeliness() == []
    assert TimelinessDay.objects.count() == kept
    assert all(WATCH.seen[name] for name in COVERS)
