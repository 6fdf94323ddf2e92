"""The kinds of open item the daily-zero board counts, contributed by the apps that own them.

Each app registers the kinds of work it leaves open (tracing: cases not traced, contacts to judge, handovers;
control: persons not yet under control, transfers, missed tests, alerts, releases due; screening: temporary
controls, re-samples) from its ``hooks.py``, with the capability needed to see the column and a function that
counts, per district, how many are open and how many of those are overdue. A board (today the control app's,
later the command app's) shows every registered kind the user may see, in the registered order, without
importing the apps that own them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .actors import Actor
from .roles import Cap

# district id -> (open, overdue)
Counts = Mapping[int, tuple[int, int]]


@dataclass(frozen=True)
class OpenItemKind:
    key: str  # "to_judge"
    label: Any  # a lazily translated column label
    order: int  # position on the board, left to right
    capability: Cap  # the column is shown to users whose role has it
    count: Callable[[Actor, dt.datetime], Counts]  # scoped to the user, as of ``now``


_kinds: dict[str, OpenItemKind] = {}


def register(kind: OpenItemKind) -> None:
    existing = _kinds.get(kind.key)
    if existing is not None and existing != kind:
        raise ValueError(f"Two apps register the open-item kind {kind.key!r}.")
    _kinds[kind.key] = kind


def kinds() -> list[OpenItemKind]:
    """Every registered kind, in board order."""
    return sorted(_kinds.values(), key=lambda k: (k.order, k.key))
