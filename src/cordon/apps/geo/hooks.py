"""What the geo app contributes to the platform: the buildings figure of the jurisdiction roll-ups and the
jurisdiction and building record kinds of the audit pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cordon.core import records, rollups
from cordon.core.roles import Cap

from . import selectors

rollups.register(
    rollups.Figure(
        "buildings", _("Buildings"), 30, Cap.VIEW_JURISDICTIONS, selectors.buildings_by_jurisdiction
    )
)
records.register(records.RecordKind("jurisdiction", _("jurisdiction"), selectors.get_jurisdiction_for))
records.register(records.RecordKind("building", _("building"), selectors.get_building_for))
