"""Scoped reads of the audit trail and the access log (auditors)."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import QuerySet, Sum

from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import Scope

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


def persons_read_since(user: Actor, since: dt.datetime) -> int:
    """How many persons ``user`` has been shown since ``since`` (a person counts once per request): the figure
    the volume limit compares, one indexed sum over the user's access-log rows. Unscoped: the limit's own read."""
    total = AccessLog.objects.filter(actor_id=user.pk, at__gte=since).aggregate(n=Sum("count"))["n"]
    return int(total or 0)


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
