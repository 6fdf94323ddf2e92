"""What the tracing app plugs into the platform: its kinds of open item on the daily-zero board, and tracing as a
background job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cordon.core import badges, jobs, openitems
from cordon.core.actors import Actor
from cordon.core.roles import Cap, caps_for

from . import actions, selectors

for key, label, order, count in (
    ("untraced", _("Cases not traced"), 10, selectors.untraced_by_district),
    ("to_judge", _("Contacts to judge"), 20, selectors.to_judge_by_district),
    ("linkage", _("Handovers to acknowledge"), 30, selectors.linkage_by_district),
):
    openitems.register(openitems.OpenItemKind(key, label, order, Cap.VIEW_CASES, count))


def _trace_case_job(
    progress: jobs.Progress, params: Mapping[str, Any], actor: Actor | None
) -> dict[str, Any]:
    """A trace run as a job: the case is read in the scope of whoever started it; the trace writes what it found
    in one transaction at its end (``actions.trace_case``), so a stop before then leaves nothing half-written."""
    if actor is None:
        raise ValidationError(_("A trace is started by a person."))
    case = selectors.get_case_for(actor, int(params["case_id"]))
    progress(0, 1, gettext("Tracing case %(case)s") % {"case": case})
    result = actions.trace_case(actor=actor, case=case, source="job")
    progress(1, 1)
    return {
        "summary": result.describe(),
        "link": reverse("tracing:case", args=[case.pk]),
        "added": result.added,
        "total": result.total,
    }


jobs.register(
    jobs.JobKind(
        name="tracing.trace_case",
        label=_("Trace a case's contacts"),
        run=_trace_case_job,
        may_start=lambda actor: bool(Cap.TRACE in caps_for(actor.role)),
    )
)


badges.register(
    badges.Badge(
        "linkage",
        _("%(n)d contacts from other districts to acknowledge"),
        Cap.RECEIVE_LINKAGE,
        lambda user: selectors.linkage_inbox(user, pending_only=True).count(),
        order=20,
    )
)
badges.register(
    badges.Badge(
        "cases",
        _("%(n)d cases reported in your area today"),
        Cap.VIEW_CASES,
        lambda user: selectors.cases_reported_today(user),
        order=10,
    )
)
