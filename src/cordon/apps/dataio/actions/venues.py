"""Importing venues: place codes, types and sectors in either language, a building or a jurisdiction in the
importer's area, checked by venues' rules (``clean_venue``); written with ``venues.actions.bulk_create_venues``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from cordon.apps.geo import selectors as geo
from cordon.apps.venues import actions as venue_actions
from cordon.apps.venues.models import Venue, VenueType
from cordon.core.actors import Actor

from ..kinds import norm
from .rows import (
    Batch,
    Row,
    already_used,
    chunked_lookup,
    duplicates_in_file,
    labels,
    not_in_area,
    progress_bar,
    sector_lookup,
    sector_of,
    split,
)


def check(actor: Actor, batch: Batch, progress: bool) -> list[dict[str, Any]]:
    """The values of every row (from ``clean_venue``), ready for ``bulk_create_venues``; problems go to the
    batch."""
    duplicates_in_file(batch, "code")
    already_used(batch, Venue, "code")
    jurisdictions = chunked_lookup(geo.jurisdictions_visible_to(actor), "code", batch.codes("jurisdiction"))
    buildings = chunked_lookup(geo.buildings_visible_to(actor), "code", batch.codes("building"))
    sectors = sector_lookup()
    types = labels(VenueType)
    out: list[dict[str, Any]] = []
    for row in progress_bar(batch, progress, _("Checking venues")):
        v = row.values
        jurisdiction = jurisdictions.get(v.get("jurisdiction", ""))
        if v.get("jurisdiction") and jurisdiction is None:
            batch.problem(row, "jurisdiction", not_in_area(_("jurisdiction"), v["jurisdiction"]))
        building = buildings.get(v.get("building", ""))
        if v.get("building") and building is None:
            batch.problem(row, "building", not_in_area(_("building"), v["building"]))
        venue_type = _venue_type(batch, row, types)
        capacity = _capacity(batch, row)
        values, errors = venue_actions.clean_venue(
            venue_actions.VenueData(
                code=v.get("code", ""),
                name=v.get("name", ""),
                venue_type=venue_type,
                jurisdiction=jurisdiction,
                building=building,
                capacity=capacity,
                sub_areas=split(v.get("sub_areas", "")),
                responsible_unit=v.get("responsible_unit", ""),
                sector=sector_of(batch, row, sectors),
            )
        )
        for field_name, reason in errors.items():
            if field_name in ("code", "name") and not v.get(field_name):
                continue
            if field_name == "jurisdiction" and (v.get("jurisdiction") or v.get("building")):
                continue
            batch.problem(row, field_name, reason)
        out.append(values)
    return out


def _venue_type(batch: Batch, row: Row, types: dict[str, str]) -> str:
    text = row.values.get("venue_type", "")
    if not text:
        return VenueType.OTHER
    found = types.get(norm(text))
    if found is None:
        batch.problem(row, "venue_type", _("unknown venue type “%(type)s”.") % {"type": text})
        return VenueType.OTHER
    return found


def _capacity(batch: Batch, row: Row) -> int | None:
    text = row.values.get("capacity", "")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        batch.problem(row, "capacity", _("not a whole number."))
        return None


def write(actor: Actor, rows: list[dict[str, Any]], source: str) -> list[Any]:
    return venue_actions.bulk_create_venues(actor=actor, rows=rows, source=source)
