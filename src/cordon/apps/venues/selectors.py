"""Scoped reads of venues."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope

from .models import Venue


def venues_visible_to(user: Actor) -> QuerySet[Venue]:
    scope = Scope.of(user)
    scope.require(Cap.VIEW_VENUES)
    return scope.filter(
        Venue.objects.select_related("jurisdiction", "building", "sector"), sector="sector_id"
    )


def search_venues(user: Actor, query: str) -> QuerySet[Venue]:
    """Part of the name or the address, or the whole place code."""
    qs = venues_visible_to(user)
    q = query.strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__iexact=q) | Q(building__address__icontains=q))
    return qs


def get_venue_for(user: Actor, key: int | str) -> Venue:
    qs = venues_visible_to(user)
    try:
        return qs.get(pk=key) if isinstance(key, int) else qs.get(code=key)
    except (Venue.DoesNotExist, ValueError):
        raise NotFound from None


def venues_by_jurisdiction(user: Actor, path: str) -> dict[int, int]:
    """Venues placed directly at each jurisdiction under ``path``, in the user's territory (and sector, for a
    role that sees persons): a figure of the jurisdiction roll-ups."""
    scope = Scope.of(user)
    sector = "sector_id" if scope.can(Cap.VIEW_PERSONS) else None
    qs = scope.filter(Venue.objects.all(), sector=sector).filter(jurisdiction__path__startswith=path)
    rows = qs.values("jurisdiction_id").annotate(n=Count("id")).order_by()
    return {r["jurisdiction_id"]: r["n"] for r in rows}
