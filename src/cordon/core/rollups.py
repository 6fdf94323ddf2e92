"""Figures counted per jurisdiction and summed up the tree (the home page, the jurisdiction pages and API),
contributed by the apps that own the records: geo counts buildings, people persons and households, venues
venues. The jurisdiction tree (geo), which sits under those apps, sums what they register here without
importing them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .actors import Actor
from .roles import Cap


@dataclass(frozen=True)
class Figure:
    key: str  # "persons"
    label: Any  # lazily translated
    order: int
    capability: Cap  # counted for users whose role has it
    # (user, path of the subtree's root) -> {jurisdiction id: count of the records placed directly there}
    count: Callable[[Actor, str], Mapping[int, int]]


_figures: dict[str, Figure] = {}


def register(figure: Figure) -> None:
    _figures[figure.key] = figure


def figures() -> list[Figure]:
    return sorted(_figures.values(), key=lambda f: (f.order, f.key))


@dataclass(frozen=True)
class Group:
    """Figures counted together in one pass over the records and kept like the roll-ups (every node's subtree
    total), but read by their own page or badge rather than shown as columns of the jurisdiction pages: the
    home page's special groups (one scan of the register for every tag), the menu badges' counts per
    jurisdiction. ``fast`` groups are recounted every ``CORDON_TALLY_SECONDS`` (a badge must follow within
    seconds), the others with the roll-ups every ``CORDON_ROLLUP_SECONDS``. ``count`` must count what the live
    selector counts for a user whose territory is the subtree, with no sector limit."""

    key: str  # "special_groups"
    keys: tuple[str, ...]  # the figures it counts, each kept under its own key ("elderly_alone", ...)
    capability: Cap
    # (user, path of the subtree's root) -> {figure key: {jurisdiction id: count of the records placed there}}
    # (``summed=False``: of the records a user of that jurisdiction sees)
    count: Callable[[Actor, str], Mapping[str, Mapping[int, int]]]
    fast: bool = False
    daily: bool = (
        False  # counts of the city's current day: not read once the day has turned since the recount
    )
    # False: ``count`` gives every node's own total already (what a user of that node sees), for records seen
    # from several places at once (a zone over two districts), which summing up the tree would count twice.
    summed: bool = True
    # Kept only at nodes this deep at most (1: a city, 2: its districts, 3: their streets), for figures read at
    # those levels alone (the commanders' headline): a reader of a deeper node counts live.
    depth: int | None = None


# The nodes the commanders' headline is read at: the city, its districts and their streets (``Group.depth``).
HEADLINE_DEPTH = 3

_groups: dict[str, Group] = {}


def register_group(group: Group) -> Group:
    if group.key in _groups and _groups[group.key] != group:
        raise ValueError(f"Roll-up group {group.key!r} is registered twice.")
    taken = {k for g in _groups.values() if g.key != group.key for k in g.keys} | set(_figures)
    if taken & set(group.keys):
        raise ValueError(
            f"Roll-up group {group.key!r} reuses a figure key: {sorted(taken & set(group.keys))}."
        )
    _groups[group.key] = group
    return group


def groups() -> list[Group]:
    return sorted(_groups.values(), key=lambda g: g.key)


def group(key: str) -> Group:
    return _groups[key]
