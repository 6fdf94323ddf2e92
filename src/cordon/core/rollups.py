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
