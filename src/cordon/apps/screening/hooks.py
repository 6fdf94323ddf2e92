"""What the screening app plugs into the platform: its kinds of open item on the daily-zero board."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cordon.core import badges, openitems
from cordon.core.roles import Cap

from . import selectors

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

badges.register(
    badges.Badge(
        "positives",
        _("%(n)d people of positive pools under temporary control"),
        Cap.VIEW_SCREENING,
        lambda user: selectors.temporary_controls(user).count(),
        order=40,
    )
)
