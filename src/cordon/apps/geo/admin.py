from django.contrib import admin

from cordon.apps.audit.admin import AuditedAdmin

from .models import Building, IndustrySector, Jurisdiction


@admin.register(Jurisdiction)
class JurisdictionAdmin(AuditedAdmin):
    list_display = ["code", "name", "name_en", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name", "name_en"]
    readonly_fields = ["code", "level", "parent", "path"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # new nodes come through import or `cordon import`, which keep the tree consistent


@admin.register(IndustrySector)
class IndustrySectorAdmin(AuditedAdmin):
    list_display = ["code", "name", "name_en", "key_industry"]
    list_filter = ["key_industry"]


@admin.register(Building)
class BuildingAdmin(AuditedAdmin):
    list_display = ["code", "address", "jurisdiction", "latitude", "longitude"]
    search_fields = ["code", "address"]
    raw_id_fields = ["jurisdiction"]
