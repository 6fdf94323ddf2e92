"""What the tracing engine takes and the names it gives: contact types and degrees, case windows, typed-in
visits, the register, the rules, and the exposure window (see the package docstring for the rules)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I16 = npt.NDArray[np.int16]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


# Strongest first: the index is the rank used to pick a pair's finding.
CONTACT_TYPES = (
    "household",
    "work_unit",
    "venue",
    "trajectory",
    "secondary_household",
    "secondary_work_unit",
    "risk_venue",
)
HOUSEHOLD, WORK_UNIT, VENUE, TRAJECTORY, SEC_HOUSEHOLD, SEC_WORK_UNIT, RISK_VENUE = range(7)
DEGREE_OF_TYPE = np.array([1, 1, 1, 1, 2, 2, 0], np.int8)


@dataclass(frozen=True)
class CaseWindow:
    case_id: int
    person_id: int
    start: int
    end: int


@dataclass(frozen=True)
class Visit:
    """A trajectory entry typed in by an investigator: the case was at this venue (no scan)."""

    case_id: int
    venue_id: int
    subarea: int
    t_in: int
    t_out: int


@dataclass(frozen=True)
class Register:
    """Households and units (work unit or school class) of persons; -1 = none."""

    person_id: I64
    household_id: I64
    unit_id: I64


@dataclass(frozen=True)
class Rules:
    margin_minutes: int = 0
    hub_venues: frozenset[int] = frozenset()
    hub_min_overlap_minutes: int = 15
    min_overlap_minutes: int = 0
    secondary: bool = True


def exposure_window(
    *,
    onset: dt.datetime | None,
    first_positive_sample: dt.datetime | None,
    isolated_at: dt.datetime | None,
    days_before: int,
    now: dt.datetime,
) -> tuple[dt.datetime, dt.datetime]:
    """From ``days_before`` days before onset (or the first positive sample without onset) until isolation
    (or ``now``)."""
    anchor = onset if onset is not None else first_positive_sample
    if anchor is None:
        raise ValueError("an exposure window needs an onset or a first positive sample")
    if days_before < 0:
        raise ValueError("days_before cannot be negative")
    start = anchor - dt.timedelta(days=days_before)
    end = isolated_at if isolated_at is not None else now
    return start, max(start, end)
