from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from cordon.apps.audit import actions as audit
from cordon.apps.audit.admin import AuditedAdmin, admin_actor
from cordon.core import reads

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

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """The admin's list of persons is a read of personal data like any list: one access-log row naming the
        persons shown (rendered inside the collection: the admin renders its lists lazily)."""
        route, query = "admin:people_person_changelist", request.get_full_path()[:500]
        with reads.reading(admin_actor(request), via="admin", route=route, query=query):
            response = super().changelist_view(request, extra_context)
            render = getattr(response, "render", None)
            if render is not None:
                render()
        return response
