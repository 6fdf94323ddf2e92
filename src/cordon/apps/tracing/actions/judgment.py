"""Judging a case's candidates (应判尽判) and the cross-district handover of confirmed contacts (跨区协查)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.core import events
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none
from cordon.core.versions import Conflict, bump

from ..events import ContactsJudged
from ..models import Case, Contact, Decision, Degree, Linkage


@action
def decide_contacts(
    *,
    actor: Actor | None,
    case: Case,
    contact_ids: Sequence[int],
    decision: str,
    note: str = "",
    versions: Mapping[int, int] | None = None,
    source: str = "web",
) -> int:
    """Confirm or dismiss candidates (singly or in bulk). Each decision is audited with who and when; a
    confirmed close or secondary contact living in another district goes to that district's inbox at once.
    Publishes ``ContactsJudged`` (control opens or withdraws control orders).

    ``versions`` (contact id -> the version the judge saw): a contact judged, re-traced or otherwise changed
    since refuses the whole decision with ``Conflict``, changing nothing (the rows are locked first, so of two
    simultaneous decisions the second sees the first's version). Every decision adds one to the version."""
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
    stale = {
        c.pk: c.version for c in contacts if versions and c.pk in versions and versions[c.pk] != c.version
    }
    if stale:
        raise Conflict(Contact._meta.label_lower, stale)
    if any(c.degree == Degree.RISK_VENUE for c in contacts):
        raise ValidationError(
            {"contacts": _("Risk-venue visitors are screened, not judged; leave them out of the selection.")}
        )
    now = timezone.now()
    note = note.strip()[:200]
    decider = user_or_none(actor)
    changes = []
    for contact in contacts:
        if contact.status == decision and contact.note == note:
            continue
        before = audit.snapshot(contact)
        contact.status, contact.note, contact.decided_by, contact.decided_at = decision, note, decider, now
        changes.append((contact, before))
    # One UPDATE for the whole selection (hundreds at once; the same values for every contact), one audit row
    # per decision (old -> new), inserted in bulk.
    Contact.objects.filter(pk__in=[c.pk for c, _b in changes]).update(
        status=decision,
        note=note,
        decided_by=decider,
        decided_at=now,
        updated_at=now,
        **bump([c for c, _b in changes]),
    )
    audit.record_bulk_update(actor, changes, source=source)
    changed = [c for c, _b in changes]
    if decision == Decision.CONFIRMED:
        _hand_over(actor, case, changed, now, source=source)
    else:
        pending = Linkage.objects.filter(contact__in=changed, acknowledged_at__isnull=True)
        audit.delete_many(actor, pending, source=source)
    # Control follows the judgment at once (its handler opens or withdraws control orders).
    events.publish(
        ContactsJudged(actor=actor, source=source, case=case, contacts=tuple(contacts), decision=decision)
    )
    return len(changed)


def _hand_over(
    actor: Actor | None, case: Case, confirmed: list[Contact], now: dt.datetime, *, source: str
) -> None:
    """Confirmed contacts living in another district than the case's go to that district's inbox (once)."""
    away = [c for c in confirmed if c.district_id != case.district_id]
    if not away:
        return
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


@action
def acknowledge_linkage(*, actor: Actor | None, linkage: Linkage, source: str = "web") -> Linkage:
    """The receiving district takes a handed-over contact in (once; acknowledging again changes nothing)."""
    if linkage.acknowledged_at is not None:
        return linkage
    audit.change(
        actor, linkage, source=source, acknowledged_at=timezone.now(), acknowledged_by=user_or_none(actor)
    )
    return linkage
