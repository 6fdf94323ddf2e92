"""The jurisdiction pages: the tree from the user's root down, with rolled-up figures and a map of buildings."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cordon.core import inputs
from cordon.core.access import AuthedRequest, page
from cordon.core.pages import found
from cordon.core.roles import Cap

from . import selectors
from .models import Level


@page(Cap.VIEW_JURISDICTIONS)
def jurisdiction_root(request: AuthedRequest) -> HttpResponse:
    root = selectors.root_for(request.user)
    if root is None:
        return render(request, "geo/no_scope.html")
    return redirect("jurisdiction", code=root.code)


@page(Cap.VIEW_JURISDICTIONS)
def jurisdiction_detail(request: AuthedRequest, code: str) -> HttpResponse:
    user = request.user
    node = found(lambda: selectors.get_jurisdiction_for(user, code))
    counts = selectors.subtree_counts(user, node)
    context = {
        "node": node,
        "counts": counts.get(node.pk, {}),
        "children": [(c, counts.get(c.pk, {})) for c in selectors.children_of(user, node)],
        "ancestors": selectors.ancestors_within(user, node),
        "buildings": selectors.building_points(user, node) if node.level >= Level.COMMUNITY else [],
    }
    htmx = bool(getattr(request, "htmx", False))
    return render(request, "geo/_jurisdiction_children.html" if htmx else "geo/jurisdiction.html", context)


@page(Cap.VIEW_JURISDICTIONS)
def jurisdiction_outlines(request: AuthedRequest) -> HttpResponse:
    """The kept outlines of one level (``level``: district, street, community or grid; district by default) the
    user sees, within ``bbox`` (west,south,east,north) and under ``under`` (a jurisdiction's code) when given,
    as a GeoJSON FeatureCollection (simplified; at most ``selectors.OUTLINE_LIMIT``, ``truncated`` beyond)."""
    try:
        level = int(request.GET.get("level", Level.DISTRICT))
    except ValueError:
        level = 0
    if level not in selectors.OUTLINE_LEVELS:
        return JsonResponse({"error": _("Unknown level.")}, status=400)
    code = request.GET.get("under", "").strip()[:32]
    under = found(lambda: selectors.get_jurisdiction_for(request.user, code)) if code else None
    features, truncated = selectors.outlines_for(
        request.user, level=level, bbox=inputs.bbox(request.GET.get("bbox", "")), under=under
    )
    return JsonResponse({"type": "FeatureCollection", "features": features, "truncated": truncated})
