"""A simulator run: who asked for which scenario (audited), and what it gave, recorded once when it ends."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SimulationRun(models.Model):
    """One scenario (preset, size, days, seed, pathogen, strategy) run by a background job of kind
    ``simulation.run`` whose parameters name this run. How far it got, who stopped it and why it failed are the
    job's; the results are written here in one action when the run ends (never a part of them).

    ``series`` (the daily figures) is not editable and so left out of the audit row: it is derived, the same
    numbers again for the same audited scenario and seed; ``summary`` is audited."""

    title = models.CharField(_("title"), max_length=120, blank=True)
    scenario = models.JSONField(_("scenario"))
    preset = models.CharField(_("preset"), max_length=32)
    persons = models.PositiveIntegerField(_("residents"))
    days = models.PositiveIntegerField(_("days"))
    seed = models.BigIntegerField(_("seed"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.PROTECT, related_name="+"
    )
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction",
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The starter's: who may see the run."),
    )
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    series = models.JSONField(_("daily series"), default=dict, blank=True, editable=False)
    seconds = models.FloatField(_("run time (s)"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("simulator run")
        verbose_name_plural = _("simulator runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title or f"#{self.pk}"

    @property
    def recorded(self) -> bool:
        return self.recorded_at is not None
