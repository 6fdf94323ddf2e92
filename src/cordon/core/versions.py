"""Optimistic concurrency for shared records: a record's ``version``, the ``Conflict`` a stale edit meets.

Two people may edit one record at once (two investigators judging one contact, two officers editing one
person). Without a check the last to submit wins silently. A record that several people edit in place derives
from ``Versioned``: every write of it through the audit helpers (``audit.actions.change``, ``change_many``,
``change_each``, and the bulk paths that update such records) adds one to its ``version``. An edit form and an API
body carry the version the editor saw; the action passes it on as ``expected_version``, the write is made only
``WHERE version = expected`` (in the same transaction, under the row's lock), and a stale one raises ``Conflict``
and changes nothing. The API answers ``409`` with the record's current state (``showing``); a page says so
(``Conflict.message``) and shows the current values again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, cast

from django.db import models
from django.utils.translation import gettext_lazy as _
from ninja import Schema


class Versioned(models.Model):
    """A record several people edit in place: its ``version`` counts its writes (1 when created). Not editable,
    so it is neither in forms nor in the audit trail's values."""

    version = models.PositiveIntegerField(_("version"), default=1, db_default=1, editable=False)

    class Meta:
        abstract = True


class Conflict(Exception):
    """The record changed since the editor read it (its version is no longer the one they saw); nothing was
    written. ``stale`` names the records (``{pk: current version}``); ``current`` is what the API shows of them
    (set by ``showing``)."""

    message = _(
        "Someone else changed this record while you were editing it. Your change was not saved; here is the "
        "current state. Check it and submit again if still needed."
    )

    def __init__(self, model: str, stale: Mapping[Any, int]) -> None:
        super().__init__(f"{model}: stale version of {sorted(stale, key=str)}")
        self.model = model
        self.stale = dict(stale)
        self.current: Any = None


class ConflictOut(Schema):
    """The API's answer to a stale edit (409): what happened, the records' current versions by id, and their
    current state as the operation shows them (``None`` when there is none, e.g. no plan in force)."""

    detail: str
    versions: dict[str, int]
    current: Any = None


def check(instance: models.Model, expected: int | None) -> None:
    """Refuse when ``expected`` (the version the editor saw) is not the record's version as read now."""
    if expected is not None and isinstance(instance, Versioned) and instance.version != expected:
        raise Conflict(instance._meta.label_lower, {instance.pk: instance.version})


def bump(changed: Sequence[models.Model]) -> dict[str, Any]:
    """For a bulk ``UPDATE`` of ``Versioned`` records (all of one model): ``{"version": version + 1}`` to add to
    its values (and one more on each instance in memory), so an editor's form read before a bulk or background
    write is found stale; ``{}`` for other models."""
    if not changed or not is_versioned(changed[0]):
        return {}
    for obj in changed:
        cast(Versioned, obj).version += 1
    return {"version": models.F("version") + 1}


def is_versioned(model: type[models.Model] | models.Model) -> bool:
    return issubclass(model if isinstance(model, type) else type(model), Versioned)


def parse(value: Any) -> int | None:
    """A posted version (a form's hidden input): a positive integer, else ``None``."""
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


@contextlib.contextmanager
def showing(current: Callable[[], Any]) -> Iterator[None]:
    """Around an edit: a ``Conflict`` raised inside leaves with ``current()`` (read after the refused write was
    rolled back: the state that won) as what the API answers with."""
    try:
        yield
    except Conflict as exc:
        exc.current = current()
        raise
