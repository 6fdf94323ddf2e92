"""What the geo app contributes to the platform: the buildings figure of the jurisdiction roll-ups, the
jurisdiction and building record kinds of the audit pages, and the workers' recount of the kept roll-ups."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cordon.core import jobs, periodic, records, rollups
from cordon.core.actors import Actor
from cordon.core.roles import Cap, caps_for

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


# The jurisdictions' outlines for the maps: recomputed from the buildings every night (at a worker's start, then
# every 24 hours), after an import of buildings (the import job), by the demo load, and on demand (a job).
periodic.register(
    periodic.Periodic(
        "geo.outlines", lambda: float(settings.CORDON_OUTLINE_SECONDS), actions.refresh_outlines
    )
)


def _outlines_job(progress: jobs.Progress, params: Mapping[str, Any], actor: Actor | None) -> dict[str, Any]:
    progress(0, 1, gettext("Outlining every district, street, community and grid from its buildings"))
    n = actions.refresh_outlines()
    progress(1, 1)
    return {"summary": gettext("%(n)s outlines computed.") % {"n": n}}


jobs.register(
    jobs.JobKind(
        name="geo.outlines",
        label=_("Recompute the jurisdictions' outlines"),
        run=_outlines_job,
        may_start=lambda actor: Cap.IMPORT in caps_for(actor.role) or Cap.ADMIN in caps_for(actor.role),
    )
)
