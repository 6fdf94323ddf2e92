"""Work a worker does on a clock, not on request: refreshing the kept counts every few seconds, reconciling them
each night. An app registers a periodic task in its ``hooks.py``; every ``cordon worker`` runs each registered
task every ``every`` seconds in a thread of its own (several workers each run them: a periodic task must be
harmless to run twice, as a recount is)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Periodic:
    name: str
    every: Callable[[], float]  # seconds, read from settings when the worker starts
    run: Callable[[], object]


_tasks: dict[str, Periodic] = {}


def register(task: Periodic) -> Periodic:
    if task.name in _tasks and _tasks[task.name] != task:
        raise ValueError(f"Periodic task {task.name!r} is registered twice.")
    _tasks[task.name] = task
    return task


def tasks() -> list[Periodic]:
    return sorted(_tasks.values(), key=lambda t: t.name)
