"""What the tracing app plugs into the platform: its kinds of open item on the daily-zero board, and two kinds of
background job: tracing a case (or every case not traced yet), and loading an uploaded batch of check-in
scans."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from cordon.core import badges, jobs, openitems, rollups, uploads
from cordon.core.actors import Actor
from cordon.core.roles import Cap, caps_for
from cordon.engine.scanstore import IngestReport

from . import actions, selectors
from .scanwords import scan_error, scan_reason

for key, label, order, count, placed in (
    ("untraced", _("Cases not traced"), 10, selectors.untraced_by_district, selectors.untraced_placed),
    ("to_judge", _("Contacts to judge"), 20, selectors.to_judge_by_district, selectors.to_judge_placed),
    ("linkage", _("Handovers to acknowledge"), 30, selectors.linkage_by_district, selectors.linkage_placed),
):
    openitems.register(openitems.OpenItemKind(key, label, order, Cap.VIEW_CASES, count, placed))


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
        "updated": result.updated,
        "total": result.total,
        "risk_venues": result.risk_venues,
    }


INGEST_SCANS = "tracing.ingest_scans"
TRACE_CASE = "tracing.trace_case"
TRACE_UNTRACED = "tracing.trace_untraced"
BATCH = 20  # cases traced together: one read of the scan store and one engine call each


def _trace_untraced_job(
    progress: jobs.Progress, params: Mapping[str, Any], actor: Actor | None
) -> dict[str, Any]:
    """Trace every case in the starter's territory not traced yet (the board's "cases not traced"), in batches
    of ``BATCH`` (``actions.trace_cases``: the engine outside any transaction, then each case's findings in a
    transaction of its own), so a stop between two batches leaves every case either traced whole or untouched.
    The cases are listed when the job starts; one traced meanwhile by someone else is not traced again."""
    if actor is None:
        raise ValidationError(_("A trace is started by a person."))
    ids = list(selectors.untraced_cases(actor).values_list("pk", flat=True))
    total, traced, added, updated = len(ids), 0, 0, 0
    for start in range(0, total, BATCH):
        progress(start, total, gettext("Tracing cases %(first)d to %(last)d of %(total)d")
                 % {"first": start + 1, "last": min(start + BATCH, total), "total": total})  # fmt: skip
        cases = list(selectors.untraced_cases(actor).filter(pk__in=ids[start : start + BATCH]))
        for result in actions.trace_cases(actor=actor, cases=cases, source="job"):
            traced, added, updated = traced + 1, added + result.added, updated + result.updated
    progress(total, total)
    if not total:
        summary = gettext("Every case in your area was already traced.")
    else:
        summary = ngettext(
            "%(n)d case traced: %(added)d new candidates, %(updated)d known ones refreshed.",
            "%(n)d cases traced: %(added)d new candidates, %(updated)d known ones refreshed.",
            traced,
        ) % {"n": traced, "added": added, "updated": updated}
    return {
        "summary": summary,
        "link": reverse("tracing:cases"),
        "traced": traced,
        "added": added,
        "updated": updated,
    }


def _ingest_summary(report: IngestReport, filename: str) -> str:
    """What a scan-loading job did, in the starter's language (the store's own report is English)."""
    if report.already_ingested:
        return gettext("%(file)s was already loaded; nothing was read or added.") % {"file": filename}
    parts = [
        gettext("%(a)s new scans of %(r)s rows read; %(d)s already in the store.")
        % {"a": intcomma(report.added), "r": intcomma(report.rows_read), "d": intcomma(report.duplicates)}
    ]
    if report.rejected:
        reasons = "; ".join(f"{scan_reason(r)}: {intcomma(n)}" for r, n in report.rejected.items())
        rows = ", ".join(f"{gettext('row')} {row} ({scan_reason(r)})" for row, r in report.examples)
        parts += [
            f"{gettext('Skipped rows, by reason:')} {reasons}",
            f"{gettext('First skipped rows:')} {rows}",
        ]
    return "\n".join(parts)


def _ingest_scans_job(
    progress: jobs.Progress, params: Mapping[str, Any], actor: Actor | None
) -> dict[str, Any]:
    """Load an uploaded batch of scans (``actions.ingest_scans``): the store writes a date at a time and takes
    a stopped batch's files out again, and records the batch only once it is whole. Progress is per date
    written. The file is deleted when the job ends (the kind's ``cleanup``)."""
    filename = str(params.get("filename", ""))
    progress(0, None, gettext("Reading and checking %(file)s") % {"file": filename})

    def dates(done: int, total: int) -> None:
        progress(done, total, gettext("Writing the scans of %(total)d dates") % {"total": total})

    try:
        with uploads.local_copy(params) as path:
            report = actions.ingest_scans(
                actor=actor,
                source_file=path,
                filename=filename,
                fmt=params.get("fmt"),
                source="job",
                progress=dates,
            )
    except ValueError as exc:  # the store refused the whole file: nothing was loaded, no batch recorded
        raise ValidationError(scan_error(exc, filename)) from None
    return {
        "summary": _ingest_summary(report, filename),
        "link": reverse("tracing:scans"),
        "rows_read": report.rows_read,
        "added": report.added,
        "duplicates": report.duplicates,
        "rejected": dict(report.rejected),
    }


jobs.register(
    jobs.JobKind(
        name=INGEST_SCANS,
        label=_("Load check-in scans"),
        run=_ingest_scans_job,
        may_start=lambda actor: bool(Cap.INGEST_SCANS in caps_for(actor.role)),
        cleanup=uploads.discard_upload,
    )
)

jobs.register(
    jobs.JobKind(
        name=TRACE_CASE,
        label=_("Trace a case's contacts"),
        run=_trace_case_job,
        may_start=lambda actor: bool(Cap.TRACE in caps_for(actor.role)),
    )
)

jobs.register(
    jobs.JobKind(
        name=TRACE_UNTRACED,
        label=_("Trace every case not traced yet"),
        run=_trace_untraced_job,
        may_start=lambda actor: bool(Cap.TRACE in caps_for(actor.role)),
    )
)


rollups.register_group(
    rollups.Group(
        selectors.LINKAGE_PENDING,
        (selectors.LINKAGE_PENDING,),
        Cap.RECEIVE_LINKAGE,
        selectors.pending_linkage_by_jurisdiction,
        fast=True,
    )
)
rollups.register_group(
    rollups.Group(
        selectors.CASES_TODAY,
        (selectors.CASES_TODAY,),
        Cap.VIEW_CASES,
        selectors.cases_today_by_jurisdiction,
        fast=True,
        daily=True,
    )
)
badges.register(
    badges.Badge(
        "linkage",
        _("%(n)d contacts from other districts to acknowledge"),
        Cap.RECEIVE_LINKAGE,
        selectors.linkage_badge,
        order=20,
    )
)
badges.register(
    badges.Badge(
        "cases",
        _("%(n)d cases reported in your area today"),
        Cap.VIEW_CASES,
        selectors.cases_today_badge,
        order=10,
    )
)
