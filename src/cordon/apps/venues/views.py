"""The venue pages: search (with its htmx results fragment) and a venue's record."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from cordon.core.access import AuthedRequest, page
from cordon.core.pages import found
from cordon.core.roles import Cap

from . import selectors

PAGE_SIZE = 50


@page(Cap.VIEW_VENUES)
def venue_search(request: AuthedRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    qs = selectors.search_venues(request.user, query).order_by("name", "id")
    page_obj = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    htmx = bool(getattr(request, "htmx", False))
    template = "venues/_venue_results.html" if htmx else "venues/venue_search.html"
    return render(request, template, {"query": query, "page_obj": page_obj})


@page(Cap.VIEW_VENUES)
def venue_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    venue = found(lambda: selectors.get_venue_for(request.user, pk))
    b = venue.building
    point = (
        {"lat": b.latitude, "lon": b.longitude, "footprint": b.footprint, "address": b.address} if b else None
    )
    return render(request, "venues/venue.html", {"venue": venue, "point": point})
