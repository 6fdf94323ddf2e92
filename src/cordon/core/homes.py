"""The home page (``/``, served by the web app) of a role, contributed by a higher app: the commanders' home is
the command app's headline. A role with no registered home gets the web app's own."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Home:
    roles: frozenset[str]
    view: Callable[[Any], Any]  # (request) -> response, the request's user signed in


_homes: dict[str, Home] = {}


def register(roles: Collection[str], view: Callable[[Any], Any]) -> Home:
    home = Home(frozenset(str(r) for r in roles), view)
    for role in home.roles:
        if role in _homes and _homes[role] != home:
            raise ValueError(f"Two apps register the home of the role {role!r}.")
        _homes[role] = home
    return home


def for_role(role: str) -> Callable[[Any], Any] | None:
    home = _homes.get(str(role))
    return home.view if home is not None else None
