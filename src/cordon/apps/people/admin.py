from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from cordon.apps.audit import actions as audit
from cordon.apps.audit.admin import AuditedAdmin, admin_actor

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

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Opening a person's full record in the admin is written to the access log like anywhere else."""
        if request.method == "GET":
            person = self.get_object(request, object_id)
            if person is not None:
                audit.log_person_access(admin_actor(request), person, via="admin")
        return super().change_view(request, object_id, form_url, extra_context)
