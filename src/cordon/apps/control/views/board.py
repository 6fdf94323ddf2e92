"""Pages of the open-items board, the queue with room proposals and home quarantine, and the homes under
control."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.apps.geo import selectors as geo
from cordon.core.access import AuthedRequest, page
from cordon.core.pages import error_text, found, pressed_enter
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope

from .. import actions, selectors
from ._shared import chosen_orders, zero_state

ROOM_CHOICES = 30  # other free rooms offered per site when adjusting a proposal


KEPT_PART_SECONDS = 300  # how long a rendered kept part may stay cached (a newer refresh replaces it sooner)


@page(Cap.VIEW_CONTROL)
def board(request: AuthedRequest) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "control/board.html",
        {"kept": _kept_part(request, now), "teams": selectors.team_items(request.user, now), "now": now},
    )


def _kept_part(request: AuthedRequest, now: dt.datetime) -> dict[str, Any]:
    """The board's tables read from kept counts (open items per district, the site table, the capacity),
    rendered, and when the counts were made, with the clocks of the newest cases. Rendered once per refresh of
    the kept counts, node, role and language when every one of them is kept and fresh
    (``selectors.board_generation``), so the clocks are as old as the counts at most (one refresh,
    ``CORDON_TALLY_SECONDS``); rendered per request, from what the selectors count now, otherwise (a
    sector-limited user, no worker refreshing)."""
    mark = selectors.board_generation(request.user, now)
    key = (
        "control.board:" + hashlib.blake2b(repr((get_language(), mark)).encode(), digest_size=16).hexdigest()
    )
    if mark is not None and (part := cache.get(key)) is not None:
        return part  # type: ignore[no-any-return]
    data = selectors.open_items(request.user, now, teams=False)
    context = {
        **data,
        "capacity": selectors.capacity_by_district(request.user, kept=True),
        "caps": {c.value: Scope.of(request.user).can(c) for c in Cap},
    }
    clocks = selectors.recent_cases_with_clocks(request.user, limit=selectors.CLOCKS_ON_BOARD)
    context.update(clocks=clocks, more_clocks=len(clocks) == selectors.CLOCKS_ON_BOARD)
    part = {
        "counts": render_to_string("control/_board_counts.html", context),
        "clocks": render_to_string("control/_board_clocks.html", context),
        "sites": render_to_string("control/_board_sites.html", context),
        "capacity": render_to_string("control/_board_capacity.html", context),
        "counted_at": data["counted_at"],
    }
    if mark is not None:
        cache.set(key, part, KEPT_PART_SECONDS)
    return part


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
    state, area = zero_state(request), request.GET.get("area", "")[:32]
    if state:  # the board's cell "Not yet under control" of ``area`` in that state
        reader = found(lambda: geo.narrowed_to(request.user, area))
        qs: Any = selectors.waiting_in_state(reader, state)
    else:
        qs = selectors.queue(request.user, centralized=centralized, district=request.GET.get("district", ""))
    page_obj = Paginator(qs, 500).get_page(request.GET.get("page"))
    return render(
        request,
        "control/queue.html",
        {
            "page_obj": page_obj,
            "mode": mode,
            "state": state,
            "area": area,
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
