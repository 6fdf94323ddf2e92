"""Isolation sites and their rooms: a site added or edited, rooms added by number ranges, a room's status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction
from cordon.core import versions
from cordon.core.actions import action
from cordon.core.actors import Actor

from ..models import LIVE_PLACEMENT, IsolationSite, Placement, Room, RoomStatus, SiteKind


@dataclass
class SiteData:
    code: str
    name: str
    jurisdiction: Jurisdiction | None
    kind: str = SiteKind.HOTEL
    name_en: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    phone: str = ""
    takes_children: bool = True
    takes_special_needs: bool = False
    active: bool = True
    note: str = ""


def clean_site(data: SiteData, instance: IsolationSite | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.code.strip():
        errors["code"] = _("A code is required.")
    elif (
        IsolationSite.objects.filter(code=data.code.strip())
        .exclude(pk=instance.pk if instance is not None else 0)
        .exists()
    ):
        errors["code"] = _("This code is already used.")
    if not data.name.strip():
        errors["name"] = _("A name is required.")
    if data.jurisdiction is None:
        errors["jurisdiction"] = _("Choose the jurisdiction the site belongs to.")
    if data.kind not in SiteKind.values:
        errors["kind"] = _("Unknown kind of site.")
    if data.latitude is not None and not -90 <= data.latitude <= 90:
        errors["latitude"] = _("A latitude lies between -90 and 90.")
    if data.longitude is not None and not -180 <= data.longitude <= 180:
        errors["longitude"] = _("A longitude lies between -180 and 180.")
    return errors


@action
def save_site(
    *, actor: Actor | None, data: SiteData, instance: IsolationSite | None = None, source: str = "web"
) -> IsolationSite:
    """Add a site, or edit ``instance``."""
    errors = clean_site(data, instance)
    if errors:
        raise ValidationError(errors)
    assert data.jurisdiction is not None
    fields: dict[str, Any] = {
        "code": data.code.strip(),
        "name": data.name.strip(),
        "name_en": data.name_en.strip(),
        "kind": data.kind,
        "jurisdiction": data.jurisdiction,
        "district": geo.district_of(data.jurisdiction),
        "address": data.address.strip(),
        "phone": data.phone.strip(),
        "note": data.note.strip(),
        "latitude": data.latitude,
        "longitude": data.longitude,
        "takes_children": data.takes_children,
        "takes_special_needs": data.takes_special_needs,
        "active": data.active,
    }
    if instance is None:
        return audit.create(actor, IsolationSite, source=source, **fields)
    audit.change(actor, instance, source=source, **fields)
    return instance


def parse_room_numbers(spec: str) -> list[str]:
    """'101-130, 201-230, A1' -> the room numbers; ranges keep the width of their first number."""
    out: list[str] = []
    for part in (p.strip() for p in spec.replace("，", ",").split(",")):
        if not part:
            continue
        if "-" in part:
            a, b = (x.strip() for x in part.split("-", 1))
            if not (a.isdigit() and b.isdigit()) or int(b) < int(a):
                raise ValidationError({"numbers": _("Cannot read the range %(r)s.") % {"r": part}})
            if int(b) - int(a) >= 2000:
                raise ValidationError({"numbers": _("A range may hold at most 2,000 rooms.")})
            out += [str(n).zfill(len(a)) for n in range(int(a), int(b) + 1)]
        else:
            out.append(part[:20])
    if not out:
        raise ValidationError({"numbers": _("Give room numbers, e.g. 101-130.")})
    return out


@action
def add_rooms(
    *, actor: Actor | None, site: IsolationSite, numbers: str, beds: int = 1, floor: int | None = None,
    accessible: bool = False, source: str = "web",
) -> list[Room]:  # fmt: skip
    wanted = parse_room_numbers(numbers)
    if not 1 <= beds <= 12:
        raise ValidationError({"beds": _("A room has from 1 to 12 beds.")})
    if len(set(wanted)) != len(wanted):
        raise ValidationError({"numbers": _("A room number is listed twice.")})
    taken = set(Room.objects.filter(site=site, number__in=wanted).values_list("number", flat=True))
    if taken:
        raise ValidationError(
            {"numbers": _("These rooms exist already: %(rooms)s.") % {"rooms": ", ".join(sorted(taken)[:10])}}
        )
    rooms = Room.objects.bulk_create(
        [
            Room(
                site=site,
                number=n,
                floor=floor if floor is not None else (int(n[:-2]) if n.isdigit() and len(n) > 2 else None),
                beds=beds,
                accessible=accessible,
            )
            for n in wanted
        ]
    )
    audit.record_bulk_create(actor, rooms, source=source)
    return rooms


@action
def set_room_status(
    *, actor: Actor | None, room: Room, status: str, version: int | None = None, source: str = "web"
) -> Room:
    """Set a room's status by hand (cleaning done, out of service). ``version``: the room's version the
    officer saw; a room changed since (someone placed in it, another officer's change) refuses the change
    (``versions.Conflict``)."""
    room = Room.objects.select_for_update(of=("self",)).get(pk=room.pk)
    versions.check(room, version)
    if status not in RoomStatus.values:
        raise ValidationError({"status": _("Unknown room status.")})
    occupied = Placement.objects.filter(room=room, status__in=LIVE_PLACEMENT).exists()
    if status == RoomStatus.OCCUPIED and not occupied:
        raise ValidationError({"status": _("A room becomes occupied by placing someone in it.")})
    if status != RoomStatus.OCCUPIED and occupied:
        raise ValidationError(
            {"status": _("Someone is placed in this room; it stays occupied until they leave.")}
        )
    audit.change(actor, room, status=status, expected_version=version, source=source)
    return room
