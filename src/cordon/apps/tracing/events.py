"""What tracing tells the other apps (published inside the action's transaction; see ``cordon.core.events``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cordon.core.events import Event

from .models import Case, Contact


@dataclass(frozen=True, kw_only=True)
class CaseReported(Event):
    """A new case was reported (by hand, from a positive control test or a confirmed screening positive)."""

    case: Case


@dataclass(frozen=True, kw_only=True)
class ContactsJudged(Event):
    """Contacts of ``case`` were confirmed, dismissed or put back to candidate: ``decision`` is the new status
    of every contact in ``contacts`` (the whole selection, including contacts whose status did not change)."""

    case: Case
    contacts: Sequence[Contact]
    decision: str
