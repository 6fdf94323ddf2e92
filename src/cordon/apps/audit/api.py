import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from cordon.apps.accounts.roles import Cap
from cordon.apps.geo import selectors as geo
from cordon.apps.people import selectors as people
from cordon.apps.venues import selectors as venues
from cordon.site.access import api

from . import selectors

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


class AccessOut(Schema):
    at: dt.datetime
    actor: str
    person_id: int
    via: str


RECORD_GETTERS: dict[str, Any] = {
    "person": lambda user, pk: people.get_person_for(user, int(pk)),
    "venue": lambda user, pk: venues.get_venue_for(user, int(pk)),
    "jurisdiction": lambda user, pk: geo.get_jurisdiction_for(user, int(pk)),
    "building": lambda user, pk: geo.get_building_for(user, int(pk)),
}


@router.get("/audit/{kind}/{int:pk}", response=list[AuditOut], summary="History of one record (auditors)")
@api(Cap.VIEW_AUDIT)
def record_history(request: HttpRequest, kind: str, pk: int) -> Any:
    from cordon.apps.accounts.scoping import NotFound

    getter = RECORD_GETTERS.get(kind)
    if getter is None:
        raise NotFound
    instance = getter(request.user, pk)
    return [_audit_out(e) for e in selectors.audit_for_record(request.user, instance)[:500]]


def _audit_out(e: Any) -> dict[str, Any]:
    return {
        "at": e.at,
        "actor": e.actor_name,
        "verb": e.verb,
        "model": e.model,
        "object_pk": e.object_pk,
        "object_repr": e.object_repr,
        "changes": e.changes,
        "source": e.source,
    }


@router.get(
    "/access-log", response=list[AccessOut], summary="Who opened which person's full record (auditors)"
)
@api(Cap.VIEW_AUDIT)
def access_log(request: HttpRequest, person: int | None = None, limit: int = 100) -> Any:
    qs = selectors.access_log_visible_to(request.user)
    if person is not None:
        qs = qs.filter(person_id=person)
    return [
        {"at": a.at, "actor": a.actor_name, "person_id": a.person_id, "via": a.via}
        for a in qs[: max(1, min(limit, 1000))]
    ]
