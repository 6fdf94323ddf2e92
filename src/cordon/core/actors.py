"""Who acts and who reads: the typed edge between the web, API and CLI layers and the apps.

Actions take ``actor: Actor | None`` (``None`` is the system: migrations, the demo loader, scheduled work) and
selectors take ``user: Actor``. ``Actor`` is structural, so this layer, which sits under every app, needs no
import of the user model; ``cordon.apps.accounts.models.User`` is an ``Actor``, and a test checks it stays one.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from .roles import Role


class HasPath(Protocol):
    @property
    def path(self) -> str: ...


@runtime_checkable
class Actor(Protocol):
    """What actions and selectors may read of a signed-in user."""

    @property
    def pk(self) -> Any: ...

    @property
    def username(self) -> str: ...

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def role(self) -> str: ...

    @property
    def jurisdiction(self) -> HasPath | None: ...

    @property
    def sector_id(self) -> int | None: ...


def user_or_none(actor: Actor | None) -> Any:
    """The actor as a value for a ``ForeignKey`` to the user model (``None`` for the system)."""
    return actor if actor is not None and getattr(actor, "pk", None) else None


def actor_name(actor: Actor | None) -> str:
    return "system" if actor is None else str(getattr(actor, "username", actor))


class CityReader:
    """Who a recount reads as (kept counts refreshed by a worker): a whole city, with the city commander's
    capabilities and no sector. Never signs in; only selectors see it."""

    pk = None
    username = "system"
    is_authenticated = True
    sector_id = None

    def __init__(self, jurisdiction: HasPath) -> None:
        self.jurisdiction = jurisdiction
        self.role = str(Role.CITY_COMMANDER)


class WholeTree:
    """The root above every city (``path`` "/"): a ``CityReader`` of it reads every city at once, so an item
    seen from two cities (a resident of one in a site of the other) is read once."""

    pk = None
    path = "/"


class Narrowed:
    """A user seen through one node of their territory (the commander's home, the lists its figures link to
    with ``?area=``): the user's role, sector and id, the node's subtree as territory. Only selectors see it;
    it never writes."""

    is_authenticated = True

    def __init__(self, user: Actor, jurisdiction: HasPath) -> None:
        self.user = user
        self.pk = user.pk
        self.username = user.username
        self.role = user.role
        self.sector_id = user.sector_id
        self.jurisdiction = jurisdiction
