"""Pages of control orders: lists and bulk release or home stage, PDFs, one order with its health checks,
results and extensions, and the day's follow-up (samples due, alerts)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from cordon.apps.geo import selectors as geo
from cordon.apps.jobs import actions as jobs
from cordon.core.access import AuthedRequest, page
from cordon.core.pages import (
    back,
    conflict_text,
    error_text,
    found,
    local_datetime,
    posted_ids,
    posted_version,
    pressed_enter,
)
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope
from cordon.core.versions import Conflict

from .. import actions, pdf, selectors
from ..hooks import ORDERS_PDF
from ..models import OrderStatus, SampleStatus, Symptom
from ._shared import chosen_orders, zero_state

# The order list's filters the commander's home links to (``selectors.RESIDENT_STATUSES``).
RESIDENT_LABELS = {
    "to_transfer": _lazy("Residents to transfer (centralised isolation, not yet on the road)"),
    "not_controlled": _lazy("Residents not yet under control"),
    "under_control": _lazy("Residents under control (isolated or at home)"),
}


@page(Cap.VIEW_CONTROL)
@personal_data()
def order_list(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    q = request.GET.get("q", "")
    view = request.GET.get("view", "")
    today = timezone.localdate()
    state = zero_state(request)
    if view == "release" and (state or request.GET.get("area")):  # the board's cell "Releases due"
        reader = found(lambda: geo.narrowed_to(request.user, request.GET.get("area", "")))
        items: Any = selectors.releases_in_state(reader, state or "open")
    elif view == "release":
        items = selectors.releases_due(request.user, today)
    elif view == "home-stage":
        items = selectors.home_stage_due(request.user, today)
    else:
        reader = found(lambda: geo.narrowed_to(request.user, request.GET.get("area", "")))
        items = selectors.search_orders(reader, status=status, query=q)
    page_obj = Paginator(items, 200).get_page(request.GET.get("page"))
    return render(
        request,
        "control/orders.html",
        {
            "page_obj": page_obj,
            "status": status,
            "query": q,
            "view": view,
            "state": state,
            "statuses": [*OrderStatus.choices, *RESIDENT_LABELS.items()],
            "area": request.GET.get("area", "")[:32],
            "can_control": Scope.of(request.user).can(Cap.CONTROL),
        },
    )


@page(Cap.CONTROL)
@require_POST
def orders_bulk(request: AuthedRequest) -> HttpResponse:
    if pressed_enter(request):
        return redirect("control:orders")
    action = request.POST.get("action", "")
    orders = chosen_orders(request)
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
        messages.error(request, error_text(exc))
    return back(request, default)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _pdf_unavailable(request: AuthedRequest, exc: pdf.PdfUnavailable) -> HttpResponse:
    return render(request, "control/pdf_unavailable.html", {"reason": str(exc)}, status=503)


@page(Cap.VIEW_CONTROL)
@personal_data(via="pdf")
def order_pdf(request: AuthedRequest, pk: int) -> HttpResponse:
    order = found(lambda: selectors.get_order_for(request.user, pk))
    try:
        content = pdf.quarantine_orders([order], full_id=Scope.of(request.user).can(Cap.VIEW_PII))
    except pdf.PdfUnavailable as exc:
        return _pdf_unavailable(request, exc)
    return _pdf_response(content, f"{order.code}.pdf")


@page(Cap.VIEW_CONTROL)
@personal_data(via="pdf")
@require_POST
def orders_pdf(request: AuthedRequest) -> HttpResponse:
    """The orders ticked, in one PDF made by a background job (``control.orders_pdf``): the page goes to the
    job, which counts the pages made and then offers the file to whoever started it. A PDF of one order stays
    a download (``order_pdf``)."""
    orders = chosen_orders(request)
    if not orders:
        messages.error(request, _("Choose at least one person."))
        return back(request, reverse("control:orders"))
    try:
        pdf.font_path()
    except pdf.PdfUnavailable as exc:
        return _pdf_unavailable(request, exc)
    job = jobs.start(actor=request.user, kind=ORDERS_PDF, params={"orders": [o.pk for o in orders]})
    return redirect("jobs:detail", job_id=job.pk)


@page(Cap.VIEW_CONTROL)
@personal_data(via="pdf")
def certificate_pdf(request: AuthedRequest, pk: int) -> HttpResponse:
    order = found(lambda: selectors.get_order_for(request.user, pk))
    if order.status != OrderStatus.RELEASED:
        messages.error(request, _("A release certificate exists only once the person is released."))
        return redirect("control:order", pk=order.pk)
    try:
        content = pdf.release_certificate(order, full_id=Scope.of(request.user).can(Cap.VIEW_PII))
    except pdf.PdfUnavailable as exc:
        return _pdf_unavailable(request, exc)
    return _pdf_response(content, f"{order.certificate_no}.pdf")


@page(Cap.VIEW_CONTROL)
@personal_data()
def order_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    order = found(lambda: selectors.get_order_for(request.user, pk))
    scope = Scope.of(request.user)
    return render(
        request,
        "control/order.html",
        {
            "order": order,
            "t": selectors.order_timeline(order),
            "release_problems": selectors.release_check(order) if order.is_open else [],
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
def order_health(request: AuthedRequest, pk: int) -> HttpResponse:
    order = found(lambda: selectors.get_order_for(request.user, pk))
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
        messages.error(request, error_text(exc))
    else:
        if record.alert:
            messages.warning(request, _("Recorded. Alert: fever or symptoms; handle it below."))
        else:
            messages.success(request, _("Health check recorded."))
    return redirect("control:order", pk=order.pk)


@page(Cap.RECORD_HEALTH)
@require_POST
def alert_handle(request: AuthedRequest, pk: int) -> HttpResponse:
    record = found(lambda: selectors.get_health_record_for(request.user, pk))
    try:
        actions.handle_alert(
            actor=request.user,
            record=record,
            handling=request.POST.get("handling", ""),
            version=posted_version(request),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except Conflict:
        messages.error(request, conflict_text())
    return back(request, reverse("control:order", args=[record.order_id]))


@page(Cap.CONTROL)
@require_POST
def sample_result(request: AuthedRequest, pk: int) -> HttpResponse:
    task = found(lambda: selectors.get_sample_task_for(request.user, pk))
    ct_raw = request.POST.get("ct_value", "").strip()
    try:
        ct = float(ct_raw.replace(",", ".")) if ct_raw else None
    except ValueError:
        messages.error(request, _("A Ct value is a number."))
        return back(request, reverse("control:order", args=[task.order_id]))
    try:
        outcome = actions.record_result(
            actor=request.user, task=task, result=request.POST.get("result", ""), ct_value=ct,
            sampled_at=local_datetime(request.POST.get("sampled_at")),
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        if outcome.case is not None:
            messages.warning(
                request,
                _("Positive: %(name)s is now case %(code)s (found under control) and has been traced.")
                % {"name": task.order.person.name, "code": outcome.case.code},
            )
        else:
            messages.success(request, _("Result recorded."))
    return back(request, reverse("control:order", args=[task.order_id]))


@page(Cap.CONTROL)
@require_POST
def order_extend(request: AuthedRequest, pk: int) -> HttpResponse:
    order = found(lambda: selectors.get_order_for(request.user, pk))
    try:
        days = int(request.POST.get("days", "0") or 0)
    except ValueError:
        days = 0
    try:
        actions.extend(
            actor=request.user,
            order=order,
            days=days,
            reason=request.POST.get("reason", ""),
            version=posted_version(request),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except Conflict:
        messages.error(request, conflict_text())
    else:
        messages.success(request, _("Extended by %(n)d days.") % {"n": days})
    return redirect("control:order", pk=order.pk)


# --- Follow-up: today's samples and alerts ------------------------------------------------------------------


@page(Cap.VIEW_CONTROL)
@personal_data()
def follow_up(request: AuthedRequest) -> HttpResponse:
    kind, state = request.GET.get("open", ""), zero_state(request)
    if kind in ("missed_tests", "alerts") and state:  # the board's cell of ``kind`` in ``area`` and ``state``
        reader = found(lambda: geo.narrowed_to(request.user, request.GET.get("area", "")[:32]))
        tasks, alerts = selectors.follow_up_in_state(reader, kind, state)
    else:
        state = ""
        tasks, alerts = selectors.sample_tasks_due(request.user), selectors.open_alerts(request.user)
    page_obj = Paginator(tasks, 300).get_page(request.GET.get("page"))
    return render(
        request,
        "control/follow_up.html",
        {
            "page_obj": page_obj,
            "alerts": alerts[:300],
            "state": state,
            "today": timezone.localdate(),
            "can_control": Scope.of(request.user).can(Cap.CONTROL),
            "can_record": Scope.of(request.user).can(Cap.RECORD_HEALTH),
        },
    )


@page(Cap.RECORD_HEALTH)
@require_POST
def samples_taken(request: AuthedRequest) -> HttpResponse:
    if pressed_enter(request):
        return redirect("control:follow-up")
    ids = posted_ids(request, "task")
    try:
        tasks = [selectors.get_sample_task_for(request.user, int(i)) for i in ids]
    except (NotFound, ValueError):
        raise Http404 from None
    n = actions.record_samples(actor=request.user, tasks=tasks)
    messages.success(request, _("%(n)d samples recorded as taken.") % {"n": n})
    return redirect("control:follow-up")
