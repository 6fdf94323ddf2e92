"""Quarantine plans: stages, scheduled tests, extensions and the release rule (no Django).

A plan is data (the ``control.quarantine_plans`` section of a pathogen profile, then rows edited by
administrators), for example the default close-contact plan of the COVID-19 profile: 7 days of centralised
isolation, then 3 days of home health monitoring, PCR on isolation days 1, 2, 3, 5, 7 and monitoring day 3.

Counting: day 1 of a plan is the day the person is placed (isolation starts); stage ``k`` follows stage ``k - 1``
without a gap. An extension of ``n`` days lengthens the last stage by ``n`` days and adds a test on the new last
day. Release is allowed from the plan's last day on, once every scheduled test has a negative result; otherwise
:func:`release_problems` lists every reason (too early, a test missing, pending, invalid or positive).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

StageKind = Literal["centralized", "home_quarantine", "home_monitoring"]
AppliesTo = Literal["close", "secondary"]
TestStatus = Literal["negative", "positive", "invalid", "pending"]

STAGE_KINDS: tuple[StageKind, ...] = ("centralized", "home_quarantine", "home_monitoring")
APPLIES_TO: tuple[AppliesTo, ...] = ("close", "secondary")
MAX_DAYS = 60


class PlanError(ValueError):
    """A plan that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Stage:
    kind: StageKind
    days: int


@dataclass(frozen=True)
class SampleDay:
    """A test on ``day`` (1-based) of stage ``stage`` (1-based)."""

    stage: int
    day: int

    @property
    def key(self) -> str:
        return f"s{self.stage}d{self.day}"


@dataclass(frozen=True)
class Plan:
    code: str
    applies_to: AppliesTo
    name: str
    name_zh: str
    stages: tuple[Stage, ...]
    tests: tuple[SampleDay, ...]
    transfer_within_hours: float
    source: str = ""

    @property
    def total_days(self) -> int:
        return sum(s.days for s in self.stages)

    @property
    def centralized(self) -> bool:
        """Whether the plan starts in a centralised isolation site (else at home)."""
        return self.stages[0].kind == "centralized"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "applies_to": self.applies_to,
            "name": self.name,
            "name_zh": self.name_zh,
            "stages": [{"kind": s.kind, "days": s.days} for s in self.stages],
            "tests": [{"stage": t.stage, "day": t.day} for t in self.tests],
            "transfer_within_hours": self.transfer_within_hours,
            "source": self.source,
        }


def _whole(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        return None
    return int(value)


def parse_plan(doc: Mapping[str, Any]) -> Plan:
    """A plan from its dictionary form, refusing it with every problem named."""
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        raise PlanError("a plan must be an object")
    code = str(doc.get("code") or "").strip()
    if not code:
        problems.append("code: required")
    applies_to = doc.get("applies_to")
    if applies_to not in APPLIES_TO:
        problems.append(f"applies_to: one of {', '.join(APPLIES_TO)}, got {applies_to!r}")
    raw_stages = doc.get("stages")
    stages: list[Stage] = []
    if not isinstance(raw_stages, Sequence) or isinstance(raw_stages, str) or not raw_stages:
        problems.append("stages: at least one stage is required")
        raw_stages = []
    for i, s in enumerate(raw_stages, start=1):
        if not isinstance(s, Mapping):
            problems.append(f"stage {i}: must be an object with kind and days")
            continue
        kind, days = s.get("kind"), _whole(s.get("days"))
        if kind not in STAGE_KINDS:
            problems.append(f"stage {i}: kind must be one of {', '.join(STAGE_KINDS)}, got {kind!r}")
        if days is None or not 1 <= days <= MAX_DAYS:
            problems.append(
                f"stage {i}: days must be a whole number from 1 to {MAX_DAYS}, got {s.get('days')!r}"
            )
        if kind in STAGE_KINDS and days is not None and 1 <= days <= MAX_DAYS:
            stages.append(Stage(kind, days))  # type: ignore[arg-type]
    if stages and any(s.kind == "centralized" for s in stages[1:]):
        problems.append("stages: centralised isolation can only be the first stage")
    raw_tests = doc.get("tests", [])
    tests: list[SampleDay] = []
    if not isinstance(raw_tests, Sequence) or isinstance(raw_tests, str):
        problems.append("tests: must be a list of {stage, day}")
        raw_tests = []
    for t in raw_tests:
        stage, day = (
            (_whole(t.get("stage")), _whole(t.get("day"))) if isinstance(t, Mapping) else (None, None)
        )
        if stage is None or day is None or not 1 <= stage <= len(raw_stages):
            problems.append(f"test {t!r}: stage must name one of the plan's stages (1 to {len(raw_stages)})")
            continue
        if len(stages) == len(raw_stages) and not 1 <= day <= stages[stage - 1].days:
            problems.append(f"test {t!r}: day must lie in stage {stage} (1 to {stages[stage - 1].days})")
            continue
        tests.append(SampleDay(stage, day))
    if len({t.key for t in tests}) != len(tests):
        problems.append("tests: the same stage and day is listed twice")
    hours = doc.get("transfer_within_hours")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 240:
        problems.append(f"transfer_within_hours: a number of hours above 0 and at most 240, got {hours!r}")
        hours = 0
    if problems:
        raise PlanError(problems)
    return Plan(
        code=code,
        applies_to=applies_to,  # type: ignore[arg-type]
        name=str(doc.get("name") or code),
        name_zh=str(doc.get("name_zh") or doc.get("name") or code),
        stages=tuple(stages),
        tests=tuple(sorted(tests, key=lambda t: (t.stage, t.day))),
        transfer_within_hours=float(hours),
        source=str(doc.get("source") or ""),
    )


def default_plans(profile_id: str) -> list[Plan]:
    """The plans of a built-in pathogen profile (``control.quarantine_plans`` in its JSON file)."""
    folder = resources.files("cordon.engine.sim") / "profiles"
    path = folder / f"{profile_id}.json"
    if not path.is_file():
        raise PlanError(f"unknown pathogen profile {profile_id!r}")
    doc = json.loads(path.read_text(encoding="utf-8"))
    raw = (doc.get("control") or {}).get("quarantine_plans")
    if not isinstance(raw, list) or not raw:
        raise PlanError(f"profile {profile_id}: no control.quarantine_plans")
    plans = [parse_plan(p) for p in raw]
    if len({p.code for p in plans}) != len(plans):
        raise PlanError(f"profile {profile_id}: two plans share a code")
    return plans


@dataclass(frozen=True)
class StageSpan:
    index: int  # 1-based
    kind: StageKind
    first: dt.date
    last: dt.date


@dataclass(frozen=True)
class ScheduledTest:
    key: str
    stage: int
    day: int
    on: dt.date
    extension: bool = False


@dataclass(frozen=True)
class Schedule:
    start: dt.date
    stages: tuple[StageSpan, ...]
    tests: tuple[ScheduledTest, ...]

    @property
    def last_day(self) -> dt.date:
        return self.stages[-1].last

    def stage_on(self, day: dt.date) -> StageSpan | None:
        for span in self.stages:
            if span.first <= day <= span.last:
                return span
        return None

    def day_number(self, day: dt.date) -> int:
        """Day 1 is the start date."""
        return (day - self.start).days + 1


def schedule(plan: Plan, start: dt.date, extension_days: int = 0) -> Schedule:
    """The stages and tests of ``plan`` placed from ``start`` (day 1), lengthened by ``extension_days``."""
    if extension_days < 0:
        raise PlanError("an extension cannot be negative")
    spans: list[StageSpan] = []
    first = start
    for i, s in enumerate(plan.stages, start=1):
        days = s.days + (extension_days if i == len(plan.stages) else 0)
        spans.append(StageSpan(i, s.kind, first, first + dt.timedelta(days=days - 1)))
        first += dt.timedelta(days=days)
    tests = [
        ScheduledTest(t.key, t.stage, t.day, spans[t.stage - 1].first + dt.timedelta(days=t.day - 1))
        for t in plan.tests
    ]
    if extension_days:
        last = spans[-1]
        day = (last.last - last.first).days + 1
        key = SampleDay(last.index, day).key
        if all(t.key != key for t in tests):
            tests.append(ScheduledTest(key, last.index, day, last.last, extension=True))
    return Schedule(start, tuple(spans), tuple(sorted(tests, key=lambda t: (t.on, t.key))))


@dataclass(frozen=True)
class Problem:
    """Why a release is refused: ``too_early`` (with the first allowed day), or a test that is ``missing``,
    ``pending``, ``invalid`` or ``positive``."""

    code: Literal["too_early", "missing", "pending", "invalid", "positive"]
    on: dt.date
    test: str = ""


def release_problems(sched: Schedule, today: dt.date, results: Mapping[str, TestStatus]) -> list[Problem]:
    """Every reason the person cannot be released on ``today``; empty when they can."""
    out: list[Problem] = []
    if today < sched.last_day:
        out.append(Problem("too_early", sched.last_day))
    for t in sched.tests:
        status = results.get(t.key)
        if status is None:
            out.append(Problem("missing", t.on, t.key))
        elif status != "negative":
            out.append(Problem(status, t.on, t.key))
    return out


__all__ = [
    "APPLIES_TO",
    "STAGE_KINDS",
    "AppliesTo",
    "Plan",
    "PlanError",
    "Problem",
    "SampleDay",
    "Schedule",
    "ScheduledTest",
    "Stage",
    "StageKind",
    "StageSpan",
    "TestStatus",
    "default_plans",
    "parse_plan",
    "release_problems",
    "schedule",
]
