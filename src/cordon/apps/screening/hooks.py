"""What the screening app plugs into the platform: its kinds of open item on the daily-zero board, the menu
badge of persons under temporary control (a kept roll-up group), and the nightly reconciliation of its sample
counters."""

from __future__ import annotations

import logging

from django.utils.translation import gettext_lazy as _

from cordon.core import badges, openitems, periodic, rollups
from cordon.core.roles import Cap

from . import actions, selectors

log = logging.getLogger("cordon.screening")

for key, label, order, count, placed in (
    (
        "temporary_controls",
        _("Under temporary control"),
        90,
        selectors.temporary_controls_by_district,
        selectors.temporary_controls_placed,
    ),
    (
        "resamples",
        _("Re-samples overdue"),
        100,
        selectors.overdue_resamples_by_district,
        selectors.overdue_resamples_placed,
    ),
):
    openitems.register(openitems.OpenItemKind(key, label, order, Cap.VIEW_SCREENING, count, placed))

# Today's coverage at every node (the commanders' headline): recounted every few seconds, each node's own total
# (a city round is seen from every node; not summed up the tree), read only on the day it was counted.
rollups.register_group(
    rollups.Group(
        selectors.COVERAGE_TODAY,
        tuple(selectors.COVERAGE_TODAY_FIGURES.values()),
        Cap.VIEW_SCREENING,
        selectors.coverage_today_by_node,
        fast=True,
        daily=True,
        summed=False,
        depth=rollups.HEADLINE_DEPTH,
    )
)
rollups.register_group(
    rollups.Group(
        selectors.POSITIVES,
        (selectors.POSITIVES,),
        Cap.VIEW_SCREENING,
        selectors.controls_by_jurisdiction,
        fast=True,
    )
)
badges.register(
    badges.Badge(
        "positives",
        _("%(n)d people of positive pools under temporary control"),
        Cap.VIEW_SCREENING,
        selectors.positives_badge,
        order=40,
    )
)


def _reconcile() -> int:
    drift = actions.reconcile_counts()
    for d in drift:
        log.warning(
            "kept sample counter %s %s was %s, the samples say %s: repaired",
            d.counter,
            d.key,
            d.kept,
            d.actual,
        )
    return len(drift)


periodic.register(periodic.Periodic("screening.reconcile", lambda: 24 * 3600.0, _reconcile))
