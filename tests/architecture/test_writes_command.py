"""The command app's write paths (asking for a daily report, recording one), each run under the audit watch."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from architecture.audit_watch import WATCH
from cordon.apps.command import actions, selectors

C = "cordon.apps.command.actions"
COVERS = {f"{C}.request_report", f"{C}.record_report"}

pytestmark = pytest.mark.django_db


def test_command_write_paths(city: Any, make_user: Any) -> None:
    user = make_user("district_commander", city.fengtai)
    today = timezone.localdate()
    actions.request_report(actor=user, area=city.fengtai, day=today)
    figures = selectors.daily_figures(user, city.fengtai, today)
    actions.record_report(actor=user, area=city.fengtai, day=today, figures=figures, file={})
    assert actions.record_report(
        actor=None, area=city.fengtai, day=today, figures=figures, file={}, scheduled=True
    )
    assert all(WATCH.seen[name] for name in COVERS)
