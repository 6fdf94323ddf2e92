"""Every write is an action: ``@action`` marks one.

An action is a function in an app's ``actions`` package that changes data: it validates (refusing with
``ValidationError({field: message})`` and changing nothing), writes through ``audit.actions`` helpers so every
changed record has an audit row with its old and new values, and publishes the domain events others react to.
``@action`` runs it in one transaction and registers it, so tests can enumerate every write path
(``registered()``) and watch each one run (``observe``): the audit-coverage check in the test suite uses both.

An orchestrating action that must commit in steps (tracing a batch of cases, ingesting a scan file: work that
would otherwise hold the database's write lock for seconds) says so with ``@action(atomic=False)``; every step
it runs is itself an action or a transaction of its own, complete on its own.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, TypeVar, overload

from django.db import transaction

F = TypeVar("F", bound=Callable[..., Any])
Observer = Callable[[str], AbstractContextManager[Any]]

_registry: dict[str, Callable[..., Any]] = {}
_observers: list[Observer] = []


def name_of(func: Callable[..., Any]) -> str | None:
    """The action's registered name (``cordon.apps.control.actions.release``), or ``None`` if not an action."""
    return getattr(func, "cordon_action", None)


def _wrap(func: F, atomic: bool) -> F:
    module = func.__module__
    # Public name: the app's actions package, not the sub-module the function lives in.
    head, sep, _tail = module.partition(".actions.")
    name = f"{head}.actions.{func.__qualname__}" if sep else f"{module}.{func.__qualname__}"

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with transaction.atomic() if atomic else contextlib.nullcontext(), contextlib.ExitStack() as stack:
            for observe in list(_observers):
                stack.enter_context(observe(name))
            return func(*args, **kwargs)

    run.cordon_action = name  # type: ignore[attr-defined]
    run.cordon_atomic = atomic  # type: ignore[attr-defined]
    _registry[name] = run
    return run  # type: ignore[return-value]


@overload
def action(func: F) -> F: ...


@overload
def action(*, atomic: bool = True) -> Callable[[F], F]: ...


def action(func: F | None = None, *, atomic: bool = True) -> F | Callable[[F], F]:
    """Declare a write: ``@action`` (one transaction) or ``@action(atomic=False)`` (commits in steps)."""
    if func is not None:
        return _wrap(func, atomic=True)
    return lambda f: _wrap(f, atomic=atomic)


def registered() -> dict[str, Callable[..., Any]]:
    """Every action imported so far, by name (import the apps' ``actions`` packages first)."""
    return dict(_registry)


@contextlib.contextmanager
def observe(observer: Observer) -> Iterator[None]:
    """While the block runs, ``observer(name)`` is entered around every action call (nested calls too)."""
    _observers.append(observer)
    try:
        yield
    finally:
        _observers.remove(observer)


# --- How an action's writes are audited, declared on the model ---------------------------------------------

RECORD = "record"  # the default: one audit row per record written (create, update, delete)
BATCH = "batch"  # one audit row per batch (``audit.record_batch``): the hot paths in docs/architecture.md
DERIVED = "derived"  # counters and caches recomputable from audited records: not audited


def audit_policy(model: type[Any]) -> str:
    """A model's audit policy: its ``audit_policy`` class attribute, ``RECORD`` when it has none."""
    return str(getattr(model, "audit_policy", RECORD))
