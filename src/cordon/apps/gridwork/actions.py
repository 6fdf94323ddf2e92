"""Every write of grid management (one ``@action`` each: one transaction, audited).

The zone's owner level and the levels above it set up posts, plans and shifts (``require_may_change`` on the
zone's owner); a patrol is recorded by whoever is on duty at the post then, or by the staff of the post's grid
and the levels above it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Building, Jurisdiction
from cordon.apps.zones.models import State, Zone
from cordon.core import uploads
from cordon.core.actions import action
from cordon.core.actors import Actor
from cordon.core.scoping import require_may_change
from cordon.engine import patrols as engine

from . import selectors
from .models import DutyPost, DutyShift, Finding, Patrol, PatrolPlan, PatrolResult, PostKind

PHOTO_LIMIT = 5 * 1024 * 1024  # bytes
# What a photo's first bytes must be: JPEG, PNG, WebP (RIFF....WEBP).
_IMAGE_MAGIC = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG\r\n\x1a\n", ".png"))
PATROL_PAST_DAYS = 7  # how late a patrol may still be recorded
PATROL_FUTURE = dt.timedelta(minutes=5)  # a phone's clock a little ahead


def _aware(at: dt.datetime | None) -> dt.datetime | None:
    """A time without an offset is the city's local time."""
    return timezone.make_aware(at) if at is not None and timezone.is_naive(at) else at


def _open_zone(zone: Zone, errors: dict[str, str], field: str = "zone") -> None:
    if zone.state == State.CLOSED:
        errors[field] = _("The zone %(zone)s is closed: its posts are no longer kept.") % {"zone": zone.code}


@action
def create_post(
    *,
    actor: Actor | None,
    zone: Zone,
    name: str,
    kind: str = PostKind.GATE,
    building: Building | None = None,
    jurisdiction: Jurisdiction | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    source: str = "web",
) -> DutyPost:
    """A duty post of ``zone``: at a building (its grid is the post's) or at a point in a given grid."""
    require_may_change(actor, zone.owner)
    errors: dict[str, str] = {}
    _open_zone(zone, errors)
    name = (name or "").strip()
    if not name:
        errors["name"] = _("A name is required.")
    elif len(name) > 120:
        errors["name"] = _("At most 120 characters.")
    elif DutyPost.objects.filter(zone=zone, name=name).exists():
        errors["name"] = _("This zone already has a post of this name.")
    if kind not in PostKind.values:
        errors["kind"] = _("Unknown kind of post.")
    if building is not None:
        if jurisdiction is not None and not jurisdiction.contains(building.jurisdiction):
            errors["building"] = _("The building is outside the given grid.")
        jurisdiction = building.jurisdiction
    if jurisdiction is None:
        errors["building"] = _("A building or a grid is required.")
    elif not zone.owner.contains(jurisdiction) and not (
        building is not None and zone.members.filter(building=building).exists()
    ):
        errors["building"] = _("The place is outside the zone's owner and not one of its buildings.")
    if (latitude is None) != (longitude is None):
        errors["latitude"] = _("Give both latitude and longitude, or neither.")
    elif (
        latitude is not None
        and longitude is not None
        and not (-90 <= latitude <= 90 and -180 <= longitude <= 180)
    ):
        errors["latitude"] = _("Not a position on the earth.")
    if errors:
        raise ValidationError(errors)
    assert jurisdiction is not None
    if latitude is None and building is not None:
        latitude, longitude = building.latitude, building.longitude
    return audit.create(
        actor,
        DutyPost,
        source=source,
        zone=zone,
        name=name,
        kind=kind,
        jurisdiction=jurisdiction,
        district=geo.district_of(jurisdiction),
        building=building,
        latitude=latitude,
        longitude=longitude,
    )


@action
def set_post_active(*, actor: Actor | None, post: DutyPost, active: bool, source: str = "web") -> DutyPost:
    require_may_change(actor, post.zone.owner)
    audit.change(actor, post, source=source, active=bool(active))
    return post


@action
def assign_duty(
    *,
    actor: Actor | None,
    post: DutyPost,
    user: Any,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    source: str = "web",
) -> DutyShift:
    """Put ``user`` on duty at ``post`` from ``starts_at`` to ``ends_at``."""
    require_may_change(actor, post.zone.owner)
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    errors: dict[str, str] = {}
    _open_zone(post.zone, errors, "post")
    if not post.active:
        errors["post"] = _("This post is no longer kept.")
    if user is None or not getattr(user, "is_active", False):
        errors["user"] = _("No such active user.")
    else:
        where = user.jurisdiction
        if where is None or not (post.zone.owner.contains(where) or where.contains(post.jurisdiction)):
            errors["user"] = _("This user works outside the zone's owner and the post's grid.")
    if starts_at is None:
        errors["starts_at"] = _("A start is required.")
    if ends_at is None:
        errors["ends_at"] = _("An end is required.")
    elif starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = _("The end must come after the start.")
    elif starts_at is not None and ends_at - starts_at > dt.timedelta(days=7):
        errors["ends_at"] = _("A shift lasts at most seven days.")
    if errors:
        raise ValidationError(errors)
    return audit.create(
        actor, DutyShift, source=source, post=post, user=user, starts_at=starts_at, ends_at=ends_at
    )


@action
def set_plan(
    *,
    actor: Actor | None,
    post: DutyPost,
    times: str | Sequence[str] = "",
    every_hours: int | None = None,
    tolerance_minutes: int = 30,
    active_from: dt.date | None = None,
    active_to: dt.date | None = None,
    source: str = "web",
) -> PatrolPlan:
    """The post's patrol plan from ``active_from`` (today by default): the plan it follows until then ends the
    day before."""
    require_may_change(actor, post.zone.owner)
    errors: dict[str, str] = {}
    _open_zone(post.zone, errors, "post")
    try:
        parsed = engine.parse_times(times)
    except ValueError as exc:
        parsed = []
        errors["times"] = _("Not a time of day (HH:MM): %(value)s") % {"value": str(exc)[:20]}
    if every_hours is not None and not 1 <= every_hours <= 24:
        errors["every_hours"] = _("Every 1 to 24 hours.")
    if "times" not in errors and not parsed and every_hours is None:
        errors["times"] = _("Give the times of day of the patrols, or every how many hours.")
    elif parsed and every_hours is not None:
        errors["every_hours"] = _("Give times of day or an interval, not both.")
    if not 5 <= tolerance_minutes <= 240:
        errors["tolerance_minutes"] = _("A tolerance of 5 to 240 minutes.")
    start = active_from or timezone.localdate()
    if active_to is not None and active_to < start:
        errors["active_to"] = _("The end must not come before the start.")
    if errors:
        raise ValidationError(errors)
    for old in post.plans.filter(active_from__lt=start).exclude(active_to__lt=start):
        audit.change(actor, old, source=source, active_to=start - dt.timedelta(days=1))
    for old in post.plans.filter(active_from__gte=start):
        audit.delete(actor, old, source=source)
    return audit.create(
        actor,
        PatrolPlan,
        source=source,
        post=post,
        times=[t.strftime("%H:%M") for t in parsed],
        every_hours=every_hours,
        tolerance_minutes=tolerance_minutes,
        active_from=start,
        active_to=active_to,
    )


def _photo_suffix(photo: UploadedFile, errors: dict[str, str]) -> str:
    size = photo.size or 0
    if size > PHOTO_LIMIT:
        errors["photo"] = _("The photo is too large: at most %(mb)d MB.") % {
            "mb": PHOTO_LIMIT // (1024 * 1024)
        }
        return ""
    photo.seek(0)
    head = photo.read(16)
    photo.seek(0)
    for magic, suffix in _IMAGE_MAGIC:
        if head.startswith(magic):
            return suffix
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    errors["photo"] = _("The photo must be a JPEG, PNG or WebP image.")
    return ""


@action
def record_patrol(
    *,
    actor: Actor | None,
    post: DutyPost,
    findings: str,
    at: dt.datetime | None = None,
    note: str = "",
    photo: UploadedFile | None = None,
    source: str = "web",
) -> Patrol:
    """A patrol or inspection at ``post`` (now unless ``at``): the findings, a note, an optional photo."""
    now = timezone.now()
    at = _aware(at) or now
    if not selectors.is_on_duty(actor, post, at):
        require_may_change(actor, post.jurisdiction)
    errors: dict[str, str] = {}
    _open_zone(post.zone, errors, "post")
    if not post.active:
        errors["post"] = _("This post is no longer kept.")
    if findings not in Finding.values:
        errors["findings"] = _("Choose what the patrol found.")
    if at > now + PATROL_FUTURE:
        errors["at"] = _("A patrol cannot be recorded ahead of time.")
    elif at < now - dt.timedelta(days=PATROL_PAST_DAYS):
        errors["at"] = _("A patrol older than %(days)d days cannot be recorded.") % {"days": PATROL_PAST_DAYS}
    note = (note or "").strip()
    if len(note) > 500:
        errors["note"] = _("At most 500 characters.")
    elif findings == Finding.OTHER and not note:
        errors["note"] = _("Say what the problem is.")
    suffix = _photo_suffix(photo, errors) if photo is not None else ""
    if errors:
        raise ValidationError(errors)
    stored = ""
    if photo is not None:
        photo.name = f"photo{suffix}"
        stored = uploads.keep(photo, PHOTO_LIMIT)
    result = PatrolResult.OK if findings == Finding.ALL_CLEAR else PatrolResult.PROBLEM
    return audit.create(
        actor,
        Patrol,
        source=source,
        post=post,
        by=actor,
        at=at,
        findings=findings,
        result=result,
        note=note,
        photo=stored,
    )
