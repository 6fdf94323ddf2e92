"""Close-contact control (应转尽转、应隔尽隔): quarantine plans, isolation sites and rooms, control orders,
placements, transfer tasks, scheduled sample tasks, daily health records and extensions.

A judged (confirmed) close or secondary contact opens one **control order** for the person: it waits in its
district's queue with a clock (the plan's ``transfer_within_hours``), is placed (a room reserved at a site, then
occupied when the transfer arrives; or at home), is tested on the plan's days and is released by rule, or
becomes a case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cordon.core.actions import DERIVED
from cordon.core.versions import Versioned
from cordon.engine import quarantine as engine


class AppliesTo(models.TextChoices):
    CLOSE = "close", _("Close contacts")
    SECONDARY = "secondary", _("Secondary contacts")


class QuarantinePlan(models.Model):
    """One version of a plan (versioned data per pathogen profile). Editing makes a new version and puts it in
    force; placements keep the version they were made under."""

    profile = models.CharField(_("pathogen profile"), max_length=60)
    code = models.CharField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    applies_to = models.CharField(_("applies to"), max_length=20, choices=AppliesTo.choices)
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    definition = models.JSONField(_("definition"))
    in_force = models.BooleanField(_("in force"), default=True)
    note = models.CharField(_("reason for the change"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("quarantine plan")
        verbose_name_plural = _("quarantine plans")
        ordering = ["profile", "applies_to", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "code", "version"], name="plan_version_once"),
            models.UniqueConstraint(
                fields=["profile", "applies_to"], condition=Q(in_force=True), name="plan_one_in_force"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def plan(self) -> engine.Plan:
        return engine.parse_plan(self.definition)

    def display_name(self, language: str = "") -> str:
        return self.name_zh if language.startswith("zh") and self.name_zh else self.name


class SiteKind(models.TextChoices):
    HOTEL = "hotel", _("Quarantine hotel")
    FACILITY = "facility", _("Designated facility")
    MAKESHIFT = "makeshift", _("Makeshift facility")


class IsolationSite(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=SiteKind.choices, default=SiteKind.HOTEL)
    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        "geo.Jurisdiction",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="isolation_sites",
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    takes_children = models.BooleanField(_("takes children with a guardian"), default=True)
    takes_special_needs = models.BooleanField(_("takes persons with special needs"), default=False)
    active = models.BooleanField(_("open for intake"), default=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("isolation site")
        verbose_name_plural = _("isolation sites")
        ordering = ["district__code", "code"]

    def __str__(self) -> str:
        return self.name

    def display_name(self, language: str = "") -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class RoomStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    OCCUPIED = "occupied", _("Occupied")
    CLEANING = "cleaning", _("Cleaning")
    OUT_OF_SERVICE = "out_of_service", _("Out of service")


class Room(Versioned):
    """A room with beds. One household per room (单人单间, families together): a room is available only when
    empty; it is occupied while anyone is reserved or staying in it, and needs cleaning after they leave."""

    site = models.ForeignKey(IsolationSite, on_delete=models.CASCADE, related_name="rooms")
    number = models.CharField(_("room"), max_length=20)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    beds = models.PositiveSmallIntegerField(_("beds"), default=1)
    accessible = models.BooleanField(_("accessible"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=RoomStatus.choices, default=RoomStatus.AVAILABLE
    )

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["site", "floor", "number"]
        constraints = [models.UniqueConstraint(fields=["site", "number"], name="room_number_once_per_site")]
        indexes = [models.Index(fields=["site", "status"], name="room_site_status")]

    def __str__(self) -> str:
        return f"{self.site.name} {self.number}"


class OrderStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for placement")
    ALLOCATED = "allocated", _("Room reserved")
    IN_TRANSFER = "in_transfer", _("In transfer")
    ISOLATED = "isolated", _("In centralised isolation")
    HOME = "home", _("At home (quarantine or monitoring)")
    RELEASED = "released", _("Released")
    CONVERTED = "converted", _("Became a case")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_ORDER = (
    OrderStatus.WAITING,
    OrderStatus.ALLOCATED,
    OrderStatus.IN_TRANSFER,
    OrderStatus.ISOLATED,
    OrderStatus.HOME,
)
NOT_YET_CONTROLLED = (OrderStatus.WAITING, OrderStatus.ALLOCATED, OrderStatus.IN_TRANSFER)


class ControlOrder(Versioned):
    """The control of one person after a contact judgment, from the queue to release."""

    code = models.CharField(_("order number"), max_length=40, unique=True)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="control_orders")
    case = models.ForeignKey(
        "tracing.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="control_orders"
    )
    # PROTECT like the case: a judged contact with an order is never deleted from under it.
    contact = models.ForeignKey(
        "tracing.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="control_orders"
    )
    degree = models.SmallIntegerField(_("degree"))
    plan = models.ForeignKey(
        QuarantinePlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="orders"
    )
    centralized = models.BooleanField(_("centralised isolation"))
    # Residence at the time (routing to the district's queue, scoping) and, while placed, the site.
    jurisdiction = models.ForeignKey("geo.Jurisdiction", on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("geo.Jurisdiction", on_delete=models.PROTECT, related_name="control_orders")
    site = models.ForeignKey(
        IsolationSite, verbose_name=_("site"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="orders",
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.WAITING
    )
    opened_at = models.DateTimeField(_("judged"), default=timezone.now)
    due_at = models.DateTimeField(_("to be under control by"))
    controlled_at = models.DateTimeField(_("under control since"), null=True, blank=True)
    start_date = models.DateField(_("plan day 1"), null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField(_("extension (days)"), default=0)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    certificate_no = models.CharField(_("certificate number"), max_length=40, blank=True)
    converted_case = models.ForeignKey(
        "tracing.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="converted_from"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("control order")
        verbose_name_plural = _("control orders")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(status__in=OPEN_ORDER), name="one_open_order_per_person"
            )
        ]
        indexes = [
            models.Index(fields=["district", "status", "due_at"], name="order_queue"),
            models.Index(fields=["case", "status"], name="order_case"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ORDER

    def overdue(self, now: dt.datetime | None = None) -> bool:
        return self.status in NOT_YET_CONTROLLED and (now or timezone.now()) > self.due_at

    def schedule(self) -> engine.Schedule | None:
        if self.start_date is None:
            return None
        return engine.schedule(self.plan.plan, self.start_date, self.extension_days)


class PlacementMode(models.TextChoices):
    CENTRALIZED = "centralized", _("Centralised isolation")
    HOME = "home", _("At home")


class PlacementStatus(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    ACTIVE = "active", _("Staying")
    ENDED = "ended", _("Ended")
    CANCELLED = "cancelled", _("Cancelled")


class EndReason(models.TextChoices):
    RELEASED = "released", _("Released")
    MOVED_HOME = "moved_home", _("Moved to home monitoring")
    CONVERTED = "converted", _("Became a case")
    TRANSFER_FAILED = "transfer_failed", _("Transfer failed")
    ADJUSTED = "adjusted", _("Placement changed")


LIVE_PLACEMENT = (PlacementStatus.RESERVED, PlacementStatus.ACTIVE)


class Placement(models.Model):
    """Where a person is (or will be) under control: a room at a site, or at home. The plan in force when the
    placement was made is stamped on it."""

    order = models.ForeignKey(ControlOrder, on_delete=models.CASCADE, related_name="placements")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="placements")
    plan = models.ForeignKey(QuarantinePlan, on_delete=models.PROTECT, related_name="placements")
    mode = models.CharField(_("mode"), max_length=20, choices=PlacementMode.choices)
    site = models.ForeignKey(
        IsolationSite, null=True, blank=True, on_delete=models.PROTECT, related_name="placements"
    )
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.PROTECT, related_name="placements")
    building = models.ForeignKey(
        "geo.Building", null=True, blank=True, on_delete=models.PROTECT, related_name="home_placements"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PlacementStatus.choices, default=PlacementStatus.RESERVED
    )
    reserved_at = models.DateTimeField(_("reserved"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=20, choices=EndReason.choices, blank=True)
    distance_km = models.FloatField(_("distance (km)"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        ordering = ["-reserved_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=LIVE_PLACEMENT),
                name="one_live_placement_per_person",
            )
        ]
        indexes = [
            models.Index(fields=["room", "status"], name="placement_room"),
            models.Index(fields=["building", "status"], name="placement_building"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.room or self.building or '-'}"


class TransferStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    EN_ROUTE = "en_route", _("En route")
    ARRIVED = "arrived", _("Arrived")
    CANCELLED = "cancelled", _("Cancelled")


class TransferTask(models.Model):
    """A vehicle and team taking a group of persons to one site (转运)."""

    code = models.CharField(_("task number"), max_length=40, unique=True)
    district = models.ForeignKey("geo.Jurisdiction", on_delete=models.PROTECT, related_name="transfer_tasks")
    site = models.ForeignKey(IsolationSite, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    vehicle = models.CharField(_("vehicle"), max_length=40)
    team = models.CharField(_("team"), max_length=100)
    pickup_at = models.DateTimeField(_("pickup time"))
    status = models.CharField(
        _("status"), max_length=20, choices=TransferStatus.choices, default=TransferStatus.ASSIGNED
    )
    departed_at = models.DateTimeField(_("departed"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("transfer task")
        verbose_name_plural = _("transfer tasks")
        ordering = ["pickup_at", "id"]
        indexes = [models.Index(fields=["district", "status"], name="transfer_district_status")]

    def __str__(self) -> str:
        return self.code

    def overdue(self, now: dt.datetime | None = None) -> bool:
        """Not yet on the road an hour after the pickup time, or not arrived three hours after it."""
        now = now or timezone.now()
        if self.status == TransferStatus.ASSIGNED:
            return now > self.pickup_at + dt.timedelta(hours=1)
        return self.status == TransferStatus.EN_ROUTE and now > self.pickup_at + dt.timedelta(hours=3)


class MemberStatus(models.TextChoices):
    ASSIGNED = "assigned", _("To pick up")
    ARRIVED = "arrived", _("Arrived")
    FAILED = "failed", _("Failed")


class FailureReason(models.TextChoices):
    NOT_HOME = "not_home", _("Not at home")
    REFUSED = "refused", _("Refused")
    UNREACHABLE = "unreachable", _("Unreachable")
    OTHER = "other", _("Other")


class TransferMember(models.Model):
    task = models.ForeignKey(TransferTask, on_delete=models.CASCADE, related_name="members")
    order = models.ForeignKey(ControlOrder, on_delete=models.CASCADE, related_name="transfers")
    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        _("status"), max_length=20, choices=MemberStatus.choices, default=MemberStatus.ASSIGNED
    )
    failure_reason = models.CharField(_("reason"), max_length=20, choices=FailureReason.choices, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("transfer member")
        verbose_name_plural = _("transfer members")
        ordering = ["task", "id"]

    def __str__(self) -> str:
        return f"{self.task_id}:{self.order_id}"


class SampleStatus(models.TextChoices):
    DUE = "due", _("Due")
    SAMPLED = "sampled", _("Sampled, result pending")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    INVALID = "invalid", _("Invalid")


class SampleTask(models.Model):
    """A PCR test scheduled by the plan (or by an extension)."""

    order = models.ForeignKey(ControlOrder, on_delete=models.CASCADE, related_name="sample_tasks")
    key = models.CharField(_("plan day"), max_length=20)
    stage = models.PositiveSmallIntegerField(_("stage"))
    day = models.PositiveSmallIntegerField(_("day of stage"))
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=20, choices=SampleStatus.choices, default=SampleStatus.DUE
    )
    sampled_at = models.DateTimeField(_("sampled"), null=True, blank=True)
    result_at = models.DateTimeField(_("result"), null=True, blank=True)
    ct_value = models.FloatField(_("Ct value"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("sample task")
        verbose_name_plural = _("sample tasks")
        ordering = ["due_on", "id"]
        constraints = [models.UniqueConstraint(fields=["order", "key"], name="sample_task_once")]
        indexes = [models.Index(fields=["status", "due_on"], name="sample_task_due")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.key}"

    def missed(self, today: dt.date | None = None) -> bool:
        return self.status == SampleStatus.DUE and self.due_on < (today or timezone.localdate())


class Symptom(models.TextChoices):
    FEVER = "fever", _("Fever")
    COUGH = "cough", _("Cough")
    SORE_THROAT = "sore_throat", _("Sore throat")
    FATIGUE = "fatigue", _("Fatigue")
    MUSCLE_PAIN = "muscle_pain", _("Muscle pain")
    LOSS_OF_SMELL = "loss_of_smell", _("Loss of smell or taste")
    BREATHING = "breathing", _("Shortness of breath")
    DIARRHOEA = "diarrhoea", _("Diarrhoea")


FEVER_CELSIUS = 37.3


class HealthRecord(Versioned):
    """A daily health check (temperature, symptoms). A fever or any symptom raises an alert that stays open
    until someone handles it."""

    order = models.ForeignKey(ControlOrder, on_delete=models.CASCADE, related_name="health_records")
    day = models.DateField(_("day"))
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1)
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    alert = models.BooleanField(_("alert"), default=False)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handling = models.CharField(_("how it was handled"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("health record")
        verbose_name_plural = _("health records")
        ordering = ["-day", "-id"]
        constraints = [models.UniqueConstraint(fields=["order", "day"], name="health_record_once_a_day")]
        indexes = [models.Index(fields=["alert", "handled_at"], name="health_alerts")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.day}"

    def symptom_labels(self) -> list[str]:
        labels: dict[str, Any] = dict(Symptom.choices)
        return [str(labels.get(s, s)) for s in self.symptoms]


class Extension(models.Model):
    order = models.ForeignKey(ControlOrder, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField(_("days"))
    reason = models.CharField(_("reason"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} +{self.days}"


# --- Kept for the board (derived: recounted by workers, replaced whole, never edited, so not audited) ----------


class SiteTally(models.Model):
    """The board's table per isolation site: tests missed and health alerts open of the orders at ``site`` that
    a user of ``jurisdiction`` sees (the residents of its subtree, or any resident when the site lies in it),
    as of the last recount (every ``CORDON_TALLY_SECONDS``, with the kept open-item counts)."""

    audit_policy = DERIVED

    jurisdiction = models.ForeignKey(
        "geo.Jurisdiction", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    site = models.ForeignKey(
        IsolationSite, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    missed_tests = models.IntegerField(_("tests missed"))
    alerts = models.IntegerField(_("health alerts"))
    counted_at = models.DateTimeField(_("counted at"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["jurisdiction", "site"], name="sitetally_node_site")]

    def __str__(self) -> str:
        return f"{self.site_id} seen from {self.jurisdiction_id}: {self.missed_tests}, {self.alerts}"


class SiteCapacity(models.Model):
    """A site's rooms and beds by status and its persons staying and reserved (``selectors.Capacity``), as of the
    last recount, for the board's capacity table."""

    audit_policy = DERIVED

    site = models.OneToOneField(IsolationSite, on_delete=models.CASCADE, related_name="+")
    rooms = models.IntegerField(_("rooms"))
    beds = models.IntegerField(_("beds"))
    available_rooms = models.IntegerField(_("available rooms"))
    available_beds = models.IntegerField(_("available beds"))
    occupied_rooms = models.IntegerField(_("occupied rooms"))
    persons = models.IntegerField(_("persons"))
    reserved = models.IntegerField(_("reserved"))
    cleaning = models.IntegerField(_("cleaning"))
    out_of_service = models.IntegerField(_("out of service"))
    counted_at = models.DateTimeField(_("counted at"))

    def __str__(self) -> str:
        return f"{self.site_id}: {self.available_rooms}/{self.rooms}"
