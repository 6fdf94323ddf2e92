"""Tracing runs: a case's (or a batch of cases') scans and the scans around them from the scan store, the
engine (``cordon.engine.tracing``) with the households and work units of the people involved, then what it
found written case by case: contacts merged, risk venues replaced, the case's window and trace time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.venues.models import HUB_TYPES, Venue
from cordon.core.actions import action
from cordon.core.actors import Actor
from cordon.engine import tracing as engine
from cordon.engine.scanstore import days_holding

from .. import selectors
from ..models import Case, RiskVenue
from ..store import from_minutes, local_naive, scan_store, to_minutes
from .contacts import MergePlan, plan_merge, write_merge
from .evidence import EvidenceVenues, by_case
from .register import districts_of, read_register, residence_of


@dataclass(frozen=True)
class TraceResult:
    added: int
    updated: int
    total: int
    risk_venues: int
    window: tuple[dt.datetime, dt.datetime]

    def describe(self) -> str:
        return _(
            "%(added)d new candidates, %(updated)d known ones refreshed (%(total)d in all); "
            "%(risk)d risk venues."
        ) % {"added": self.added, "updated": self.updated, "total": self.total, "risk": self.risk_venues}


def _trajectory_visits(case: Case) -> list[engine.Visit]:
    return [
        engine.Visit(
            case_id=case.pk,
            venue_id=int(e.venue_id or 0),
            subarea=-1 if e.subarea is None else e.subarea,
            t_in=to_minutes(e.time_in),
            t_out=to_minutes(e.time_out),
        )
        for e in case.trajectory.filter(venue__isnull=False, from_scan=False)
    ]


@action(atomic=False)
def trace_case(*, actor: Actor | None, case: Case, source: str = "web") -> TraceResult:
    """Find the case's close and secondary contacts and risk-venue visitors and merge them into its
    contacts; mark the venues it visited as risk venues. Decisions already taken are never changed.

    Reads only what this case needs from the scan store (its own scans in its window, then every scan at
    those venues overlapping the window widened by the margin: only the part of a case stay inside the window
    counts, so no other scan can meet it), so it stays fast however large the store is.

    Not one transaction: reading the store and running the engine take seconds and write nothing, so they
    run outside any transaction (holding no write lock); what was found is then written in one transaction
    of its own (contacts, risk venues and the case's trace time together)."""
    start, end = selectors.exposure_window(case)
    pad = dt.timedelta(minutes=settings.CORDON_TRACE_MARGIN_MINUTES)
    store = scan_store()
    own = store.scans_of([case.person_id], local_naive(start), local_naive(end))
    trajectory = _trajectory_visits(case)
    venue_ids = {int(v) for v in own.column("venue_id").to_pylist()} | {v.venue_id for v in trajectory}
    around = (
        store.scans_at(sorted(venue_ids), local_naive(start - pad), local_naive(end + pad))
        if venue_ids
        else own
    )
    index = engine.ScanIndex.from_arrow(around)
    return _trace_with_index(actor, [case], {case.pk: (start, end)}, index, trajectory, source)[0]


@action(atomic=False)
def trace_cases(*, actor: Actor | None, cases: Sequence[Case], source: str = "web") -> list[TraceResult]:
    """Trace many cases at once (the demo, a morning's batch): one index over the scan store's days that can
    hold a scan overlapping the cases' windows (widened by the margin; ``days_holding``), one engine call for
    all of them.

    Not one transaction, for the reason ``trace_case`` gives: the engine runs first, outside any transaction,
    then each case's findings are written in a transaction of its own (a case traced is complete on its own)."""
    if not cases:
        return []
    windows = {c.pk: selectors.exposure_window(c) for c in cases}
    pad = dt.timedelta(minutes=settings.CORDON_TRACE_MARGIN_MINUTES)
    first, last = days_holding(
        local_naive(min(w[0] for w in windows.values()) - pad),
        local_naive(max(w[1] for w in windows.values()) + pad),
    )
    index = engine.ScanIndex.from_arrow(scan_store().read(first, last))
    trajectory = [v for c in cases for v in _trajectory_visits(c)]
    return _trace_with_index(actor, cases, windows, index, trajectory, source)


Window = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class _Found:
    """What one engine run found for a batch of cases, split by case and ready to be written."""

    pairs: dict[int, pa.Table]
    evidence: dict[int, pa.Table]
    no_pairs: pa.Table
    no_evidence: pa.Table
    venues: EvidenceVenues
    residence: dict[int, int]  # the jurisdiction of every contact still in the register
    districts: dict[int, int]  # the district of those jurisdictions


def _trace_with_index(
    actor: Actor | None,
    cases: Sequence[Case],
    windows: dict[int, Window],
    index: engine.ScanIndex,
    trajectory: list[engine.Visit],
    source: str,
) -> list[TraceResult]:
    found = _find(cases, windows, index, trajectory)
    return [_record(actor, case, windows[case.pk], index, found, source=source) for case in cases]


def _find(
    cases: Sequence[Case],
    windows: dict[int, Window],
    index: engine.ScanIndex,
    trajectory: list[engine.Visit],
) -> _Found:
    """Run the engine over the index (no writes): close contacts by co-presence first, then the households and
    units of everyone involved; the residence and district of every contact found."""
    case_windows = [
        engine.CaseWindow(
            case_id=c.pk,
            person_id=c.person_id,
            start=to_minutes(windows[c.pk][0]),
            end=to_minutes(windows[c.pk][1]),
        )
        for c in cases
    ]
    venue_ids = {int(v) for v in np.unique(index.scans.venue).tolist()} | {v.venue_id for v in trajectory}
    hubs = frozenset(
        Venue.objects.filter(pk__in=list(venue_ids), venue_type__in=list(HUB_TYPES)).values_list(
            "pk", flat=True
        )
    )

    def rules(secondary: bool) -> engine.Rules:
        return engine.Rules(
            margin_minutes=settings.CORDON_TRACE_MARGIN_MINUTES,
            hub_venues=hubs,
            hub_min_overlap_minutes=settings.CORDON_HUB_MIN_OVERLAP_MINUTES,
            min_overlap_minutes=settings.CORDON_MIN_OVERLAP_MINUTES,
            secondary=secondary,
        )

    pairs = engine.trace(index, case_windows, trajectory=trajectory, rules=rules(False)).pairs()
    close = {
        int(p)
        for p, d in zip(
            pairs.column("contact_id").to_pylist(), pairs.column("degree").to_pylist(), strict=True
        )
        if d == 1
    }
    register, known = read_register({c.person_id for c in cases} | close)
    result = engine.trace(index, case_windows, register=register, trajectory=trajectory, rules=rules(True))
    all_pairs, all_evidence = result.pairs(), result.evidence()
    contact_ids = np.unique(np.asarray(all_pairs.column("contact_id").to_numpy(zero_copy_only=False)))
    residence = residence_of(contact_ids.tolist(), known)
    return _Found(
        pairs=by_case(all_pairs),
        evidence=by_case(all_evidence),
        no_pairs=all_pairs.slice(0, 0),
        no_evidence=all_evidence.slice(0, 0),
        venues=EvidenceVenues(
            [
                int(v)
                for v in pa.compute.unique(all_evidence.column("venue_id").drop_null()).to_pylist()
                if v >= 0
            ]
        ),
        residence=residence,
        districts=districts_of(set(residence.values())),
    )


def _record(
    actor: Actor | None, case: Case, window: Window, index: engine.ScanIndex, found: _Found, *, source: str
) -> TraceResult:
    """Write what was found for one case in one transaction of its own (``_write``). What it will write is
    worked out first, outside the transaction (the contacts' evidence, which are new and which known ones
    changed: ``contacts.plan_merge``), so that on SQLite the write lock is held only for the writes."""
    own = index.visits_of(case.person_id, to_minutes(window[0]), to_minutes(window[1]))
    plan = plan_merge(
        case,
        found.pairs.get(case.pk, found.no_pairs),
        found.evidence.get(case.pk, found.no_evidence),
        found.venues,
        found.residence,
        found.districts,
    )
    return _write(actor, case, window, own, plan, source=source)


def _write(
    actor: Actor | None,
    case: Case,
    window: Window,
    own: engine.ScanArrays,
    plan: MergePlan | None,
    *,
    source: str,
) -> TraceResult:
    """The trace's write transaction: its contacts (audited; the plan made again inside when the case's
    contacts changed since it was made), its risk venues, its exposure window and the time it was traced
    (audited)."""
    with transaction.atomic():
        added, updated, total = write_merge(actor, case, plan, source=source)
        n_risk = _record_risk_venues(case, own, window)
        audit.change(
            actor,
            case,
            source=source,
            window_start=window[0],
            window_end=window[1],
            traced_at=timezone.now(),
        )
    return TraceResult(added, updated, total, n_risk, window)


def _record_risk_venues(case: Case, own: engine.ScanArrays, window: Window) -> int:
    """The venues of the case's stays in its window, each with the span of its visits inside the window (the
    engine's rule: only the part of a stay inside the window counts), replacing the case's earlier ones
    (derived from the scans on every trace, not judged: see ``RiskVenue.audit_policy``)."""
    w_start, w_end = to_minutes(window[0]), to_minutes(window[1])
    spans: dict[int, list[int]] = {}
    for v, a, b in zip(own.venue.tolist(), own.t_in.tolist(), own.t_out.tolist(), strict=True):
        t_in, t_out = max(a, w_start), min(b, w_end)
        span = spans.setdefault(int(v), [t_in, t_out, 0])
        span[0], span[1], span[2] = min(span[0], t_in), max(span[1], t_out), span[2] + 1
    known = set(Venue.objects.filter(pk__in=list(spans)).values_list("pk", flat=True))
    RiskVenue.objects.filter(case=case).delete()
    RiskVenue.objects.bulk_create(
        RiskVenue(case=case, venue_id=v, first_in=from_minutes(a), last_out=from_minutes(b), visits=n)
        for v, (a, b, n) in spans.items()
        if v in known
    )
    return len(known)
