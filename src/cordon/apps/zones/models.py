"""Sealed, controlled and prevention zones (封控区 / 管控区 / 防范区) under grid management, lifted by rule
(解封不解防).

A **zone** is a set of buildings (``ZoneBuilding``) of one kind, owned by a jurisdiction level, in a state along
its lifecycle (proposed -> in force -> guarded -> closed; escalating or downgrading changes its kind). Every
change of state or kind is a **transition** (``ZoneTransition``): proposed by a person or by the daily rule
evaluation, then confirmed or rejected by a person, with who, when and why. The lifting rules are versioned
data (``ZoneRuleSet``, one in force), read by ``cordon.engine.zones``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cordon.core.versions import Versioned
from cordon.engine import zones as engine


class Kind(models.TextChoices):
    SEALED = engine.SEALED, _("Sealed zone")
    CONTROLLED = engine.CONTROLLED, _("Controlled zone")
    PREVENTION = engine.PREVENTION, _("Prevention zone")


class State(models.TextChoices):
    PROPOSED = engine.PROPOSED, _("Proposed")
    IN_FORCE = engine.IN_FORCE, _("In force")
    GUARDED = engine.GUARDED, _("Lifted, still guarded")
    CLOSED = engine.CLOSED, _("Closed")


class ZoneAction(models.TextChoices):
    PUT_IN_FORCE = engine.PUT_IN_FORCE, _("Put in force")
    ESCALATE = engine.ESCALATE, _("Escalate")
    DOWNGRADE = engine.DOWNGRADE, _("Downgrade")
    LIFT = engine.LIFT, _("Lift (then guard)")
    CLOSE = engine.CLOSE, _("Close")
    REINSTATE = engine.REINSTATE, _("Put back in force")
    WITHDRAW = engine.WITHDRAW, _("Withdraw the proposal")


class Reason(models.TextChoices):
    CASES = "cases", _("Cases")
    RISK_VENUE = "risk_venue", _("Risk venue")
    OTHER = "other", _("Other")


class ZoneRuleSet(models.Model):
    """One version of a rule set (versioned data): editing makes a new version and puts it in force."""

    code = models.CharField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    definition = models.JSONField(_("definition"))
    in_force = models.BooleanField(_("in force"), default=False)
    note = models.CharField(_("reason for the change"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("zone rule set")
        verbose_name_plural = _("zone rule sets")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="zone_rules_version_once"),
            models.UniqueConstraint(
                fields=["in_force"], condition=Q(in_force=True), name="zone_rules_one_in_force"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def rules(self) -> engine.RuleSet:
        return engine.parse_rules(self.code, self.definition)

    def display_name(self, language: str = "") -> str:
        return self.name_zh if language.startswith("zh") and self.name_zh else self.name


class Zone(Versioned):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PROPOSED)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, default=Reason.CASES)
    reason_note = models.CharField(_("reason in detail"), max_length=300, blank=True)
    # The level that owns the zone: it and the levels above it change it; every district holding one of its
    # buildings sees it.
    owner = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("owned by"), on_delete=models.PROTECT, related_name="+"
    )
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible commander"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    starts_on = models.DateField(_("starts"))
    in_force_on = models.DateField(_("in force since"), null=True, blank=True)
    last_case_on = models.DateField(_("last case"), null=True, blank=True)
    case_flag = models.BooleanField(_("case found while in force"), default=False)
    guarded_on = models.DateField(_("lifted on"), null=True, blank=True)
    guarded_until = models.DateField(_("guarded until"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    boundary = models.JSONField(
        _("boundary"),
        null=True,
        blank=True,
        help_text=_("GeoJSON geometry the zone was drawn or imported with."),
    )
    cases = models.ManyToManyField(
        "tracing.Case", through="ZoneCase", verbose_name=_("causing cases"), blank=True, related_name="+"
    )
    buildings = models.ManyToManyField(
        "geo.Building", through="ZoneBuilding", verbose_name=_("buildings"), related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["state", "kind"], name="zone_state_kind")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ZoneBuilding(models.Model):
    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="members")
    building = models.ForeignKey("geo.Building", on_delete=models.PROTECT, related_name="zone_members")

    class Meta:
        verbose_name = _("zone building")
        verbose_name_plural = _("zone buildings")
        constraints = [models.UniqueConstraint(fields=["zone", "building"], name="zone_building_once")]

    def __str__(self) -> str:
        return f"{self.zone_id}: {self.building_id}"


class ZoneCase(models.Model):
    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="case_links")
    case = models.ForeignKey("tracing.Case", on_delete=models.PROTECT, related_name="zone_links")

    class Meta:
        verbose_name = _("zone case")
        verbose_name_plural = _("zone cases")
        constraints = [models.UniqueConstraint(fields=["zone", "case"], name="zone_case_once")]

    def __str__(self) -> str:
        return f"{self.zone_id}: {self.case_id}"


class TransitionStatus(models.TextChoices):
    PROPOSED = "proposed", _("To decide")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class ZoneTransition(models.Model):
    """A proposed change of a zone's state or kind, and its decision. ``proposed_by`` empty: the rules."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(_("action"), max_length=20, choices=ZoneAction.choices)
    from_state = models.CharField(_("from state"), max_length=20, choices=State.choices)
    to_state = models.CharField(_("to state"), max_length=20, choices=State.choices)
    from_kind = models.CharField(_("from kind"), max_length=20, choices=Kind.choices)
    to_kind = models.CharField(_("to kind"), max_length=20, choices=Kind.choices)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)  # [{"code": ..., "params": {...}}]
    rule_set = models.ForeignKey(
        ZoneRuleSet, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=TransitionStatus.choices, default=TransitionStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    proposed_on = models.DateField(_("due"))
    note = models.CharField(_("why"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("zone transition")
        verbose_name_plural = _("zone transitions")
        ordering = ["-proposed_at", "-id"]
        indexes = [models.Index(fields=["status", "proposed_on"], name="zone_transition_open")]

    def __str__(self) -> str:
        return f"{self.zone_id} {self.action} ({self.status})"
