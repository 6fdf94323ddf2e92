"""Grid management of zones (网格化管理): duty posts (值守点) at a zone's gates and entrances, who is on duty
there, the patrol plan of each post and the patrols and inspections (值守巡查) recorded from a phone.

A grid worker is a user whose role is ``grid_worker`` and whose jurisdiction is a grid: the posts of that grid
and the buildings under it are theirs. A post belongs to a zone (``zones.Zone``) and lies in a jurisdiction
(the grid of its building, or one given with a point); the zone's owner level and the levels above it set up
its posts, plans and shifts; the grid's staff and whoever is on duty record patrols.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PostKind(models.TextChoices):
    GATE = "gate", _("Gate")
    ENTRANCE = "entrance", _("Entrance")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    OTHER = "other", _("Other post")


class DutyPost(models.Model):
    zone = models.ForeignKey("zones.Zone", verbose_name=_("zone"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=PostKind.choices, default=PostKind.GATE)
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("district"), on_delete=models.PROTECT, related_name="+"
    )
    building = models.ForeignKey(
        "geo.Building", verbose_name=_("building"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("duty post")
        verbose_name_plural = _("duty posts")
        ordering = ["zone_id", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["zone", "name"], name="duty_post_name_once")]

    def __str__(self) -> str:
        return self.name


class DutyShift(models.Model):
    """Who is on duty at a post, from when to when."""

    post = models.ForeignKey(DutyPost, on_delete=models.CASCADE, related_name="shifts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("on duty"), on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("to"))

    class Meta:
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty shifts")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["user", "ends_at"], name="duty_shift_user_end")]

    def __str__(self) -> str:
        return f"{self.post_id}: {self.user_id}"


class PatrolPlan(models.Model):
    """When a post is to be patrolled: at the given times of day, or every N hours from midnight."""

    post = models.ForeignKey(DutyPost, on_delete=models.CASCADE, related_name="plans")
    times = models.JSONField(_("times of day"), default=list, blank=True)  # ["08:00", "20:00"]
    every_hours = models.PositiveSmallIntegerField(_("every N hours"), null=True, blank=True)
    tolerance_minutes = models.PositiveSmallIntegerField(_("tolerance (minutes)"), default=30)
    active_from = models.DateField(_("active from"))
    active_to = models.DateField(_("active to"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("patrol plan")
        verbose_name_plural = _("patrol plans")
        ordering = ["-active_from", "-id"]

    def __str__(self) -> str:
        return f"{self.post_id}: {self.times or self.every_hours}"


class Finding(models.TextChoices):
    ALL_CLEAR = "all_clear", _("All clear")
    CROWDING = "crowding", _("People gathering")
    UNREGISTERED = "unregistered", _("Entry or exit not registered")
    UNSTAFFED = "unstaffed", _("Post left unstaffed")
    FENCE = "fence", _("Fence or barrier damaged")
    SUPPLIES = "supplies", _("Supplies short")
    OTHER = "other", _("Other problem")


class PatrolResult(models.TextChoices):
    OK = "ok", _("OK")
    PROBLEM = "problem", _("Problem found")


class Patrol(models.Model):
    post = models.ForeignKey(DutyPost, on_delete=models.PROTECT, related_name="patrols")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("time"))
    findings = models.CharField(_("findings"), max_length=20, choices=Finding.choices)
    result = models.CharField(_("result"), max_length=10, choices=PatrolResult.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    photo = models.CharField(_("photo"), max_length=60, blank=True)  # the stored name (core.uploads.keep)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["post", "at"], name="patrol_post_at")]

    def __str__(self) -> str:
        return f"{self.post_id} {self.at:%Y-%m-%d %H:%M}"
