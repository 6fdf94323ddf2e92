"""Pages of isolation sites and rooms, and of the quarantine plans."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.apps.geo import selectors as geo
from cordon.core.access import AuthedRequest, page
from cordon.core.pages import conflict_text, error_fields, error_text, found, posted_version
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope
from cordon.core.versions import Conflict

from .. import actions, selectors
from ..models import AppliesTo, RoomStatus, SiteKind

# --- Sites and rooms ---------------------------------------------------------------------------------------


@page(Cap.VIEW_CONTROL)
def site_list(request: AuthedRequest) -> HttpResponse:
    sites = list(selectors.sites_visible_to(request.user))
    per_site = selectors.capacity(request.user, sites)
    by_district, total = selectors.capacity_by_district(request.user)
    return render(
        request,
        "control/sites.html",
        {
            "sites": [(s, per_site[s.pk]) for s in sites],
            "by_district": by_district,
            "total": total,
            "can_control": Scope.of(request.user).can(Cap.CONTROL),
        },
    )


def _site_data(request: AuthedRequest) -> actions.SiteData:
    p = request.POST
    node = None
    if p.get("jurisdiction", "").strip():
        try:
            node = geo.get_jurisdiction_for(request.user, p["jurisdiction"].strip())
        except NotFound:
            node = None

    def num(name: str) -> float | None:
        try:
            return float(p.get(name, "").strip()) if p.get(name, "").strip() else None
        except ValueError:
            return None

    return actions.SiteData(
        code=p.get("code", ""), name=p.get("name", ""), jurisdiction=node, kind=p.get("kind", SiteKind.HOTEL),
        name_en=p.get("name_en", ""), address=p.get("address", ""), latitude=num("latitude"),
        longitude=num("longitude"), phone=p.get("phone", ""), takes_children=bool(p.get("takes_children")),
        takes_special_needs=bool(p.get("takes_special_needs")), active=bool(p.get("active", "on")),
        note=p.get("note", ""),
    )  # fmt: skip


@page(Cap.CONTROL)
def site_new(request: AuthedRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"takes_children": True, "active": True}
    status = 200
    if request.method == "POST":
        values = request.POST.dict()
        try:
            site = actions.save_site(actor=request.user, data=_site_data(request))
        except ValidationError as exc:
            errors = error_fields(exc)
            status = 422
        else:
            messages.success(request, _("Site %(name)s added; now add its rooms.") % {"name": site.name})
            return redirect("control:site", code=site.code)
    return render(
        request,
        "control/site_new.html",
        {"values": values, "errors": errors, "kinds": SiteKind.choices},
        status=status,
    )


@page(Cap.VIEW_CONTROL)
@personal_data()
def site_detail(request: AuthedRequest, code: str) -> HttpResponse:
    site = found(lambda: selectors.get_site_for(request.user, code))
    rooms = selectors.rooms_of(site)
    return render(
        request,
        "control/site.html",
        {
            "site": site,
            "rooms": rooms,
            "capacity": selectors.capacity(request.user, [site])[site.pk],
            "statuses": RoomStatus.choices,
            "can_control": Scope.of(request.user).can(Cap.CONTROL),
        },
    )


@page(Cap.CONTROL)
@require_POST
def site_rooms(request: AuthedRequest, code: str) -> HttpResponse:
    site = found(lambda: selectors.get_site_for(request.user, code))
    try:
        beds = int(request.POST.get("beds", "1") or 1)
        floor = int(request.POST["floor"]) if request.POST.get("floor", "").strip() else None
    except ValueError:
        messages.error(request, _("Beds and floor are whole numbers."))
        return redirect("control:site", code=site.code)
    try:
        rooms = actions.add_rooms(
            actor=request.user, site=site, numbers=request.POST.get("numbers", ""), beds=beds, floor=floor,
            accessible=bool(request.POST.get("accessible")),
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("%(n)d rooms added.") % {"n": len(rooms)})
    return redirect("control:site", code=site.code)


@page(Cap.CONTROL)
@require_POST
def room_status(request: AuthedRequest, pk: int) -> HttpResponse:
    room = found(lambda: selectors.get_room_for(request.user, pk))
    try:
        actions.set_room_status(
            actor=request.user,
            room=room,
            status=request.POST.get("status", ""),
            version=posted_version(request),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except Conflict:
        messages.error(request, conflict_text())
    return redirect("control:site", code=room.site.code)


# --- Plans -------------------------------------------------------------------------------------------------


@page(Cap.VIEW_CONTROL)
def plan_list(request: AuthedRequest) -> HttpResponse:
    rows = list(selectors.plans(request.user).order_by("profile", "applies_to", "-version"))
    return render(
        request,
        "control/plans.html",
        {
            "plans": rows,
            "profile": selectors.profile_id(),
            "applies": AppliesTo.choices,
            "can_edit": Scope.of(request.user).can(Cap.ADMIN),
        },
    )


@page(Cap.ADMIN)
def plan_edit(request: AuthedRequest, applies_to: str) -> HttpResponse:
    if applies_to not in AppliesTo.values:
        raise Http404
    current = selectors.current_plan(request.user, applies_to)
    text = json.dumps(current.definition if current else {}, ensure_ascii=False, indent=2)
    note = ""
    error = ""
    status = 200
    mine = ""  # the editor's definition refused as stale, shown beside the one in force now
    if request.method == "POST":
        text, note = request.POST.get("definition", ""), request.POST.get("note", "")
        try:
            definition = json.loads(text)
            if not isinstance(definition, dict):
                raise ValueError
        except ValueError:
            error, status = _("The definition is not a JSON object."), 422
        else:
            try:
                plan = actions.save_plan_version(
                    actor=request.user,
                    applies_to=applies_to,
                    definition=definition,
                    note=note,
                    based_on=posted_version(request, "based_on"),
                )
            except ValidationError as exc:
                error, status = error_text(exc), 422
            except Conflict:
                current = selectors.current_plan(request.user, applies_to)
                mine, text = (
                    text,
                    json.dumps(current.definition if current else {}, ensure_ascii=False, indent=2),
                )
                error, status = conflict_text(), 409
            else:
                messages.success(request, _("Version %(v)d is in force.") % {"v": plan.version})
                return redirect("control:plans")
    return render(
        request,
        "control/plan_edit.html",
        {
            "current": current,
            "text": text,
            "mine": mine,
            "note": note,
            "error": error,
            "applies_to": AppliesTo(applies_to),
        },
        status=status,
    )
