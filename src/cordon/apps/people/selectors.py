"""Scoped reads of persons and households, and how a person is shown to a given user (masking)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet

from cordon.apps.audit import actions as audit
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Building
from cordon.core import pii, reads
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope
from cordon.engine import identity

from .models import Household, Person, SpecialGroup


def persons_visible_to(user: Actor) -> QuerySet[Person]:
    scope = Scope.of(user)
    scope.require(Cap.VIEW_PERSONS)
    return scope.filter(
        Person.objects.select_related("jurisdiction", "home_building", "sector"), sector="sector_id"
    )


def _prefix(field: str, value: str) -> Q:
    """``field`` starts with ``value``, in a form the database answers from the field's index: a range on SQLite
    (whose LIKE is case-insensitive and cannot use a plain index), LIKE 'value%' on PostgreSQL (Django adds a
    pattern-ops index beside every indexed text column there)."""
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": value, f"{field}__lt": value + "\U0010ffff"})
    return Q(**{f"{field}__startswith": value})


def search_persons(user: Actor, query: str) -> QuerySet[Person]:
    """Name (start of the name), national ID (whole or last digits), phone (whole or last digits), or part of
    the home address (for queries that are not only digits). Every term but the address is answered from an
    index, so search stays fast with a city's register; the address term scans buildings, far fewer than persons."""
    qs = persons_visible_to(user)
    q = query.strip()
    if not q:
        return qs
    cond = _prefix("name", q)
    if not q.replace("-", "").replace("+", "").isdigit():  # digits alone are an ID or a phone, not an address
        cond |= Q(home_building__in=Building.objects.filter(address__icontains=q).values("pk"))
    normalized = identity.normalize(q)
    if len(normalized) >= 4 and normalized[:-1].isdigit() and normalized[-1] in "0123456789X":
        cond |= _prefix("national_id_rev", normalized[::-1])
    digits = "".join(ch for ch in q if ch.isdigit())
    if len(digits) >= 4 and all(ch.isdigit() or ch in "+- " for ch in q):
        cond |= _prefix("phone_rev", digits[::-1])
    return qs.filter(cond)


def with_special_group(qs: QuerySet[Person], tag: str) -> QuerySet[Person]:
    """Persons carrying a special-group tag (JSON list membership, same lookup on SQLite and PostgreSQL)."""
    if tag not in SpecialGroup.values:
        return qs.none()
    return qs.filter(tags__icontains=f'"{tag}"')


def find_persons(user: Actor, query: str, tag: str = "") -> QuerySet[Person] | None:
    """The person search of the register page: ``search_persons`` narrowed to a special group, by name;
    ``None`` when there is neither a query nor a group (the page then asks for one)."""
    if not query and not tag:
        return None
    results = search_persons(user, query)
    if tag:
        results = with_special_group(results, tag)
    return results.order_by("name", "id")


SPECIAL_GROUPS = "special_groups"  # the kept roll-up group of the special groups (registered in hooks.py)


def special_group_counts(user: Actor) -> list[tuple[str, str, int]]:
    """(tag, label, count) for every special group in the user's scope (the home page): from the kept
    roll-ups (``geo.kept_group``, recounted by workers with the other roll-ups) when fresh, else counted now."""
    kept = geo.kept_group(user, SPECIAL_GROUPS)
    counts = kept if kept is not None else counted_special_groups(user)
    return [(tag, str(label), counts.get(tag, 0)) for tag, label in SpecialGroup.choices]


def _group_counts() -> dict[str, Count]:
    return {f"g_{tag}": Count("pk", filter=Q(tags__icontains=f'"{tag}"')) for tag in SpecialGroup.values}


def counted_special_groups(user: Actor) -> dict[str, int]:
    """Persons of each special group in the user's scope, counted now: one pass over the persons (a filtered
    count per tag), not one query per tag."""
    counted = persons_visible_to(user).exclude(tags=[]).order_by().aggregate(**_group_counts())
    return {tag: counted[f"g_{tag}"] or 0 for tag in SpecialGroup.values}


def special_groups_by_jurisdiction(user: Actor, path: str) -> dict[str, dict[int, int]]:
    """Persons of each special group placed directly at each jurisdiction under ``path``, in the user's
    territory (the kept roll-up group of the home page): one pass over the persons with any tag."""
    qs = (
        persons_visible_to(user)
        .filter(jurisdiction__path__startswith=path)
        .exclude(tags=[])
        .values("jurisdiction_id")
        .annotate(**_group_counts())
        .order_by()
    )
    out: dict[str, dict[int, int]] = {tag: {} for tag in SpecialGroup.values}
    for values in qs:
        row: dict[str, Any] = dict(values)
        for tag in SpecialGroup.values:
            if row[f"g_{tag}"]:
                out[tag][row["jurisdiction_id"]] = row[f"g_{tag}"]
    return out


def get_person_for(user: Actor, pk: int) -> Person:
    try:
        return persons_visible_to(user).select_related("household", "workplace").get(pk=pk)
    except (Person.DoesNotExist, ValueError):
        raise NotFound from None


def open_person_record(user: Actor, pk: int, *, via: str) -> Person:
    """Fetch a person's full record for display. Inside a request that returns personal data
    (``cordon.core.reads``) the request's access-log row names this person as the record opened; elsewhere the
    opening is logged here."""
    person = get_person_for(user, pk)
    if not reads.opened(person.pk):
        audit.log_person_access(user, person, via=via)
    return person


def households_visible_to(user: Actor) -> QuerySet[Household]:
    scope = Scope.of(user)
    scope.require(Cap.VIEW_PERSONS)
    return scope.filter(Household.objects.select_related("building"), territory="building__jurisdiction")


def get_household_for(user: Actor, code: str) -> Household:
    """A household by code in the user's territory; ``NotFound`` when missing or out of scope."""
    try:
        return households_visible_to(user).get(code=code)
    except Household.DoesNotExist:
        raise NotFound from None


def household_members(user: Actor, person: Person) -> QuerySet[Person]:
    if person.household_id is None:
        return Person.objects.none()
    return persons_visible_to(user).filter(household_id=person.household_id).exclude(pk=person.pk)


def shows_pii(user: Actor, *, listed: bool = False) -> bool:
    """Whether ``user`` sees a person's full national ID and phone: on one person's record (a page, an API
    detail, a document or an export), roles with ``view_pii``; in a list of persons (search results, API list
    pages, contacts, household members), no role: a list shows masked values and the record opened from it,
    logged, the full ones (docs/operations.md, "Personal data"). One rule with the audit trail's (``core.pii``)."""
    return pii.sees_pii(user, listed=listed)


def national_id_for(user: Actor, person: Person, *, listed: bool = False) -> str:
    return pii.shown(user, Person, "national_id", person.national_id, listed=listed)


def phone_for(user: Actor, person: Person, *, listed: bool = False) -> str:
    return pii.shown(user, Person, "phone", person.phone, listed=listed)


def _per_jurisdiction(qs: QuerySet[Any], field: str) -> dict[int, int]:
    rows = qs.values(field).annotate(n=Count("id")).order_by()
    return {r[field]: r["n"] for r in rows}


def persons_by_jurisdiction(user: Actor, path: str) -> dict[int, int]:
    """Residents placed directly at each jurisdiction under ``path``, in the user's territory (and sector, for a
    role that sees persons): a figure of the jurisdiction roll-ups."""
    scope = Scope.of(user)
    sector = "sector_id" if scope.can(Cap.VIEW_PERSONS) else None
    qs = scope.filter(Person.objects.all(), sector=sector).filter(jurisdiction__path__startswith=path)
    return _per_jurisdiction(qs, "jurisdiction_id")


def households_by_jurisdiction(user: Actor, path: str) -> dict[int, int]:
    """Households by the jurisdiction of their building, under ``path``, in the user's territory."""
    qs = Scope.of(user).filter(Household.objects.all(), territory="building__jurisdiction")
    return _per_jurisdiction(
        qs.filter(building__jurisdiction__path__startswith=path), "building__jurisdiction_id"
    )
