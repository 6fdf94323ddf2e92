"""What the command app plugs into the platform: the kept roll-up group of its control figures (orders per
residence, recounted with the roll-ups) and the workers' take of the day's figures (``actions.take_day_figures``,
every ``CORDON_DAY_FIGURES_SECONDS``: the last take of a day is its close), and the kept timeliness figures
(``actions.refresh_timeliness`` every ``CORDON_TIMELINESS_SECONDS``; ``actions.reconcile_timeliness`` once a
day, at the worker's start then every 24 hours, logging any drift it repaired)."""

from __future__ import annotations

import logging

from django.conf import settings

from cordon.core import periodic, rollups
from cordon.core.roles import Cap

from . import actions, figures

log = logging.getLogger("cordon.command")

rollups.register_group(
    rollups.Group(
        figures.CONTROL_GROUP,
        tuple(figures.CONTROL_FIGURES.values()),
        Cap.VIEW_CONTROL,
        figures.control_by_residence,
    )
)
periodic.register(
    periodic.Periodic(
        "command.day_figures", lambda: float(settings.CORDON_DAY_FIGURES_SECONDS), actions.take_day_figures
    )
)
periodic.register(
    periodic.Periodic(
        "command.timeliness", lambda: float(settings.CORDON_TIMELINESS_SECONDS), actions.refresh_timeliness
    )
)


def _reconcile_timeliness() -> int:
    drift = actions.reconcile_timeliness()
    for d in drift:
        log.warning(
            "kept timeliness of district %s on %s differed from the source tables in %s: repaired",
            d.district_id,
            d.day,
            ", ".join(d.fields),
        )
    return len(drift)


periodic.register(
    periodic.Periodic("command.timeliness_reconcile", lambda: 24 * 3600.0, _reconcile_timeliness)
)
