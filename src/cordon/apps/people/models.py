"""Households and persons: the resident register."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cordon.core import reads
from cordon.core.pii import Mask
from cordon.core.versions import Versioned
from cordon.engine import identity


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    UNKNOWN = "U", _("Unknown")


class SpecialGroup(models.TextChoices):
    ELDERLY_ALONE = "elderly_alone", _("Elderly living alone")
    DISABLED = "disabled", _("Disabled")
    PREGNANT = "pregnant", _("Pregnant")
    DIALYSIS = "dialysis", _("Dialysis or chronic treatment")
    EXAM_STUDENT = "exam_student", _("Exam student")
    INFANT = "infant", _("Infant")
    BEDRIDDEN = "bedridden", _("Bedridden")
    MENTAL_HEALTH = "mental_health", _("Severe mental illness")


def search_keys(national_id: str | None, phone: str) -> tuple[str, str]:
    """The reversed national ID and the reversed digits of the phone, kept beside a person for suffix search."""
    return (national_id or "")[::-1], "".join(ch for ch in phone or "" if ch.isdigit())[::-1]


class Household(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    building = models.ForeignKey(
        "geo.Building", verbose_name=_("building"), on_delete=models.PROTECT, related_name="households"
    )
    unit = models.CharField(_("unit / room"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.building.address} {self.unit}".strip()


class Person(Versioned):
    """A resident. ``jurisdiction`` is the node the person belongs to for scoping (the home building's grid when
    there is a building); ``people.actions`` keeps it in step."""

    national_id = models.CharField(_("national ID"), max_length=18, unique=True, null=True, blank=True)
    name = models.CharField(_("name"), max_length=100, db_index=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="persons"
    )
    home_building = models.ForeignKey(
        "geo.Building",
        verbose_name=_("home building"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    workplace = models.ForeignKey(
        "venues.Venue",
        verbose_name=_("workplace"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="workers",
    )
    workplace_name = models.CharField(_("workplace name"), max_length=200, blank=True)
    # The department, team or school class inside the workplace: colleagues or classmates of the same unit are
    # close contacts of each other (tracing); blank when unknown.
    work_unit = models.CharField(_("work unit / class"), max_length=100, blank=True)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    sector = models.ForeignKey(
        "geo.IndustrySector",
        verbose_name=_("industry sector"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="persons",
    )
    tags = models.JSONField(_("special groups"), default=list, blank=True)
    # Reversed national ID and phone, indexed, so "the last digits" is a prefix lookup instead of a full scan.
    national_id_rev = models.CharField(max_length=18, blank=True, default="", db_index=True, editable=False)
    phone_rev = models.CharField(max_length=20, blank=True, default="", db_index=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Personal data (core/pii.py): masked for roles without view_pii on pages, in the API, exports and the
    # audit trail's values.
    pii_masks: ClassVar[dict[str, Mask]] = {"national_id": identity.mask, "phone": identity.mask_phone}

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["workplace", "work_unit"], name="person_work_unit"),
            # The residents in a special group (a few percent of the register), by jurisdiction: the special
            # groups' recount reads these rows only, not the whole register.
            models.Index(fields=["jurisdiction"], condition=~Q(tags=[]), name="person_tagged"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.national_id_rev, self.phone_rev = search_keys(self.national_id, self.phone)
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> Person:
        """Every person row read becomes an instance here (lists, ``select_related``, ``iterator()``): inside a
        request that returns personal data, the id is noted for its access-log row (``cordon.core.reads``)."""
        instance = super().from_db(db, field_names, values, **kwargs)
        reads.loaded(instance.pk)
        return instance

    def tag_labels(self) -> list[str]:
        labels = dict(SpecialGroup.choices)
        return [str(labels.get(t, t)) for t in self.tags]
