"""Marks shown beside a person on the register's pages, contributed by higher apps (a person living in a sealed
zone shows "Sealed zone"). The people app sits under the apps that know such things, so it asks here instead of
importing them: each app registers a mark from its ``hooks.py`` with a function that, for the persons a page
shows (already read through the people app's scoped selectors), returns the text to show per person id."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .actors import Actor


@dataclass(frozen=True)
class PersonMark:
    key: str  # "zone"
    label: Any  # lazily translated: "Zone"
    marks: Callable[[Actor, Sequence[int]], Mapping[int, str]]  # person id -> the text shown


_marks: dict[str, PersonMark] = {}


def register(mark: PersonMark) -> None:
    existing = _marks.get(mark.key)
    if existing is not None and existing != mark:
        raise ValueError(f"Two apps register the person mark {mark.key!r}.")
    _marks[mark.key] = mark


def marks_for(user: Actor, person_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """Per person id: ``(label, text)`` of every registered mark that applies, in registration order."""
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if not person_ids:
        return {}
    for mark in _marks.values():
        for pk, text in mark.marks(user, person_ids).items():
            out[pk].append((str(mark.label), text))
    return dict(out)
