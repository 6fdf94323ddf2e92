"""What the zones app plugs into the platform: the reaction to a new case (its zones' clocks reset, escalation
proposed), the daily rule evaluation (a job kind and a periodic task: proposals only, nothing lifts on its own),
its open items (zones to decide, guarded zones lapsing), the kept count of the zones in force per kind, the
zone record kind of the audit pages, and the zone kind shown beside a person (``core.personmarks``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cordon.apps.tracing.events import CaseReported
from cordon.core import events, jobs, openitems, periodic, personmarks, records, rollups
from cordon.core.actors import Actor
from cordon.core.roles import Cap, caps_for

from . import actions, maps, selectors
from .models import Kind


@events.subscribe(CaseReported)
def zones_see_the_case(event: CaseReported) -> None:
    actions.case_found(actor=event.actor, case=event.case, source=event.source)


openitems.register(
    openitems.OpenItemKind(
        "zones_to_decide",
        _("Zones to decide"),
        110,
        Cap.VIEW_CONTROL,
        selectors.to_decide_by_district,
        selectors.to_decide_placed,
    )
)
openitems.register(
    openitems.OpenItemKind(
        "zones_guard_lapsing",
        _("Guarded zones lapsing"),
        120,
        Cap.VIEW_CONTROL,
        selectors.guard_lapsing_by_district,
        selectors.guard_lapsing_placed,
    )
)
records.register(records.RecordKind("zone", _("zone"), selectors.get_zone_for))
# The zones in force per kind at every node (the commanders' headline), recounted every few seconds: each node's
# own total, a zone over two districts once (not summed up the tree).
rollups.register_group(
    rollups.Group(
        selectors.IN_FORCE,
        tuple(selectors.IN_FORCE_FIGURES.values()),
        Cap.VIEW_CONTROL,
        selectors.in_force_by_node,
        fast=True,
        summed=False,
        depth=rollups.HEADLINE_DEPTH,
    )
)


def _evaluate_job(progress: jobs.Progress, params: Mapping[str, Any], actor: Actor | None) -> dict[str, Any]:
    progress(0, 1, gettext("Evaluating every zone against the rules in force"))
    # The rules propose for every zone of the city, as the hourly evaluation does: the proposals are the
    # system's, not the starter's (a district commander asking for it proposes nothing for another district);
    # the job's row says who asked for it.
    result = actions.evaluate_zones(actor=None, source="job")
    progress(1, 1)
    return {
        "summary": gettext("%(z)s zones evaluated: %(p)s transitions proposed, %(h)s waiting for a round.")
        % {"z": result.zones, "p": result.proposed, "h": result.held},
        "link": reverse("zones:proposals"),
    }


jobs.register(
    jobs.JobKind(
        name="zones.evaluate",
        label=_("Evaluate the zones against the rules"),
        run=_evaluate_job,
        may_start=lambda actor: Cap.MANAGE_ZONES in caps_for(actor.role),
    )
)


def _daily() -> object:
    return actions.evaluate_zones(actor=None, source="job")


periodic.register(
    periodic.Periodic("zones.evaluate", lambda: float(settings.CORDON_ZONE_EVALUATE_SECONDS), _daily)
)
periodic.register(
    periodic.Periodic(
        "zones.map_warm", lambda: float(settings.CORDON_ZONE_MAP_WARM_SECONDS), maps.warm_whole_areas
    )
)


def _person_zone_kinds(user: Actor, person_ids: Sequence[int]) -> dict[int, str]:
    return {
        pk: str(Kind(kind).label) for pk, kind in selectors.zone_kinds_of_persons(user, person_ids).items()
    }


personmarks.register(personmarks.PersonMark("zone", _("Zone"), _person_zone_kinds))
