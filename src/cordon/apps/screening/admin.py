from django.contrib import admin

from cordon.apps.audit.admin import AuditedAdmin

from .models import FrequencyRule, Lab, ResampleTask, SamplingSite, ScreeningRound, TemporaryControl, Tube


@admin.register(ScreeningRound)
class ScreeningRoundAdmin(AuditedAdmin):
    list_display = ["code", "name", "owner", "design", "status", "starts_at", "ends_at"]
    list_filter = ["status", "design"]
    search_fields = ["code", "name"]
    raw_id_fields = ["owner", "jurisdictions", "buildings", "sectors"]


@admin.register(SamplingSite)
class SamplingSiteAdmin(AuditedAdmin):
    list_display = ["code", "name", "round", "jurisdiction", "opens", "closes", "staff"]
    raw_id_fields = ["round", "jurisdiction"]


@admin.register(Lab)
class LabAdmin(AuditedAdmin):
    list_display = ["code", "name", "jurisdiction"]
    raw_id_fields = ["jurisdiction"]


@admin.register(Tube)
class TubeAdmin(AuditedAdmin):
    list_display = ["barcode", "round", "site", "size", "bound", "status", "result", "confirmation"]
    list_filter = ["status", "result", "size"]
    search_fields = ["barcode"]
    raw_id_fields = ["round", "site", "lab"]


@admin.register(ResampleTask)
class ResampleTaskAdmin(AuditedAdmin):
    list_display = ["person", "round", "source_tube", "district", "status", "due_at"]
    list_filter = ["status"]
    raw_id_fields = ["person", "round", "source_tube", "jurisdiction", "district"]


@admin.register(TemporaryControl)
class TemporaryControlAdmin(AuditedAdmin):
    list_display = ["person", "building", "district", "reason", "started_at", "lifted_at", "case"]
    raw_id_fields = ["person", "building", "jurisdiction", "district", "round", "tube", "case"]


@admin.register(FrequencyRule)
class FrequencyRuleAdmin(AuditedAdmin):
    list_display = ["sector", "every_days"]
