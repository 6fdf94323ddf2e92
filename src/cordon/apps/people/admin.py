from django.contrib import admin

from cordon.apps.audit.admin import AuditedAdmin

from .models import Household, Person


@admin.register(Household)
class HouseholdAdmin(AuditedAdmin):
    list_display = ["code", "building", "unit"]
    search_fields = ["code"]
    raw_id_fields = ["building"]


@admin.register(Person)
class PersonAdmin(AuditedAdmin):
    list_display = ["id", "name", "sex", "birth_date", "jurisdiction", "sector"]
    search_fields = ["name", "national_id", "phone"]
    list_filter = ["sex", "sector"]
    raw_id_fields = ["jurisdiction", "home_building", "household", "workplace"]
