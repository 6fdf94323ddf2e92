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
    """One row per request that returned personal data: a person's full record (``person``, the record opened),
    a list, a search, an export or a PDF (``persons``: the ids of every person returned, ``count``; ``query``:
    the path and query string asked; ``detail``: the route). Rows are only ever inserted."""

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
        "people.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    via = models.CharField(_("via"), max_length=20)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    query = models.CharField(_("query"), max_length=500, blank=True, default="")
    count = models.PositiveIntegerField(_("persons"), default=1)
    # The ids returned, as ",12,15,40," (one text value, cheap to write for an export of thousands; a person's
    # reads are found with ``persons__contains=",<id>,"`` on SQLite and PostgreSQL alike).
    persons = models.TextField(_("persons returned"), blank=True, default="")

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["person", "at"]),
            models.Index(fields=["actor", "at"], name="accesslog_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} read {self.count} person(s) via {self.via}"

    def person_ids(self) -> list[int]:
        """The persons the request returned (a row written before the list was kept names only ``person``)."""
        if not self.persons:
            return [self.person_id] if self.person_id is not None else []
        return [int(p) for p in self.persons.strip(",").split(",") if p]


class ReadAlert(models.Model):
    """A user went over the personal-data volume limit (``CORDON_PII_READ_LIMIT`` persons within
    ``CORDON_PII_READ_WINDOW`` seconds): raised once per window, shown to the auditors. Only ever inserted."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("user"), max_length=150)
    window_start = models.DateTimeField(_("window from"))
    count = models.PositiveIntegerField(_("persons read"))
    limit = models.PositiveIntegerField(_("limit"))
    route = models.CharField(_("last request"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("bulk-read alert")
        verbose_name_plural = _("bulk-read alerts")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["actor", "at"], name="readalert_actor_at")]

    def __str__(self) -> str:
        return f"{self.actor_name} read {self.count} persons (limit {self.limit})"
