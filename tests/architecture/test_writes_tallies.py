"""The kept counts' write paths, the board's and the roll-ups' (derived rows: no audit rows expected; the watch
checks nothing else is written)."""

from __future__ import annotations

from typing import Any

import pytest

from architecture.audit_watch import WATCH
from cordon.apps.geo import actions as geo
from cordon.apps.tallies import actions

TALLIES = "cordon.apps.tallies.actions"
# geo's refresh_rollups: test_writes_foundation.py
COVERS = {f"{TALLIES}.refresh", f"{TALLIES}.reconcile", f"{TALLIES}.close_day"}

pytestmark = pytest.mark.django_db


def test_refresh_and_reconcile(city: Any) -> None:
    assert actions.refresh() > 0
    assert actions.reconcile() == []
    assert actions.close_day() > 0
    assert geo.refresh_rollups() > 0
    assert all(WATCH.seen[name] for name in COVERS)
