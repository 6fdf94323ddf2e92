"""Kinds of record whose history the audit pages show, contributed by the apps that own them.

``/audit/<kind>/<pk>/`` (and ``GET /api/audit/{kind}/{pk}``) first fetches the record through its own app's
scoped selector, so an auditor sees the history only of records in their territory, and a record out of scope
answers exactly like a missing one. The audit app, which sits under every other app, learns those selectors
here: each app registers its kinds from its ``hooks.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from .actors import Actor
from .scoping import NotFound


@dataclass(frozen=True)
class RecordKind:
    kind: str  # the URL word: "person"
    label: Any  # lazily translated, singular: "person"
    fetch: Callable[[Actor, int], models.Model]  # the scoped selector: NotFound when missing or out of scope


_kinds: dict[str, RecordKind] = {}


def register(kind: RecordKind) -> None:
    _kinds[kind.kind] = kind


def fetch(user: Actor, kind: str, pk: int) -> models.Model:
    """The record of ``kind`` with ``pk`` as ``user`` may see it; ``NotFound`` for an unknown kind too."""
    found = _kinds.get(kind)
    if found is None:
        raise NotFound
    return found.fetch(user, pk)


def kinds() -> list[RecordKind]:
    return list(_kinds.values())
