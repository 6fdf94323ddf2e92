"""Scoped reads of the audit trail and the access log (auditors)."""

from __future__ import annotations

from django.db import connection, models
from django.db.models import QuerySet

from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import Scope

from . import chain, guards
from .models import AccessLog, AuditEntry


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
    """Openings of persons' records in the auditor's territory; only those of one person when ``person`` (an
    id) is given."""
    scope = Scope.of(user)
    scope.require(Cap.VIEW_AUDIT)
    qs = AccessLog.objects.filter(scope.territory("person__jurisdiction")).select_related("person")
    return qs if person is None else qs.filter(person_id=person)


def verify_trail() -> tuple[list[chain.Verdict], list[str]]:
    """Every hash chain of the audit tables walked and recomputed, and the guarding triggers absent or disabled
    (``cordon audit verify``): an operator's check, not a user's read."""
    return chain.verify_all(), guards.missing(connection)
