"""A case's activity trajectory: entries typed in by the investigator, or filled in from the case's own
check-in scans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.venues.models import Venue
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none

from .. import selectors
from ..models import Case, TrajectoryEntry, TrajectoryKind
from ..store import local_naive, scan_store
from .cases import _investigation


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


@action
def add_trajectory_entry(
    *, actor: Actor | None, case: Case, data: TrajectoryData, source: str = "web"
) -> TrajectoryEntry:
    errors = clean_trajectory(data)
    if errors:
        raise ValidationError(errors)
    assert data.time_in is not None and data.time_out is not None
    building = data.venue.building if data.venue else None
    return audit.create(
        actor,
        TrajectoryEntry,
        source=source,
        case=case,
        kind=data.kind,
        venue=data.venue,
        subarea=data.subarea,
        place=(data.place or "").strip()[:200],
        address=(data.address or (building.address if building else ""))[:200],
        time_in=data.time_in,
        time_out=data.time_out,
        created_by=user_or_none(actor),
    )


@action
def delete_trajectory_entry(*, actor: Actor | None, entry: TrajectoryEntry, source: str = "web") -> None:
    audit.delete(actor, entry, source=source)


@action
def autofill_trajectory(*, actor: Actor | None, case: Case, source: str = "web") -> int:
    """Add the person's check-in scans within the exposure window as trajectory entries (once each), one
    audit row per entry, and say so in the investigation's notes."""
    start, end = selectors.exposure_window(case)
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
                created_by=user_or_none(actor),
            )
        )
    if not added:
        return 0
    added = TrajectoryEntry.objects.bulk_create(added)
    audit.record_bulk_create(actor, added, source=source)
    inv = _investigation(actor, case, source=source)
    note = _("%(n)d visits filled in from check-in scans.") % {"n": len(added)}
    audit.change(actor, inv, source=source, notes=(inv.notes + "\n" if inv.notes else "") + note)
    return len(added)
