"""The command app's stored figures (the daily figures and the daily reports)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.actions import DERIVED


class DayFigures(models.Model):
    """The commander's home figures of one jurisdiction (the city and every district) on one local day, as last
    taken by the workers that day (every ``CORDON_DAY_FIGURES_SECONDS``, so the last take of a day is its close):
    the "yesterday" the home compares today with. Derived from the kept counts at the time it was taken, written
    only by ``actions.take_day_figures``, so not audited."""

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
