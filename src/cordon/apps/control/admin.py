from django.contrib import admin

from cordon.apps.audit.admin import AuditedAdmin

from .models import ControlOrder, IsolationSite, Placement, QuarantinePlan, Room, SampleTask, TransferTask


@admin.register(QuarantinePlan)
class QuarantinePlanAdmin(AuditedAdmin):
    list_display = ["profile", "code", "version", "applies_to", "in_force", "created_at"]
    list_filter = ["profile", "applies_to", "in_force"]
    readonly_fields = ["definition"]


@admin.register(IsolationSite)
class IsolationSiteAdmin(AuditedAdmin):
    list_display = ["code", "name", "kind", "district", "active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["jurisdiction", "district"]


@admin.register(Room)
class RoomAdmin(AuditedAdmin):
    list_display = ["site", "number", "beds", "accessible", "status"]
    list_filter = ["status", "accessible"]
    raw_id_fields = ["site"]


@admin.register(ControlOrder)
class ControlOrderAdmin(AuditedAdmin):
    list_display = ["code", "person", "degree", "status", "district", "due_at", "controlled_at"]
    list_filter = ["status", "degree"]
    search_fields = ["code"]
    raw_id_fields = ["person", "case", "contact", "plan", "jurisdiction", "district", "site", "released_by",
                     "converted_case"]  # fmt: skip


@admin.register(Placement)
class PlacementAdmin(AuditedAdmin):
    list_display = ["order", "person", "mode", "site", "room", "status", "started_at", "ended_at"]
    list_filter = ["mode", "status"]
    raw_id_fields = ["order", "person", "plan", "site", "room", "building", "created_by"]


@admin.register(TransferTask)
class TransferTaskAdmin(AuditedAdmin):
    list_display = ["code", "site", "vehicle", "team", "pickup_at", "status"]
    list_filter = ["status"]
    raw_id_fields = ["district", "site", "created_by"]


@admin.register(SampleTask)
class SampleTaskAdmin(AuditedAdmin):
    list_display = ["order", "key", "due_on", "status", "result_at"]
    list_filter = ["status"]
    raw_id_fields = ["order", "recorded_by"]
