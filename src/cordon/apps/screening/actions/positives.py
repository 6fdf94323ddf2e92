"""Lab results and the follow-up of positives: a positive pool puts its persons under temporary control and
opens their single-tube re-sample tasks; a negative re-test lifts the control; a positive single tube waits for
its confirmation re-test, and a confirmed positive becomes a case through ``tracing.actions.report_case``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Case, Classification, Control, FoundBy
from cordon.core.actions import action
from cordon.core.actors import Actor

from ..models import (
    OPEN_TASK,
    Binding,
    Lab,
    ResampleTask,
    Result,
    TaskStatus,
    TemporaryControl,
    Tube,
    TubeStatus,
)
from .labs import ResultIn, RowReport


def _resample_hours() -> float:
    return float(getattr(settings, "CORDON_RESAMPLE_HOURS", 6))


@action
def record_results(
    *, actor: Actor | None, rows: Sequence[ResultIn], lab: Lab | None = None, source: str = "web",
    first_line: int = 1,
) -> RowReport:  # fmt: skip
    """Record lab results, each row on its own (a bad row is reported and the others are recorded; recording
    the same result twice changes nothing). A positive pool puts its persons under temporary control and opens
    their re-sample tasks at once; a positive single tube waits for its confirmation re-test (a second result
    for the same tube) before it becomes a case; a negative re-test lifts the temporary control."""
    report = RowReport()
    now = timezone.now()
    codes = [r.tube.strip() for r in rows]
    tubes = {
        t.barcode: t
        for t in Tube.objects.select_for_update().select_related("round").filter(barcode__in=codes)
    }
    seen: set[str] = set()
    for n, r in enumerate(rows, start=first_line):
        t = tubes.get(r.tube.strip())
        result = r.result.strip().lower()
        problem = _row_problem(r, t, result, lab, seen)
        if problem:
            report.errors.append((n, problem))
            continue
        assert t is not None
        seen.add(t.barcode)
        if t.awaiting_confirmation:
            if result == Result.INVALID:
                report.errors.append((n, _("A confirmation re-test is negative or positive.")))
                continue
            audit.change(actor, t, source=source, confirmation=result, confirmed_at=now)
            report.done += 1
            report.cases += _confirmed(actor, t, result == Result.POSITIVE, now, source)
            continue
        if t.result:
            if t.result == result:
                report.unchanged += 1
            else:
                report.errors.append((n, _("Tube %(t)s already has a result.") % {"t": t.barcode}))
            continue
        values: dict[str, Any] = {
            "result": result,
            "ct_values": r.ct,
            "result_at": now,
            "status": TubeStatus.RESULTED,
        }
        if lab is not None:
            values.update(lab=lab, received_at=t.received_at or now)
        audit.change(actor, t, source=source, **values)
        report.done += 1
        if _follow_up(actor, t, result, now, source):
            report.positive_pools.append(t.barcode)
    return report


def _row_problem(r: ResultIn, t: Tube | None, result: str, lab: Lab | None, seen: set[str]) -> str:
    """Why a result row cannot be recorded (a message), or ``""``."""
    if t is None:
        return _("Unknown tube %(t)s.") % {"t": r.tube}
    if result not in (Result.NEGATIVE, Result.POSITIVE, Result.INVALID):
        return _("Result must be negative, positive or invalid.")
    if lab is not None and t.lab_id not in (None, lab.pk):
        return _("Tube %(t)s was received by another lab.") % {"t": t.barcode}
    if t.bound == 0:
        return _("Tube %(t)s holds no sample.") % {"t": t.barcode}
    if any(not 0 < v < 50 for v in r.ct.values()):
        return _("Ct values lie between 0 and 50.")
    if t.barcode in seen:  # twice in one list: a confirmation is a re-test, never the same report
        return _("Tube %(t)s is listed twice.") % {"t": t.barcode}
    return ""


def _bindings(tube: Tube) -> list[Binding]:
    return list(
        Binding.objects.filter(tube=tube).select_related("person", "round", "resample").order_by("id")
    )


def _open_tasks(
    actor: Actor | None, tube: Tube, bindings: list[Binding], now: dt.datetime, source: str
) -> list[ResampleTask]:
    have = set(
        ResampleTask.objects.filter(
            round=tube.round, person_id__in=[b.person_id for b in bindings], status__in=OPEN_TASK
        ).values_list("person_id", flat=True)
    )
    due = now + dt.timedelta(hours=_resample_hours())
    made = ResampleTask.objects.bulk_create(
        [
            ResampleTask(round=tube.round, person_id=b.person_id, source_tube=tube,
                         jurisdiction_id=b.jurisdiction_id, district_id=b.district_id, due_at=due)
            for b in bindings
            if b.person_id not in have
        ]
    )  # fmt: skip
    audit.record_bulk_create(actor, made, source=source)
    return made


def _hold(
    actor: Actor | None, tube: Tube, bindings: list[Binding], now: dt.datetime, source: str
) -> list[TemporaryControl]:
    held = set(
        TemporaryControl.objects.filter(
            person_id__in=[b.person_id for b in bindings], lifted_at__isnull=True
        ).values_list("person_id", flat=True)
    )
    made = TemporaryControl.objects.bulk_create(
        [
            TemporaryControl(person_id=b.person_id, building_id=b.person.home_building_id,
                             jurisdiction_id=b.jurisdiction_id, district_id=b.district_id, round=tube.round,
                             tube=tube, reason="positive_pool" if tube.size > 1 else "positive_single",
                             started_at=now)
            for b in bindings
            if b.person_id not in held
        ]
    )  # fmt: skip
    audit.record_bulk_create(actor, made, source=source)
    return made


def _lift(actor: Actor | None, person_ids: Iterable[int], now: dt.datetime, source: str) -> int:
    """Lift the temporary control of persons with no open re-sample task and no single tube awaiting its
    confirmation."""
    ids = set(person_ids)
    still = set(
        ResampleTask.objects.filter(person_id__in=ids, status__in=OPEN_TASK).values_list(
            "person_id", flat=True
        )
    )
    held = TemporaryControl.objects.filter(
        person_id__in=ids - still, lifted_at__isnull=True, case__isnull=True
    )
    return len(audit.change_many(actor, list(held), source=source, lifted_at=now))


def _close_tasks(
    actor: Actor | None, task_ids: Iterable[int], status: str, now: dt.datetime, source: str
) -> None:
    tasks = list(ResampleTask.objects.filter(pk__in=list(task_ids)))
    audit.change_many(actor, tasks, source=source, status=status, done_at=now)


def _follow_up(actor: Actor | None, tube: Tube, result: str, now: dt.datetime, source: str) -> bool:
    """What a tube's first result sets going; returns whether it is a positive pool."""
    bindings = _bindings(tube)
    if tube.size > 1:
        if result == Result.POSITIVE:
            _hold(actor, tube, bindings, now, source)
            _open_tasks(actor, tube, bindings, now, source)
            return True
        if result == Result.INVALID:
            _open_tasks(actor, tube, bindings, now, source)
        return False
    # A single tube: a re-sample or a person sampled alone.
    tasks = [b.resample_id for b in bindings if b.resample_id is not None]
    if result == Result.POSITIVE:
        _hold(actor, tube, bindings, now, source)  # already held after a positive pool; held now if not
    elif result == Result.NEGATIVE:
        _close_tasks(actor, tasks, TaskStatus.NEGATIVE, now, source)
        _lift(actor, [b.person_id for b in bindings], now, source)
    else:  # invalid: sample the person again
        _close_tasks(actor, tasks, TaskStatus.CANCELLED, now, source)
        _open_tasks(actor, tube, bindings, now, source)
    return False


def _confirmed(actor: Actor | None, tube: Tube, positive: bool, now: dt.datetime, source: str) -> list[str]:
    """A single positive's confirmation re-test; returns the codes of the cases it made (or found)."""
    bindings = _bindings(tube)
    task_ids = [b.resample_id for b in bindings if b.resample_id is not None]
    if not positive:  # a false positive: no case, the control is lifted
        _close_tasks(actor, task_ids, TaskStatus.NEGATIVE, now, source)
        _lift(actor, [b.person_id for b in bindings], now, source)
        return []
    _close_tasks(actor, task_ids, TaskStatus.POSITIVE, now, source)
    cases = []
    for b in bindings:
        control = TemporaryControl.objects.filter(person_id=b.person_id, lifted_at__isnull=True).first()
        first = Binding.objects.filter(person_id=b.person_id, round=b.round).order_by("bound_at").first() or b
        case = _case_for(actor, first, control, source)
        cases.append(case.code)
        if control is not None:
            audit.change(actor, control, source=source, case=case)
    return cases


def _case_for(actor: Actor | None, binding: Binding, control: TemporaryControl | None, source: str) -> Case:
    """The confirmed single positive becomes a case through the tracing app (found by screening, under
    control since the temporary control started)."""
    existing = Case.objects.filter(person_id=binding.person_id).first()
    if existing is not None:
        return existing
    return tracing.report_case(
        actor=actor,
        data=tracing.CaseData(
            person=binding.person,
            sampled_at=min(binding.bound_at, timezone.now()),
            found_by=FoundBy.KEY_INDUSTRY_SCREENING if binding.round.key_industry else FoundBy.AREA_SCREENING,
            classification=Classification.ASYMPTOMATIC,
            control=Control.QUARANTINE if control is not None else Control.COMMUNITY,
            isolated_at=control.started_at if control is not None else None,
        ),
        source=source,
    )
