"""Writing the audit trail and the access log. Called by every other app's actions, inside their transaction."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from .models import AccessLog, AuditEntry


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def snapshot(instance: models.Model) -> dict[str, Any]:
    """Field values of a model instance as plain JSON values (foreign keys as ids). Derived fields (not
    editable: materialized paths, search keys) and timestamps are left out."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.primary_key or not field.editable:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        data[field.attname] = _plain(getattr(instance, field.attname))
    return data


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _actor_name(actor: Any) -> str:
    if actor is None:
        return "system"
    return str(getattr(actor, "username", actor))


def _entry(actor: Any, verb: str, instance: models.Model, changes: dict[str, Any], source: str) -> AuditEntry:
    return AuditEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=_actor_name(actor),
        verb=verb,
        model=instance._meta.label_lower,
        object_pk=str(instance.pk),
        object_repr=str(instance)[:200],
        changes=changes,
        source=source,
    )


def record_create(actor: Any, instance: models.Model, *, source: str = "web") -> None:
    changes = {k: [None, v] for k, v in snapshot(instance).items() if v not in (None, "", [], {})}
    _entry(actor, AuditEntry.Verb.CREATE, instance, changes, source).save()


def record_update(
    actor: Any, instance: models.Model, before: Mapping[str, Any], *, source: str = "web"
) -> bool:
    """Record the fields that changed since ``before`` (a ``snapshot``); returns False when nothing changed."""
    changes = diff(before, snapshot(instance))
    if not changes:
        return False
    _entry(actor, AuditEntry.Verb.UPDATE, instance, changes, source).save()
    return True


def record_delete(actor: Any, instance: models.Model, *, source: str = "web") -> None:
    changes = {k: [v, None] for k, v in snapshot(instance).items() if v not in (None, "", [], {})}
    _entry(actor, AuditEntry.Verb.DELETE, instance, changes, source).save()


def record_bulk_create(actor: Any, instances: Iterable[models.Model], *, source: str) -> int:
    entries = [
        _entry(
            actor, AuditEntry.Verb.CREATE, obj, {k: [None, v] for k, v in snapshot(obj).items() if v}, source
        )
        for obj in instances
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return len(entries)


def record_bulk_update(
    actor: Any, changes: Iterable[tuple[models.Model, Mapping[str, Any]]], *, source: str
) -> int:
    """One update entry per (instance, snapshot before) pair whose fields changed, in one insert."""
    entries = []
    for obj, before in changes:
        diffs = diff(before, snapshot(obj))
        if diffs:
            entries.append(_entry(actor, AuditEntry.Verb.UPDATE, obj, diffs, source))
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return len(entries)


def record_batch(
    actor: Any, *, model: str, key: str, description: str, changes: dict[str, Any], source: str
) -> None:
    """One entry for a whole batch of rows written together (e.g. thousands of screening samples): what was
    written is in ``changes`` (counts, ids or ranges), so the trail stays one row per request."""
    AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=_actor_name(actor),
        verb=AuditEntry.Verb.CREATE,
        model=model,
        object_pk=key[:40],
        object_repr=description[:200],
        changes=changes,
        source=source,
    )


def log_person_access(actor: Any, person: Any, *, via: str, detail: str = "") -> None:
    AccessLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=_actor_name(actor),
        person=person,
        via=via,
        detail=detail[:200],
    )


def log_person_access_bulk(actor: Any, person_ids: Iterable[int], *, via: str, detail: str = "") -> None:
    AccessLog.objects.bulk_create(
        [
            AccessLog(actor=actor, actor_name=_actor_name(actor), person_id=pid, via=via, detail=detail[:200])
            for pid in person_ids
        ],
        batch_size=1000,
    )
