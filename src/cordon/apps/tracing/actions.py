"""Every write of case management and tracing goes through here (one transaction each, audited).

Tracing a case (``trace_case``) reads the case's scans and the scans at the venues it visited from the scan
store, hands them to the engine (``cordon.engine.tracing``) with the households and work units of the people
involved, and merges the result into the case's contacts: new candidates are added, evidence of known ones is
refreshed, and no decision is ever changed by tracing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import Jurisdiction
from cordon.apps.people.models import Person
from cordon.apps.venues.models import HUB_TYPES, Venue
from cordon.engine import tracing as engine
from cordon.engine.scanstore import IngestReport

from .models import (
    Case,
    Classification,
    Cluster,
    Contact,
    ContactType,
    Control,
    Decision,
    Degree,
    FoundBy,
    Investigation,
    Linkage,
    RiskVenue,
    ScanBatch,
    TrajectoryEntry,
    TrajectoryKind,
)
from .store import from_minutes, local_naive, register_resolver, scan_store, to_minutes

EVIDENCE_PER_CONTACT = 5


@cache
def _profile_days_before() -> int:
    from cordon.engine.sim import load_profile

    return int(load_profile(settings.CORDON_PATHOGEN_PROFILE).exposure_window_days_before_onset)


def district_of(node: Jurisdiction) -> Jurisdiction:
    """The district (second level of the tree) a jurisdiction lies in; the node itself above that level."""
    codes = [c for c in node.path.split("/") if c]
    if len(codes) <= 2:
        return node
    return Jurisdiction.objects.get(code=codes[1])


# --- Cases ---------------------------------------------------------------------------------------------


@dataclass
class CaseData:
    person: Person | None
    sampled_at: dt.datetime | None
    found_by: str
    classification: str = Classification.CONFIRMED
    onset_date: dt.date | None = None
    reported_at: dt.datetime | None = None
    control: str = Control.COMMUNITY
    isolated_at: dt.datetime | None = None
    code: str = ""


def clean_case(data: CaseData, *, now: dt.datetime | None = None) -> dict[str, str]:
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if data.person is None:
        errors["person"] = _("A person from the register is required.")
    if data.classification not in Classification.values:
        errors["classification"] = _("Unknown classification.")
    if data.found_by not in FoundBy.values:
        errors["found_by"] = _("Say how the case was found.")
    if data.control not in Control.values:
        errors["control"] = _("Unknown place of finding.")
    reported = data.reported_at or now
    if data.sampled_at is None:
        errors["sampled_at"] = _("The time of the first positive sample is required.")
    elif data.sampled_at > reported:
        errors["sampled_at"] = _("The sample cannot be taken after the report.")
    if reported > now + dt.timedelta(minutes=5):
        errors["reported_at"] = _("The report time is in the future.")
    if data.classification == Classification.ASYMPTOMATIC and data.onset_date is not None:
        errors["onset_date"] = _("An asymptomatic infection has no onset date.")
    if data.classification == Classification.CONFIRMED and data.onset_date is None:
        errors["onset_date"] = _(
            "A confirmed case needs an onset date (without symptoms it is asymptomatic)."
        )
    if data.onset_date is not None and data.onset_date > timezone.localtime(reported).date():
        errors["onset_date"] = _("The onset date is after the report.")
    if data.isolated_at is not None and data.isolated_at > reported + dt.timedelta(days=1):
        errors["isolated_at"] = _("Isolation cannot start more than a day after the report.")
    if data.person is not None and "person" not in errors:
        existing = Case.objects.filter(person=data.person).values_list("code", flat=True).first()
        if existing:
            errors["person"] = _("This person is already case %(code)s.") % {"code": existing}
    if data.code and Case.objects.filter(code=data.code).exists():
        errors["code"] = _("This case number is already used.")
    return errors


def _next_code(district: Jurisdiction, day: dt.date) -> str:
    prefix = f"{district.code}-{day:%Y%m%d}-"
    n = Case.objects.filter(code__startswith=prefix).count() + 1
    while Case.objects.filter(code=f"{prefix}{n:04d}").exists():
        n += 1
    return f"{prefix}{n:04d}"


@transaction.atomic
def report_case(*, actor: Any, data: CaseData, source: str = "web") -> Case:
    errors = clean_case(data)
    if errors:
        raise ValidationError(errors)
    person = data.person
    assert person is not None and data.sampled_at is not None
    reported = data.reported_at or timezone.now()
    district = district_of(person.jurisdiction)
    case = Case.objects.create(
        code=data.code or _next_code(district, timezone.localtime(reported).date()),
        person=person,
        classification=data.classification,
        onset_date=data.onset_date,
        sampled_at=data.sampled_at,
        reported_at=reported,
        found_by=data.found_by,
        control=data.control,
        isolated_at=data.isolated_at,
        jurisdiction=person.jurisdiction,
        district=district,
        workplace=person.workplace,
        source=source,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    Investigation.objects.create(
        case=case,
        investigator=actor if getattr(actor, "pk", None) else None,
        started_at=timezone.now(),
    )
    audit.record_create(actor, case, source=source)
    return case


def exposure_window(case: Case, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """From the profile's days before onset (or before the first positive sample for an asymptomatic
    infection) until isolation (or the report, when the case was not isolated before it)."""
    onset = dt.datetime.combine(case.onset_date, dt.time()) if case.onset_date else None
    end = case.isolated_at or case.reported_at
    start, stop = engine.exposure_window(
        onset=onset,
        first_positive_sample=None if onset else local_naive(case.sampled_at),
        isolated_at=local_naive(end),
        days_before=_profile_days_before(),
        now=local_naive(now or timezone.now()),
    )
    return timezone.make_aware(start), timezone.make_aware(stop)


# --- Investigation and trajectory --------------------------------------------------------------------


@dataclass
class TrajectoryData:
    time_in: dt.datetime | None
    time_out: dt.datetime | None
    kind: str = TrajectoryKind.VENUE
    venue: Venue | None = None
    subarea: int | None = None
    place: str = ""
    address: str = ""


def clean_trajectory(data: TrajectoryData) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.kind not in TrajectoryKind.values:
        errors["kind"] = _("Unknown kind of entry.")
    if data.time_in is None:
        errors["time_in"] = _("A start time is required.")
    if data.time_out is None:
        errors["time_out"] = _("An end time is required.")
    if data.time_in and data.time_out:
        if data.time_out < data.time_in:
            errors["time_out"] = _("The end is before the start.")
        elif data.time_out - data.time_in > dt.timedelta(hours=24):
            errors["time_out"] = _("An entry covers at most 24 hours; split longer stays.")
    if data.kind == TrajectoryKind.VENUE and data.venue is None:
        errors["venue"] = _("Choose the venue (place code), or record it as another place.")
    if data.kind != TrajectoryKind.VENUE and not (data.place or "").strip():
        errors["place"] = _("Describe the place or the trip.")
    if (
        data.venue is not None
        and data.subarea is not None
        and not 0 <= data.subarea < max(len(data.venue.sub_areas), 1)
    ):
        errors["subarea"] = _("This venue has no such sub-area.")
    return errors


@transaction.atomic
def add_trajectory_entry(
    *, actor: Any, case: Case, data: TrajectoryData, source: str = "web"
) -> TrajectoryEntry:
    errors = clean_trajectory(data)
    if errors:
        raise ValidationError(errors)
    assert data.time_in is not None and data.time_out is not None
    entry = TrajectoryEntry.objects.create(
        case=case,
        kind=data.kind,
        venue=data.venue,
        subarea=data.subarea,
        place=(data.place or "").strip()[:200],
        address=(data.address or (data.venue.building.address if data.venue and data.venue.building else ""))[
            :200
        ],
        time_in=data.time_in,
        time_out=data.time_out,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record_create(actor, entry, source=source)
    return entry


@transaction.atomic
def delete_trajectory_entry(*, actor: Any, entry: TrajectoryEntry, source: str = "web") -> None:
    audit.record_delete(actor, entry, source=source)
    entry.delete()


@transaction.atomic
def autofill_trajectory(*, actor: Any, case: Case, source: str = "web") -> int:
    """Add the person's check-in scans within the exposure window as trajectory entries (once each)."""
    start, end = exposure_window(case)
    scans = scan_store().scans_of([case.person_id], local_naive(start), local_naive(end))
    if scans.num_rows == 0:
        return 0
    venues = Venue.objects.in_bulk([int(v) for v in set(scans.column("venue_id").to_pylist())])
    have = {(e.venue_id, e.time_in) for e in case.trajectory.filter(venue__isnull=False)}
    added: list[TrajectoryEntry] = []
    for row in scans.to_pylist():
        venue = venues.get(int(row["venue_id"]))
        if venue is None:
            continue
        time_in = timezone.make_aware(row["time_in"])
        if (venue.pk, time_in) in have:
            continue
        have.add((venue.pk, time_in))
        added.append(
            TrajectoryEntry(
                case=case,
                kind=TrajectoryKind.VENUE,
                venue=venue,
                subarea=row["subarea"],
                address=venue.building.address if venue.building else "",
                time_in=time_in,
                time_out=timezone.make_aware(row["time_out"]),
                from_scan=True,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
        )
    TrajectoryEntry.objects.bulk_create(added)
    if added:
        inv = _investigation(case)
        before = audit.snapshot(inv)
        inv.notes = (inv.notes + "\n" if inv.notes else "") + _(
            "%(n)d visits filled in from check-in scans."
        ) % {"n": len(added)}
        inv.save()
        audit.record_update(actor, inv, before, source=source)
    return len(added)


def _investigation(case: Case) -> Investigation:
    inv, _created = Investigation.objects.get_or_create(case=case)
    return inv


@transaction.atomic
def update_investigation(
    *, actor: Any, case: Case, notes: str | None = None, complete: bool | None = None, source: str = "web"
) -> Investigation:
    inv = _investigation(case)
    before = audit.snapshot(inv)
    if notes is not None:
        inv.notes = notes.strip()
    if complete is True and inv.completed_at is None:
        inv.completed_at = timezone.now()
    elif complete is False:
        inv.completed_at = None
    if inv.investigator_id is None and getattr(actor, "pk", None):
        inv.investigator = actor
    inv.save()
    audit.record_update(actor, inv, before, source=source)
    return inv


# --- Tracing -----------------------------------------------------------------------------------------


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


_TYPE_RANK: dict[str, int] = {
    ContactType.HOUSEHOLD: 0,
    ContactType.WORK_UNIT: 1,
    ContactType.VENUE: 2,
    ContactType.TRAJECTORY: 3,
    ContactType.SECONDARY_HOUSEHOLD: 4,
    ContactType.SECONDARY_WORK_UNIT: 5,
    ContactType.RISK_VENUE: 6,
}
_DEGREE_RANK = {1: 0, 2: 1, 0: 2}


def _chunks(values: list[int], size: int = 5000) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


# A register row as tracing needs it: id, household, workplace, work unit, residence (jurisdiction).
_PersonRow = tuple[int, int | None, int | None, str, int]
_PERSON_FIELDS = ("pk", "household_id", "workplace_id", "work_unit", "jurisdiction_id")


def _person_rows(where: str, values: list[Any]) -> list[_PersonRow]:
    """Register rows by ids (``where="id"``), by households (``"household"``) or by (workplace, work unit) pairs
    (``"unit"``). On PostgreSQL one query with arrays (``= ANY``, ``unnest``): the thousands of ``IN``
    placeholders of a large case cost more to build than to run; elsewhere ``IN`` lists in chunks."""
    if not values:
        return []
    if connection.vendor == "postgresql":
        table = Person._meta.db_table
        cols = "p.id, p.household_id, p.workplace_id, p.work_unit, p.jurisdiction_id"
        if where == "unit":
            sql = (
                f"SELECT {cols} FROM {table} p JOIN unnest(%s::bigint[], %s::text[]) AS u(w, n) "
                "ON p.workplace_id = u.w AND p.work_unit = u.n ORDER BY p.id"
            )
            params: list[Any] = [[w for w, _n in values], [n for _w, n in values]]
        else:
            column = "household_id" if where == "household" else "id"
            sql = f"SELECT {cols} FROM {table} p WHERE p.{column} = ANY(%s) ORDER BY p.id"
            params = [values]
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    out: list[_PersonRow] = []
    if where == "unit":
        units = set(values)
        for part in _chunks(sorted({w for w, _n in units})):
            rows = (
                Person.objects.filter(workplace_id__in=part)
                .exclude(work_unit="")
                .values_list(*_PERSON_FIELDS)
            )
            out += [r for r in rows if (r[2], r[3]) in units]
        return out
    lookup = "household_id__in" if where == "household" else "pk__in"
    for part in _chunks(values):
        out += Person.objects.filter(**{lookup: part}).values_list(*_PERSON_FIELDS)
    return out


def _register(person_ids: Iterable[int]) -> tuple[engine.Register, dict[int, int]]:
    """Households and work units of the given persons and of everyone sharing one with them (plain rows, not
    model instances: a large case's close contacts bring a hundred thousand household and unit members), and
    the residence (jurisdiction id) of everyone read, so that the contacts found need no second lookup."""
    found: dict[int, tuple[int | None, int | None, str]] = {}
    residence: dict[int, int] = {}

    def add(rows: list[_PersonRow]) -> None:
        for pk, hh, w, u, j in rows:
            found[pk] = (hh, w, u)
            residence[pk] = j

    add(_person_rows("id", sorted(set(person_ids))))
    households = {hh for hh, _w, _u in found.values() if hh}
    units = {(w, u) for _hh, w, u in found.values() if w and u}
    add(_person_rows("household", sorted(households)))
    add(_person_rows("unit", sorted(units)))
    unit_ids: dict[tuple[int, str], int] = {}
    pid = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
    hh = np.fromiter((h or -1 for h, _w, _u in found.values()), dtype=np.int64, count=len(found))
    unit = np.fromiter(
        (unit_ids.setdefault((w, u), len(unit_ids)) if w and u else -1 for _h, w, u in found.values()),
        dtype=np.int64,
        count=len(found),
    )
    return engine.Register(person_id=pid, household_id=hh, unit_id=unit), residence


def _residence(person_ids: list[int], known: dict[int, int]) -> dict[int, int]:
    """The residence (jurisdiction id) of each of the persons still in the register: from ``known`` (the
    register read for tracing: the close and secondary contacts), one lookup for the others (the risk-venue
    visitors)."""
    out = {p: known[p] for p in person_ids if p in known}
    missing = [p for p in person_ids if p not in known]
    out.update((pk, j) for pk, _hh, _w, _u, j in _person_rows("id", missing))
    return out


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


def trace_case(*, actor: Any, case: Case, source: str = "web") -> TraceResult:
    """Find the case's close and secondary contacts and risk-venue visitors and merge them into its
    contacts; mark the venues it visited as risk venues. Decisions already taken are never changed.

    Reads only what this case needs from the scan store (its own scans, then every scan at those venues in
    its window), so it stays fast however large the store is."""
    start, end = exposure_window(case)
    margin = settings.CORDON_TRACE_MARGIN_MINUTES
    store = scan_store()
    own = store.scans_of([case.person_id], local_naive(start), local_naive(end))
    trajectory = _trajectory_visits(case)
    venue_ids = {int(v) for v in own.column("venue_id").to_pylist()} | {v.venue_id for v in trajectory}
    pad = dt.timedelta(minutes=margin)
    start_q = min([start] + [from_minutes(v.t_in) for v in trajectory])
    end_q = max([end] + [from_minutes(v.t_out) for v in trajectory])
    around = (
        store.scans_at(sorted(venue_ids), local_naive(start_q - pad), local_naive(end_q + pad))
        if venue_ids
        else own
    )
    index = engine.ScanIndex.from_arrow(around)
    return _trace_with_index(actor, [case], {case.pk: (start, end)}, index, trajectory, source)[0]


def trace_cases(*, actor: Any, cases: Sequence[Case], source: str = "web") -> list[TraceResult]:
    """Trace many cases at once (the demo, a morning's batch): one index over the scan store's days that the
    cases' windows cover, one engine call for all of them."""
    if not cases:
        return []
    windows = {c.pk: exposure_window(c) for c in cases}
    first = min(w[0] for w in windows.values()).date() - dt.timedelta(days=1)
    last = max(w[1] for w in windows.values()).date()
    index = engine.ScanIndex.from_arrow(scan_store().read(first, last))
    trajectory = [v for c in cases for v in _trajectory_visits(c)]
    return _trace_with_index(actor, cases, windows, index, trajectory, source)


def _trace_with_index(
    actor: Any,
    cases: Sequence[Case],
    windows: dict[int, tuple[dt.datetime, dt.datetime]],
    index: engine.ScanIndex,
    trajectory: list[engine.Visit],
    source: str,
) -> list[TraceResult]:
    margin = settings.CORDON_TRACE_MARGIN_MINUTES
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
            margin_minutes=margin,
            hub_venues=hubs,
            hub_min_overlap_minutes=settings.CORDON_HUB_MIN_OVERLAP_MINUTES,
            min_overlap_minutes=settings.CORDON_MIN_OVERLAP_MINUTES,
            secondary=secondary,
        )

    # Close contacts by co-presence first; then the households and units of everyone involved.
    pairs = engine.trace(index, case_windows, trajectory=trajectory, rules=rules(False)).pairs()
    close = {
        int(p)
        for p, d in zip(
            pairs.column("contact_id").to_pylist(), pairs.column("degree").to_pylist(), strict=True
        )
        if d == 1
    }
    register, known = _register({c.person_id for c in cases} | close)
    found = engine.trace(index, case_windows, register=register, trajectory=trajectory, rules=rules(True))
    all_pairs, all_evidence = found.pairs(), found.evidence()
    contact_ids = np.unique(np.asarray(all_pairs.column("contact_id").to_numpy(zero_copy_only=False)))
    residence = _residence(contact_ids.tolist(), known)
    districts = _districts(set(residence.values()))
    pairs_of, evidence_of = _by_case(all_pairs), _by_case(all_evidence)
    empty_pairs, empty_evidence = all_pairs.slice(0, 0), all_evidence.slice(0, 0)
    venues = _EvidenceVenues(
        [int(v) for v in pa.compute.unique(all_evidence.column("venue_id").drop_null()).to_pylist() if v >= 0]
    )
    results = []
    for case in cases:
        added, updated, total = _merge_contacts(
            case,
            pairs_of.get(case.pk, empty_pairs),
            evidence_of.get(case.pk, empty_evidence),
            venues,
            residence,
            districts,
        )
        w = windows[case.pk]
        own = index.visits_of(case.person_id, to_minutes(w[0]), to_minutes(w[1]))
        n_risk = _record_risk_venues(case, own)
        with transaction.atomic():
            before = audit.snapshot(case)
            case.window_start, case.window_end, case.traced_at = w[0], w[1], timezone.now()
            case.save(update_fields=["window_start", "window_end", "traced_at"])
            audit.record_update(actor, case, before, source=source)
        results.append(TraceResult(added, updated, total, n_risk, w))
    return results


def _by_case(table: pa.Table) -> dict[int, pa.Table]:
    """The table's rows split by case (one sort, then slices; not one scan of the table per case)."""
    if table.num_rows == 0:
        return {}
    case = np.asarray(table.column("case_id").to_numpy(zero_copy_only=False), dtype=np.int64)
    order = np.argsort(case, kind="stable")
    table, case = table.take(pa.array(order)), case[order]
    starts = np.r_[0, np.flatnonzero(case[1:] != case[:-1]) + 1, len(case)]
    return {int(case[a]): table.slice(int(a), int(b - a)) for a, b in itertools.pairwise(starts)}


class _EvidenceVenues:
    """The venues named by evidence, each with the JSON text of its part of an evidence row (venue, name,
    place code, sub-area name), made once per venue and sub-area."""

    def __init__(self, venue_ids: list[int]) -> None:
        self._venues: dict[int, tuple[str, str, list[Any]]] = {}
        for part in _chunks(venue_ids):
            rows = Venue.objects.filter(pk__in=part).values_list("pk", "name", "code", "sub_areas")
            self._venues.update((pk, (name, code, subs or [])) for pk, name, code, subs in rows)
        self._text: dict[tuple[int, int | None], str | None] = {}

    def text(self, venue_id: int, sub: int | None) -> str | None:
        """``, "venue": .., "venue_name": .., "venue_code": .., "subarea": ..`` (the sub-area's name, empty
        when not known), or None for a venue no longer in the register."""
        key = (venue_id, sub)
        if key not in self._text:
            venue = self._venues.get(venue_id)
            if venue is None:
                self._text[key] = None
            else:
                name, code, subs = venue
                subarea = subs[sub] if sub is not None and 0 <= sub < len(subs) else ""
                self._text[key] = (
                    f', "venue": {venue_id}, "venue_name": {json.dumps(name)}, '
                    f'"venue_code": {json.dumps(code)}, "subarea": {json.dumps(subarea)}'
                )
        return self._text[key]


def _evidence_json(evidence: pa.Table, venues: _EvidenceVenues) -> dict[int, str]:
    """Each contact's evidence as the JSON text of a list: its longest shared stays first, at most
    EVIDENCE_PER_CONTACT, each ``{"type", "via" (through a close contact), and at a venue of the register
    "venue", "venue_name", "venue_code", "subarea", "case_in", "case_out", "contact_in", "contact_out",
    "overlap_minutes"}``. The text is exactly what ``json.dumps`` makes of that list of dicts (what the JSON
    field writes), put together from pieces made once per type, venue, sub-area and minute rather than a dict
    and its encoding per row (a dense case has tens of thousands of contacts)."""
    if evidence.num_rows == 0:
        return {}
    # The longest shared stays first, at most EVIDENCE_PER_CONTACT per contact (vectorised; a case can have
    # hundreds of thousands of evidence rows in a dense city).
    contact = np.asarray(evidence.column("contact_id").to_numpy(zero_copy_only=False), dtype=np.int64)
    overlap = np.asarray(evidence.column("overlap_minutes").fill_null(-1).to_numpy(zero_copy_only=False))
    order = np.lexsort((-overlap, contact))
    sorted_contact = contact[order]
    first = np.r_[0, np.flatnonzero(sorted_contact[1:] != sorted_contact[:-1]) + 1]
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    chosen = order[rank < EVIDENCE_PER_CONTACT]
    evidence = evidence.take(pa.array(chosen))
    names = ("contact_id", "contact_type", "via_id", "venue_id", "subarea", "case_in", "case_out",
             "contact_in", "contact_out", "overlap_minutes")  # fmt: skip
    cols = [
        evidence.column(n).to_pylist() if n in evidence.column_names else [None] * evidence.num_rows
        for n in names
    ]
    dumps = json.dumps
    iso = lru_cache(maxsize=65536)(lambda minutes: dumps(from_minutes(minutes).isoformat()))
    heads: dict[str, str] = {}
    pieces: dict[int, list[str]] = defaultdict(list)
    for contact_id, ctype, via, venue_id, sub, case_in, case_out, contact_in, contact_out, minutes in zip(
        *cols, strict=True
    ):
        head = heads.get(ctype)
        if head is None:
            head = heads[ctype] = '{"type": ' + dumps(ctype)
        if via is not None and via >= 0:
            head += f', "via": {int(via)}'
        where = venues.text(int(venue_id), sub) if venue_id is not None and venue_id >= 0 else None
        if where is None:
            pieces[int(contact_id)].append(head + "}")
        else:
            pieces[int(contact_id)].append(
                f'{head}{where}, "case_in": {iso(case_in)}, "case_out": {iso(case_out)}, '
                f'"contact_in": {iso(contact_in)}, "contact_out": {iso(contact_out)}, '
                f'"overlap_minutes": {int(minutes)}}}'
            )
    return {c: "[" + ", ".join(p) + "]" for c, p in pieces.items()}


_CONTACT_COLUMNS = (
    "case_id", "person_id", "degree", "contact_type", "via_id", "score", "overlap_minutes", "shared_stays",
    "evidence", "jurisdiction_id", "district_id", "status", "note", "found_at", "updated_at",
)  # fmt: skip


def _use_copy() -> bool:
    """New contacts are written with ``COPY`` on PostgreSQL, with ``executemany`` elsewhere (SQLite)."""
    return connection.vendor == "postgresql"


def _insert_contacts(rows: list[tuple[Any, ...]]) -> None:
    """Insert new contacts (values in the order of ``_CONTACT_COLUMNS``, ``evidence`` as JSON text) without
    building model instances: a dense case can have tens of thousands of candidates. On PostgreSQL one
    ``COPY ... FROM STDIN`` (text format: the JSON text goes in as it is, escaped by psycopg), several times
    faster than ``executemany``; elsewhere one ``executemany`` per batch."""
    table = connection.ops.quote_name(Contact._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _CONTACT_COLUMNS)
    if _use_copy():
        sql = f"COPY {table} ({columns}) FROM STDIN"
        # connection.wrap_database_errors: psycopg's errors as Django's (an IntegrityError stays one).
        with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(_CONTACT_COLUMNS))})"
    with connection.cursor() as cursor:
        for i in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[i : i + 5000])


@transaction.atomic
def _merge_contacts(
    case: Case,
    pairs: pa.Table,
    evidence: pa.Table,
    venues: _EvidenceVenues,
    residence: dict[int, int],
    districts: dict[int, int],
) -> tuple[int, int, int]:
    """Merge one case's pairs into its contacts. ``residence``: the jurisdiction of every contact still in the
    register (the others are skipped), ``districts``: the district of those jurisdictions."""
    if pairs.num_rows == 0:
        return 0, 0, Contact.objects.filter(case=case).count()
    names = ("contact_id", "degree", "contact_type", "via_id", "score", "total_overlap_minutes",
             "overlap_minutes", "shared_stays")  # fmt: skip
    cols = {n: pairs.column(n).to_pylist() for n in names if n in pairs.column_names}
    contact_ids = [int(p) for p in cols["contact_id"]]
    here = {p: residence[p] for p in contact_ids if p in residence}  # this case's contacts in the register
    evidence_of = _evidence_json(evidence, venues)
    existing = {c.person_id: c for c in Contact.objects.filter(case=case)}
    now = timezone.now()
    stamp = Contact._meta.get_field("found_at").get_db_prep_save(now, connection)
    candidate = str(Decision.CANDIDATE.value)
    new: list[tuple[Any, ...]] = []
    changed: list[Contact] = []
    overlap_col = cols.get("total_overlap_minutes") or cols.get("overlap_minutes") or []
    for i, pid in enumerate(contact_ids):
        if pid not in here or pid == case.person_id:
            continue  # scans of persons no longer in the register
        degree, ctype = int(cols["degree"][i]), str(cols["contact_type"][i])
        via = cols["via_id"][i]
        via_id = int(via) if via is not None and via >= 0 and int(via) in here else None
        score = float(cols["score"][i])
        overlap = int(overlap_col[i] or 0) if overlap_col else 0
        shared = int(cols["shared_stays"][i] or 0) if "shared_stays" in cols else 0
        old = existing.get(pid)
        if old is None:
            j = here[pid]
            new.append(
                (
                    case.pk, pid, degree, ctype, via_id, score, overlap, shared, evidence_of.get(pid, "[]"), j,
                    districts[j], candidate, "", stamp, stamp,
                )
            )  # fmt: skip
            continue
        # Keep the strongest finding; never touch the decision.
        stronger = (_DEGREE_RANK[degree], _TYPE_RANK[ctype]) <= (
            _DEGREE_RANK[old.degree],
            _TYPE_RANK[old.contact_type],
        )
        if stronger:
            old.degree, old.contact_type, old.via_id, old.score = degree, ctype, via_id, score
            old.overlap_minutes, old.shared_stays = overlap, shared
        if pid in evidence_of:
            old.evidence = json.loads(evidence_of[pid])
        changed.append(old)
    _insert_contacts(new)
    if changed:
        Contact.objects.bulk_update(
            changed,
            ["degree", "contact_type", "via_id", "score", "overlap_minutes", "shared_stays", "evidence"],
            batch_size=1000,
        )
    return len(new), len(changed), len(existing) + len(new)


def _districts(jurisdiction_ids: set[int]) -> dict[int, int]:
    """The district of each jurisdiction id (by path: one query for all of them)."""
    paths = dict(Jurisdiction.objects.filter(pk__in=list(jurisdiction_ids)).values_list("pk", "path"))
    codes = {pk: [c for c in path.split("/") if c] for pk, path in paths.items()}
    district_pk = dict(
        Jurisdiction.objects.filter(code__in={c[1] for c in codes.values() if len(c) > 2}).values_list(
            "code", "pk"
        )
    )
    return {pk: district_pk[c[1]] if len(c) > 2 else pk for pk, c in codes.items()}


def _record_risk_venues(case: Case, own: engine.ScanArrays) -> int:
    """The venues of the case's stays in its window, each with the span of its visits (replaced on every
    tracing: risk venues are derived, not judged)."""
    spans: dict[int, list[int]] = {}
    for v, t_in, t_out in zip(own.venue.tolist(), own.t_in.tolist(), own.t_out.tolist(), strict=True):
        span = spans.setdefault(int(v), [t_in, t_out, 0])
        span[0], span[1], span[2] = min(span[0], t_in), max(span[1], t_out), span[2] + 1
    known = set(Venue.objects.filter(pk__in=list(spans)).values_list("pk", flat=True))
    with transaction.atomic():
        RiskVenue.objects.filter(case=case).delete()
        RiskVenue.objects.bulk_create(
            RiskVenue(case=case, venue_id=v, first_in=from_minutes(a), last_out=from_minutes(b), visits=n)
            for v, (a, b, n) in spans.items()
            if v in known
        )
    return len(known)


# --- Judgment ----------------------------------------------------------------------------------------


@transaction.atomic
def decide_contacts(
    *, actor: Any, case: Case, contact_ids: Sequence[int], decision: str, note: str = "", source: str = "web"
) -> int:
    """Confirm or dismiss candidates (singly or in bulk). Each decision is audited with who and when; a
    confirmed close or secondary contact living in another district goes to that district's inbox at once."""
    if decision not in (Decision.CONFIRMED, Decision.DISMISSED, Decision.CANDIDATE):
        raise ValidationError({"decision": _("Unknown decision.")})
    ids = sorted({int(i) for i in contact_ids})
    if not ids:
        raise ValidationError({"contacts": _("Choose at least one contact.")})
    contacts = list(
        Contact.objects.select_for_update(of=("self",)).filter(case=case, pk__in=ids).select_related("person")
    )
    if len(contacts) != len(ids):
        raise ValidationError({"contacts": _("Some of the chosen contacts do not belong to this case.")})
    if any(c.degree == Degree.RISK_VENUE for c in contacts):
        raise ValidationError(
            {"contacts": _("Risk-venue visitors are screened, not judged; leave them out of the selection.")}
        )
    now = timezone.now()
    note = note.strip()[:200]
    decider = actor if getattr(actor, "pk", None) else None
    changes = []
    for contact in contacts:
        if contact.status == decision and contact.note == note:
            continue
        before = audit.snapshot(contact)
        contact.status, contact.note, contact.decided_by, contact.decided_at = decision, note, decider, now
        changes.append((contact, before))
    # One UPDATE for the whole selection (hundreds at once), one audit row per decision.
    Contact.objects.filter(pk__in=[c.pk for c, _b in changes]).update(
        status=decision, note=note, decided_by=decider, decided_at=now, updated_at=now
    )
    audit.record_bulk_update(actor, changes, source=source)
    changed = [c for c, _b in changes]
    if decision == Decision.CONFIRMED:
        away = [c for c in changed if c.district_id != case.district_id]
        linked = set(Linkage.objects.filter(contact__in=away).values_list("contact_id", flat=True))
        links = Linkage.objects.bulk_create(
            [
                Linkage(
                    contact=c, from_district_id=case.district_id, to_district_id=c.district_id, created_at=now
                )
                for c in away
                if c.pk not in linked
            ]
        )
        audit.record_bulk_create(actor, links, source=source)
    else:
        pending = list(Linkage.objects.filter(contact__in=changed, acknowledged_at__isnull=True))
        for link in pending:
            audit.record_delete(actor, link, source=source)
        Linkage.objects.filter(pk__in=[link.pk for link in pending]).delete()
    # Control follows the judgment at once: a confirmed contact waits in their district's queue with a clock;
    # a judgment taken back cancels what was not yet done.
    from cordon.apps.control import actions as control

    if decision == Decision.CONFIRMED:
        control.open_orders(actor=actor, contacts=contacts, source=source)
    else:
        control.withdraw_orders(actor=actor, contacts=contacts, source=source)
    return len(changed)


@transaction.atomic
def acknowledge_linkage(*, actor: Any, linkage: Linkage, source: str = "web") -> Linkage:
    if linkage.acknowledged_at is not None:
        return linkage
    before = audit.snapshot(linkage)
    linkage.acknowledged_at = timezone.now()
    linkage.acknowledged_by = actor if getattr(actor, "pk", None) else None
    linkage.save(update_fields=["acknowledged_at", "acknowledged_by"])
    audit.record_update(actor, linkage, before, source=source)
    return linkage


# --- Clusters ----------------------------------------------------------------------------------------


def _cluster_code(day: dt.date) -> str:
    prefix = f"CL-{day:%Y%m%d}-"
    n = Cluster.objects.filter(code__startswith=prefix).count() + 1
    while Cluster.objects.filter(code=f"{prefix}{n:03d}").exists():
        n += 1
    return f"{prefix}{n:03d}"


@transaction.atomic
def create_cluster(
    *, actor: Any, name: str, cases: Sequence[Case], note: str = "", source: str = "web"
) -> Cluster:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A cluster needs a name.")})
    if not cases:
        raise ValidationError({"cases": _("A cluster starts from at least one case.")})
    cluster = Cluster.objects.create(
        code=_cluster_code(timezone.localdate()),
        name=name[:200],
        note=note.strip(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record_create(actor, cluster, source=source)
    add_to_cluster(actor=actor, cluster=cluster, cases=cases, source=source)
    return cluster


@transaction.atomic
def add_to_cluster(*, actor: Any, cluster: Cluster, cases: Sequence[Case], source: str = "web") -> int:
    if cluster.merged_into_id is not None:
        raise ValidationError({"cluster": _("This cluster was merged into another; add cases there.")})
    n = 0
    for case in cases:
        if case.cluster_id == cluster.pk:
            continue
        before = audit.snapshot(case)
        case.cluster = cluster
        case.save(update_fields=["cluster"])
        audit.record_update(actor, case, before, source=source)
        n += 1
    return n


@transaction.atomic
def merge_clusters(*, actor: Any, target: Cluster, others: Sequence[Cluster], source: str = "web") -> int:
    """Move every case of ``others`` into ``target``; the others are kept, marked as merged into it."""
    if target.merged_into_id is not None:
        raise ValidationError({"target": _("The target cluster was itself merged into another.")})
    others = [c for c in others if c.pk != target.pk]
    if not others:
        raise ValidationError({"clusters": _("Choose at least one other cluster to merge.")})
    moved = 0
    for other in others:
        cases = list(Case.objects.filter(cluster=other))
        moved += add_to_cluster(actor=actor, cluster=target, cases=cases, source=source)
        before = audit.snapshot(other)
        other.merged_into = target
        other.save(update_fields=["merged_into"])
        Cluster.objects.filter(merged_into=other).update(merged_into=target)
        audit.record_update(actor, other, before, source=source)
    return moved


# --- Scan store --------------------------------------------------------------------------------------


def ingest_scans(
    *, actor: Any, source_file: Path | pa.Table, filename: str = "", fmt: str | None = None, source: str = "web",
    progress: Any = None,
) -> IngestReport:  # fmt: skip
    """Load a batch of check-in scans into the scan store (persons and venues checked against the register,
    national IDs and place codes resolved) and record the batch with its counts."""
    report = scan_store().ingest(source_file, fmt=fmt, resolver=register_resolver(), progress=progress)
    with transaction.atomic():
        batch = ScanBatch.objects.create(
            actor=actor if getattr(actor, "pk", None) else None,
            filename=(filename or (source_file.name if isinstance(source_file, Path) else ""))[:200],
            source=source,
            rows_read=report.rows_read,
            added=report.added,
            duplicates=report.duplicates,
            rejected=dict(report.rejected),
        )
        audit.record_create(actor, batch, source=source)
    return report


def purge_scans(*, actor: Any, keep_days: int | None = None, today: dt.date | None = None) -> Any:
    keep = settings.CORDON_SCAN_RETENTION_DAYS if keep_days is None else keep_days
    return scan_store().purge(keep_days=keep, today=today or timezone.localdate())
