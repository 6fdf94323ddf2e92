"""Patrol plans of duty posts: when a patrol is due, and which due patrols were missed.

A plan names either times of day (``["08:00", "20:00"]``) or an interval (every N hours from midnight), and a
tolerance. A patrol due at T is **missed** when T + tolerance has passed and no patrol was recorded at the post
within T ± tolerance. Plain values in and out: local naive datetimes (the city's wall clock), no Django.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class Plan:
    times: tuple[dt.time, ...]  # times of day; empty when ``every_hours`` is used
    every_hours: int | None
    tolerance: dt.timedelta
    active_from: dt.date
    active_to: dt.date | None  # last day, inclusive; None: open-ended


def parse_times(text: str | Sequence[str]) -> list[dt.time]:
    """``"08:00, 20:00"`` (or a list of such) as sorted distinct times; ``ValueError`` naming the first bad one."""
    parts = text.replace("，", ",").replace(" ", ",").split(",") if isinstance(text, str) else list(text)
    out = set()
    for part in (p.strip() for p in parts):
        if not part:
            continue
        m = _TIME.fullmatch(part)
        if m is None:
            raise ValueError(part)
        out.add(dt.time(int(m.group(1)), int(m.group(2))))
    return sorted(out)


def times_of_day(plan: Plan) -> list[dt.time]:
    if plan.times:
        return sorted(plan.times)
    step = plan.every_hours or 0
    if step <= 0:
        return []
    return [dt.time(h) for h in range(0, 24, step)]


def due_times(plan: Plan, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Every due time of the plan in ``[start, end)`` (local naive datetimes), on the plan's active days."""
    out = []
    day = max(start.date(), plan.active_from)
    last = end.date() if plan.active_to is None else min(end.date(), plan.active_to)
    times = times_of_day(plan)
    while day <= last:
        for t in times:
            at = dt.datetime.combine(day, t)
            if start <= at < end:
                out.append(at)
        day += dt.timedelta(days=1)
    return out


def missed(
    plan: Plan, patrols: Iterable[dt.datetime], start: dt.datetime, now: dt.datetime
) -> list[dt.datetime]:
    """The due times of ``plan`` from ``start`` whose window (due ± tolerance) has closed by ``now`` with no
    patrol in it."""
    done = sorted(patrols)
    out = []
    for due in due_times(plan, start, now - plan.tolerance):
        lo, hi = due - plan.tolerance, due + plan.tolerance
        if not any(lo <= at <= hi for at in done):
            out.append(due)
    return out
