"""The territorial axis (city > district > street > community > grid, buildings) and the industry-sector axis."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cordon.core.actions import DERIVED


class Level(models.IntegerChoices):
    CITY = 1, _("City")
    DISTRICT = 2, _("District")
    STREET = 3, _("Street / township")
    COMMUNITY = 4, _("Community / village")
    GRID = 5, _("Grid")


class Jurisdiction(models.Model):
    """A node of the jurisdiction tree. ``path`` is the materialized path of codes ("/110000/110106/") so a
    subtree is one indexed prefix query; it is maintained by ``geo.actions`` only."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=400, unique=True, editable=False)

    class Meta:
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def display_name(self, language: str | None) -> str:
        if language and language.startswith("en") and self.name_en:
            return self.name_en
        return self.name

    def contains(self, other: Jurisdiction) -> bool:
        return other.path.startswith(self.path)


class IndustrySector(models.Model):
    """An industry sector: the second axis of responsibility beside territory (属地和行业责任)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    key_industry = models.BooleanField(
        _("key industry"), default=False, help_text=_("Screened more often (delivery, courier, ...).")
    )

    class Meta:
        verbose_name = _("industry sector")
        verbose_name_plural = _("industry sectors")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def display_name(self, language: str | None) -> str:
        if language and language.startswith("en") and self.name_en:
            return self.name_en
        return self.name


class Building(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    address = models.CharField(_("address"), max_length=300)
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=pgettext_lazy("building", "grid"),
        on_delete=models.PROTECT,
        related_name="buildings",
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    footprint = models.JSONField(
        _("footprint"),
        null=True,
        blank=True,
        help_text=_("Polygon as a list of [longitude, latitude] points."),
    )

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.address


class RollupTally(models.Model):
    """A registered roll-up figure (``cordon.core.rollups``: persons, households, buildings, venues) summed over
    a jurisdiction's whole subtree, as of the last recount by a worker. Derived, replaced whole by every
    refresh, never edited: not audited."""

    audit_policy = DERIVED

    figure = models.CharField(_("figure"), max_length=40)
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.CASCADE, related_name="+")
    n = models.BigIntegerField(_("count"))
    counted_at = models.DateTimeField(_("counted at"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["figure", "jurisdiction"], name="rollup_figure_node")]

    def __str__(self) -> str:
        return f"{self.figure} {self.jurisdiction_id}: {self.n}"


class Outline(models.Model):
    """A jurisdiction's outline computed from its buildings' points (``cordon.engine.outlines``: their convex
    hull grown by about 20 m) with its box and centre, for the maps. Derived, replaced whole by every refresh
    (``actions.refresh_outlines``: nightly, on demand, by the demo load), never edited: not audited."""

    audit_policy = DERIVED

    jurisdiction = models.OneToOneField(Jurisdiction, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    ring = models.JSONField(_("outline"), help_text=_("A closed ring of [longitude, latitude] points."))
    buildings = models.IntegerField(_("buildings"))
    west = models.FloatField()
    south = models.FloatField()
    east = models.FloatField()
    north = models.FloatField()
    x = models.FloatField(help_text="The centre's longitude")
    y = models.FloatField(help_text="The centre's latitude")
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        indexes = [models.Index(fields=["level", "west"], name="geo_outline_level_west")]

    def __str__(self) -> str:
        return f"outline of {self.jurisdiction_id}"
