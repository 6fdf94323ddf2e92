from django.contrib import admin

from cordon.apps.audit.admin import AuditedAdmin

from .models import DutyPost, DutyShift, Patrol, PatrolPlan


@admin.register(DutyPost)
class DutyPostAdmin(AuditedAdmin):
    list_display = ["name", "zone", "kind", "jurisdiction", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]
    raw_id_fields = ["zone", "jurisdiction", "district", "building"]


@admin.register(DutyShift)
class DutyShiftAdmin(AuditedAdmin):
    list_display = ["post", "user", "starts_at", "ends_at"]
    raw_id_fields = ["post", "user"]


@admin.register(PatrolPlan)
class PatrolPlanAdmin(AuditedAdmin):
    list_display = ["post", "times", "every_hours", "tolerance_minutes", "active_from", "active_to"]
    raw_id_fields = ["post"]


@admin.register(Patrol)
class PatrolAdmin(admin.ModelAdmin):
    """Read-only: patrols are recorded from the phone page or the API."""

    list_display = ["post", "by", "at", "findings", "result"]
    list_filter = ["result", "findings"]
    raw_id_fields = ["post", "by"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
