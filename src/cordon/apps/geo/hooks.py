"""What the geo app contributes to the platform: the buildings figure of the jurisdiction roll-ups, the
jurisdiction and building record kinds of the audit pages, and the workers' recount of the kept roll-ups."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cordon.core import periodic, records, rollups
from cordon.core.roles import Cap

from . import actions, selectors

log = logging.getLogger("cordon.rollups")

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
periodic.register(
    periodic.Periodic(
        "geo.rollups_fast", lambda: float(settings.CORDON_TALLY_SECONDS), actions.refresh_fast_rollups
    )
)


def _reconcile() -> int:
    drift = actions.reconcile_rollups()
    for d in drift:
        log.warning(
            "kept roll-up %s of jurisdiction %s was %s, the source tables say %s: repaired",
            d.figure,
            d.jurisdiction_id,
            d.kept,
            d.actual,
        )
    return len(drift)


periodic.register(periodic.Periodic("geo.reconcile", lambda: 24 * 3600.0, _reconcile))
