from __future__ import annotations

from typing import Any

from django.contrib import admin

from . import actions
from .models import AccessLog, AuditEntry


class AuditedAdmin(admin.ModelAdmin):
    """Admin edits are writes made through the application: record them like any action."""

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        if change:
            before = actions.snapshot(type(obj).objects.get(pk=obj.pk))
            super().save_model(request, obj, form, change)
            actions.record_update(request.user, obj, before, source="admin")
        else:
            super().save_model(request, obj, form, change)
            actions.record_create(request.user, obj, source="admin")

    def delete_model(self, request: Any, obj: Any) -> None:
        actions.record_delete(request.user, obj, source="admin")
        super().delete_model(request, obj)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        for obj in queryset:
            actions.record_delete(request.user, obj, source="admin")
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
    list_display = ["at", "actor_name", "person", "via"]
    list_filter = ["via"]
    raw_id_fields = ["person"]
