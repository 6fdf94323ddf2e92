"""What the screening app plugs into the platform: its kinds of open item on the daily-zero board."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cordon.core import badges, openitems, rollups
from cordon.core.roles import Cap

from . import selectors

for key, label, order, count in (
    ("temporary_controls", _("Under temporary control"), 90, selectors.temporary_controls_by_district),
    ("resamples", _("Re-samples overdue"), 100, selectors.overdue_resamples_by_district),
):
    openitems.register(openitems.OpenItemKind(key, label, order, Cap.VIEW_SCREENING, count))

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
