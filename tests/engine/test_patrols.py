"""Patrol plans: due times and missed patrols against a minute-by-minute reference (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cordon.engine import patrols

DAY = dt.date(2026, 3, 10)


def _plan(times: list[dt.time], every: int | None, tol: int, days: int | None) -> patrols.Plan:
    return patrols.Plan(
        times=tuple(times),
        every_hours=None if times else every,
        tolerance=dt.timedelta(minutes=tol),
        active_from=DAY,
        active_to=None if days is None else DAY + dt.timedelta(days=days),
    )


def _reference(
    plan: patrols.Plan, done: list[dt.datetime], start: dt.datetime, now: dt.datetime
) -> list[dt.datetime]:
    """Walk every minute from start to now: a minute is a due time when its day is active and its time of day is
    planned; it is missed when its whole window has passed and holds no patrol."""
    wanted = {t.hour * 60 + t.minute for t in plan.times} or (
        {h * 60 for h in range(0, 24, plan.every_hours)} if plan.every_hours else set()
    )
    out, at = [], start.replace(second=0, microsecond=0)
    if at < start:
        at += dt.timedelta(minutes=1)
    while at < now:
        active = at.date() >= plan.active_from and (plan.active_to is None or at.date() <= plan.active_to)
        due = active and at.hour * 60 + at.minute in wanted and at + plan.tolerance < now
        if due and not any(at - plan.tolerance <= d <= at + plan.tolerance for d in done):
            out.append(at)
        at += dt.timedelta(minutes=1)
    return out


minutes = st.integers(min_value=0, max_value=3 * 24 * 60 - 1)


@settings(max_examples=60, deadline=None)
@given(
    times=st.lists(
        st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])), max_size=4, unique=True
    ),
    every=st.integers(1, 24),
    tol=st.integers(5, 120),
    days=st.one_of(st.none(), st.integers(0, 2)),
    done=st.lists(minutes, max_size=8),
    start=minutes,
    span=st.integers(1, 24 * 60),
)
def test_missed_matches_the_reference(
    times: list[dt.time], every: int, tol: int, days: int | None, done: list[int], start: int, span: int
) -> None:
    plan = _plan(times, every, tol, days)
    origin = dt.datetime.combine(DAY, dt.time())
    patrols_at = [origin + dt.timedelta(minutes=m) for m in done]
    begin = origin + dt.timedelta(minutes=start)
    now = begin + dt.timedelta(minutes=span)
    assert patrols.missed(plan, patrols_at, begin, now) == _reference(plan, patrols_at, begin, now)


def test_parse_times() -> None:
    assert patrols.parse_times("20:00，8:00, 08:00") == [dt.time(8), dt.time(20)]
    assert patrols.parse_times(["07:30"]) == [dt.time(7, 30)]
    assert patrols.parse_times("") == []
    with pytest.raises(ValueError, match="24:00"):
        patrols.parse_times("08:00,24:00")


def test_every_n_hours_from_midnight() -> None:
    plan = _plan([], 8, 30, None)
    due = patrols.due_times(
        plan, dt.datetime.combine(DAY, dt.time()), dt.datetime.combine(DAY, dt.time(23, 59))
    )
    assert [d.hour for d in due] == [0, 8, 16]
