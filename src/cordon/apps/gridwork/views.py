"""The grid management pages: duty posts by zone, a post (its plan, who is on duty, its patrols), the grid
worker's phone view (``me``) and the few-taps patrol form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.apps.people import selectors as people
from cordon.core import uploads
from cordon.core.access import AuthedRequest, page
from cordon.core.pages import error_fields, error_text, found, local_datetime
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope

from . import actions, selectors
from .models import Finding, PostKind

PATROLS_SHOWN = 50
SHOWN = 200  # rows of each list of the phone view (a grid worker has far fewer)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return float("nan")


@page(Cap.VIEW_POSTS)
def post_list(request: AuthedRequest) -> HttpResponse:
    zone_code = request.GET.get("zone", "").strip()[:40]  # the posts of one zone (the zone page links here)
    qs = selectors.posts_visible_to(request.user).order_by("zone__code", "name", "id")
    posts = list(qs.filter(zone__code=zone_code) if zone_code else qs)
    zones: dict[Any, list[Any]] = {}
    for p in posts:
        zones.setdefault(p.zone, []).append(p)
    manageable = (
        list(selectors.zones_to_post(request.user)) if Scope.of(request.user).can(Cap.MANAGE_POSTS) else []
    )
    missed = selectors.missed_patrols(request.user, zone_code=zone_code)
    return render(
        request,
        "gridwork/posts.html",
        {"zones": zones, "manageable": manageable, "kinds": PostKind.choices, "missed": missed[:100],
         "missed_count": len(missed)},
    )  # fmt: skip


@page(Cap.MANAGE_POSTS)
@require_POST
def post_new(request: AuthedRequest) -> HttpResponse:
    try:
        zone = selectors.get_zone_to_post(request.user, request.POST.get("zone"))
    except NotFound:
        messages.error(request, _("Choose a zone of your area that is not closed."))
        return redirect("gridwork:posts")
    code = request.POST.get("building", "").strip()
    try:
        building = selectors.building_by_code(request.user, code) if code else None
    except NotFound:
        messages.error(request, _("Unknown building %(code)s.") % {"code": code})
        return redirect("gridwork:posts")
    grid_code = request.POST.get("grid", "").strip()
    try:
        grid = selectors.grid_by_code(request.user, grid_code) if grid_code else None
    except NotFound:
        messages.error(request, _("Unknown grid %(code)s.") % {"code": grid_code})
        return redirect("gridwork:posts")
    try:
        post = actions.create_post(
            actor=request.user, zone=zone, name=request.POST.get("name", ""),
            kind=request.POST.get("kind", PostKind.GATE), building=building, jurisdiction=grid,
            latitude=_float(request.POST.get("latitude")), longitude=_float(request.POST.get("longitude")),
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("gridwork:posts")
    messages.success(request, _("Duty post %(name)s set up.") % {"name": post.name})
    return redirect("gridwork:post", pk=post.pk)


@page(Cap.VIEW_POSTS)
def post_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    post = found(lambda: selectors.get_post_for(request.user, pk))
    now = timezone.now()
    scope = Scope.of(request.user)
    return render(
        request,
        "gridwork/post.html",
        {
            "post": post,
            "plan": selectors.plan_in_force(post, timezone.localdate()),
            "plans": list(selectors.plans_of(post)[:10]),
            "on_duty": list(selectors.on_duty(post, now)),
            "shifts": list(selectors.shifts_of(post)[:20]),
            "patrols": list(selectors.patrols_of(post)[:PATROLS_SHOWN]),
            "may_manage": scope.can(Cap.MANAGE_POSTS),
            "may_patrol": scope.can(Cap.PATROL),
        },
    )


@page(Cap.MANAGE_POSTS)
@require_POST
def post_plan(request: AuthedRequest, pk: int) -> HttpResponse:
    post = found(lambda: selectors.get_post_for(request.user, pk))
    every = request.POST.get("every_hours", "").strip()
    tolerance = request.POST.get("tolerance_minutes", "").strip() or "30"
    try:
        actions.set_plan(
            actor=request.user, post=post, times=request.POST.get("times", ""),
            every_hours=int(every) if every.isdigit() else (None if not every else -1),
            tolerance_minutes=int(tolerance) if tolerance.isdigit() else -1,
            active_from=parse_date(request.POST.get("active_from", "") or "") or None,
            active_to=parse_date(request.POST.get("active_to", "") or "") or None,
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Patrol plan saved."))
    return redirect("gridwork:post", pk=post.pk)


@page(Cap.MANAGE_POSTS)
@require_POST
def post_shift(request: AuthedRequest, pk: int) -> HttpResponse:
    post = found(lambda: selectors.get_post_for(request.user, pk))
    try:
        user = selectors.user_to_put_on_duty(request.user, request.POST.get("username", ""))
    except NotFound:
        user = None
    try:
        actions.assign_duty(
            actor=request.user, post=post, user=user,
            starts_at=local_datetime(request.POST.get("starts_at")),
            ends_at=local_datetime(request.POST.get("ends_at")),
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("On duty from then."))
    return redirect("gridwork:post", pk=post.pk)


@page(Cap.VIEW_POSTS)
@personal_data()
def me(request: AuthedRequest) -> HttpResponse:
    """The grid worker's phone view: my zones, my posts, today's patrols, my buildings, their residents of
    special groups (listed: masked)."""
    zones = selectors.my_zones(request.user)[:SHOWN]
    buildings = selectors.my_buildings(request.user, zones)
    residents = [
        {"person": p, "phone": people.phone_for(request.user, p, listed=True)}
        for p in selectors.special_residents(request.user, buildings)[:SHOWN]
    ]
    posts = list(selectors.my_posts(request.user)[:SHOWN])
    return render(
        request,
        "gridwork/me.html",
        {
            "zones": zones,
            "posts": posts,
            "tasks": selectors.today_tasks(request.user, posts=posts),
            "buildings": list(buildings[:SHOWN]),
            "residents": residents,
            "may_patrol": Scope.of(request.user).can(Cap.PATROL),
        },
    )


@page(Cap.PATROL)
def patrol(request: AuthedRequest, pk: int) -> HttpResponse:
    """Record a patrol in a few taps: what was found (one big button each), a note, a photo."""
    post = found(lambda: selectors.get_post_for(request.user, pk))
    errors: dict[str, str] = {}
    if request.method == "POST":
        at = request.POST.get("at", "").strip()
        try:
            patrol = actions.record_patrol(
                actor=request.user, post=post, findings=request.POST.get("findings", ""),
                at=local_datetime(at) if at else None, note=request.POST.get("note", ""),
                photo=request.FILES.get("photo"),
            )  # fmt: skip
        except ValidationError as exc:
            errors = error_fields(exc)
        else:
            messages.success(
                request, _("Patrol at %(post)s recorded: %(findings)s.")
                % {"post": post.name, "findings": patrol.get_findings_display()},
            )  # fmt: skip
            return redirect("gridwork:me")
    return render(
        request,
        "gridwork/patrol.html",
        {"post": post, "findings": Finding.choices, "errors": errors, "posted": request.POST},
    )


@page(Cap.VIEW_POSTS)
def patrol_photo(request: AuthedRequest, pk: int) -> FileResponse:
    p = found(lambda: selectors.get_patrol_for(request.user, pk))
    if not p.photo:
        raise Http404
    if not uploads.exists(p.photo):
        raise Http404
    types = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
    suffix = "." + p.photo.rsplit(".", 1)[-1].lower() if "." in p.photo else ""
    return FileResponse(
        uploads.open_kept(p.photo), content_type=types.get(suffix, "application/octet-stream")
    )
