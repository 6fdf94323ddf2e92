"""How many open items of each kind a district has, and how many are overdue, as of the last recount."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.actions import DERIVED


class OpenItemTally(models.Model):
    """A recount of the source tables (``cordon.core.openitems`` kinds, city-wide), kept for the board: derived,
    replaced whole by every refresh, never edited, so not audited."""

    audit_policy = DERIVED

    kind = models.CharField(_("kind"), max_length=40)
    district = models.ForeignKey("geo.Jurisdiction", on_delete=models.CASCADE, related_name="+")
    open = models.IntegerField(_("open"))
    overdue = models.IntegerField(_("overdue"))
    counted_at = models.DateTimeField(_("counted at"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "district"], name="tally_kind_district")]

    def __str__(self) -> str:
        return f"{self.kind} {self.district_id}: {self.open} ({self.overdue})"
