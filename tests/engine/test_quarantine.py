"""Quarantine plans: parsing with every problem named, schedules and the release rule against plain
references (hypothesis), and the default plans of the built-in profiles."""

from __future__ import annotations

import datetime as dt
import json
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


def _plan_doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "code": "close-7-3",
        "applies_to": "close",
        "name": "Close contacts",
        "stages": [{"kind": "centralized", "days": 7}, {"kind": "home_monitoring", "days": 3}],
        "tests": [{"stage": 1, "day": 1}, {"stage": 2, "day": 3}],
        "transfer_within_hours": 8,
    }
    return doc | changes


STAGE_DAYS = [(1, True), (60, True), (30.0, True), (0, False), (61, False), (-1, False), (2.5, False), (True, False),
              ("7", False), (None, False)]  # fmt: skip


@pytest.mark.parametrize(("days", "ok"), STAGE_DAYS)
def test_stage_length_from_one_to_sixty_whole_days(days: Any, ok: bool) -> None:
    doc = _plan_doc(stages=[{"kind": "home_quarantine", "days": days}], tests=[])
    if ok:
        assert parse_plan(doc).stages == (Stage("home_quarantine", int(days)),)
        assert parse_plan(doc).total_days == days
    else:
        with pytest.raises(PlanError, match="stage 1: days must be a whole number from 1 to 60"):
            parse_plan(doc)


@pytest.mark.parametrize(("hours", "ok"), [(240, True), (0.5, True), (8, True), (240.5, False), (0, False),
                                           (-8, False), (True, False), ("8", False), (None, False)])  # fmt: skip
def test_transfer_within_more_than_zero_and_at_most_240_hours(hours: Any, ok: bool) -> None:
    doc = _plan_doc(transfer_within_hours=hours)
    if ok:
        plan = parse_plan(doc)
        assert plan.transfer_within_hours == hours and isinstance(plan.transfer_within_hours, float)
    else:
        with pytest.raises(
            PlanError, match="transfer_within_hours: a number of hours above 0 and at most 240"
        ):
            parse_plan(doc)


@pytest.mark.parametrize(
    ("test", "problem"),
    [
        ({"stage": 0, "day": 1}, "stage must name one of the plan's stages (1 to 2)"),
        ({"stage": 3, "day": 1}, "stage must name one of the plan's stages (1 to 2)"),
        ({"stage": 1.5, "day": 1}, "stage must name"),
        ({"stage": 1}, "stage must name"),
        ("s1d1", "stage must name"),
        ({"stage": 1, "day": 0}, "day must lie in stage 1 (1 to 7)"),
        ({"stage": 1, "day": 8}, "day must lie in stage 1 (1 to 7)"),
        ({"stage": 2, "day": 4}, "day must lie in stage 2 (1 to 3)"),
    ],
)
def test_a_test_day_must_lie_in_a_stage(test: Any, problem: str) -> None:
    with pytest.raises(PlanError) as err:
        parse_plan(_plan_doc(tests=[test]))
    assert len(err.value.problems) == 1 and problem in err.value.problems[0]
    # The first and last day of each stage are fine.
    plan = parse_plan(
        _plan_doc(tests=[{"stage": 2, "day": 3}, {"stage": 1, "day": 7}, {"stage": 1, "day": 1}])
    )
    assert [t.key for t in plan.tests] == ["s1d1", "s1d7", "s2d3"]  # sorted by stage and day


def test_parsing_details() -> None:
    with pytest.raises(PlanError, match="listed twice"):
        parse_plan(_plan_doc(tests=[{"stage": 1, "day": 2}, {"stage": 1, "day": 2}]))
    with pytest.raises(PlanError, match="a plan must be an object"):
        parse_plan(["not", "a", "plan"])  # type: ignore[arg-type]
    for stages in ([], "centralized", None):
        with pytest.raises(PlanError, match="at least one stage"):
            parse_plan(_plan_doc(stages=stages, tests=[]))
    with pytest.raises(PlanError, match="stage 2: must be an object"):
        parse_plan(_plan_doc(stages=[{"kind": "centralized", "days": 2}, 3], tests=[]))
    with pytest.raises(PlanError, match="tests: must be a list"):
        parse_plan(_plan_doc(tests="s1d1"))
    # A test in a stage whose own length is wrong is not checked against it (that stage is already refused).
    with pytest.raises(PlanError) as err:
        parse_plan(_plan_doc(stages=[{"kind": "centralized", "days": 0}], tests=[{"stage": 1, "day": 3}]))
    assert len(err.value.problems) == 1
    # Names fall back: name_zh to name, name to code; missing tests are no tests; the code is trimmed.
    plan = parse_plan({k: v for k, v in _plan_doc(code=" c1 ").items() if k not in ("name", "tests")})
    assert (plan.code, plan.name, plan.name_zh, plan.tests, plan.source) == ("c1", "c1", "c1", (), "")
    plan = parse_plan(_plan_doc(name_zh="密接", source="protocol 9"))
    assert (plan.name, plan.name_zh, plan.source) == ("Close contacts", "密接", "protocol 9")
    assert not parse_plan(_plan_doc(stages=[{"kind": "home_quarantine", "days": 3}], tests=[])).centralized


@pytest.mark.parametrize("extension", [-1, -7])
def test_a_negative_extension_is_refused(extension: int) -> None:
    plan = parse_plan(_plan_doc())
    with pytest.raises(PlanError, match="an extension cannot be negative"):
        schedule(plan, START, extension)


def test_an_extension_lengthens_the_last_stage_and_tests_its_new_last_day() -> None:
    plan = parse_plan(_plan_doc())
    sched = schedule(plan, START, 2)
    assert sched.last_day == START + dt.timedelta(days=11)
    assert [(s.first, s.last) for s in sched.stages] == [
        (START, START + dt.timedelta(days=6)),
        (START + dt.timedelta(days=7), START + dt.timedelta(days=11)),
    ]
    extra = [t for t in sched.tests if t.extension]
    assert [(t.key, t.on) for t in extra] == [("s2d5", sched.last_day)]
    assert [t.key for t in schedule(plan, START).tests] == ["s1d1", "s2d3"]  # no extension, no extra test
    # The stage's last day already tested: no second test that day.
    tested = parse_plan(_plan_doc(tests=[{"stage": 2, "day": 3}]))
    assert [t.key for t in schedule(tested, START, 0).tests] == ["s2d3"]
    assert not any(t.extension for t in schedule(tested, START, 0).tests)
    assert sched.day_number(START) == 1 and sched.day_number(sched.last_day) == 12
    assert sched.stage_on(START - dt.timedelta(days=1)) is None


def test_release_problems_name_each_reason_with_its_day() -> None:
    sched = schedule(parse_plan(_plan_doc()), START)
    first, last = sched.tests
    problems = release_problems(sched, START + dt.timedelta(days=3), {first.key: "positive"})
    assert [(p.code, p.on, p.test) for p in problems] == [
        ("too_early", sched.last_day, ""),
        ("positive", first.on, first.key),
        ("missing", last.on, last.key),
    ]
    assert release_problems(sched, sched.last_day, {first.key: "negative", last.key: "negative"}) == []
    late = release_problems(
        sched, sched.last_day + dt.timedelta(days=5), {first.key: "invalid", last.key: "pending"}
    )
    assert [p.code for p in late] == ["invalid", "pending"]


def test_default_plans_refuse_unknown_or_broken_profiles(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cordon.engine.quarantine as quarantine

    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "no-plans.json").write_text('{"control": {}}', encoding="utf-8")
    (profiles / "twice.json").write_text(
        json.dumps({"control": {"quarantine_plans": [_plan_doc(), _plan_doc()]}}), encoding="utf-8"
    )

    class Folder:
        def __truediv__(self, name: str) -> Any:
            return profiles

    monkeypatch.setattr(quarantine.resources, "files", lambda _package: Folder())
    with pytest.raises(PlanError, match=r"no control\.quarantine_plans"):
        default_plans("no-plans")
    with pytest.raises(PlanError, match="two plans share a code"):
        default_plans("twice")
    with pytest.raises(PlanError, match="unknown pathogen profile"):
        default_plans("missing")
