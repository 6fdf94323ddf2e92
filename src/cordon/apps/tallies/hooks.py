"""The kept counts' clock: every worker refreshes them every ``CORDON_TALLY_SECONDS``, reconciles them once a
day (at its start, then every 24 hours), logging any drift it repaired, and closes the day (yesterday's closing
figures, written once by the first run after local midnight) every ``CLOSE_SECONDS``."""

from __future__ import annotations

import logging

from django.conf import settings

from cordon.core import periodic

from . import actions

log = logging.getLogger("cordon.tallies")
CLOSE_SECONDS = 60.0


def _reconcile() -> int:
    drift = actions.reconcile()
    for d in drift:
        log.warning(
            "kept count %s of district %s seen from node %s was %s (open, overdue), the source tables say %s: "
            "repaired",
            d.kind,
            d.district_id,
            d.jurisdiction_id,
            d.kept,
            d.actual,
        )
    return len(drift)


periodic.register(
    periodic.Periodic("tallies.refresh", lambda: float(settings.CORDON_TALLY_SECONDS), actions.refresh)
)
periodic.register(periodic.Periodic("tallies.reconcile", lambda: 24 * 3600.0, _reconcile))
periodic.register(periodic.Periodic("tallies.close_day", lambda: CLOSE_SECONDS, actions.close_day))
