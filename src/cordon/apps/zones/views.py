"""The zone pages: the list with filters, a zone's page (population, days since its last case, rounds, overlaps,
buildings, history, the steps a commander may take), proposing a zone (areas, buildings or a boundary), the
transitions waiting for a decision, and starting the rules' evaluation."""

from __future__ import annotations

import datetime as dt
import gzip
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.apps.geo import selectors as geo
from cordon.apps.jobs import actions as jobs
from cordon.apps.tracing import selectors as tracing
from cordon.core import inputs
from cordon.core.access import AuthedRequest, page
from cordon.core.pages import back, error_fields, error_text, found
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope, may_change
from cordon.engine import zones as engine

from . import actions, maps, pdf, selectors
from .models import Kind, Reason, State, ZoneAction
from .templatetags.zone_words import reason_text

MAX_GEOJSON_BYTES = 2_000_000


def _codes(text: str) -> list[str]:
    return [c for c in text.replace(",", " ").replace("，", " ").split() if c][:2000]


@page(Cap.VIEW_CONTROL)
def zone_list(request: AuthedRequest) -> HttpResponse:
    g = request.GET
    kind, state, q = g.get("kind", ""), g.get("state", ""), g.get("q", "").strip()[:100]
    area = g.get("area", "")[:32]
    reader = found(lambda: geo.narrowed_to(request.user, area))
    zones = selectors.list_zones(reader, kind=kind, state=state, query=q).order_by("-starts_on", "code")[:500]
    return render(
        request,
        "zones/zones.html",
        {
            "zones": zones, "kind": kind, "state": state, "q": q, "kinds": Kind.choices, "states": State.choices,
            "counts": selectors.counts_by_kind(reader), "area": area,
            "can_manage": Scope.of(request.user).can(Cap.MANAGE_ZONES),
        },
    )  # fmt: skip


@page(Cap.VIEW_CONTROL)
def zone_detail(request: AuthedRequest, code: str) -> HttpResponse:
    user = request.user
    zone = found(lambda: selectors.get_zone_for(user, code))
    history = list(selectors.history(zone))
    steps = [
        (a, ZoneAction(a).label)
        for a in ZoneAction.values
        if a in {"put_in_force", "escalate", "downgrade", "lift", "close", "reinstate", "withdraw"}
        and engine.action_allowed(a, zone.state)
    ]
    return render(
        request,
        "zones/zone.html",
        {
            "zone": zone,
            "s": selectors.summary(zone),
            "history": [(t, [reason_text(r) for r in t.reasons]) for t in history],
            "open": [t for t in history if t.status == "proposed"],
            "buildings": selectors.zone_buildings(zone),
            "steps": steps,
            "kinds": Kind.choices,
            "today": timezone.localdate(),
            "may_change": Scope.of(user).can(Cap.MANAGE_ZONES) and may_change(user, zone.owner),
            "guard_left": (
                max(0, (zone.guarded_until - timezone.localdate()).days)
                if zone.state == State.GUARDED and zone.guarded_until
                else None
            ),
        },
    )


def _form_data(request: AuthedRequest) -> tuple[actions.ZoneData, dict[str, str]]:
    user, p = request.user, request.POST
    errors: dict[str, str] = {}

    def refs(field: str, fetch: Any, message: str) -> list[Any]:
        out = []
        for c in _codes(p.get(field, "")):
            try:
                out.append(fetch(user, c))
            except NotFound:
                errors[field] = message % {"c": c}
        return out

    try:
        owner = geo.get_jurisdiction_for(user, p.get("owner", "").strip())
    except NotFound:
        owner = None
    boundary: Any = p.get("boundary", "").strip() or None
    upload = request.FILES.get("geojson")
    if upload is not None:
        if upload.size is not None and upload.size > MAX_GEOJSON_BYTES:
            errors["boundary"] = _("The GeoJSON file is too large.")
        else:
            boundary = upload.read().decode("utf-8", errors="replace")
    commander = None
    if p.get("commander", "").strip():
        try:
            commander = selectors.commander_named(user, p.get("commander", ""))
        except NotFound:
            errors["commander"] = _("Unknown user %(c)s.") % {"c": p.get("commander", "").strip()[:150]}
    data = actions.ZoneData(
        name=p.get("name", ""), commander=commander, kind=p.get("kind", ""), owner=owner, code=p.get("code", ""),
        starts_on=_starts_on(p.get("starts_on", ""), errors),
        reason=p.get("reason", Reason.CASES), reason_note=p.get("reason_note", ""),
        cases=refs("cases", tracing.get_case_for, _("Unknown case %(c)s.")),
        areas=refs("areas", geo.get_jurisdiction_for, _("Unknown jurisdiction %(c)s.")),
        buildings=refs("buildings", geo.get_building_for, _("Unknown building %(c)s.")),
        boundary=boundary, note=p.get("note", ""),
    )  # fmt: skip
    return data, errors


@page(Cap.MANAGE_ZONES)
def zone_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    root = geo.root_for(user)
    context: dict[str, Any] = {
        "kinds": Kind.choices, "reasons": Reason.choices, "values": {"owner": root.code if root else ""}, "errors": {},
        "today": timezone.localdate().isoformat(),
    }  # fmt: skip
    context.update(_map_context(request))
    if request.method == "POST":
        data, errors = _form_data(request)
        context["values"] = request.POST
        if not errors:
            try:
                zone = actions.create_zone(actor=user, data=data)
            except ValidationError as exc:
                errors = error_fields(exc)
            else:
                messages.success(
                    request,
                    _("Zone %(code)s is proposed: put it in force when decided.") % {"code": zone.code},
                )
                return redirect("zones:zone", code=zone.code)
        context["errors"] = errors
        return render(request, "zones/zone_new.html", context, status=422)
    return render(request, "zones/zone_new.html", context)


def _starts_on(value: str, errors: dict[str, str]) -> dt.date | None:
    try:
        return _day(value)
    except ValidationError:
        errors["starts_on"] = _("Give the day as YYYY-MM-DD.")
        return None


def _day(value: str) -> dt.date | None:
    """A day typed in a form (YYYY-MM-DD), ``None`` when empty; a clear error otherwise."""
    if not value.strip():
        return None
    try:
        day = parse_date(value.strip())
    except ValueError:
        day = None
    if day is None:
        raise ValidationError({"on": _("Give the day as YYYY-MM-DD.")})
    return day


@page(Cap.MANAGE_ZONES)
@require_POST
def zone_step(request: AuthedRequest, code: str) -> HttpResponse:
    zone = found(lambda: selectors.get_zone_for(request.user, code))
    p = request.POST
    act, kind, note = p.get("action", ""), p.get("kind") or None, p.get("note", "")
    try:
        on = _day(p.get("on", ""))
        if p.get("mode") == "now":
            actions.transition(actor=request.user, zone=zone, act=act, to_kind=kind, note=note, on=on)
        elif on not in (None, timezone.localdate()):
            raise ValidationError({"on": _("A proposal is decided later: only a step taken now has a day.")})
        else:
            actions.propose(actor=request.user, zone=zone, act=act, to_kind=kind, note=note)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Done: zone %(code)s.") % {"code": zone.code})
    return redirect("zones:zone", code=zone.code)


@page(Cap.MANAGE_ZONES)
@require_POST
def screen(request: AuthedRequest, code: str) -> HttpResponse:
    zone = found(lambda: selectors.get_zone_for(request.user, code))
    try:
        r = actions.screen_zone(actor=request.user, zone=zone)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Screening round %(code)s opened over the zone.") % {"code": r.code})
    return redirect("zones:zone", code=zone.code)


@page(Cap.MANAGE_ZONES)
@require_POST
def decide(request: AuthedRequest, pk: int) -> HttpResponse:
    t = found(lambda: selectors.get_transition_for(request.user, pk))
    confirm = request.POST.get("decision") == "confirm"
    try:
        actions.decide(actor=request.user, transition=t, confirm=confirm, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Confirmed.") if confirm else _("Rejected."))
    return back(request, reverse("zones:proposals"))


@page(Cap.VIEW_CONTROL)
def proposals(request: AuthedRequest) -> HttpResponse:
    rows = list(selectors.proposals_for(request.user)[:500])
    manages = Scope.of(request.user).can(Cap.MANAGE_ZONES)
    # Confirm and Reject only where the user may decide: a zone of their level or below (a district sees a
    # city zone crossing it, but the city decides it).
    return render(
        request,
        "zones/proposals.html",
        {
            "rows": [
                (t, [reason_text(r) for r in t.reasons], manages and may_change(request.user, t.zone.owner))
                for t in rows
            ],
            "can_manage": manages,
            "rules": selectors.current_rules(),
        },
    )


@page(Cap.MANAGE_ZONES)
@require_POST
def evaluate(request: AuthedRequest) -> HttpResponse:
    job = jobs.start(actor=request.user, kind="zones.evaluate", params={})
    return redirect("jobs:detail", job_id=job.pk)


# --- The zone map, the drawing preview and the printed notice ------------------------------------------------


def _map_context(request: AuthedRequest) -> dict[str, Any]:
    box = maps.area_extent(request.user)
    return {
        "tile_url": settings.CORDON_MAP_TILE_URL,
        "extent": ",".join(f"{v:.6f}" for v in box) if box else "",
    }


@page(Cap.VIEW_CONTROL)
def zone_map(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "zones/map.html",
        {
            "kinds": Kind.choices,
            "closed": request.GET.get("closed") == "1",
            # community outlines under a chosen district (its code) at any zoom
            "under": "".join(c for c in request.GET.get("district", "")[:32] if c.isalnum() or c in "-_"),
            **_map_context(request),
        },
    )


@page(Cap.VIEW_CONTROL)
def zone_map_data(request: AuthedRequest) -> HttpResponse:
    """The zones within ``bbox`` (west,south,east,north) as a GeoJSON FeatureCollection; ``closed=1`` adds the
    closed zones."""
    states = [*maps.LIVE, State.CLOSED] if request.GET.get("closed") == "1" else list(maps.LIVE)
    body = maps.map_zones_gzip(request.user, inputs.bbox(request.GET.get("bbox", "")), states=states)
    if "gzip" not in request.headers.get("Accept-Encoding", ""):
        return HttpResponse(gzip.decompress(body), content_type="application/json")
    response = HttpResponse(body, content_type="application/json")
    response["Content-Encoding"] = "gzip"
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


@page(Cap.VIEW_CONTROL)
def zone_map_buildings(request: AuthedRequest) -> HttpResponse:
    """The buildings within ``bbox`` (drawn under the zones when zoomed in); none without a box."""
    box = inputs.bbox(request.GET.get("bbox", ""))
    return JsonResponse({"buildings": maps.buildings_in_box(request.user, box) if box else []})


@page(Cap.VIEW_CONTROL)
def zone_preview(request: AuthedRequest) -> HttpResponse:
    """What a drawn boundary would take for ``owner`` (default: the user's own area): counts only; a boundary
    that cannot be used answers (200) with the reason in ``error``, as the form would say it."""
    user = request.user
    code = request.GET.get("owner", "").strip()
    try:
        owner = geo.get_jurisdiction_for(user, code) if code else geo.root_for(user)
    except NotFound:
        owner = None
    if owner is None:
        return JsonResponse({"error": _("Unknown jurisdiction %(c)s.") % {"c": code[:40]}})
    try:
        _value, polygons = actions.parse_boundary(request.GET.get("boundary", ""))
    except ValidationError as exc:
        return JsonResponse({"error": error_text(exc)})
    p = maps.preview_polygon(user, owner, polygons)
    return JsonResponse({"owner": owner.code, "buildings": p.buildings, "residents": p.residents})


@page(Cap.VIEW_CONTROL)
def zone_notice(request: AuthedRequest, code: str) -> HttpResponse:
    zone = found(lambda: selectors.get_zone_for(request.user, code))
    try:
        content = pdf.zone_notice(zone, maps.notice_facts(zone))
    except pdf.PdfUnavailable as exc:
        messages.error(request, _("The PDF cannot be made: %(why)s") % {"why": exc})
        return redirect("zones:zone", code=zone.code)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="zone-notice-{zone.code}.pdf"'
    return response
