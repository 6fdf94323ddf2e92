"""The kept counts' write paths (derived rows: no audit rows expected, the watch checks nothing else is written)."""

from __future__ import annotations

from typing import Any

import pytest

from architecture.audit_watch import WATCH
from cordon.apps.tallies import actions

TALLIES = "cordon.apps.tallies.actions"
COVERS = {f"{TALLIES}.refresh", f"{TALLIES}.reconcile"}

pytestmark = pytest.mark.django_db


def test_refresh_and_reconcile(city: Any) -> None:
    assert actions.refresh() > 0
    assert actions.reconcile() == []
    assert all(WATCH.seen[name] for name in COVERS)
