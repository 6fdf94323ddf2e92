"""Scoped reads of the jurisdiction tree and buildings."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, QuerySet

from cordon.apps.accounts.roles import Cap
from cordon.apps.accounts.scoping import NotFound, Scope

from .models import Building, IndustrySector, Jurisdiction


def jurisdictions_visible_to(user: Any) -> QuerySet[Jurisdiction]:
    scope = Scope.of(user)
    if scope.path is None:
        return Jurisdiction.objects.none()
    return Jurisdiction.objects.filter(path__startswith=scope.path)


def get_jurisdiction_for(user: Any, key: int | str) -> Jurisdiction:
    """By id (int) or code (str); NotFound when missing or out of scope."""
    qs = jurisdictions_visible_to(user)
    try:
        if isinstance(key, int):
            return qs.get(pk=key)
        return qs.get(code=key)
    except Jurisdiction.DoesNotExist:
        raise NotFound from None


def root_for(user: Any) -> Jurisdiction | None:
    return getattr(user, "jurisdiction", None) if Scope.of(user).path else None


def buildings_visible_to(user: Any) -> QuerySet[Building]:
    return Scope.of(user).filter(Building.objects.select_related("jurisdiction"))


def get_building_for(user: Any, key: int | str) -> Building:
    qs = buildings_visible_to(user)
    try:
        return qs.get(pk=key) if isinstance(key, int) else qs.get(code=key)
    except Building.DoesNotExist:
        raise NotFound from None


def sectors() -> QuerySet[IndustrySector]:
    """Sectors are reference data, visible to every signed-in user."""
    return IndustrySector.objects.all()


def subtree_counts(user: Any, node: Jurisdiction) -> dict[int, dict[str, int]]:
    """Rolled-up counts of persons, households, buildings and venues for ``node`` and every node under it
    (in the user's scope), keyed by jurisdiction id. One grouped query per kind, summed up the tree in Python."""
    from cordon.apps.people.models import Household, Person
    from cordon.apps.venues.models import Venue

    scope = Scope.of(user)
    nodes = list(jurisdictions_visible_to(user).filter(path__startswith=node.path).values("id", "parent_id"))
    parents = {n["id"]: n["parent_id"] for n in nodes}
    totals: dict[int, dict[str, int]] = defaultdict(
        lambda: {"persons": 0, "households": 0, "buildings": 0, "venues": 0}
    )
    sources: list[tuple[str, QuerySet[Any], str]] = [
        ("persons", Person.objects.all(), "jurisdiction_id"),
        ("households", Household.objects.all(), "building__jurisdiction_id"),
        ("buildings", Building.objects.all(), "jurisdiction_id"),
        ("venues", Venue.objects.all(), "jurisdiction_id"),
    ]
    for key, qs, field in sources:
        territory = field.rsplit("_id", 1)[0]
        sector = "sector_id" if key in ("persons", "venues") and scope.can(Cap.VIEW_PERSONS) else None
        qs = scope.filter(qs, territory=territory, sector=sector)
        rows = (
            qs.filter(**{f"{territory}__path__startswith": node.path}).values(field).annotate(n=Count("id"))
        )
        for row in rows:
            jid = row[field]
            while jid is not None and jid in parents:
                totals[jid][key] += row["n"]
                jid = parents[jid]
    return totals
