"""The audit API: a record's history and the personal-data access log (auditors)."""

import datetime as dt
from typing import Any

from ninja import Field, Query, Router, Schema

from cordon.core import records
from cordon.core.access import AuthedRequest, api
from cordon.core.paging import Paging, page
from cordon.core.roles import Cap

from . import selectors
from .models import AccessLog, AuditEntry

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
    person_id: int
    via: str

    @classmethod
    def of(cls, a: AccessLog) -> "AccessOut":
        return cls(at=a.at, actor=a.actor_name, person_id=a.person_id, via=a.via)


@router.get("/audit/{kind}/{int:pk}", response=list[AuditOut], summary="History of one record (auditors)")
@api(Cap.VIEW_AUDIT)
def record_history(request: AuthedRequest, kind: str, pk: int) -> list[AuditOut]:
    instance = records.fetch(request.user, kind, pk)
    return [AuditOut.of(e) for e in selectors.audit_for_record(request.user, instance)[:500]]


class AccessQuery(Paging):
    person: int | None = None
    limit: int = Field(100, ge=1, description=f"How many rows to return (at most {ACCESS_CAP:,}).")


@router.get(
    "/access-log",
    response=list[AccessOut],
    summary="Who opened which person's full record (auditors)",
    description=f"Newest first; at most {ACCESS_CAP:,} rows per call (a larger limit is lowered).",
)
@api(Cap.VIEW_AUDIT)
def access_log(request: AuthedRequest, filters: Query[AccessQuery]) -> list[AccessOut]:
    qs = selectors.access_log_visible_to(request.user, person=filters.person)
    rows: list[AccessLog] = page(qs, filters, cap=ACCESS_CAP)
    return [AccessOut.of(a) for a in rows]
