"""The command app's write paths, each run under the audit watch: the day's figures and the kept timeliness
figures (derived rows: no audit rows expected; the watch checks nothing else is written), asking for a daily
report and recording one."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from architecture.audit_watch import WATCH
from cordon.apps.command import actions, selectors, timeliness
from cordon.apps.command.models import DayFigures, TimelinessDay

COMMAND = "cordon.apps.command.actions"
COVERS = {
    f"{COMMAND}.take_day_figures",
    f"{COMMAND}.request_report",
    f"{COMMAND}.record_report",
    f"{COMMAND}.refresh_timeliness",
    f"{COMMAND}.reconcile_timeliness",
}

pytestmark = pytest.mark.django_db


def test_take_day_figures(city: Any) -> None:
    assert actions.take_day_figures() == 5  # the city, its two districts and their two streets
    assert actions.take_day_figures() == 5  # replaced, not added
    assert DayFigures.objects.count() == 5
    assert WATCH.seen[f"{COMMAND}.take_day_figures"]


def test_daily_report_write_paths(city: Any, make_user: Any) -> None:
    user = make_user("district_commander", city.fengtai)
    today = timezone.localdate()
    actions.request_report(actor=user, area=city.fengtai, day=today)
    figures = selectors.daily_figures(user, city.fengtai, today)
    actions.record_report(actor=user, area=city.fengtai, day=today, figures=figures, file={})
    assert actions.record_report(
        actor=None, area=city.fengtai, day=today, figures=figures, file={}, scheduled=True
    )
    assert WATCH.seen[f"{COMMAND}.request_report"] and WATCH.seen[f"{COMMAND}.record_report"]


def test_refresh_and_reconcile_timeliness(city: Any, settings: Any) -> None:
    settings.CORDON_TIMELINESS_RECENT_DAYS = 1
    kept = 2 * timeliness.MAX_DAYS  # every district and kept day, zero too
    assert actions.refresh_timeliness() == kept
    assert actions.refresh_timeliness() == 2  # today of each district (nothing pending)
    assert actions.reconcile_timeliness() == []
    assert TimelinessDay.objects.count() == kept
    assert all(WATCH.seen[name] for name in COVERS)
