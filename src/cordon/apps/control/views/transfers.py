"""Pages of the transfer board: vehicles assigned, departures, persons not picked up, arrivals."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.core.access import AuthedRequest, page
from cordon.core.pages import error_text, found, local_datetime
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import Scope

from .. import actions, selectors
from ..models import FailureReason
from ._shared import chosen_orders


@page(Cap.VIEW_CONTROL)
@personal_data()
def transfers(request: AuthedRequest) -> HttpResponse:
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
def transfer_new(request: AuthedRequest) -> HttpResponse:
    try:
        task = actions.create_transfer(
            actor=request.user,
            orders=chosen_orders(request),
            data=actions.TransferData(
                request.POST.get("vehicle", ""),
                request.POST.get("team", ""),
                local_datetime(request.POST.get("pickup_at")),
            ),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Transfer %(code)s assigned.") % {"code": task.code})
    return redirect("control:transfers")


@page(Cap.CONTROL)
@require_POST
def transfer_status(request: AuthedRequest, pk: int) -> HttpResponse:
    task = found(lambda: selectors.get_transfer_for(request.user, pk))
    try:
        if request.POST.get("action") == "depart":
            actions.depart_transfer(actor=request.user, task=task)
            messages.success(request, _("%(code)s is en route.") % {"code": task.code})
        else:
            actions.arrive_transfer(actor=request.user, task=task, at=local_datetime(request.POST.get("at")))
            messages.success(
                request, _("%(code)s arrived; the persons are in isolation.") % {"code": task.code}
            )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("control:transfers")


@page(Cap.CONTROL)
@require_POST
def member_fail(request: AuthedRequest, pk: int) -> HttpResponse:
    member = found(lambda: selectors.get_member_for(request.user, pk))
    try:
        actions.fail_member(
            actor=request.user,
            member=member,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("%(name)s is back in the queue.") % {"name": member.order.person.name})
    return redirect("control:transfers")
