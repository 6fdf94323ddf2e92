"""Reads of personal data: every request that returns persons is access-logged once, and held to a volume limit.

A page or API operation that returns persons (a list, a search, a record, an export, a PDF) is decorated with
``@personal_data()`` under its ``@page``/``@api`` rule. While it runs, every person the request loads from the
database is noted: ``people.Person`` reports itself when a row becomes an instance (``Person.from_db``, which
also covers ``select_related`` and ``iterator()``), so a list that shows persons cannot leave one out. When the
view returns data (anything but a redirect or an error page), the request is written to the access log as **one
row** naming the route, the query (path and query string) and the ids of the persons returned; a route that opens
one person's full record names that person too (``opened``). A page that shows persons' values without loading
them (the audit trail's entries) notes them with ``loaded``.

The volume limit: before the view runs, a user who has already read ``CORDON_PII_READ_LIMIT`` persons within
``CORDON_PII_READ_WINDOW`` seconds is refused with 429 (the API answers ``{"detail": ...}``, a page the error
page), and the request that crosses the limit raises an alert for the auditors (once per window). The counting,
the row and the alert belong to the audit app, which registers them here (``register``) from its ``hooks.py``;
this module only collects.

``reading(user, via=..., route=..., query=...)`` is the same collection as a context manager, for paths that are
not requests (``cordon export``, an export job), and ``refusal(user, ...)`` the limit's check there.
``watch()`` collects without logging: tests use it to find every route that loads persons and check that it is
decorated.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .actors import Actor

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Collected:
    """The persons one request has loaded so far (ids in first-seen order) and the record it opened, if any."""

    ids: dict[int, None] = field(default_factory=dict)
    opened: int | None = None


class Ledger(Protocol):
    """What the audit app provides: the refusal (a translated message, or None to go on) and the row."""

    def refusal(self, user: Actor, *, via: str, route: str) -> str | None: ...

    def record(
        self, user: Actor, ids: list[int], *, via: str, route: str, query: str, opened: int | None
    ) -> None: ...


_current: contextvars.ContextVar[Collected | None] = contextvars.ContextVar("cordon_reads", default=None)
_ledger: list[Ledger] = []


def register(ledger: Ledger) -> None:
    _ledger[:] = [ledger]


def loaded(pk: Any) -> None:
    """A person row was read from the database (called by ``Person.from_db``)."""
    current = _current.get()
    if current is not None and pk is not None:
        current.ids[pk] = None


def active() -> bool:
    """Whether persons read now are being collected (a request or block that logs them)."""
    return _current.get() is not None


def opened(pk: int) -> bool:
    """Mark ``pk`` as the person whose full record this request opens; False when no collection is running
    (the caller then logs the opening itself)."""
    current = _current.get()
    if current is None:
        return False
    current.opened = pk
    current.ids[pk] = None
    return True


@contextlib.contextmanager
def watch() -> Iterator[Collected]:
    """Collect the persons loaded inside the block, writing nothing (tests)."""
    collected = Collected()
    token = _current.set(collected)
    try:
        yield collected
    finally:
        _current.reset(token)


@contextlib.contextmanager
def reading(user: Actor, *, via: str, route: str, query: str = "") -> Iterator[Collected]:
    """Collect the persons loaded inside the block and write one access-log row for them at its end (when the
    block raises, nothing was returned and nothing is written)."""
    with watch() as collected:
        yield collected
    if collected.ids and _ledger:
        _ledger[0].record(
            user, list(collected.ids), via=via, route=route, query=query, opened=collected.opened
        )


def refusal(user: Actor, *, via: str, route: str) -> str | None:
    """The volume limit's refusal of ``user`` (a translated message), or None to go on: for work that reads
    persons outside a request (an export job checks it before it reads anyone)."""
    return _ledger[0].refusal(user, via=via, route=route) if _ledger else None


def refused(request: Any, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    heading = _("Personal data: the limit is reached")
    return render(request, "error.html", {"status": 429, "heading": heading, "message": message}, status=429)


def _route(request: Any, func: Any) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name and not request.path.startswith("/api/"):
        return str(match.view_name)[:100]
    return f"api:{func.__name__}"[:100] if request.path.startswith("/api/") else func.__name__[:100]


def personal_data(via: str | None = None) -> Callable[[F], F]:
    """Decorate a page or API operation that returns persons (under its ``@page``/``@api`` rule): refuse it
    beyond the volume limit, log what it returned in one access-log row. ``via`` names the channel in the log
    (default ``api`` or ``web`` from the path; ``export``, ``pdf``)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            channel = via or ("api" if request.path.startswith("/api/") else "web")
            route = _route(request, func)
            message = _ledger[0].refusal(request.user, via=channel, route=route) if _ledger else None
            if message is not None:
                return refused(request, message)
            with watch() as collected:
                result = func(request, *args, **kwargs)
            # A redirect or an error page returned nobody's data; anything else (a page, a file, a schema) did.
            shown = not isinstance(result, HttpResponse) or result.status_code < 300
            if shown and collected.ids and _ledger:
                query = unquote(request.get_full_path())[:500]
                _ledger[0].record(
                    request.user, list(collected.ids), via=channel, route=route, query=query,
                    opened=collected.opened,
                )  # fmt: skip
            return result

        wrapper.cordon_personal_data = True  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def is_personal(func: Any) -> bool:
    return bool(getattr(func, "cordon_personal_data", False))
