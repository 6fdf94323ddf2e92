"""Follow-up of persons under control: daily health checks and their alerts, samples taken, PCR results (a
positive becomes a case, reported and traced through tracing's actions)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Case, Classification, Control, FoundBy
from cordon.core import versions
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none

from ..models import (
    FEVER_CELSIUS,
    ControlOrder,
    EndReason,
    HealthRecord,
    OrderStatus,
    Placement,
    PlacementMode,
    PlacementStatus,
    SampleStatus,
    SampleTask,
    Symptom,
)
from ._shared import _controlled, _end_placements

RESULTS = (SampleStatus.NEGATIVE, SampleStatus.POSITIVE, SampleStatus.INVALID)


def _temperature(value: str | float | Decimal | None, errors: dict[str, str]) -> Decimal:
    try:
        temp = Decimal(str(value).strip().replace(",", ".")).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        errors["temperature"] = _("Give the temperature in °C, e.g. 36.6.")
        return Decimal(0)
    if not Decimal("34.0") <= temp <= Decimal("42.5"):
        errors["temperature"] = _("A body temperature lies between 34.0 and 42.5 °C.")
    return temp


@action
def record_health(
    *, actor: Actor | None, order: ControlOrder, day: dt.date | None,
    temperature: str | float | Decimal | None, symptoms: Sequence[str] = (), note: str = "", source: str = "web",
) -> HealthRecord:  # fmt: skip
    """Today's (or an earlier day's) health check; recording the same day again corrects it. A temperature
    of 37.3 °C or more, or any symptom, raises an alert."""
    order = ControlOrder.objects.select_for_update(of=("self",)).select_related("person").get(pk=order.pk)
    _controlled(order)
    assert order.start_date is not None
    errors: dict[str, str] = {}
    today = timezone.localdate()
    day = day or today
    if day > today:
        errors["day"] = _("The day is in the future.")
    elif day < order.start_date:
        errors["day"] = _("The day is before the control started (%(d)s).") % {"d": order.start_date}
    temp = _temperature(temperature, errors)
    bad = [s for s in symptoms if s not in Symptom.values]
    if bad:
        errors["symptoms"] = _("Unknown symptom: %(s)s.") % {"s": ", ".join(bad)}
    if errors:
        raise ValidationError(errors)
    alert = temp >= Decimal(str(FEVER_CELSIUS)) or bool(symptoms)
    fields: dict[str, Any] = {
        "temperature": temp,
        "symptoms": sorted(set(symptoms)),
        "note": note.strip()[:200],
        "alert": alert,
        "recorded_by": user_or_none(actor),
        "recorded_at": timezone.now(),
    }
    record = HealthRecord.objects.select_for_update(of=("self",)).filter(order=order, day=day).first()
    if record is None:
        return audit.create(actor, HealthRecord, source=source, order=order, day=day, **fields)
    if alert and not record.alert:  # a new alert: open again
        fields.update(handled_at=None, handled_by=None, handling="")
    audit.change(actor, record, source=source, **fields)
    return record


@action
def handle_alert(
    *,
    actor: Actor | None,
    record: HealthRecord,
    handling: str,
    version: int | None = None,
    source: str = "web",
) -> HealthRecord:
    """Say how an alert was handled. ``version``: the record's version the worker saw; a record handled or
    corrected since refuses it (``versions.Conflict``) rather than overwriting another worker's handling."""
    record = HealthRecord.objects.select_for_update(of=("self",)).get(pk=record.pk)
    versions.check(record, version)
    if not record.alert:
        raise ValidationError({"handling": _("This record raised no alert.")})
    if not handling.strip():
        raise ValidationError({"handling": _("Say how the alert was handled.")})
    audit.change(
        actor,
        record,
        handled_at=timezone.now(),
        handled_by=user_or_none(actor),
        handling=handling.strip()[:200],
        expected_version=version,
        source=source,
    )
    return record


@action
def record_samples(
    *, actor: Actor | None, tasks: Sequence[SampleTask], at: dt.datetime | None = None, source: str = "web"
) -> int:
    """Samples taken (results follow from the lab)."""
    at = at or timezone.now()
    locked = list(
        SampleTask.objects.select_for_update(of=("self",)).filter(
            pk__in=[t.pk for t in tasks], status=SampleStatus.DUE
        )
    )
    audit.change_many(
        actor,
        locked,
        status=SampleStatus.SAMPLED,
        sampled_at=at,
        recorded_by=user_or_none(actor),
        source=source,
    )
    return len(locked)


@dataclass(frozen=True)
class ResultOutcome:
    task: SampleTask
    case: Case | None = None


@action(atomic=False)
def record_result(
    *, actor: Actor | None, task: SampleTask, result: str, ct_value: float | None = None,
    sampled_at: dt.datetime | None = None, at: dt.datetime | None = None, source: str = "web",
) -> ResultOutcome:  # fmt: skip
    """A PCR result for a scheduled sample. A positive converts the person into a case found under control
    and traces it at once. An invalid result can be replaced by the result of a re-sample.

    Commits in two steps (so not one transaction): the result, with a positive's new case and the order
    closed, in one transaction; then tracing's own action traces the new case, reading the scan store for
    seconds and committing on its own, after the order's row locks are released."""
    with transaction.atomic():
        outcome = _record_result(actor, task, result, ct_value, sampled_at, at, source)
    if outcome.case is not None:
        tracing.trace_case(actor=actor, case=outcome.case, source=source)
    return outcome


def _result_errors(
    task: SampleTask, order: ControlOrder, result: str, ct_value: float | None, sampled_at: dt.datetime,
    at: dt.datetime, now: dt.datetime,
) -> dict[str, str]:  # fmt: skip
    errors: dict[str, str] = {}
    if result not in RESULTS:
        errors["result"] = _("The result is negative, positive or invalid.")
    if task.status in (SampleStatus.NEGATIVE, SampleStatus.POSITIVE):
        errors["result"] = _("This sample already has a result (%(r)s).") % {"r": task.get_status_display()}
    if order.status not in (OrderStatus.ISOLATED, OrderStatus.HOME):
        errors["result"] = _("%(name)s is not under control (%(s)s).") % {
            "name": order.person.name, "s": order.get_status_display()}  # fmt: skip
    if order.controlled_at and sampled_at < order.controlled_at - dt.timedelta(hours=1):
        errors["sampled_at"] = _("The sample cannot be taken before the control started.")
    if sampled_at > at or at > now + dt.timedelta(minutes=5):
        errors["at"] = _("The result comes after the sample and not in the future.")
    if ct_value is not None and not 5 <= ct_value <= 45:
        errors["ct_value"] = _("A Ct value lies between 5 and 45.")
    return errors


def _record_result(
    actor: Actor | None, task: SampleTask, result: str, ct_value: float | None, sampled_at: dt.datetime | None,
    at: dt.datetime | None, source: str,
) -> ResultOutcome:  # fmt: skip
    """The result written (and a positive converted), inside the caller's transaction."""
    task = SampleTask.objects.select_for_update(of=("self",)).select_related("order__person").get(pk=task.pk)
    order = (
        ControlOrder.objects.select_for_update(of=("self",)).select_related("person").get(pk=task.order_id)
    )
    now = timezone.now()
    at = at or now
    sampled_at = sampled_at or task.sampled_at or at
    errors = _result_errors(task, order, result, ct_value, sampled_at, at, now)
    if errors:
        raise ValidationError(errors)
    audit.change(
        actor,
        task,
        status=result,
        ct_value=ct_value,
        sampled_at=sampled_at,
        result_at=at,
        recorded_by=user_or_none(actor),
        source=source,
    )
    case = _convert(actor, order, sampled_at, source) if result == SampleStatus.POSITIVE else None
    return ResultOutcome(task, case)


def _convert(actor: Actor | None, order: ControlOrder, sampled_at: dt.datetime, source: str) -> Case:
    """A positive under control: the person is reported as a case found in quarantine, the order is closed
    as converted (placements ended, the remaining due samples dropped)."""
    symptomatic = (
        HealthRecord.objects.filter(order=order)
        .exclude(symptoms=[])
        .order_by("day")
        .values_list("day", flat=True)
        .first()
    )
    centralized = Placement.objects.filter(
        order=order, status=PlacementStatus.ACTIVE, mode=PlacementMode.CENTRALIZED
    ).exists()
    case = tracing.report_case(
        actor=actor,
        data=tracing.CaseData(
            person=order.person,
            classification=Classification.CONFIRMED if symptomatic else Classification.ASYMPTOMATIC,
            onset_date=symptomatic,
            sampled_at=sampled_at,
            found_by=FoundBy.IN_QUARANTINE,
            control=Control.ISOLATION if centralized else Control.QUARANTINE,
            isolated_at=order.controlled_at,
        ),
        source=source,
    )
    now = timezone.now()
    _end_placements(actor, order, EndReason.CONVERTED, now, source=source)
    audit.change(
        actor,
        order,
        status=OrderStatus.CONVERTED,
        closed_at=now,
        converted_case=case,
        site=None,
        source=source,
    )
    audit.delete_many(actor, SampleTask.objects.filter(order=order, status=SampleStatus.DUE), source=source)
    return case
