"""Place-code venues (场所码): where check-in scans happen."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class VenueType(models.TextChoices):
    RESTAURANT = "restaurant", _("Restaurant")
    MARKET = "market", _("Market")
    MALL = "mall", _("Shopping mall")
    SUPERMARKET = "supermarket", _("Supermarket")
    HOTEL = "hotel", _("Hotel")
    ECONOMY_HOTEL = "economy_hotel", _("Economy hotel")
    TRANSIT = "transit", _("Transit station")
    HOSPITAL = "hospital", _("Hospital")
    CLINIC = "clinic", _("Clinic / pharmacy")
    COURIER_DEPOT = "courier_depot", _("Courier depot")
    OFFICE = "office", _("Office")
    FACTORY = "factory", _("Factory")
    SCHOOL = "school", _("School")
    GYM = "gym", _("Gym / entertainment")
    RESIDENTIAL = "residential", _("Residential compound gate")
    OTHER = "other", _("Other")


HUB_TYPES = frozenset({VenueType.MALL, VenueType.TRANSIT, VenueType.MARKET, VenueType.HOSPITAL})


class Venue(models.Model):
    code = models.CharField(_("place code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    venue_type = models.CharField(
        _("type"), max_length=20, choices=VenueType.choices, default=VenueType.OTHER
    )
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="venues"
    )
    building = models.ForeignKey(
        "geo.Building",
        verbose_name=_("building"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="venues",
    )
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    sub_areas = models.JSONField(_("sub-areas"), default=list, blank=True)
    responsible_unit = models.CharField(_("responsible unit"), max_length=200, blank=True)
    sector = models.ForeignKey(
        "geo.IndustrySector",
        verbose_name=_("industry sector"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="venues",
    )

    class Meta:
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_hub(self) -> bool:
        return self.venue_type in HUB_TYPES
