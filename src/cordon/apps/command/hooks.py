"""What the command app plugs into the platform: the kept roll-up group of its control figures (orders per
residence, recounted with the roll-ups) and the workers' take of the day's figures (``actions.take_day_figures``,
every ``CORDON_DAY_FIGURES_SECONDS``: the last take of a day is its close)."""

from __future__ import annotations

from django.conf import settings

from cordon.core import periodic, rollups
from cordon.core.roles import Cap

from . import actions, figures

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
