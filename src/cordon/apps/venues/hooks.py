"""What the venues app contributes to the platform: the venues figure of the jurisdiction roll-ups and the
venue record kind of the audit pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cordon.core import records, rollups
from cordon.core.roles import Cap

from . import selectors

rollups.register(
    rollups.Figure("venues", _("Venues"), 40, Cap.VIEW_JURISDICTIONS, selectors.venues_by_jurisdiction)
)
records.register(records.RecordKind("venue", _("venue"), selectors.get_venue_for))
