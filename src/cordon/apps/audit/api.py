"""The audit API: a record's history and the personal-data access log (auditors)."""

import datetime as dt
from typing import Any

from ninja import Router, Schema

from cordon.core import pii, records
from cordon.core.access import AuthedRequest, api
from cordon.core.actors import Actor
from cordon.core.roles import Cap

from . import selectors
from .models import AccessLog, AuditEntry

router = Router(tags=["audit"])


class AuditOut(Schema):
    at: dt.datetime
    actor: str
    verb: str
    model: str
    object_pk: str
    object_repr: str
    changes: dict[str, Any]
    source: str

    @classmethod
    def of(cls, user: Actor, e: AuditEntry) -> "AuditOut":
        """The entry as ``user`` may see it: personal data in ``changes`` masked unless the role sees it."""
        return cls(
            at=e.at,
            actor=e.actor_name,
            verb=e.verb,
            model=e.model,
            object_pk=e.object_pk,
            object_repr=e.object_repr,
            changes=pii.masked_changes(user, e.model, e.changes or {}),
            source=e.source,
        )


class AccessOut(Schema):
    at: dt.datetime
    actor: str
    person_id: int
    via: str

    @classmethod
    def of(cls, a: AccessLog) -> "AccessOut":
        return cls(at=a.at, actor=a.actor_name, person_id=a.person_id, via=a.via)


@router.get("/audit/{kind}/{int:pk}", response=list[AuditOut], summary="History of one record (auditors)")
@api(Cap.VIEW_AUDIT)
def record_history(request: AuthedRequest, kind: str, pk: int) -> list[AuditOut]:
    instance = records.fetch(request.user, kind, pk)
    return [AuditOut.of(request.user, e) for e in selectors.audit_for_record(request.user, instance)[:500]]


@router.get(
    "/access-log", response=list[AccessOut], summary="Who opened which person's full record (auditors)"
)
@api(Cap.VIEW_AUDIT)
def access_log(request: AuthedRequest, person: int | None = None, limit: int = 100) -> list[AccessOut]:
    qs = selectors.access_log_visible_to(request.user, person=person)
    return [AccessOut.of(a) for a in qs[: max(1, min(limit, 1000))]]
