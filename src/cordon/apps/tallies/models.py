"""How many open items of each kind lie in each jurisdiction's whole territory, per district of the items, and
how many of those are overdue, as of the last recount."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.actions import DERIVED


class OpenItemTally(models.Model):
    """A recount of the source tables (``cordon.core.openitems`` kinds), kept for the board: the items of
    ``district`` a user of ``jurisdiction`` sees (its whole subtree, rolled up from the grids, communities or
    streets the items lie in). Only counts above zero are stored, and every district's own and its city's
    counts (zero too). Derived, replaced whole by every refresh, never edited, so not audited."""

    audit_policy = DERIVED

    kind = models.CharField(_("kind"), max_length=40)
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    district = models.ForeignKey(
        "geo.Jurisdiction", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    open = models.IntegerField(_("open"))
    overdue = models.IntegerField(_("overdue"))
    counted_at = models.DateTimeField(_("counted at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "kind", "district"], name="tally_node_kind_district"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.jurisdiction_id}/{self.district_id}: {self.open} ({self.overdue})"
