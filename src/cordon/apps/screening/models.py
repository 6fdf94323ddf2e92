"""Mass nucleic-acid screening (核酸筛查、混采、应检尽检): rounds with their scope and pool design, sampling
sites, tubes, person-to-tube bindings, labs and results, single-tube re-sample tasks, temporary control of the
persons of a positive pool, and key-industry screening frequency rules.

A **round** screens a target population taken live from the resident register: everyone living in its
jurisdiction nodes or buildings, plus everyone working in its industry sectors. Staff at a **site** bind each
person to a **tube** (N-in-1: a tube holds up to the design's tube size). A lab receives tubes and records a
result per tube. A positive pool puts its persons under **temporary control** at their home building and opens
one **re-sample task** each (a single tube); a positive single tube is re-tested (confirmation) before it becomes
a case in the tracing app.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cordon.core.actions import BATCH, DERIVED
from cordon.engine import pooling

TUBE_SIZES = pooling.VALIDATED_POOL_SIZES  # (1, 5, 10, 20)


class RoundStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ScreeningRound(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # The jurisdiction the round belongs to (scoping of the round itself: who may see and run it).
    owner = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("organised by"), on_delete=models.PROTECT, related_name="+"
    )
    jurisdictions = models.ManyToManyField(
        "geo.Jurisdiction", verbose_name=_("areas"), blank=True, related_name="screening_rounds"
    )
    buildings = models.ManyToManyField(
        "geo.Building", verbose_name=_("buildings"), blank=True, related_name="+"
    )
    sectors = models.ManyToManyField(
        "geo.IndustrySector", verbose_name=_("industry sectors"), blank=True, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    design = models.CharField(_("pool design"), max_length=40, default="10-in-1")
    tube_size = models.PositiveSmallIntegerField(_("samples per tube"), default=10)
    key_industry = models.BooleanField(_("key-industry screening"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=RoundStatus.choices, default=RoundStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    counted_at = models.DateTimeField(_("target population counted"), null=True, blank=True)

    class Meta:
        verbose_name = _("screening round")
        verbose_name_plural = _("screening rounds")
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return self.code

    def accepting(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.status == RoundStatus.OPEN and self.starts_at <= now <= self.ends_at


class SamplingSite(models.Model):
    """A sampling point (采样点) of a round, with opening hours, staff and the queue staff last reported."""

    round = models.ForeignKey(ScreeningRound, on_delete=models.CASCADE, related_name="sites")
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    opens = models.TimeField(_("opens"), default=dt.time(7, 0))
    closes = models.TimeField(_("closes"), default=dt.time(21, 0))
    staff = models.PositiveSmallIntegerField(_("sampling staff"), default=2)
    queue_length = models.PositiveIntegerField(_("persons queueing"), default=0)
    queue_at = models.DateTimeField(_("queue reported"), null=True, blank=True)

    class Meta:
        verbose_name = _("sampling site")
        verbose_name_plural = _("sampling sites")
        ordering = ["round", "code"]
        constraints = [models.UniqueConstraint(fields=["round", "code"], name="site_code_once_per_round")]

    def __str__(self) -> str:
        return self.name


class TubeStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    OPEN = "open", _("In use")
    CLOSED = "closed", _("Sealed")
    RECEIVED = "received", _("At the lab")
    RESULTED = "resulted", _("Result recorded")


class Result(models.TextChoices):
    PENDING = "", _("Pending")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    INVALID = "invalid", _("Invalid")


class Lab(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("lab")
        verbose_name_plural = _("labs")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Tube(models.Model):
    """A collection tube with its barcode; ``size`` samples at most (1 = a single tube)."""

    barcode = models.CharField(_("barcode"), max_length=40, unique=True)
    round = models.ForeignKey(ScreeningRound, on_delete=models.CASCADE, related_name="tubes")
    site = models.ForeignKey(SamplingSite, on_delete=models.RESTRICT, related_name="tubes")
    size = models.PositiveSmallIntegerField(_("samples per tube"))
    status = models.CharField(
        _("status"), max_length=20, choices=TubeStatus.choices, default=TubeStatus.ISSUED
    )
    bound = models.PositiveSmallIntegerField(_("samples in the tube"), default=0)
    lab = models.ForeignKey(Lab, null=True, blank=True, on_delete=models.PROTECT, related_name="tubes")
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=20, choices=Result.choices, default="", blank=True)
    ct_values = models.JSONField(_("Ct values"), default=dict, blank=True)
    result_at = models.DateTimeField(_("result recorded"), null=True, blank=True)
    # A positive single tube is re-tested before it becomes a case.
    confirmation = models.CharField(
        _("confirmation re-test"), max_length=20, choices=Result.choices, default="", blank=True
    )
    confirmed_at = models.DateTimeField(_("confirmation recorded"), null=True, blank=True)

    class Meta:
        verbose_name = _("tube")
        verbose_name_plural = _("tubes")
        ordering = ["barcode"]
        indexes = [models.Index(fields=["round", "status"], name="tube_round_status")]

    def __str__(self) -> str:
        return self.barcode

    @property
    def is_full(self) -> bool:
        return self.bound >= self.size

    @property
    def awaiting_confirmation(self) -> bool:
        return self.size == 1 and self.result == Result.POSITIVE and not self.confirmation


class Binding(models.Model):
    """One person's sample in one tube. ``district`` and ``jurisdiction`` are the person's residence when
    sampled (coverage counts are grouped aggregates over them)."""

    # Few indexes: every one costs on the hot insert path. The unique (person, round) index leads with the
    # person so that a batch's "already sampled?" lookup is an index probe per person whatever the round's
    # size and its statistics; (person, bound_at) serves the frequency rules, (site, bound_at) the site's
    # rate; residence columns are not searched (coverage reads RoundCount).
    # The person and the tube are checked by the database; the round, site and residence columns are copied
    # from the tube and the person row in the same transaction, so they carry no foreign-key constraint of
    # their own (each one costs a lookup per row at commit on the hot insert path).

    # Audited per batch: a station's batch of samples (thousands per request, the documented hot path of
    # docs/architecture.md) has one ``record_batch`` row naming its site, count, tubes, refusals and flags;
    # the tubes it fills and the re-sample tasks it takes are audited per record.
    audit_policy = BATCH
    round = models.ForeignKey(
        ScreeningRound, on_delete=models.CASCADE, related_name="bindings", db_index=False, db_constraint=False
    )
    tube = models.ForeignKey(Tube, on_delete=models.CASCADE, related_name="bindings")
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="screening_samples", db_index=False
    )
    site = models.ForeignKey(
        SamplingSite, on_delete=models.RESTRICT, related_name="+", db_index=False, db_constraint=False
    )
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    district = models.ForeignKey(
        "geo.Jurisdiction", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    resample = models.ForeignKey(
        "ResampleTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="bindings",
        db_index=False, db_constraint=False,
    )  # fmt: skip
    out_of_scope = models.BooleanField(_("outside the round's scope"), default=False)
    bound_at = models.DateTimeField(_("sampled"), default=timezone.now)
    bound_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False, db_constraint=False,
    )  # fmt: skip

    class Meta:
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "round"], condition=Q(resample__isnull=True), name="one_sample_per_round"
            )
        ]
        indexes = [
            models.Index(fields=["person", "bound_at"], name="binding_person_time"),
            models.Index(fields=["site", "bound_at"], name="binding_site_time"),
        ]

    def __str__(self) -> str:
        return f"{self.tube_id}:{self.person_id}"


class TaskStatus(models.TextChoices):
    DUE = "due", _("To re-sample")
    SAMPLED = "sampled", _("Re-sampled, result pending")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_TASK = (TaskStatus.DUE, TaskStatus.SAMPLED)


class ResampleTask(models.Model):
    """Take a single-tube sample of one person of a positive pool (or after an invalid single result)."""

    round = models.ForeignKey(ScreeningRound, on_delete=models.CASCADE, related_name="resample_tasks")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    source_tube = models.ForeignKey(Tube, on_delete=models.CASCADE, related_name="resample_tasks")
    jurisdiction = models.ForeignKey("geo.Jurisdiction", on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("geo.Jurisdiction", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.DUE)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    due_at = models.DateTimeField(_("to be sampled by"))
    done_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("re-sample task")
        verbose_name_plural = _("re-sample tasks")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "round"], condition=Q(status__in=OPEN_TASK), name="one_open_resample"
            )
        ]
        indexes = [models.Index(fields=["district", "status", "due_at"], name="resample_queue")]

    def __str__(self) -> str:
        return f"{self.round_id}:{self.person_id}"

    def overdue(self, now: dt.datetime | None = None) -> bool:
        return self.status == TaskStatus.DUE and (now or timezone.now()) > self.due_at


class TemporaryControl(models.Model):
    """A person of a positive pool held at home (临时管控) until their single re-test is negative."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="temporary_controls")
    building = models.ForeignKey(
        "geo.Building", null=True, blank=True, on_delete=models.PROTECT, related_name="temporary_controls"
    )
    jurisdiction = models.ForeignKey("geo.Jurisdiction", on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("geo.Jurisdiction", on_delete=models.PROTECT, related_name="+")
    round = models.ForeignKey(ScreeningRound, on_delete=models.PROTECT, related_name="+")
    tube = models.ForeignKey(Tube, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=40, default="positive_pool")
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    case = models.ForeignKey(
        "tracing.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("temporary control")
        verbose_name_plural = _("temporary controls")
        ordering = ["-started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(lifted_at__isnull=True), name="one_temporary_control"
            )
        ]
        indexes = [models.Index(fields=["district", "lifted_at"], name="tempcontrol_district")]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.building_id}"


class RoundTarget(models.Model):
    """The round's target population per jurisdiction (the residence of each person), counted from the
    register when the round opens and again on request: the denominator of coverage without counting a
    million residents on every page view."""

    # Derived: a count of the (audited) register as of the round's ``counted_at`` (audited on the round),
    # taken again by ``recount_target``.
    audit_policy = DERIVED

    round = models.ForeignKey(ScreeningRound, on_delete=models.CASCADE, related_name="targets")
    jurisdiction = models.ForeignKey("geo.Jurisdiction", on_delete=models.CASCADE, related_name="+")
    persons = models.PositiveIntegerField(_("persons to screen"))

    class Meta:
        verbose_name = _("target population")
        verbose_name_plural = _("target populations")
        constraints = [models.UniqueConstraint(fields=["round", "jurisdiction"], name="round_target_once")]

    def __str__(self) -> str:
        return f"{self.round_id}:{self.jurisdiction_id}={self.persons}"


class RoundCount(models.Model):
    """Samples of a round per jurisdiction (first samples only, not re-samples), kept by the binding action in
    the same transaction as the samples themselves: ``sampled`` for persons in the round's scope,
    ``outside`` for those bound although outside it."""

    # Derived: the samples (``Binding``) of the round grouped by jurisdiction and scope flag, kept in step by
    # the binding action and recomputable from them at any time.
    audit_policy = DERIVED

    round = models.ForeignKey(ScreeningRound, on_delete=models.CASCADE, related_name="counts")
    jurisdiction = models.ForeignKey("geo.Jurisdiction", on_delete=models.CASCADE, related_name="+")
    sampled = models.PositiveIntegerField(default=0)
    outside = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("sample count")
        verbose_name_plural = _("sample counts")
        constraints = [models.UniqueConstraint(fields=["round", "jurisdiction"], name="round_count_once")]

    def __str__(self) -> str:
        return f"{self.round_id}:{self.jurisdiction_id}={self.sampled}"


class SiteDayCount(models.Model):
    """Samples taken at a site per day (the city's day, first samples and re-samples alike), kept by the binding
    action in the same transaction as the samples: the round page's "today" per site without counting the
    site's samples on every view."""

    # Derived: the samples (``Binding``) grouped by site and local day, kept in step by the binding action,
    # recomputable from them at any time (the nightly reconciliation does).
    audit_policy = DERIVED

    site = models.ForeignKey(SamplingSite, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sampled = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("samples per site and day")
        verbose_name_plural = _("samples per site and day")
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="site_day_count_once")]

    def __str__(self) -> str:
        return f"{self.site_id}@{self.day}={self.sampled}"


class FrequencyRule(models.Model):
    """Key-industry screening frequency (e.g. delivery riders every day, couriers every 2 days), owned by a
    jurisdiction: the city's rule holds for the whole city; a district may add a stricter one for itself (the
    stricter of the rules over a worker's home holds). Only the owner's level or a level above changes a rule,
    and no rule may be looser than one of a level above it."""

    sector = models.ForeignKey(
        "geo.IndustrySector", verbose_name=_("industry sector"), on_delete=models.CASCADE, related_name="+"
    )
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("set by"), on_delete=models.CASCADE, related_name="+"
    )
    every_days = models.PositiveSmallIntegerField(_("every (days)"))

    class Meta:
        verbose_name = _("screening frequency rule")
        verbose_name_plural = _("screening frequency rules")
        ordering = ["sector__code", "jurisdiction__path"]
        constraints = [
            models.UniqueConstraint(fields=["sector", "jurisdiction"], name="frequency_rule_once_per_node")
        ]

    def __str__(self) -> str:
        return f"{self.sector_id}@{self.jurisdiction_id}/{self.every_days}d"
