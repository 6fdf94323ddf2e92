"""What the geo app contributes to the platform: the buildings figure of the jurisdiction roll-ups, the
jurisdiction and building record kinds of the audit pages, and the workers' recount of the kept roll-ups."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cordon.core import periodic, records, rollups
from cordon.core.roles import Cap

from . import actions, selectors

rollups.register(
    rollups.Figure(
        "buildings", _("Buildings"), 30, Cap.VIEW_JURISDICTIONS, selectors.buildings_by_jurisdiction
    )
)
records.register(records.RecordKind("jurisdiction", _("jurisdiction"), selectors.get_jurisdiction_for))
records.register(records.RecordKind("building", _("building"), selectors.get_building_for))
periodic.register(
    periodic.Periodic("geo.rollups", lambda: float(settings.CORDON_ROLLUP_SECONDS), actions.refresh_rollups)
)
