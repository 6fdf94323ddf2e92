"""Rounds: opening a round over its areas, buildings and industry sectors, counting its target population from
the register, closing it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import Building, IndustrySector, Jurisdiction
from cordon.apps.people.models import Person
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none
from cordon.core.scoping import require_may_change
from cordon.engine import pooling

from ..models import TUBE_SIZES, RoundStatus, RoundTarget, ScreeningRound, Tube, TubeStatus
from ..selectors import target_filter


@dataclass
class RoundData:
    code: str
    name: str
    owner: Jurisdiction | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    design: str = "10-in-1"
    jurisdictions: Sequence[Jurisdiction] = ()
    buildings: Sequence[Building] = ()
    sectors: Sequence[IndustrySector] = ()
    key_industry: bool = False


def tube_size_of(design: str) -> int:
    """Samples per station tube for a design label (``10-in-1``, ``individual``); ValueError otherwise."""
    d = pooling.parse_design(design.strip())
    if d.tube_size not in TUBE_SIZES:
        raise ValueError(design)
    return int(d.tube_size)


def clean_round(data: RoundData) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.code.strip():
        errors["code"] = _("A code is required.")
    elif ScreeningRound.objects.filter(code=data.code.strip()).exists():
        errors["code"] = _("This code is already used.")
    if not data.name.strip():
        errors["name"] = _("A name is required.")
    if data.owner is None:
        errors["owner"] = _("Say which jurisdiction organises the round.")
    if data.starts_at is None or data.ends_at is None:
        errors["ends_at"] = _("The time window is required.")
    elif data.ends_at <= data.starts_at:
        errors["ends_at"] = _("The round must end after it starts.")
    try:
        tube_size_of(data.design)
    except ValueError:
        errors["design"] = _("Use a validated design: individual, 5-in-1, 10-in-1 or 20-in-1.")
    if not (data.jurisdictions or data.buildings or data.sectors):
        errors["jurisdictions"] = _("Choose at least one area, building or industry sector.")
    if data.owner is not None:
        outside = [j.code for j in data.jurisdictions if not data.owner.contains(j)]
        outside += [b.code for b in data.buildings if not data.owner.contains(b.jurisdiction)]
        if outside:
            errors["jurisdictions"] = _("Outside the organising jurisdiction: %(codes)s.") % {
                "codes": ", ".join(outside)
            }
    return errors


@action
def create_round(*, actor: Actor | None, data: RoundData, source: str = "web") -> ScreeningRound:
    errors = clean_round(data)
    if errors:
        raise ValidationError(errors)
    assert data.owner is not None and data.starts_at is not None and data.ends_at is not None
    require_may_change(actor, data.owner)  # a round is organised by the actor's level or one below it
    row = audit.create(
        actor,
        ScreeningRound,
        source=source,
        code=data.code.strip(),
        name=data.name.strip(),
        owner=data.owner,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        design=pooling.parse_design(data.design.strip()).label,
        tube_size=tube_size_of(data.design),
        key_industry=data.key_industry or bool(data.sectors),
        status=RoundStatus.OPEN,
        created_by=user_or_none(actor),
        counted_at=timezone.now(),  # the target population is counted below, in this transaction
    )
    _link(actor, row, "jurisdictions", data.jurisdictions, source)
    _link(actor, row, "buildings", data.buildings, source)
    _link(actor, row, "sectors", data.sectors, source)
    _count_target(row)
    return row


def _link(
    actor: Actor | None, round: ScreeningRound, field: str, targets: Sequence[models.Model], source: str
) -> None:
    """The round's areas, buildings or sectors: rows of the many-to-many table, each one audited."""
    m2m = ScreeningRound._meta.get_field(field)
    assert isinstance(m2m, models.ManyToManyField)
    through = m2m.remote_field.through
    assert through is not None
    links = through._default_manager.bulk_create(
        [
            through(**{m2m.m2m_field_name(): round, m2m.m2m_reverse_field_name(): target})
            for target in dict.fromkeys(targets)  # once each, in the order given
        ]
    )
    audit.record_bulk_create(actor, links, source=source)


def _count_target(round: ScreeningRound) -> int:
    """Count the round's target population per jurisdiction into ``RoundTarget`` (derived counters: the
    register is audited, and the count is taken again on request)."""
    RoundTarget.objects.filter(round=round).delete()
    rows = (
        Person.objects.filter(target_filter(round))
        .values("jurisdiction_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    made = RoundTarget.objects.bulk_create(
        [RoundTarget(round=round, jurisdiction_id=r["jurisdiction_id"], persons=r["n"]) for r in rows],
        batch_size=2000,
    )
    return sum(t.persons for t in made)


@action
def recount_target(*, actor: Actor | None, round: ScreeningRound, source: str = "web") -> int:
    """Count the round's target population from the register again (after moves or new registrations). Only
    the round's organiser or a level above it may."""
    require_may_change(actor, round.owner)
    total = _count_target(round)
    audit.change(actor, round, source=source, counted_at=timezone.now())
    return total


@action
def close_round(*, actor: Actor | None, round: ScreeningRound, source: str = "web") -> ScreeningRound:
    """Close the round (no more samples); only its organiser or a level above it may."""
    require_may_change(actor, round.owner)
    if round.status == RoundStatus.CLOSED:
        raise ValidationError({"status": _("The round is already closed.")})
    audit.change(actor, round, source=source, status=RoundStatus.CLOSED)
    in_use = list(Tube.objects.filter(round=round, status=TubeStatus.OPEN))
    audit.change_many(actor, in_use, source=source, status=TubeStatus.CLOSED)
    return round
