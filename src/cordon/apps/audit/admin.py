"""The Django admin's audited base and the read-only admins of the audit trail and the access log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from django.contrib import admin
from django.db import models, router, transaction
from django.db.models.deletion import Collector
from django.forms import BaseFormSet, ModelForm
from django.http import HttpRequest

from cordon.core import versions
from cordon.core.actions import DERIVED, audit_policy
from cordon.core.actors import Actor

from . import actions
from .models import AccessLog, AuditEntry, ReadAlert

SOURCE = "admin"
UNAUDITED = (
    AuditEntry,
    AccessLog,
    ReadAlert,
)  # the trail itself (a person's access log goes with the person)


def admin_actor(request: HttpRequest) -> Actor:
    """The staff user working in the admin (the admin's own login check has let only them in)."""
    return cast(Actor, request.user)


def _m2m_values(obj: models.Model) -> dict[str, list[Any]]:
    """The ids each many-to-many field of ``obj`` points to, as stored (empty for a record not yet saved)."""
    if obj.pk is None:
        return {}
    return {f.name: sorted(getattr(obj, f.name).values_list("pk", flat=True)) for f in obj._meta.many_to_many}


def record_deletion(actor: Actor, objs: Sequence[models.Model]) -> None:
    """Audit the deletion of ``objs`` and of everything the deletion takes with it: records deleted in cascade
    and foreign keys set to NULL (or a default) on records that stay. Call it before deleting."""
    if not objs:
        return
    collector = Collector(using=router.db_for_write(type(objs[0])))
    collector.collect(objs)
    deleted: list[Iterable[models.Model]] = [*collector.data.values(), *collector.fast_deletes]
    for instances in deleted:
        for obj in instances:
            if _audited(type(obj)):
                actions.record_delete(actor, obj, source=SOURCE)
    updates: dict[tuple[Any, Any], list[Any]] = collector.field_updates
    for (field, value), batches in updates.items():
        for batch in batches:
            for obj in batch:
                if not _audited(type(obj)):
                    continue
                before = actions.snapshot(obj)
                setattr(obj, field.attname, value.pk if isinstance(value, models.Model) else value)
                actions.record_update(actor, obj, before, source=SOURCE)


def _audited(model: type[models.Model]) -> bool:
    return (
        not model._meta.auto_created  # many-to-many link rows: audited with their record's field
        and not issubclass(model, UNAUDITED)
        and audit_policy(model) != DERIVED
    )


class AuditedAdmin(admin.ModelAdmin):
    """Admin edits are writes made through the application: each is recorded like an action's, with source
    ``admin``. Every path the admin writes by is covered: saving the form (``save_model``), its many-to-many
    fields (``save_related``), deleting one record (``delete_model``) or a selection (``delete_queryset``),
    with what the deletion cascades to. Inline formsets are not audited: an audited admin declares no inlines
    (tests/architecture/test_admin_audit.py checks it)."""

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool) -> None:
        actor = admin_actor(request)
        with transaction.atomic():
            if change:
                before = actions.snapshot(type(obj)._default_manager.get(pk=obj.pk))
                if isinstance(obj, versions.Versioned):  # an admin edit makes open edit forms stale too
                    obj.version += 1
                super().save_model(request, obj, form, change)
                actions.record_update(actor, obj, before, source=SOURCE)
            else:
                super().save_model(request, obj, form, change)
                actions.record_create(actor, obj, source=SOURCE)

    def save_related(
        self, request: HttpRequest, form: ModelForm[Any], formsets: Sequence[BaseFormSet[Any]], change: bool
    ) -> None:
        obj = form.instance
        with transaction.atomic():
            before = _m2m_values(obj)
            super().save_related(request, form, formsets, change)
            after = _m2m_values(obj)
            changes = {k: [before.get(k, []), v] for k, v in after.items() if before.get(k, []) != v}
            if changes:
                actions.record_rows(
                    admin_actor(request),
                    type(obj),
                    [(obj.pk, str(obj), changes)],
                    verb=AuditEntry.Verb.UPDATE,
                    source=SOURCE,
                )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            record_deletion(admin_actor(request), [obj])
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
        with transaction.atomic():
            record_deletion(admin_actor(request), list(queryset))
            super().delete_queryset(request, queryset)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_name", "verb", "model", "object_pk", "object_repr", "source"]
    list_filter = ["verb", "model", "source"]
    search_fields = ["actor_name", "object_pk", "object_repr"]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_name", "person", "via", "detail", "count"]
    list_filter = ["via"]
    raw_id_fields = ["person"]
    search_fields = ["actor_name", "query", "detail"]


@admin.register(ReadAlert)
class ReadAlertAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_name", "window_start", "count", "limit", "route"]
    search_fields = ["actor_name"]
