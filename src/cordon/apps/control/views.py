"""Pages of close-contact control: thin views over selectors and actions. A refused write shows its reasons
and changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.apps.accounts.roles import Cap
from cordon.apps.accounts.scoping import NotFound, Scope
from cordon.apps.geo import selectors as geo
from cordon.site.access import page

from . import actions, pdf, selectors
from .models import (
    AppliesTo,
    FailureReason,
    OrderStatus,
    RoomStatus,
    SampleStatus,
    SiteKind,
    Symptom,
)

PAGE_SIZE = settings.CORDON_PAGE_SIZE
ROOM_CHOICES = 30  # other free rooms offered per site when adjusting a proposal


def _found(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except NotFound:
        raise Http404 from None


def _messages(exc: ValidationError) -> str:
    d = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return " ".join(str(m) for v in d.values() for m in v)


def _when(value: str | None) -> dt.datetime | None:
    parsed = parse_datetime((value or "").strip().replace(" ", "T")) if value else None
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _back(request: HttpRequest, default: str) -> HttpResponse:
    nxt = request.POST.get("next", "")
    return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else default)


def _ids(request: HttpRequest, name: str = "order") -> list[str]:
    return [v for v in request.POST.getlist(name) if v.strip()]


def _orders(request: HttpRequest) -> list[Any]:
    try:
        return selectors.orders_by_ids(request.user, _ids(request))
    except NotFound:
        raise Http404 from None


# --- Board -------------------------------------------------------------------------------------------------


@page(Cap.VIEW_CONTROL)
def board(request: HttpRequest) -> HttpResponse:
    data = selectors.open_items(request.user)
    return render(
        request,
        "control/board.html",
        {
            **data,
            "clocks": selectors.recent_cases_with_clocks(request.user),
            "capacity": selectors.capacity_by_district(request.user),
            "targets": {"judge": settings.CORDON_JUDGE_HOURS},
        },
    )


# --- Queue, proposals, home quarantine ---------------------------------------------------------------------


@page(Cap.VIEW_CONTROL)
def queue(request: HttpRequest) -> HttpResponse:
    mode = request.GET.get("mode", "")
    centralized = {"centralized": True, "home": False}.get(mode)
    qs = selectors.queue(request.user, centralized=centralized, district=request.GET.get("district", ""))
    page_obj = Paginator(qs, 500).get_page(request.GET.get("page"))
    return render(
        request,
        "control/queue.html",
        {
            "page_obj": page_obj,
            "mode": mode,
            "now": timezone.now(),
            "can_control": Scope.of(request.user).can(Cap.CONTROL),
        },
    )


@page(Cap.CONTROL)
@require_POST
def allocate(request: HttpRequest) -> HttpResponse:
    """Step 1 (``propose``): the proposal for the ticked persons. Step 2 (``accept``): reserve the rooms as
    shown or as adjusted by the officer."""
    step = request.POST.get("step", "propose")
    if step == "home":
        try:
            placed = actions.place_at_home(actor=request.user, orders=_orders(request))
        except ValidationError as exc:
            messages.error(request, _messages(exc))
        else:
            messages.success(request, _("%(n)d persons in home quarantine from today.") % {"n": len(placed)})
        return redirect("control:queue")
    orders = _orders(request)
    if not orders:
        messages.error(request, _("Choose at least one person to place."))
        return redirect("control:queue")
    if step == "accept":
        pairs = []
        try:
            for o in orders:
                room_id = request.POST.get(f"room-{o.pk}", "")
                if not room_id:
                    continue
                pairs.append((o, selectors.get_room_for(request.user, int(room_id))))
            placed = actions.reserve_rooms(actor=request.user, assignments=pairs)
        except (NotFound, ValueError):
            messages.error(request, _("Unknown room in the proposal."))
        except ValidationError as exc:
            messages.error(request, _messages(exc))
        else:
            messages.success(
                request,
                _("%(n)d rooms reserved; assign vehicles on the transfer board.") % {"n": len(placed)},
            )
            return redirect("control:transfers")
    view = selectors.propose_placements(request.user, orders)
    proposed = {r.room.pk for r in view.rows if r.room is not None}
    spare = selectors.spare_rooms(view.sites, exclude=proposed, per_site=ROOM_CHOICES)
    for row in view.rows:
        # The proposed room, then other free rooms at the same site (or at the first sites, when unplaced).
        sites = [row.site] if row.site is not None else view.sites[:3]
        row.options = ([row.room] if row.room else []) + [r for s in sites for r in spare.get(s.pk, [])]
    return render(
        request,
        "control/allocate.html",
        {
            "view": view,
            "reasons": {
                "no_guardian": _("a child without a guardian in the batch"),
                "no_capacity": _("no free room at a suitable site"),
                "no_site_for_needs": _("no site takes these needs"),
            },
        },
    )


# --- Transfers ---------------------------------------------------------------------------------------------


@page(Cap.VIEW_CONTROL)
def transfers(request: HttpRequest) -> HttpResponse:
    day = parse_date(request.GET.get("day", "") or "") or timezone.localdate()
    data = selectors.transfer_board(request.user, day)
    return render(
        request,
        "control/transfers.html",
        {
            **data,
            "now": timezone.now(),
            "reasons": FailureReason.choices,
            "default_pickup": timezone.localtime(timezone.now() + dt.timedelta(minutes=30)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "can_control": Scope.of(request.user).can(Cap.CONTROL),
        },
    )


@page(Cap.CONTROL)
@require_POST
def transfer_new(request: HttpRequest) -> HttpResponse:
    try:
        task = actions.create_transfer(
            actor=request.user,
            orders=_orders(request),
            data=actions.TransferData(
                request.POST.get("vehicle", ""),
                request.POST.get("team", ""),
                _when(request.POST.get("pickup_at")),
            ),
        )
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    else:
        messages.success(request, _("Transfer %(code)s assigned.") % {"code": task.code})
    return redirect("control:transfers")


@page(Cap.CONTROL)
@require_POST
def transfer_status(request: HttpRequest, pk: int) -> HttpResponse:
    task = _found(lambda: selectors.get_transfer_for(request.user, pk))
    try:
        if request.POST.get("action") == "depart":
            actions.depart_transfer(actor=request.user, task=task)
            messages.success(request, _("%(code)s is en route.") % {"code": task.code})
        else:
            actions.arrive_transfer(actor=request.user, task=task, at=_when(request.POST.get("at")))
            messages.success(
                request, _("%(code)s arrived; the persons are in isolation.") % {"code": task.code}
            )
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    return redirect("control:transfers")


@page(Cap.CONTROL)
@require_POST
def member_fail(request: HttpRequest, pk: int) -> HttpResponse:
    member = _found(lambda: selectors.get_member_for(request.user, pk))
    try:
        actions.fail_member(
            actor=request.user,
            member=member,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    else:
        messages.success(request, _("%(name)s is back in the queue.") % {"name": member.order.person.name})
    return redirect("control:transfers")


# --- Orders ------------------------------------------------------------------------------------------------


@page(Cap.VIEW_CONTROL)
def order_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    q = request.GET.get("q", "")
    view = request.GET.get("view", "")
    today = timezone.localdate()
    if view == "release":
        items: Any = selectors.releases_due(request.user, today)
    elif view == "home-stage":
        items = selectors.home_stage_due(request.user, today)
    else:
        items = selectors.search_orders(request.user, status=status, query=q)
    page_obj = Paginator(items, 200).get_page(request.GET.get("page"))
    return render(
        request,
        "control/orders.html",
        {
            "page_obj": page_obj,
            "status": status,
            "query": q,
            "view": view,
            "statuses": OrderStatus.choices,
            "can_control": Scope.of(request.user).can(Cap.CONTROL),
        },
    )


@page(Cap.CONTROL)
@require_POST
def orders_bulk(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action", "")
    orders = _orders(request)
    default = reverse("control:orders")
    try:
        if action == "release":
            done = actions.release(actor=request.user, orders=orders)
            messages.success(request, _("%(n)d persons released.") % {"n": len(done)})
        elif action == "home-stage":
            n = actions.move_to_home(actor=request.user, orders=orders)
            messages.success(request, _("%(n)d persons moved to home monitoring.") % {"n": n})
        else:
            messages.error(request, _("Unknown action."))
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    return _back(request, default)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _pdf_unavailable(request: HttpRequest, exc: pdf.PdfUnavailable) -> HttpResponse:
    return render(request, "control/pdf_unavailable.html", {"reason": str(exc)}, status=503)


@page(Cap.VIEW_CONTROL)
def order_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    order = _found(lambda: selectors.get_order_for(request.user, pk))
    try:
        content = pdf.quarantine_orders([order], full_id=Scope.of(request.user).can(Cap.VIEW_PII))
    except pdf.PdfUnavailable as exc:
        return _pdf_unavailable(request, exc)
    return _pdf_response(content, f"{order.code}.pdf")


@page(Cap.VIEW_CONTROL)
@require_POST
def orders_pdf(request: HttpRequest) -> HttpResponse:
    orders = _orders(request)
    if not orders:
        messages.error(request, _("Choose at least one person."))
        return _back(request, reverse("control:orders"))
    try:
        content = pdf.quarantine_orders(orders, full_id=Scope.of(request.user).can(Cap.VIEW_PII))
    except pdf.PdfUnavailable as exc:
        return _pdf_unavailable(request, exc)
    return _pdf_response(content, f"quarantine-orders-{timezone.localdate():%Y%m%d}.pdf")


@page(Cap.VIEW_CONTROL)
def certificate_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    order = _found(lambda: selectors.get_order_for(request.user, pk))
    if order.status != OrderStatus.RELEASED:
        messages.error(request, _("A release certificate exists only once the person is released."))
        return redirect("control:order", pk=order.pk)
    try:
        content = pdf.release_certificate(order, full_id=Scope.of(request.user).can(Cap.VIEW_PII))
    except pdf.PdfUnavailable as exc:
        return _pdf_unavailable(request, exc)
    return _pdf_response(content, f"{order.certificate_no}.pdf")


@page(Cap.VIEW_CONTROL)
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = _found(lambda: selectors.get_order_for(request.user, pk))
    scope = Scope.of(request.user)
    return render(
        request,
        "control/order.html",
        {
            "order": order,
            "t": selectors.order_timeline(order),
            "release_problems": actions.release_check(order) if order.is_open else [],
            "symptoms": Symptom.choices,
            "today": timezone.localdate(),
            "can_control": scope.can(Cap.CONTROL),
            "can_record": scope.can(Cap.RECORD_HEALTH),
            "results": [
                (SampleStatus.NEGATIVE, _("Negative")),
                (SampleStatus.POSITIVE, _("Positive")),
                (SampleStatus.INVALID, _("Invalid")),
            ],
            "plan_name": order.plan.display_name(get_language() or ""),
        },
    )


@page(Cap.RECORD_HEALTH)
@require_POST
def order_health(request: HttpRequest, pk: int) -> HttpResponse:
    order = _found(lambda: selectors.get_order_for(request.user, pk))
    try:
        record = actions.record_health(
            actor=request.user,
            order=order,
            day=parse_date(request.POST.get("day", "") or "") if request.POST.get("day") else None,
            temperature=request.POST.get("temperature", ""),
            symptoms=request.POST.getlist("symptom"),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    else:
        if record.alert:
            messages.warning(request, _("Recorded. Alert: fever or symptoms; handle it below."))
        else:
            messages.success(request, _("Health check recorded."))
    return redirect("control:order", pk=order.pk)


@page(Cap.RECORD_HEALTH)
@require_POST
def alert_handle(request: HttpRequest, pk: int) -> HttpResponse:
    record = _found(lambda: selectors.get_health_record_for(request.user, pk))
    try:
        actions.handle_alert(actor=request.user, record=record, handling=request.POST.get("handling", ""))
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    return _back(request, reverse("control:order", args=[record.order_id]))


@page(Cap.CONTROL)
@require_POST
def sample_result(request: HttpRequest, pk: int) -> HttpResponse:
    task = _found(lambda: selectors.get_sample_task_for(request.user, pk))
    ct_raw = request.POST.get("ct_value", "").strip()
    try:
        ct = float(ct_raw.replace(",", ".")) if ct_raw else None
    except ValueError:
        messages.error(request, _("A Ct value is a number."))
        return _back(request, reverse("control:order", args=[task.order_id]))
    try:
        outcome = actions.record_result(
            actor=request.user, task=task, result=request.POST.get("result", ""), ct_value=ct,
            sampled_at=_when(request.POST.get("sampled_at")),
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    else:
        if outcome.case is not None:
            messages.warning(
                request,
                _("Positive: %(name)s is now case %(code)s (found under control) and has been traced.")
                % {"name": task.order.person.name, "code": outcome.case.code},
            )
        else:
            messages.success(request, _("Result recorded."))
    return _back(request, reverse("control:order", args=[task.order_id]))


@page(Cap.CONTROL)
@require_POST
def order_extend(request: HttpRequest, pk: int) -> HttpResponse:
    order = _found(lambda: selectors.get_order_for(request.user, pk))
    try:
        days = int(request.POST.get("days", "0") or 0)
    except ValueError:
        days = 0
    try:
        actions.extend(actor=request.user, order=order, days=days, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    else:
        messages.success(request, _("Extended by %(n)d days.") % {"n": days})
    return redirect("control:order", pk=order.pk)


# --- Follow-up: today's samples and alerts ------------------------------------------------------------------


@page(Cap.VIEW_CONTROL)
def follow_up(request: HttpRequest) -> HttpResponse:
    tasks = selectors.sample_tasks_due(request.user)
    page_obj = Paginator(tasks, 300).get_page(request.GET.get("page"))
    return render(
        request,
        "control/follow_up.html",
        {
            "page_obj": page_obj,
            "alerts": selectors.open_alerts(request.user)[:300],
            "today": timezone.localdate(),
            "can_control": Scope.of(request.user).can(Cap.CONTROL),
            "can_record": Scope.of(request.user).can(Cap.RECORD_HEALTH),
        },
    )


@page(Cap.RECORD_HEALTH)
@require_POST
def samples_taken(request: HttpRequest) -> HttpResponse:
    ids = _ids(request, "task")
    try:
        tasks = [selectors.get_sample_task_for(request.user, int(i)) for i in ids]
    except (NotFound, ValueError):
        raise Http404 from None
    n = actions.record_samples(actor=request.user, tasks=tasks)
    messages.success(request, _("%(n)d samples recorded as taken.") % {"n": n})
    return redirect("control:follow-up")


# --- Homes under control -----------------------------------------------------------------------------------


@page(Cap.VIEW_CONTROL)
def homes(request: HttpRequest) -> HttpResponse:
    return render(request, "control/homes.html", {"homes": selectors.homes_under_control(request.user)})


# --- Sites and rooms ---------------------------------------------------------------------------------------


@page(Cap.VIEW_CONTROL)
def site_list(request: HttpRequest) -> HttpResponse:
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


def _site_data(request: HttpRequest) -> actions.SiteData:
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
def site_new(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"takes_children": True, "active": True}
    status = 200
    if request.method == "POST":
        values = request.POST.dict()
        try:
            site = actions.save_site(actor=request.user, data=_site_data(request))
        except ValidationError as exc:
            errors = {k: " ".join(str(m) for m in v) for k, v in exc.message_dict.items()}
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
def site_detail(request: HttpRequest, code: str) -> HttpResponse:
    site = _found(lambda: selectors.get_site_for(request.user, code))
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
def site_rooms(request: HttpRequest, code: str) -> HttpResponse:
    site = _found(lambda: selectors.get_site_for(request.user, code))
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
        messages.error(request, _messages(exc))
    else:
        messages.success(request, _("%(n)d rooms added.") % {"n": len(rooms)})
    return redirect("control:site", code=site.code)


@page(Cap.CONTROL)
@require_POST
def room_status(request: HttpRequest, pk: int) -> HttpResponse:
    room = _found(lambda: selectors.get_room_for(request.user, pk))
    try:
        actions.set_room_status(actor=request.user, room=room, status=request.POST.get("status", ""))
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    return redirect("control:site", code=room.site.code)


# --- Plans -------------------------------------------------------------------------------------------------


@page(Cap.VIEW_CONTROL)
def plan_list(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.plans(request.user).order_by("profile", "applies_to", "-version"))
    return render(
        request,
        "control/plans.html",
        {
            "plans": rows,
            "profile": actions.profile_id(),
            "applies": AppliesTo.choices,
            "can_edit": Scope.of(request.user).can(Cap.ADMIN),
        },
    )


@page(Cap.ADMIN)
def plan_edit(request: HttpRequest, applies_to: str) -> HttpResponse:
    if applies_to not in AppliesTo.values:
        raise Http404
    import json

    current = (
        selectors.plans(request.user)
        .filter(profile=actions.profile_id(), applies_to=applies_to, in_force=True)
        .first()
    )
    text = json.dumps(current.definition if current else {}, ensure_ascii=False, indent=2)
    note = ""
    error = ""
    status = 200
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
                    actor=request.user, applies_to=applies_to, definition=definition, note=note
                )
            except ValidationError as exc:
                error, status = _messages(exc), 422
            else:
                messages.success(request, _("Version %(v)d is in force.") % {"v": plan.version})
                return redirect("control:plans")
    return render(
        request,
        "control/plan_edit.html",
        {"current": current, "text": text, "note": note, "error": error, "applies_to": AppliesTo(applies_to)},
        status=status,
    )
