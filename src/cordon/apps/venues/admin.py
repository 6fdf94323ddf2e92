from django.contrib import admin

from cordon.apps.audit.admin import AuditedAdmin

from .models import Venue


@admin.register(Venue)
class VenueAdmin(AuditedAdmin):
    list_display = ["code", "name", "venue_type", "jurisdiction", "capacity", "sector"]
    list_filter = ["venue_type", "sector"]
    search_fields = ["code", "name"]
    raw_id_fields = ["jurisdiction", "building"]
