"""Quarantine plans: parsing with every problem named, schedules and the release rule against plain
references (hypothesis), and the default plans of the built-in profiles."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cordon.engine.quarantine import (
    Plan,
    PlanError,
    SampleDay,
    Stage,
    default_plans,
    parse_plan,
    release_problems,
    schedule,
)
from cordon.engine.sim import available_profiles

START = dt.date(2026, 12, 1)


def test_default_close_contact_plan_is_the_protocol() -> None:
    close, secondary = default_plans("covid19-omicron")
    assert close.applies_to == "close" and close.centralized
    assert [(s.kind, s.days) for s in close.stages] == [("centralized", 7), ("home_monitoring", 3)]
    sched = schedule(close, START)
    # PCR on isolation days 1, 2, 3, 5, 7 and monitoring day 3 (plan day 10).
    assert [sched.day_number(t.on) for t in sched.tests] == [1, 2, 3, 5, 7, 10]
    assert sched.last_day == START + dt.timedelta(days=9)
    assert sched.stage_on(START + dt.timedelta(days=6)).kind == "centralized"  # type: ignore[union-attr]
    assert sched.stage_on(START + dt.timedelta(days=7)).kind == "home_monitoring"  # type: ignore[union-attr]
    assert sched.stage_on(START + dt.timedelta(days=10)) is None
    assert close.transfer_within_hours == 8
    assert secondary.applies_to == "secondary" and not secondary.centralized
    assert [sched.day_number(t.on) for t in schedule(secondary, START).tests] == [1, 4, 7]
    assert secondary.transfer_within_hours == 12


@pytest.mark.parametrize("profile", available_profiles())
def test_every_built_in_profile_has_plans_for_both_degrees(profile: str) -> None:
    plans = default_plans(profile)
    assert {p.applies_to for p in plans} == {"close", "secondary"}
    assert all(p.source for p in plans)
    for p in plans:
        assert parse_plan(p.to_dict()) == p


def test_bad_plans_are_refused_with_every_problem() -> None:
    with pytest.raises(PlanError) as err:
        parse_plan(
            {
                "code": "",
                "applies_to": "cousin",
                "stages": [{"kind": "centralized", "days": 0}, {"kind": "moon", "days": 3}],
                "tests": [{"stage": 3, "day": 1}],
                "transfer_within_hours": -1,
            }
        )
    text = " ".join(err.value.problems)
    for part in ("code", "applies_to", "stage 1", "stage 2", "test", "transfer_within_hours"):
        assert part in text
    with pytest.raises(PlanError, match="first stage"):
        parse_plan(
            {
                "code": "x",
                "applies_to": "close",
                "stages": [{"kind": "home_quarantine", "days": 2}, {"kind": "centralized", "days": 2}],
                "transfer_within_hours": 8,
            }
        )
    with pytest.raises(PlanError, match="day must lie"):
        parse_plan(
            {
                "code": "x",
                "applies_to": "close",
                "stages": [{"kind": "centralized", "days": 2}],
                "tests": [{"stage": 1, "day": 3}],
                "transfer_within_hours": 8,
            }
        )
    with pytest.raises(PlanError, match="unknown pathogen profile"):
        default_plans("no-such-profile")


@st.composite
def plans(draw: Any) -> Plan:
    n = draw(st.integers(1, 3))
    kinds = ["centralized"] * draw(st.integers(0, 1)) + [
        draw(st.sampled_from(["home_quarantine", "home_monitoring"])) for _ in range(n)
    ]
    stages = tuple(Stage(k, draw(st.integers(1, 10))) for k in kinds)  # type: ignore[arg-type]
    tests = sorted(
        {
            SampleDay(i, draw(st.integers(1, s.days)))
            for i, s in enumerate(stages, start=1)
            for _ in range(draw(st.integers(0, 3)))
        },
        key=lambda t: (t.stage, t.day),
    )
    return Plan("p", "close", "p", "p", stages, tuple(tests), 8.0)


@given(plans(), st.integers(0, 5), st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)))
def test_schedule_matches_a_day_by_day_reference(plan: Plan, extension: int, start: dt.date) -> None:
    sched = schedule(plan, start, extension)
    # Reference: walk the days one by one.
    days: list[tuple[int, int]] = []  # (stage, day in stage) for plan day 1, 2, ...
    for i, s in enumerate(plan.stages, start=1):
        length = s.days + (extension if i == len(plan.stages) else 0)
        days += [(i, d) for d in range(1, length + 1)]
    assert sched.last_day == start + dt.timedelta(days=len(days) - 1)
    for n, (stage, _day) in enumerate(days):
        span = sched.stage_on(start + dt.timedelta(days=n))
        assert span is not None and span.index == stage
    expected = {(t.stage, t.day): start + dt.timedelta(days=days.index((t.stage, t.day))) for t in plan.tests}
    if extension:
        expected.setdefault(days[-1], sched.last_day)
    assert {(t.stage, t.day): t.on for t in sched.tests} == expected
    assert [t.on for t in sched.tests] == sorted(t.on for t in sched.tests)


@given(
    plans(),
    st.integers(0, 3),
    st.integers(-2, 20),
    st.lists(st.sampled_from(["negative", "positive", "invalid", "pending", None]), max_size=12),
)
def test_release_needs_the_last_day_and_every_test_negative(
    plan: Plan, extension: int, day: int, statuses: list[Any]
) -> None:
    sched = schedule(plan, START, extension)
    results = {t.key: s for t, s in zip(sched.tests, statuses, strict=False) if s is not None}
    today = START + dt.timedelta(days=day)
    problems = release_problems(sched, today, results)
    allowed = today >= sched.last_day and all(results.get(t.key) == "negative" for t in sched.tests)
    assert (not problems) == allowed
    assert {p.test for p in problems if p.test} == {
        t.key for t in sched.tests if results.get(t.key) != "negative"
    }
