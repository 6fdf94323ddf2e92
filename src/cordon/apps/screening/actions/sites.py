"""Sampling sites of a round: adding one, the queue its staff report, the tubes issued to it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import Jurisdiction
from cordon.core.actions import action
from cordon.core.actors import Actor
from cordon.core.scoping import require_may_change

from ..models import TUBE_SIZES, SamplingSite, ScreeningRound, Tube

MAX_TUBES_PER_ISSUE = 20_000


@dataclass
class SiteData:
    code: str
    name: str
    jurisdiction: Jurisdiction | None
    opens: dt.time = dt.time(7, 0)
    closes: dt.time = dt.time(21, 0)
    staff: int = 2


@action
def add_site(
    *, actor: Actor | None, round: ScreeningRound, data: SiteData, source: str = "web"
) -> SamplingSite:
    """Add a sampling site to the round; only the round's organiser or a level above it may."""
    require_may_change(actor, round.owner)
    errors: dict[str, str] = {}
    if not data.code.strip():
        errors["code"] = _("A code is required.")
    elif SamplingSite.objects.filter(round=round, code=data.code.strip()).exists():
        errors["code"] = _("This code is already used.")
    if not data.name.strip():
        errors["name"] = _("A name is required.")
    if data.jurisdiction is None:
        errors["jurisdiction"] = _("Unknown jurisdiction.")
    if data.closes <= data.opens:
        errors["closes"] = _("The site must close after it opens.")
    if data.staff < 1:
        errors["staff"] = _("A site needs at least one sampler.")
    if errors:
        raise ValidationError(errors)
    assert data.jurisdiction is not None
    return audit.create(
        actor,
        SamplingSite,
        source=source,
        round=round,
        code=data.code.strip(),
        name=data.name.strip(),
        jurisdiction=data.jurisdiction,
        opens=data.opens,
        closes=data.closes,
        staff=data.staff,
    )


@action
def report_queue(
    *, actor: Actor | None, site: SamplingSite, persons: int, source: str = "web"
) -> SamplingSite:
    if persons < 0:
        raise ValidationError({"queue_length": _("The queue cannot be negative.")})
    audit.change(actor, site, source=source, queue_length=persons, queue_at=timezone.now())
    return site


def _barcodes(spec: str) -> list[str]:
    """``A0001-A0100`` (a range with the same prefix), or barcodes separated by commas, spaces or lines."""
    out: list[str] = []
    for part in spec.replace(",", " ").split():
        if "-" in part:
            lo, _sep, hi = part.partition("-")
            head = lo.rstrip("0123456789")
            if not hi.startswith(head) or not lo[len(head) :].isdigit() or not hi[len(head) :].isdigit():
                raise ValidationError({"barcodes": _("Cannot read the range %(r)s.") % {"r": part}})
            width = len(lo) - len(head)
            a, b = int(lo[len(head) :]), int(hi[len(head) :])
            if b < a or b - a >= MAX_TUBES_PER_ISSUE:
                raise ValidationError({"barcodes": _("Cannot read the range %(r)s.") % {"r": part}})
            out.extend(f"{head}{n:0{width}d}" for n in range(a, b + 1))
        else:
            out.append(part)
    return out


@action
def issue_tubes(
    *, actor: Actor | None, site: SamplingSite, barcodes: str | Sequence[str], size: int | None = None,
    source: str = "web",
) -> int:  # fmt: skip
    """Register tubes for a site (pooled tubes of the round's size, or single tubes for re-sampling); each new
    tube has its audit row (inserted in bulk). Only the round's organiser or a level above it may."""
    require_may_change(actor, site.round.owner)
    codes = _barcodes(barcodes) if isinstance(barcodes, str) else [b.strip() for b in barcodes if b.strip()]
    size = site.round.tube_size if size is None else size
    if size not in TUBE_SIZES:
        raise ValidationError({"size": _("A tube holds 1, 5, 10 or 20 samples.")})
    if not codes:
        raise ValidationError({"barcodes": _("Give at least one barcode.")})
    if len(codes) > MAX_TUBES_PER_ISSUE:
        raise ValidationError({"barcodes": _("Too many tubes at once.")})
    if len(set(codes)) != len(codes) or any(len(c) > 40 for c in codes):
        raise ValidationError({"barcodes": _("A barcode is repeated or too long.")})
    taken = list(Tube.objects.filter(barcode__in=codes).values_list("barcode", flat=True)[:5])
    if taken:
        raise ValidationError({"barcodes": _("Already issued: %(codes)s.") % {"codes": ", ".join(taken)}})
    tubes = Tube.objects.bulk_create(
        [Tube(barcode=c, round=site.round, site=site, size=size) for c in codes], batch_size=2000
    )
    audit.record_bulk_create(actor, tubes, source=source)
    return len(codes)
