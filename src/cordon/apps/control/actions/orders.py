"""Control orders opened and withdrawn as tracing's judgments come in (see ``hooks.py``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import Jurisdiction
from cordon.apps.tracing.models import Case, Contact, Decision, Degree
from cordon.core.actions import action
from cordon.core.actors import Actor

from ..models import (
    NOT_YET_CONTROLLED,
    OPEN_ORDER,
    ControlOrder,
    EndReason,
    FailureReason,
    MemberStatus,
    OrderStatus,
    QuarantinePlan,
    SampleStatus,
    SampleTask,
    TransferMember,
)
from ._shared import _codes, _end_placements
from .plans import _plans_in_force


@action
def open_orders(
    *, actor: Actor | None, contacts: Sequence[Contact], source: str = "web"
) -> list[ControlOrder]:
    """Open a control order for every confirmed close or secondary contact who has none open and is not a
    case (a secondary contact confirmed again as close is moved to the close-contact plan while waiting or at
    home). The clock starts at the judgment."""
    candidates = [c for c in contacts if c.status == Decision.CONFIRMED and c.degree in (1, 2)]
    if not candidates:
        return []
    person_ids = {c.person_id for c in candidates}
    open_by_person = {
        o.person_id: o
        for o in ControlOrder.objects.select_for_update(of=("self",)).filter(
            person_id__in=person_ids, status__in=OPEN_ORDER
        )
    }
    cases = set(Case.objects.filter(person_id__in=person_ids).values_list("person_id", flat=True))
    plans = _plans_in_force({"close" if c.degree == 1 else "secondary" for c in candidates})
    made: list[ControlOrder] = []
    seen: set[int] = set()
    now = timezone.now()
    # Close contacts first, so a person found both ways gets the close-contact plan.
    for c in sorted(candidates, key=lambda c: (c.degree, c.pk)):
        if c.person_id in cases or c.person_id in seen:
            continue
        seen.add(c.person_id)
        plan = plans["close" if c.degree == Degree.CLOSE else "secondary"]
        decided = c.decided_at or now
        existing = open_by_person.get(c.person_id)
        if existing is not None:
            if c.degree == Degree.CLOSE and existing.degree == Degree.SECONDARY:
                _upgrade(actor, existing, c, plan, decided, source)
            continue
        made.append(
            ControlOrder(
                person_id=c.person_id,
                case_id=c.case_id,
                contact=c,
                degree=c.degree,
                plan=plan,
                centralized=plan.plan.centralized,
                jurisdiction_id=c.jurisdiction_id,
                district_id=c.district_id,
                opened_at=decided,
                due_at=decided + dt.timedelta(hours=plan.plan.transfer_within_hours),
            )
        )
    _number(made)
    ControlOrder.objects.bulk_create(made, batch_size=1000)
    audit.record_bulk_create(actor, made, source=source)
    return made


def _number(orders: Sequence[ControlOrder]) -> None:
    """Order numbers per district and day: ``GK-<district>-<yyyymmdd>-00001``."""
    by_district: dict[int, list[ControlOrder]] = defaultdict(list)
    for o in orders:
        by_district[o.district_id].append(o)
    day = timezone.localdate()
    codes = dict(Jurisdiction.objects.filter(pk__in=list(by_district)).values_list("pk", "code"))
    for district_id, mine in by_district.items():
        prefix = f"GK-{codes[district_id]}-{day:%Y%m%d}-"
        for o, code in zip(mine, _codes(prefix, ControlOrder, len(mine)), strict=True):
            o.code = code


def _upgrade(
    actor: Actor | None,
    order: ControlOrder,
    contact: Contact,
    plan: QuarantinePlan,
    at: dt.datetime,
    source: str,
) -> None:
    """A secondary contact confirmed as a close contact: the close-contact plan, back to the queue when the
    new plan starts in centralised isolation."""
    fields: dict[str, Any] = {}
    if order.status == OrderStatus.HOME and plan.plan.centralized:
        _end_placements(actor, order, EndReason.ADJUSTED, at, source=source)
        fields.update(status=OrderStatus.WAITING, controlled_at=None, start_date=None)
        audit.delete_many(
            actor, SampleTask.objects.filter(order=order, status=SampleStatus.DUE), source=source
        )
    fields.update(
        degree=contact.degree,
        plan=plan,
        contact=contact,
        case_id=contact.case_id,
        centralized=plan.plan.centralized,
    )
    if fields.get("status", order.status) == OrderStatus.WAITING:
        fields["due_at"] = min(order.due_at, at + dt.timedelta(hours=plan.plan.transfer_within_hours))
    audit.change(actor, order, source=source, **fields)


@action
def withdraw_orders(*, actor: Actor | None, contacts: Sequence[Contact], source: str = "web") -> int:
    """A judgment taken back (dismissed, or back to candidate): orders it opened that are not yet under control
    are cancelled (a reserved room is freed). Orders already under control stay; an officer releases them."""
    orders = list(
        ControlOrder.objects.select_for_update(of=("self",)).filter(
            contact__in=[c.pk for c in contacts], status__in=NOT_YET_CONTROLLED
        )
    )
    now = timezone.now()
    for order in orders:
        _end_placements(actor, order, EndReason.ADJUSTED, now, cancel=True, source=source)
        audit.change_many(
            actor,
            list(TransferMember.objects.filter(order=order, status=MemberStatus.ASSIGNED)),
            status=MemberStatus.FAILED,
            failure_reason=FailureReason.OTHER,
            note=_("judgment withdrawn"),
            source=source,
        )
        audit.change(actor, order, status=OrderStatus.CANCELLED, closed_at=now, site=None, source=source)
    return len(orders)
