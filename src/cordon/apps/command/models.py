"""The command app's stored figures (the daily figures and the daily reports)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cordon.core.actions import DERIVED


class DayFigures(models.Model):
    """The commander's home figures of one jurisdiction (the city, every district and every street) on one local
    day, as last taken by the workers that day (every ``CORDON_DAY_FIGURES_SECONDS``, so the last take of a day
    is its close): the "yesterday" the home compares today with. Derived from the kept counts at the time it was
    taken, written only by ``actions.take_day_figures``, so not audited."""

    audit_policy = DERIVED

    day = models.DateField(_("day"))
    jurisdiction = models.ForeignKey("geo.Jurisdiction", on_delete=models.CASCADE, related_name="+")
    figures = models.JSONField(_("figures"), default=dict)
    taken_at = models.DateTimeField(_("taken at"))

    class Meta:
        verbose_name = _("day's figures")
        verbose_name_plural = _("days' figures")
        constraints = [models.UniqueConstraint(fields=["day", "jurisdiction"], name="day_figures_once")]

    def __str__(self) -> str:
        return f"{self.day} {self.jurisdiction_id}"


class DailyReport(models.Model):
    """The daily situation report of one area (the city or a district) for one local day: the figures it shows,
    stored as they were when it was made, so that its page and its PDF, then or years later, show the same
    numbers. A report is never changed; a day may have several (one made on the clock, others on request)."""

    day = models.DateField(_("day"))
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    # Derived from audited records when the report is made (so left out of the audit row, like other derived
    # fields), and never changed after.
    figures: Any = models.JSONField(_("figures"), default=dict, editable=False)
    generated_at = models.DateTimeField(_("generated"))
    # None: made on the clock by the system (``CORDON_DAILY_REPORT_HOUR``).
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scheduled = models.BooleanField(_("made on the clock"), default=False)
    # The job that made it (on request), and its PDF as kept in the uploads storage (``core.jobs.result_file``:
    # name, filename, content_type, size); a PDF lost from the storage is made again from ``figures``.
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    file: Any = models.JSONField(_("file"), default=dict, blank=True)

    class Meta:
        verbose_name = _("daily report")
        verbose_name_plural = _("daily reports")
        ordering = ["-day", "-generated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "day"], condition=Q(scheduled=True), name="one_scheduled_report_a_day"
            )
        ]
        indexes = [models.Index(fields=["jurisdiction", "day"], name="report_area_day")]

    def __str__(self) -> str:
        return f"{self.jurisdiction_id}@{self.day}"


class TimelinessDay(models.Model):
    """The timeliness figures of the cases of one district reported on one local day (``timeliness.py``), kept
    so the page and the API read a few hundred rows, not every case: the counts and, for each measure, the
    hours of every case done, sorted (float64, little-endian: exactly the hours the per-request count
    computes, so the medians and 90th percentiles of any days and districts merged are exact). Pending cases
    are only counted. A row for every district and day of the kept window, zero too (so a missing row means
    not kept). Recounted by the workers (``actions.refresh_timeliness``: the recent days and the days with
    pending cases every ``CORDON_TIMELINESS_SECONDS``, every day each night), replaced whole, never edited,
    so not audited."""

    audit_policy = DERIVED

    district = models.ForeignKey(
        "geo.Jurisdiction", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    day = models.DateField(_("day"))
    cases = models.IntegerField(_("cases"))
    under_control = models.IntegerField(_("found under control"))
    trajectory_pending = models.IntegerField(_("trajectories pending"))
    transfer_pending = models.IntegerField(_("transfers pending"))
    trajectory_hours = models.BinaryField(_("trajectory hours"))
    transfer_hours = models.BinaryField(_("transfer hours"))
    counted_at = models.DateTimeField(_("counted at"))

    class Meta:
        verbose_name = _("kept timeliness of a day")
        verbose_name_plural = _("kept timeliness of days")
        constraints = [models.UniqueConstraint(fields=["day", "district"], name="timeliness_day_once")]

    def __str__(self) -> str:
        return f"{self.day} {self.district_id}: {self.cases}"
