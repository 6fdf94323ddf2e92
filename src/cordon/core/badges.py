"""Live counts beside the menu's links: what is waiting for the person looking, updated without a reload.

An app registers a badge in its ``hooks.py``: a key (the menu link it sits beside carries
``<span data-badge="<key>">``), a label read by screen readers ("3 contacts to acknowledge"), the capability
needed to see it, and a count for the person (through the app's scoped selectors). Every page polls
``/live/badges/`` every ``CORDON_LIVE_SECONDS``; the answer replaces each badge in place (htmx out-of-band
swaps). Why polling and not server-sent events: docs/architecture.md, "Live updates"; the figures are in
docs/benchmarks.md (bench/bench_live.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .actors import Actor
from .roles import Cap, caps_for


@dataclass(frozen=True)
class Badge:
    key: str
    label: Any  # lazy translated, with %(n)d: "%(n)d contacts to acknowledge"
    cap: Cap | None  # None: any signed-in person
    count: Callable[[Actor], int]
    order: int = 100


_badges: dict[str, Badge] = {}


def register(badge: Badge) -> Badge:
    if badge.key in _badges and _badges[badge.key] != badge:
        raise ValueError(f"Badge {badge.key!r} is registered twice.")
    _badges[badge.key] = badge
    return badge


def for_actor(actor: Actor) -> list[tuple[Badge, int]]:
    """The badges this person may see, in menu order, with their counts."""
    caps = caps_for(actor.role)
    shown = sorted((b for b in _badges.values() if b.cap is None or b.cap in caps), key=lambda b: b.order)
    return [(b, b.count(actor)) for b in shown]
