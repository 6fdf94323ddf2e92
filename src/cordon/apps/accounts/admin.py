from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from cordon.apps.audit.admin import AuditedAdmin

from .models import ApiToken, User


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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued with `cordon token USERNAME --name NAME` (the key is shown once); here they can be revoked."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["user", "name", "revoked", "prefix", "created_at", "last_used_at"]
