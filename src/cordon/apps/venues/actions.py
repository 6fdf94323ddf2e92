"""Every write to venues goes through here (one ``@action`` each: one transaction, audited)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import Building, IndustrySector, Jurisdiction
from cordon.core.actions import action
from cordon.core.actors import Actor

from .models import Venue, VenueType


@dataclass
class VenueData:
    code: str
    name: str
    venue_type: str = VenueType.OTHER
    jurisdiction: Jurisdiction | None = None
    building: Building | None = None
    capacity: int | None = None
    sub_areas: Sequence[str] = field(default_factory=list)
    responsible_unit: str = ""
    sector: IndustrySector | None = None


def clean_venue(data: VenueData) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    code, name = (data.code or "").strip(), (data.name or "").strip()
    if not code:
        errors["code"] = _("A place code is required.")
    if not name:
        errors["name"] = _("A name is required.")
    if data.venue_type not in VenueType.values:
        errors["venue_type"] = _("Unknown venue type.")
    if data.capacity is not None and data.capacity < 0:
        errors["capacity"] = _("Capacity cannot be negative.")
    jurisdiction = data.jurisdiction
    if data.building is not None:
        if jurisdiction is not None and not jurisdiction.contains(data.building.jurisdiction):
            errors["building"] = _("The building is outside the given jurisdiction.")
        jurisdiction = data.building.jurisdiction
    if jurisdiction is None:
        errors.setdefault("jurisdiction", _("A jurisdiction or a building is required."))
    areas = [a.strip() for a in data.sub_areas if a and a.strip()]
    if len(set(areas)) != len(areas):
        errors["sub_areas"] = _("Sub-area names must be unique within a venue.")
    values = {
        "code": code,
        "name": name,
        "venue_type": data.venue_type,
        "jurisdiction": jurisdiction,
        "building": data.building,
        "capacity": data.capacity,
        "sub_areas": areas,
        "responsible_unit": (data.responsible_unit or "").strip(),
        "sector": data.sector,
    }
    return values, errors


@action
def create_venue(*, actor: Actor | None, data: VenueData, source: str = "web") -> Venue:
    values, errors = clean_venue(data)
    if "code" not in errors and Venue.objects.filter(code=values["code"]).exists():
        errors["code"] = _("This place code is already used.")
    if errors:
        raise ValidationError(errors)
    return audit.create(actor, Venue, source=source, **values)


@action
def update_venue(*, actor: Actor | None, venue: Venue, changes: dict[str, Any], source: str = "web") -> Venue:
    """Apply ``changes`` (VenueData field names) to ``venue`` and record old -> new values."""
    current = VenueData(
        code=venue.code,
        name=venue.name,
        venue_type=venue.venue_type,
        jurisdiction=venue.jurisdiction,
        building=venue.building,
        capacity=venue.capacity,
        sub_areas=list(venue.sub_areas),
        responsible_unit=venue.responsible_unit,
        sector=venue.sector,
    )
    for key, value in changes.items():
        if not hasattr(current, key):
            raise ValidationError({key: _("Unknown field.")})
        setattr(current, key, value)
    values, errors = clean_venue(current)
    if "code" not in errors and Venue.objects.filter(code=values["code"]).exclude(pk=venue.pk).exists():
        errors["code"] = _("This place code is already used.")
    if errors:
        raise ValidationError(errors)
    audit.change(actor, venue, source=source, **values)
    return venue


@action
def bulk_create_venues(
    *, actor: Actor | None, rows: Iterable[dict[str, Any]], source: str = "web"
) -> list[Venue]:
    """Insert already-checked venue values (from ``clean_venue``) in bulk, one audit row each (an import holds
    the outer transaction)."""
    venues = Venue.objects.bulk_create([Venue(**values) for values in rows], batch_size=1000)
    audit.record_bulk_create(actor, venues, source=source)
    return venues
