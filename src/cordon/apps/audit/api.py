"""The audit API: a record's history and the personal-data access log (auditors)."""

import datetime as dt
from typing import Any

from ninja import Field, Query, Router, Schema

from cordon.core import pii, records
from cordon.core.access import AuthedRequest, api
from cordon.core.actors import Actor
from cordon.core.paging import Paging, page
from cordon.core.reads import personal_data
from cordon.core.roles import Cap

from . import selectors
from .models import AccessLog, AuditEntry, ReadAlert

router = Router(tags=["audit"])

ACCESS_CAP = 1000


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
    return [AuditOut.of(request.user, e) for e in selectors.audit_for_record(request.user, instance)[:500]]


class AuditPaging(Paging):
    """The audit lists' paging: 100 rows by default, at most ``ACCESS_CAP``."""

    limit: int = Field(100, ge=1, description=f"How many rows to return (at most {ACCESS_CAP:,}).")


class AccessQuery(AuditPaging):
    person: int | None = None


@router.get(
    "/access-log",
    response=list[AccessOut],
    summary="Who read which persons: records opened, lists, searches, exports (auditors)",
    description=f"Newest first; at most {ACCESS_CAP:,} rows per call (a larger limit is lowered).",
)
@api(Cap.VIEW_AUDIT)
@personal_data()
def access_log(request: AuthedRequest, filters: Query[AccessQuery]) -> list[AccessOut]:
    qs = selectors.access_log_visible_to(request.user, person=filters.person)
    rows: list[AccessLog] = page(qs, filters, cap=ACCESS_CAP)
    return [AccessOut.of(a) for a in rows]


@router.get(
    "/read-alerts",
    response=list[ReadAlertOut],
    summary="Users stopped by the personal-data volume limit (auditors)",
    description=f"Newest first; at most {ACCESS_CAP:,} rows per call (a larger limit is lowered).",
)
@api(Cap.VIEW_AUDIT)
def read_alerts(request: AuthedRequest, filters: Query[AuditPaging]) -> list[ReadAlertOut]:
    rows: list[ReadAlert] = page(selectors.read_alerts_visible_to(request.user), filters, cap=ACCESS_CAP)
    return [ReadAlertOut.of(a) for a in rows]
