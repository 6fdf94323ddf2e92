"""What grid management plugs into the platform: missed patrols, a kind of open item on the daily-zero board
(kept counts included)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cordon.core import openitems
from cordon.core.roles import Cap

from . import selectors

openitems.register(
    openitems.OpenItemKind(
        "missed_patrols",
        _("Patrols missed"),
        130,
        Cap.VIEW_POSTS,
        selectors.missed_by_district,
        selectors.missed_placed,
    )
)
