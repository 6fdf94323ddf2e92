from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from cordon.apps.audit import actions as audit
from cordon.apps.audit.admin import SOURCE, AuditedAdmin, admin_actor
from cordon.apps.audit.models import AuditEntry

from .models import ApiToken, User

HIDDEN = "********"  # what the audit trail shows of a password change (never the hash)


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    list_display = ["username", "display_name", "role", "jurisdiction", "sector", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "display_name"]
    raw_id_fields = ["jurisdiction"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Cordon role and scope"), {"fields": ("display_name", "role", "jurisdiction", "sector")}),
    )

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """The admin's own password form writes past ``save_model``: audit a change it makes (without the
        hashes)."""
        if request.method != "POST":
            return super().user_change_password(request, id, form_url)
        with transaction.atomic():
            user = self.get_object(request, unquote(id))
            before = user.password if user is not None else None
            response = super().user_change_password(request, id, form_url)
            if user is not None:
                user.refresh_from_db(fields=["password"])
                if user.password != before:
                    audit.record_rows(
                        admin_actor(request),
                        User,
                        [(user.pk, str(user), {"password": [HIDDEN, HIDDEN]})],
                        verb=AuditEntry.Verb.UPDATE,
                        source=SOURCE,
                    )
        return response


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    """Tokens are issued with `cordon token USERNAME --name NAME` (the key is shown once); here they can be revoked
    (audited like every admin edit)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["user", "name", "revoked", "prefix", "created_at", "last_used_at"]


# Django registers its group admin unaudited; Cordon's roles do not use groups, but the admin can edit them, so
# they are audited like everything else the admin writes.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedAdmin, BaseGroupAdmin):
    pass
