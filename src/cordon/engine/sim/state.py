"""What interventions see of a running outbreak: the narrow, typed :class:`Outbreak` protocol that
:class:`~.interventions.View` and :class:`~.interventions.Controls` work through, and the records they pass back
(:class:`Report`, :class:`CaseList`).

Both the intervention protocol (:mod:`.interventions`) and the simulation (:mod:`.outbreak`) depend on this module
and not on each other's classes: the simulation hands itself to a View as an ``Outbreak``, and mypy checks that
it is one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from cordon.engine.sim.city import City
from cordon.engine.sim.profile import PathogenProfile

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

FOUND_BY = ("fever_clinic", "screening", "quarantine", "seed")


@dataclass(frozen=True, slots=True)
class Report:
    day: int
    intervention: str
    action: str
    persons: int = 0
    venues: int = 0
    buildings: int = 0
    tests: int = 0
    positives: int = 0
    note: str = ""


@dataclass(frozen=True, slots=True)
class CaseList:
    """Cases reported (sampled positive) so far: persons, sampling day and how they were found."""

    person: I64
    sampled: I64
    reported: I64
    found_by: npt.NDArray[np.int8]  # index into FOUND_BY
    under_control: B

    def reported_on(self, day: int) -> I64:
        out: I64 = self.person[self.reported == day]
        return out


class Outbreak(Protocol):
    """A running outbreak as the intervention protocol reads and changes it. The arrays are per person (or per
    venue or building) and are changed in place by the controls."""

    @property
    def day(self) -> int: ...

    @property
    def city(self) -> City: ...

    @property
    def start_date(self) -> dt.date: ...

    @property
    def profile(self) -> PathogenProfile: ...

    @property
    def rng(self) -> np.random.Generator: ...

    @property
    def isolated_until(self) -> I32: ...

    @property
    def centralized(self) -> B: ...

    @property
    def venue_closed_until(self) -> I32: ...

    @property
    def building_locked_until(self) -> I32: ...

    @property
    def case_day(self) -> I32: ...

    @property
    def reports(self) -> list[Report]: ...

    def case_list(self) -> CaseList: ...

    def reported_on(self, day: int) -> I64: ...

    def area_mask(self, jurisdictions: I64) -> B: ...

    def areas_at(self, level: int) -> tuple[I64, I64, I64]: ...

    def restrict_today(self, share: npt.NDArray[np.float64]) -> None: ...

    def is_case(self, persons: I64) -> B: ...

    def detectable(self, persons: I64) -> B: ...

    def add_cases(self, persons: I64, found_by: str) -> None: ...
