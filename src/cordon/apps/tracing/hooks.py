"""What the tracing app plugs into the platform: its kinds of open item on the daily-zero board."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cordon.core import openitems
from cordon.core.roles import Cap

from . import selectors

for key, label, order, count in (
    ("untraced", _("Cases not traced"), 10, selectors.untraced_by_district),
    ("to_judge", _("Contacts to judge"), 20, selectors.to_judge_by_district),
    ("linkage", _("Handovers to acknowledge"), 30, selectors.linkage_by_district),
):
    openitems.register(openitems.OpenItemKind(key, label, order, Cap.VIEW_CASES, count))
