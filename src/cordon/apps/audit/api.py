"""The audit API: a record's history and the personal-data access log (auditors)."""

import datetime as dt
from typing import Any

from ninja import Router, Schema

from cordon.core import records
from cordon.core.access import AuthedRequest, api
from cordon.core.reads import personal_data
from cordon.core.roles import Cap

from . import selectors
from .models import AccessLog, AuditEntry, ReadAlert

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
    def of(cls, e: AuditEntry) -> "AuditOut":
        return cls(
            at=e.at,
            actor=e.actor_name,
            verb=e.verb,
            model=e.model,
            object_pk=e.object_pk,
            object_repr=e.object_repr,
            changes=e.changes,
            source=e.source,
        )


class AccessOut(Schema):
    at: dt.datetime
    actor: str
    person_id: int | None  # the record opened; none for a list, a search, an export
    via: str
    route: str
    query: str
    count: int
    persons: list[int]

    @classmethod
    def of(cls, a: AccessLog) -> "AccessOut":
        return cls(
            at=a.at,
            actor=a.actor_name,
            person_id=a.person_id,
            via=a.via,
            route=a.detail,
            query=a.query,
            count=a.count,
            persons=a.person_ids(),
        )


class ReadAlertOut(Schema):
    at: dt.datetime
    actor: str
    window_start: dt.datetime
    count: int
    limit: int
    route: str

    @classmethod
    def of(cls, a: ReadAlert) -> "ReadAlertOut":
        return cls(
            at=a.at,
            actor=a.actor_name,
            window_start=a.window_start,
            count=a.count,
            limit=a.limit,
            route=a.route,
        )


@router.get("/audit/{kind}/{int:pk}", response=list[AuditOut], summary="History of one record (auditors)")
@api(Cap.VIEW_AUDIT)
@personal_data()
def record_history(request: AuthedRequest, kind: str, pk: int) -> list[AuditOut]:
    instance = records.fetch(request.user, kind, pk)
    return [AuditOut.of(e) for e in selectors.audit_for_record(request.user, instance)[:500]]


@router.get(
    "/access-log",
    response=list[AccessOut],
    summary="Who read which persons: records opened, lists, searches, exports (auditors)",
)
@api(Cap.VIEW_AUDIT)
@personal_data()
def access_log(request: AuthedRequest, person: int | None = None, limit: int = 100) -> list[AccessOut]:
    qs = selectors.access_log_visible_to(request.user, person=person)
    return [AccessOut.of(a) for a in qs[: max(1, min(limit, 1000))]]


@router.get(
    "/read-alerts",
    response=list[ReadAlertOut],
    summary="Users stopped by the personal-data volume limit (auditors)",
)
@api(Cap.VIEW_AUDIT)
def read_alerts(request: AuthedRequest, limit: int = 100) -> list[ReadAlertOut]:
    qs = selectors.read_alerts_visible_to(request.user)
    return [ReadAlertOut.of(a) for a in qs[: max(1, min(limit, 1000))]]
