"""How many open items of each kind lie in each jurisdiction's whole territory, per district of the items, how
many of those are overdue and how many fall due today, as of the last recount; and each local day's closing
figure per kind and node (the daily-zero board's "yesterday")."""

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
    due_today = models.IntegerField(
        _("due today"), default=0
    )  # not overdue, overdue before the local day ends
    counted_at = models.DateTimeField(_("counted at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "kind", "district"], name="tally_node_kind_district"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.jurisdiction_id}/{self.district_id}: {self.open} ({self.overdue})"


class OpenItemClose(models.Model):
    """A local day's closing figure of one kind of open item at one node (its whole subtree, every district's
    items summed): what was open and what of it was overdue at the day's end (the clocks read at the next local
    midnight, by the first close the workers run after it). Written once per day by ``actions.close_day``, read
    by the daily-zero board as "yesterday", never edited. Rows are kept for every city and district node (zero
    too) and for other nodes with something open; a day with no row at all was not closed (no worker ran)."""

    audit_policy = DERIVED

    day = models.DateField(_("day"))
    kind = models.CharField(_("kind"), max_length=40)
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    open = models.IntegerField(_("open"))
    overdue = models.IntegerField(_("overdue"))
    counted_at = models.DateTimeField(_("counted at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "jurisdiction", "kind"], name="close_day_node_kind")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.jurisdiction_id}: {self.open} ({self.overdue})"
