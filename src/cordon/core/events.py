"""Domain events: how one app reacts to a change in another without importing it.

The app that makes a change others care about defines the event, a frozen dataclass deriving from ``Event`` in
its ``events.py`` (``tracing.events.ContactsJudged``), and publishes it from the action that made the change:
``events.publish(ContactsJudged(...))``. An app that reacts subscribes a handler in its ``handlers.py``::

    @events.subscribe(ContactsJudged)
    def open_control_orders(event: ContactsJudged) -> None: ...

and imports that module from its ``AppConfig.ready()``. So the publisher knows nothing of its subscribers and
the app graph stays a DAG: the subscriber depends on the publisher's ``events`` module, never the other way.

Handlers run at once, synchronously, inside the publisher's transaction (``publish`` refuses to run outside
one), in the order the apps are installed and, within an app, the order of subscription. A handler that raises
rolls the whole action back: the change and its reactions commit together or not at all. Handlers write
through their own app's actions, so their writes are audited like any other. Work that must wait for the
commit (notifications, background jobs) is scheduled from a handler with ``transaction.on_commit``.

Not Django model signals: events are named after what happened in the domain, carry exactly the data a
reaction needs, and are published explicitly where the change is made.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction

from .actors import Actor


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every domain event: who made the change (``None``: the system) and through which channel."""

    actor: Actor | None
    source: str


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]

_handlers: dict[type[Event], list[Handler]] = defaultdict(list)


def subscribe(event_type: type[E]) -> Callable[[Callable[[E], None]], Callable[[E], None]]:
    """Register the decorated function as a handler of ``event_type`` (exactly that class)."""

    def register(handler: Callable[[E], None]) -> Callable[[E], None]:
        if handler not in _handlers[event_type]:
            _handlers[event_type].append(handler)
        return handler

    return register


def publish(event: Event) -> None:
    """Run every handler of the event's class now, inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{type(event).__name__} must be published inside the action's transaction.")
    for handler in list(_handlers.get(type(event), ())):
        handler(event)


def handlers_of(event_type: type[Event]) -> list[Handler]:
    """The handlers subscribed to ``event_type``, in the order they run (for docs and tests)."""
    return list(_handlers.get(event_type, ()))
