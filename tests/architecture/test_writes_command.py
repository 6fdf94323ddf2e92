"""The command app's write path: the day's figures (derived rows: no audit rows expected; the watch checks
nothing else is written)."""

from __future__ import annotations

from typing import Any

import pytest

from architecture.audit_watch import WATCH
from cordon.apps.command import actions
from cordon.apps.command.models import DayFigures

COMMAND = "cordon.apps.command.actions"
COVERS = {f"{COMMAND}.take_day_figures"}

pytestmark = pytest.mark.django_db


def test_take_day_figures(city: Any) -> None:
    assert actions.take_day_figures() == 3  # the city and its two districts
    assert actions.take_day_figures() == 3  # replaced, not added
    assert DayFigures.objects.count() == 3
    assert all(WATCH.seen[name] for name in COVERS)
