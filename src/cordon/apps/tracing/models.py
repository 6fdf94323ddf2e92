"""Cases, investigations, traced contacts and their judgment, cross-district linkage, clusters, risk venues and
scan batches (流调溯源、关联比对、应判尽判)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cordon.core.actions import DERIVED
from cordon.core.versions import Versioned


class Classification(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed case")
    ASYMPTOMATIC = "asymptomatic", _("Asymptomatic infection")


class FoundBy(models.TextChoices):
    AREA_SCREENING = "area_screening", _("Area screening")
    KEY_INDUSTRY_SCREENING = "key_industry_screening", _("Key-industry screening")
    IN_QUARANTINE = "in_quarantine", _("Found in quarantine")
    FEVER_CLINIC = "fever_clinic", _("Fever clinic")
    SELF_REPORT = "self_report", _("Self-report")
    CHECKPOINT = "checkpoint", _("Checkpoint")


class Control(models.TextChoices):
    """Where the case was when found: in the community, or already under control (the figure commanders
    watch every day: a case found in the community means a chain still open)."""

    COMMUNITY = "community", _("In the community")
    ISOLATION = "isolation", _("In centralised isolation")
    QUARANTINE = "quarantine", _("In home quarantine")
    SEALED_AREA = "sealed_area", _("In a sealed area")


class Cluster(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="merged",
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Case(models.Model):
    code = models.CharField(_("case number"), max_length=40, unique=True)
    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="cases"
    )
    classification = models.CharField(
        _("classification"), max_length=20, choices=Classification.choices, default=Classification.CONFIRMED
    )
    onset_date = models.DateField(_("onset date"), null=True, blank=True)
    sampled_at = models.DateTimeField(_("first positive sample"))
    reported_at = models.DateTimeField(_("reported"), default=timezone.now)
    found_by = models.CharField(_("found by"), max_length=30, choices=FoundBy.choices)
    control = models.CharField(
        _("where found"), max_length=20, choices=Control.choices, default=Control.COMMUNITY
    )
    isolated_at = models.DateTimeField(_("isolated"), null=True, blank=True)
    # An imported case (输入病例): infected elsewhere. Rt counts it as a source of infection, not as an infection.
    imported = models.BooleanField(_("imported case"), default=False, db_default=False)
    # Copied from the person when the case is reported (the register may change later): scoping and routing.
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="cases"
    )
    district = models.ForeignKey(
        "geo.Jurisdiction",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="district_cases",
    )
    workplace = models.ForeignKey(
        "venues.Venue", verbose_name=_("workplace"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="cases",
    )  # fmt: skip
    cluster = models.ForeignKey(
        Cluster,
        verbose_name=_("cluster"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
    )
    window_start = models.DateTimeField(_("exposure window from"), null=True, blank=True)
    window_end = models.DateTimeField(_("exposure window until"), null=True, blank=True)
    traced_at = models.DateTimeField(_("last traced"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, default="web")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["district", "reported_at"], name="case_district_reported"),
            models.Index(fields=["reported_at"], name="case_reported"),  # the newest first, city-wide
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def under_control(self) -> bool:
        return self.control != Control.COMMUNITY


class Investigation(Versioned):
    """The epidemiological investigation of one case (流调): who, from when to when, and the trajectory."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="investigation")
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("investigator"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("investigation")
        verbose_name_plural = _("investigations")

    def __str__(self) -> str:
        return f"{self.case_id}"


class TrajectoryKind(models.TextChoices):
    VENUE = "venue", _("Venue visit")
    TRANSPORT = "transport", _("Transport trip")
    PLACE = "place", _("Other place")


class TrajectoryEntry(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="trajectory")
    kind = models.CharField(
        _("kind"), max_length=20, choices=TrajectoryKind.choices, default=TrajectoryKind.VENUE
    )
    venue = models.ForeignKey(
        "venues.Venue",
        verbose_name=_("venue"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    subarea = models.SmallIntegerField(_("sub-area"), null=True, blank=True)
    place = models.CharField(_("place or trip"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    time_in = models.DateTimeField(_("from"))
    time_out = models.DateTimeField(_("until"))
    from_scan = models.BooleanField(_("from a check-in scan"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("trajectory entry")
        verbose_name_plural = _("trajectory entries")
        ordering = ["time_in", "id"]

    def __str__(self) -> str:
        return f"{self.place or self.venue} {self.time_in:%m-%d %H:%M}"

    @property
    def subarea_name(self) -> str:
        if self.venue is None or self.subarea is None:
            return ""
        areas = self.venue.sub_areas
        return str(areas[self.subarea]) if 0 <= self.subarea < len(areas) else str(self.subarea)


class ContactType(models.TextChoices):
    HOUSEHOLD = "household", _("Household")
    WORK_UNIT = "work_unit", _("Work unit / class")
    VENUE = "venue", _("Same venue, same time")
    TRAJECTORY = "trajectory", _("Same place in the trajectory")
    SECONDARY_HOUSEHOLD = "secondary_household", _("Household of a close contact")
    SECONDARY_WORK_UNIT = "secondary_work_unit", _("Work unit of a close contact")
    RISK_VENUE = "risk_venue", _("Risk-venue visitor")


class Degree(models.IntegerChoices):
    RISK_VENUE = 0, _("Risk-venue visitor (screening)")
    CLOSE = 1, _("Close contact")
    SECONDARY = 2, _("Secondary contact")


class Decision(models.TextChoices):
    CANDIDATE = "candidate", _("To be judged")
    CONFIRMED = "confirmed", _("Confirmed")
    DISMISSED = "dismissed", _("Dismissed")


class Contact(Versioned):
    """A person found by tracing a case. Nothing becomes a close contact silently: a candidate stays a
    candidate until an investigator confirms or dismisses it, and re-tracing never changes a decision."""

    # No index of its own: the unique constraint and both indexes below lead with the case.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts", db_index=False)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="contact_of")
    degree = models.SmallIntegerField(_("degree"), choices=Degree.choices)
    contact_type = models.CharField(_("contact type"), max_length=30, choices=ContactType.choices)
    via = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.FloatField(_("risk score"), default=0)
    overlap_minutes = models.IntegerField(_("overlap (minutes)"), default=0)
    shared_stays = models.IntegerField(_("shared stays"), default=0)
    evidence = models.JSONField(_("evidence"), default=list, blank=True)
    # The contact's residence (routing to their district's inbox) at the time of tracing.
    jurisdiction = models.ForeignKey("geo.Jurisdiction", on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("geo.Jurisdiction", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("judgment"), max_length=20, choices=Decision.choices, default=Decision.CANDIDATE
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("judged"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    found_at = models.DateTimeField(_("found"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["degree", "-score", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "person"], name="contact_once_per_case")]
        indexes = [
            models.Index(fields=["case", "status", "degree"], name="contact_case_status"),
            # A case's list in its order: a page of 200 of 30,000 secondary contacts is read off the index,
            # not joined and sorted whole (whatever the planner's statistics say right after a trace).
            models.Index(fields=["case", "degree", "-score", "id"], name="contact_case_list"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.person_id}"


class Linkage(models.Model):
    """A confirmed contact living in another district, handed to that district (跨区协查) with a clock."""

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="linkage")
    from_district = models.ForeignKey("geo.Jurisdiction", on_delete=models.PROTECT, related_name="+")
    to_district = models.ForeignKey(
        "geo.Jurisdiction", on_delete=models.PROTECT, related_name="linkage_inbox"
    )
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("cross-district linkage")
        verbose_name_plural = _("cross-district linkages")
        ordering = ["acknowledged_at", "created_at", "id"]
        indexes = [models.Index(fields=["to_district", "acknowledged_at"], name="linkage_inbox")]

    def __str__(self) -> str:
        return f"{self.contact_id} -> {self.to_district_id}"

    @property
    def due_at(self) -> dt.datetime:
        return self.created_at + dt.timedelta(hours=settings.CORDON_LINKAGE_ACK_HOURS)

    def overdue(self, now: dt.datetime | None = None) -> bool:
        return self.acknowledged_at is None and (now or timezone.now()) > self.due_at


class RiskVenue(models.Model):
    """A venue a case visited while infectious (风险点位), with the time window of those visits."""

    # Derived, not judged: every trace of the case deletes its risk venues and makes them again from the case's
    # scans in its exposure window (no one edits or decides them); the trace itself is audited (the case's
    # window and trace time), so these rows are a cache of what the scans say.
    audit_policy = DERIVED

    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="risk_points")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="risk_venues")
    first_in = models.DateTimeField(_("from"))
    last_out = models.DateTimeField(_("until"))
    visits = models.IntegerField(_("visits"), default=1)

    class Meta:
        verbose_name = _("risk venue")
        verbose_name_plural = _("risk venues")
        ordering = ["-last_out", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "venue"], name="risk_venue_once_per_case")]

    def __str__(self) -> str:
        return f"{self.venue_id} ({self.case_id})"


class ScanBatch(models.Model):
    """One ingestion of venue check-in scans into the scan store, with what was added, skipped and why."""

    created_at = models.DateTimeField(_("loaded"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(_("file"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=20, default="web")
    rows_read = models.BigIntegerField(default=0)
    added = models.BigIntegerField(default=0)
    duplicates = models.BigIntegerField(default=0)
    rejected = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("scan batch")
        verbose_name_plural = _("scan batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename or self.source} {self.created_at:%Y-%m-%d %H:%M}"
