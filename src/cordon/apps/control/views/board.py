"""Pages of the open-items board, the queue with room proposals and home quarantine, and the homes under
control."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.core.access import AuthedRequest, page
from cordon.core.pages import error_text, pressed_enter
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope

from .. import actions, selectors
from ._shared import chosen_orders

ROOM_CHOICES = 30  # other free rooms offered per site when adjusting a proposal


@page(Cap.VIEW_CONTROL)
def board(request: AuthedRequest) -> HttpResponse:
    data = selectors.open_items(request.user)
    clocks = selectors.recent_cases_with_clocks(request.user, limit=selectors.CLOCKS_ON_BOARD)
    return render(
        request,
        "control/board.html",
        {
            **data,
            "clocks": clocks,
            "more_clocks": len(clocks) == selectors.CLOCKS_ON_BOARD,
            "capacity": selectors.capacity_by_district(request.user, kept=True),
            "targets": {"judge": settings.CORDON_JUDGE_HOURS},
        },
    )


@page(Cap.VIEW_CONTROL)
def clocks(request: AuthedRequest) -> HttpResponse:
    """The clocks of every recent case (the board shows the newest)."""
    return render(
        request, "control/clocks.html", {"clocks": selectors.recent_cases_with_clocks(request.user)}
    )


# --- Queue, proposals, home quarantine ---------------------------------------------------------------------


@page(Cap.VIEW_CONTROL)
@personal_data()
def queue(request: AuthedRequest) -> HttpResponse:
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
@personal_data()
@require_POST
def allocate(request: AuthedRequest) -> HttpResponse:
    """Step 1 (``propose``): the proposal for the ticked persons. Step 2 (``accept``): reserve the rooms as
    shown or as adjusted by the officer."""
    if pressed_enter(request):
        return redirect("control:queue")
    step = request.POST.get("step", "propose")
    if step == "home":
        try:
            placed = actions.place_at_home(actor=request.user, orders=chosen_orders(request))
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("%(n)d persons in home quarantine from today.") % {"n": len(placed)})
        return redirect("control:queue")
    orders = chosen_orders(request)
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
            messages.error(request, error_text(exc))
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


# --- Homes under control -----------------------------------------------------------------------------------


@page(Cap.VIEW_CONTROL)
@personal_data()
def homes(request: AuthedRequest) -> HttpResponse:
    return render(request, "control/homes.html", {"homes": selectors.homes_under_control(request.user)})
