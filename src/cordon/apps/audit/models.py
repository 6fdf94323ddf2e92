"""The audit trail (every create/update/delete made through an action) and the personal-data access log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditEntry(models.Model):
    class Verb(models.TextChoices):
        CREATE = "create", pgettext_lazy("audit", "created")
        UPDATE = "update", pgettext_lazy("audit", "updated")
        DELETE = "delete", pgettext_lazy("audit", "deleted")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor"), max_length=150)
    verb = models.CharField(_("action"), max_length=10, choices=Verb.choices)
    model = models.CharField(_("record type"), max_length=60)  # "people.person"
    object_pk = models.CharField(_("record"), max_length=40)
    object_repr = models.CharField(_("description"), max_length=200)
    changes = models.JSONField(_("changes"), default=dict)  # {field: [old, new]}
    source = models.CharField(_("source"), max_length=20, default="web")

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_pk"])]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.verb} {self.model}#{self.object_pk}"


class AccessLog(models.Model):
    """One row per opening of a person's full record (web page, API detail, unmasked export)."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor"), max_length=150)
    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.CASCADE, related_name="+"
    )
    via = models.CharField(_("via"), max_length=20)
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "at"])]

    def __str__(self) -> str:
        return f"{self.actor_name} opened person #{self.person_id} via {self.via}"
