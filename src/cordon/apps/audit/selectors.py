"""Scoped reads of the audit trail and the access log (auditors)."""

from __future__ import annotations

import datetime as dt

from django.db import connection, models
from django.db.models import QuerySet, Sum

from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import Scope

from . import chain, guards
from .models import AccessLog, AuditEntry, ReadAlert


def audit_for_record(user: Actor, instance: models.Model) -> QuerySet[AuditEntry]:
    """The history of one record. The caller has already fetched ``instance`` through its scoped selector."""
    Scope.of(user).require(Cap.VIEW_AUDIT)
    return AuditEntry.objects.filter(model=instance._meta.label_lower, object_pk=str(instance.pk))


def recent_audit(user: Actor) -> QuerySet[AuditEntry]:
    """Recent changes made by users whose scope lies inside the auditor's (or by the system)."""
    scope = Scope.of(user)
    scope.require(Cap.VIEW_AUDIT)
    if scope.path is None:
        return AuditEntry.objects.none()
    return AuditEntry.objects.filter(
        models.Q(actor__jurisdiction__path__startswith=scope.path) | models.Q(actor__isnull=True)
    )


def access_log_visible_to(user: Actor, *, person: int | None = None) -> QuerySet[AccessLog]:
    """Reads of personal data in the auditor's territory: openings of a person's record there, and the lists,
    searches and exports of users whose scope lies inside the auditor's; only those that returned one person
    when ``person`` (an id) is given."""
    scope = Scope.of(user)
    scope.require(Cap.VIEW_AUDIT)
    if scope.path is None:
        return AccessLog.objects.none()
    mine = models.Q(person__isnull=False) & scope.territory("person__jurisdiction")
    theirs = models.Q(person__isnull=True) & (
        models.Q(actor__jurisdiction__path__startswith=scope.path) | models.Q(actor__isnull=True)
    )
    qs = AccessLog.objects.filter(mine | theirs).select_related("person")
    if person is None:
        return qs
    return qs.filter(models.Q(person_id=person) | models.Q(persons__contains=f",{person},"))


def persons_read_since(user: Actor, since: dt.datetime, *, at_least: int | None = None) -> int:
    """How many different persons ``user`` has been shown since ``since``: the figure the volume limit compares.
    Reading the same persons again (a case's contacts reopened, a list refreshed) harvests nothing new, so a
    person counts once however often they were shown. One indexed sum over the user's access-log rows first:
    when even that (every person counted per request) stays under ``at_least``, it is the answer; else the ids
    the rows name are read and counted once each. Unscoped: the limit's own read."""
    rows = AccessLog.objects.filter(actor_id=user.pk, at__gte=since)
    total = int(rows.aggregate(n=Sum("count"))["n"] or 0)
    if at_least is not None and total < at_least:
        return total
    seen: set[int] = set()
    for persons, person_id in rows.values_list("persons", "person_id").iterator():
        if persons:
            seen.update(int(p) for p in persons.strip(",").split(",") if p)
        elif person_id is not None:
            seen.add(person_id)
    return len(seen)


def alerted_since(user: Actor, since: dt.datetime) -> bool:
    """Whether an alert about ``user`` was raised since ``since`` (one per window). Unscoped: the limit's read."""
    return ReadAlert.objects.filter(actor_id=user.pk, at__gte=since).exists()


def read_alerts_visible_to(user: Actor) -> QuerySet[ReadAlert]:
    """Bulk-read alerts about users whose scope lies inside the auditor's."""
    scope = Scope.of(user)
    scope.require(Cap.VIEW_AUDIT)
    if scope.path is None:
        return ReadAlert.objects.none()
    return ReadAlert.objects.filter(actor__jurisdiction__path__startswith=scope.path)


def verify_trail() -> tuple[list[chain.Verdict], list[str]]:
    """Every hash chain of the audit tables walked and recomputed, and the guarding triggers absent or disabled
    (``cordon audit verify``): an operator's check, not a user's read."""
    return chain.verify_all(), guards.missing(connection)
