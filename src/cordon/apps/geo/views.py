"""The jurisdiction pages: the tree from the user's root down, with rolled-up figures and a map of buildings."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render

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
