"""Scoped reads of venues."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from cordon.apps.accounts.roles import Cap
from cordon.apps.accounts.scoping import NotFound, Scope

from .models import Venue


def venues_visible_to(user: Any) -> QuerySet[Venue]:
    scope = Scope.of(user)
    scope.require(Cap.VIEW_VENUES)
    return scope.filter(
        Venue.objects.select_related("jurisdiction", "building", "sector"), sector="sector_id"
    )


def search_venues(user: Any, query: str) -> QuerySet[Venue]:
    qs = venues_visible_to(user)
    q = query.strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__iexact=q) | Q(building__address__icontains=q))
    return qs


def get_venue_for(user: Any, key: int | str) -> Venue:
    qs = venues_visible_to(user)
    try:
        return qs.get(pk=key) if isinstance(key, int) else qs.get(code=key)
    except (Venue.DoesNotExist, ValueError):
        raise NotFound from None
