"""Reporting a case (its investigation opens with it) and the investigation's notes and completion."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction
from cordon.apps.people.models import Person
from cordon.core import events, versions
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none

from ..events import CaseReported
from ..models import Case, Classification, Control, FoundBy, Investigation


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
    imported: bool = False  # an imported case (输入病例)


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


@action
def report_case(*, actor: Actor | None, data: CaseData, source: str = "web") -> Case:
    """Report a case and open its investigation; publishes ``CaseReported``."""
    errors = clean_case(data)
    if errors:
        raise ValidationError(errors)
    person = data.person
    assert person is not None and data.sampled_at is not None
    reported = data.reported_at or timezone.now()
    district = geo.district_of(person.jurisdiction)
    # Built, then saved with save_new: the case's own ``source`` field would clash with audit.create's keyword.
    case = Case(
        code=data.code or _next_code(district, timezone.localtime(reported).date()),
        person=person,
        classification=data.classification,
        onset_date=data.onset_date,
        sampled_at=data.sampled_at,
        reported_at=reported,
        found_by=data.found_by,
        control=data.control,
        isolated_at=data.isolated_at,
        imported=data.imported,
        jurisdiction=person.jurisdiction,
        district=district,
        workplace=person.workplace,
        source=source,
        created_by=user_or_none(actor),
    )
    audit.save_new(actor, case, source=source)
    audit.create(
        actor,
        Investigation,
        source=source,
        case=case,
        investigator=user_or_none(actor),
        started_at=timezone.now(),
    )
    events.publish(CaseReported(actor=actor, source=source, case=case))
    return case


def _investigation(actor: Actor | None, case: Case, *, source: str) -> Investigation:
    """The case's investigation, opened now (and audited) if the case has none yet."""
    inv = Investigation.objects.filter(case=case).first()
    return inv if inv is not None else audit.create(actor, Investigation, source=source, case=case)


@action
def update_investigation(
    *,
    actor: Actor | None,
    case: Case,
    notes: str | None = None,
    complete: bool | None = None,
    version: int | None = None,
    source: str = "web",
) -> Investigation:
    """Save the investigation's notes, mark it complete (once) or reopen it; the first investigator to touch
    an investigation without one becomes its investigator. ``version``: the investigation's version the editor
    saw; one changed since refuses the edit (``versions.Conflict``)."""
    inv = _investigation(actor, case, source=source)
    versions.check(inv, version)
    fields: dict[str, Any] = {}
    if notes is not None:
        fields["notes"] = notes.strip()
    if complete is True and inv.completed_at is None:
        fields["completed_at"] = timezone.now()
    elif complete is False:
        fields["completed_at"] = None
    if inv.investigator_id is None and user_or_none(actor) is not None:
        fields["investigator"] = actor
    audit.change(actor, inv, source=source, expected_version=version, **fields)
    return inv


@action
def set_imported(*, actor: Actor | None, case: Case, imported: bool, source: str = "web") -> Case:
    """Mark the case imported (输入病例: infected elsewhere) or local; Rt counts an imported case as a source of
    infection only. Nothing is written when the flag does not change."""
    if case.imported != bool(imported):
        audit.change(actor, case, source=source, imported=bool(imported))
    return case
