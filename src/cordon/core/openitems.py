"""The kinds of open item the daily-zero board counts, contributed by the apps that own them.

Each app registers the kinds of work it leaves open (tracing: cases not traced, contacts to judge, handovers;
control: persons not yet under control, transfers, missed tests, alerts, releases due; screening: temporary
controls, re-samples) from its ``hooks.py``, with the capability needed to see the column and a function that
counts, per district, how many are open and how many of those are overdue, and one that counts the same items
(and how many of them fall due today: not overdue yet, overdue before the local day ends) grouped also by the
jurisdictions whose territory they lie in (the fields a selector scopes them by: a control
order is seen from its resident's jurisdiction and from its site's), from which the kept counts
(``apps/tallies``) sum every node's whole subtree. A board (the control app's, the command app's daily-zero board)
shows every registered kind the user may see, in the registered order, without importing the apps that own
them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .actors import Actor
from .roles import Cap

# district id -> (open, overdue)
Counts = Mapping[int, tuple[int, int]]
# (district id, (jurisdiction id or None, ...)) -> (open, overdue, due today): the items of a district whose
# scoping jurisdictions (one per field a selector scopes them by, in a fixed order) are these; a user sees an
# item when one of them lies in the user's subtree. "Due today": not overdue now, overdue before the local day
# of ``now`` ends (``day_end``).
Placed = Mapping[tuple[int, tuple[int | None, ...]], tuple[int, int, int]]


@dataclass(frozen=True)
class OpenItemKind:
    key: str  # "to_judge"
    label: Any  # a lazily translated column label
    order: int  # position on the board, left to right
    capability: Cap  # the column is shown to users whose role has it
    count: Callable[[Actor, dt.datetime], Counts]  # scoped to the user, as of ``now``
    placed: Callable[
        [Actor, dt.datetime], Placed
    ]  # the same and due today, grouped also by the scoping places


_kinds: dict[str, OpenItemKind] = {}


def register(kind: OpenItemKind) -> None:
    existing = _kinds.get(kind.key)
    if existing is not None and existing != kind:
        raise ValueError(f"Two apps register the open-item kind {kind.key!r}.")
    _kinds[kind.key] = kind


def kinds() -> list[OpenItemKind]:
    """Every registered kind, in board order."""
    return sorted(_kinds.values(), key=lambda k: (k.order, k.key))


def day_end(now: dt.datetime) -> dt.datetime:
    """The end of the local day of ``now`` (the next local midnight), the horizon of "due today"."""
    tomorrow = timezone.localtime(now).date() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(tomorrow, dt.time()))


def placed(
    qs: QuerySet[Any], district: str, late: Q | bool, places: Sequence[str], due: Q | bool = False
) -> dict[Any, tuple[int, int, int]]:
    """A kind's ``placed`` count from its queryset: grouped by ``district`` and the ``places`` fields (the
    jurisdiction ids it is scoped by), with how many match ``late`` (``True``: all overdue, ``False``: none) and
    how many ``due`` (falling due today, not overdue now: ``True`` for all that are not overdue)."""
    annotations: dict[str, Any] = {"n": Count("pk")}
    if isinstance(late, Q):
        annotations["late"] = Count("pk", filter=late)
    if isinstance(due, Q):
        annotations["due"] = Count("pk", filter=due)
    width = len(places)
    out: dict[Any, tuple[int, int, int]] = {}
    for r in qs.values_list(district, *places).annotate(**annotations).order_by():
        n = r[width + 1]
        overdue = r[width + 2] if isinstance(late, Q) else (n if late else 0)
        today = r[-1] if isinstance(due, Q) else (n - overdue if due else 0)
        out[(r[0], r[1 : width + 1])] = (n, overdue, today)
    return out


# The states of a board cell a list can be narrowed to (``?state=``): overdue now, falling due today, all open.
STATES = ("overdue", "due_today", "open")


@dataclass(frozen=True)
class Open:
    """A kind's open items as one queryset with its ``late`` and ``due`` predicates (as :func:`placed` takes
    them): the one definition the kind's ``placed`` counts and its list filters by (:func:`in_state`)."""

    items: QuerySet[Any]
    late: Q | bool
    due: Q | bool = False

    def placed(self, district: str, places: Sequence[str]) -> dict[Any, tuple[int, int, int]]:
        return placed(self.items, district, self.late, places, self.due)

    def by_district(self, district: str) -> dict[int, tuple[int, int]]:
        """A kind's ``count``: (open, overdue) per ``district``."""
        return {
            d: (n, late)
            for (d, _none), (n, late, _due) in placed(self.items, district, self.late, []).items()
        }


def in_state(items: Open, state: str) -> QuerySet[Any]:
    """The open items in one ``state`` of :data:`STATES` (anything else: all open), exactly those :func:`placed`
    counts in that figure."""
    qs, late, due = items.items, items.late, items.due
    if state == "overdue":
        return qs.filter(late) if isinstance(late, Q) else (qs if late else qs.none())
    if state == "due_today":
        if isinstance(due, Q):
            return qs.filter(due)
        if not due:
            return qs.none()
        if isinstance(late, Q):
            return qs.exclude(pk__in=qs.filter(late).values("pk"))
        return qs.none() if late else qs
    return qs


def seen_from(places: Sequence[int | None], lineage: Mapping[int, Sequence[int]]) -> Collection[int]:
    """The nodes whose users see an item scoped by ``places`` (``lineage``: a node -> itself and the nodes
    above it): every node above or at any of them, once."""
    known = [p for p in places if p is not None]
    if len(known) == 1:
        return lineage.get(known[0], ())
    return {a for p in known for a in lineage.get(p, ())}
