"""The situation analysis a commander reads first: the epidemic curve, Rt, the nowcast, the growth rate, the share
of cases with a known source, the fastest-growing clusters and the areas whose figures moved most since
yesterday. Read from the cases the user may see (``tracing.selectors.cases_visible_to``, which starts from
``Scope.of(user)``), computed by ``cordon.engine.rt`` and ``cordon.engine.growth``. The page and the API show
the one dictionary :func:`analysis` returns, so they cannot disagree.

- The areas: the user's own node and, under it, each node one level down (a city user: the city and each
  district; a district user: the district and its streets). An area outside the user's subtree is ``NotFound``.
- The date basis: ``onset`` (the report date where the onset is missing), ``sampling`` (the first positive
  sample) or ``report``. Days are local dates; the curve covers at most ``HISTORY_DAYS`` days up to today.
- Rt (Cori, EpiEstim's parametric serial interval) on the curve's daily counts, the local cases in the
  numerator and the imported ones (``Case.imported``, 输入病例) as sources only (EpiEstim's ``incid`` with local
  and imported columns: the infectiousness sums both), the serial interval that of the pathogen profile
  ``CORDON_PATHOGEN_PROFILE`` (``engine.rt.profile_interval``).
- Rt on the nowcast: by onset or sampling date the last days are still incomplete, so the last days' Rt on the
  counts as reported leans low. For those bases the area's Rt is also computed on the nowcast-corrected local
  incidence: over the nowcast's days, each day's local count is replaced by the median of its nowcast (a nowcast
  of the local cases alone; imported cases stay as reported), days whose cases are too few to be in yet (less
  than 5 %, e.g. today) get no estimate, and a day with no local case reported yet stays at zero (there the
  median would come from the nowcast's flat prior, not from the data). That series is the default shown
  (``rt.on``: ``nowcast``); the one on the counts as reported is ``rt.reported``; without a complete cohort
  (no delay distribution yet) only the as-reported one is given. By report date there is no delay to correct
  (it lags the infections by the reporting delay instead) and only the as-reported Rt is given. The areas one
  level down keep the as-reported Rt. See docs/rt-validation.md.
- The nowcast: incidence by the basis' event day (onset when the basis is the report date, which has no delay)
  corrected for the reporting delay estimated from the cases themselves, with its 90 % band.
- Growth: a log-linear fit of the cases reported on the last 7 and 14 complete days (up to yesterday).
- A known source: the case was found under control (a known contact) or belongs to a cluster.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone, translation

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction
from cordon.apps.tracing import selectors as tracing
from cordon.core.actors import Actor
from cordon.engine import growth as growth_engine
from cordon.engine import rt
from cordon.engine.sim.profile import load_profile

from .. import figures
from ..figures import areas_for

BASES = ("onset", "sampling", "report")
HISTORY_DAYS = 120
NOWCAST_DAYS = 14
GROWTH_WINDOWS = (7, 14)
CLUSTER_DAYS = 7
TOP = 5
MAX_DELAY = 21
KNOWN_SOURCE_DAYS = 14


@dataclass(frozen=True, slots=True)
class _Case:
    onset: dt.date  # the report date where the onset is missing
    sampling: dt.date
    report: dt.date
    control: bool  # found under control
    cluster: tuple[int, str, str] | None  # id, code, name
    path: str  # the case's jurisdiction
    imported: bool = False  # an imported case: a source of infection, not an infection for Rt

    def day(self, basis: str) -> dt.date:
        value: dt.date = getattr(self, basis)
        return value


@cache
def serial_interval() -> tuple[str, float, float]:
    """The profile named by ``CORDON_PATHOGEN_PROFILE`` and its serial interval's mean and sd (days)."""
    name = settings.CORDON_PATHOGEN_PROFILE
    mean, sd = rt.profile_interval(load_profile(name))
    return name, mean, sd


def _num(x: float) -> float | None:
    """A figure for JSON: ``None`` for NaN (no estimate) and infinity (unbounded)."""
    return None if not math.isfinite(x) else round(float(x), 4)


def _series(a: Any) -> list[float | None]:
    return [_num(v) for v in np.asarray(a, np.float64)]


def _read_cases(user: Actor, chosen: Jurisdiction, until: dt.datetime | None = None) -> list[_Case]:
    qs = tracing.cases_visible_to(user).filter(jurisdiction__path__startswith=chosen.path)
    if until is not None:
        qs = qs.filter(reported_at__lt=until)
    rows = (
        qs
        .values_list(
            "onset_date", "sampled_at", "reported_at", "control", "cluster_id", "cluster__code", "cluster__name",
            "jurisdiction__path", "imported",
        )
    )  # fmt: skip
    cases = []
    for onset, sampled, reported, where, cluster, ccode, cname, path, imported in rows:
        rep = timezone.localtime(reported).date()
        cases.append(
            _Case(
                onset=min(onset, rep) if onset is not None else rep,
                sampling=min(timezone.localtime(sampled).date(), rep),
                report=rep,
                control=where != "community",
                cluster=(cluster, ccode, cname) if cluster else None,
                path=path,
                imported=imported,
            )
        )
    return cases


@dataclass
class _Counts:
    community: Any  # per day of the curve, by the basis
    control: Any
    by_area: Any  # areas below x days, by the basis
    reported_by_area: Any  # areas below x days, by the report date
    reported: Any  # per day, by the report date
    imported: Any  # imported cases per day of the curve, by the basis (also in community / control)
    imported_by_area: Any  # areas below x days, by the basis


def _count(cases: list[_Case], basis: str, first: dt.date, n: int, below: list[Jurisdiction]) -> _Counts:
    out = _Counts(
        np.zeros(n), np.zeros(n), np.zeros((len(below), n)), np.zeros((len(below), n)), np.zeros(n),
        np.zeros(n), np.zeros((len(below), n)),
    )  # fmt: skip
    area_of = {a.path: i for i, a in enumerate(below)}
    for c in cases:
        i = (c.day(basis) - first).days
        j = next((k for p, k in area_of.items() if c.path.startswith(p)), None)
        if 0 <= i <= n - 1:
            (out.control if c.control else out.community)[i] += 1
            if j is not None:
                out.by_area[j, i] += 1
            if c.imported:
                out.imported[i] += 1
                if j is not None:
                    out.imported_by_area[j, i] += 1
        r = (c.report - first).days
        if 0 <= r <= n - 1:
            out.reported[r] += 1
            if j is not None:
                out.reported_by_area[j, r] += 1
    return out


def _nowcast(cases: list[_Case], basis: str, first: dt.date, dates: list[str]) -> dict[str, Any]:
    """The nowcast by the event day (onset when the basis is the report date, which has no delay)."""
    event_basis = "onset" if basis == "report" else basis
    n = len(dates)
    ev = np.array([(c.day(event_basis) - first).days for c in cases], np.int64)
    rp = np.array([(c.report - first).days for c in cases], np.int64)
    keep = rp >= 0
    now = rt.nowcast(np.zeros(int(keep.sum()), np.int64), ev[keep], rp[keep], n - 1, 1, max_delay=MAX_DELAY)
    tail = slice(max(0, n - NOWCAST_DAYS), n)
    return {
        "basis": event_basis,
        "dates": dates[tail],
        "reported": [int(v) for v in now.reported[0, tail]],
        "estimate": _series(now.estimate[0, tail]),
        "lower": _series(now.lower[0, tail]),
        "upper": _series(now.upper[0, tail]),
        "completeness": _series(now.completeness[tail]),
    }


def _nowcast_local(cases: list[_Case], basis: str, first: dt.date, local: Any) -> Any | None:
    """The area's local incidence by the basis (onset or sampling) with the nowcast's days replaced by the median
    of the nowcast of the local cases; NaN on days too early for a nowcast (no Rt there). A day with no case
    reported yet stays at zero (its median would be the flat prior's, not the data's: a few cases invented on
    every empty day of a small area). ``None`` when no complete cohort gives a delay distribution."""
    n = len(local)
    mine = [c for c in cases if not c.imported]
    ev = np.array([(c.day(basis) - first).days for c in mine], np.int64)
    rp = np.array([(c.report - first).days for c in mine], np.int64)
    keep = rp >= 0
    if not rt.delay_counts(ev[keep], rp[keep], n - 1, MAX_DELAY).sum():
        return None
    now = rt.nowcast(np.zeros(int(keep.sum()), np.int64), ev[keep], rp[keep], n - 1, 1, max_delay=MAX_DELAY)
    out = np.asarray(local, np.float64).copy()
    tail = slice(max(0, n - NOWCAST_DAYS), n)
    median = now.median[0, tail]
    out[tail] = np.where(now.reported[0, tail] > 0, median, np.where(np.isnan(median), np.nan, 0.0))
    return out


def _on_nowcast(corrected: Any, imported: Any, si_mean: float, si_sd: float) -> rt.RtEstimate:
    """Rt on the corrected local incidence; no estimate for a window holding a day without a nowcast (NaN, at
    the end of the series: the engine gets zeros there, which a matrix product would otherwise turn to NaN
    everywhere)."""
    missing = np.isnan(corrected)
    est = rt.estimate_rt(np.nan_to_num(corrected), imported, si_mean=si_mean, si_sd=si_sd)
    hit = np.convolve(missing.astype(np.float64), np.ones(est.window))[: len(corrected)] > 0
    for arr in (est.shape, est.scale, est.mean, est.sd, est.q025, est.median, est.q975, est.cv):
        arr[:, hit] = np.nan
    est.warning[:, hit] = True
    return est


def _rt_series(estimate: rt.RtEstimate, row: int, dates: list[str]) -> dict[str, Any]:
    """One row's Rt per day and the latest day with an estimate (its date)."""
    known = np.flatnonzero(np.isfinite(estimate.mean[row]))
    last = int(known[-1]) if len(known) else len(dates) - 1
    return {
        "mean": _series(estimate.mean[row]),
        "lower": _series(estimate.q025[row]),
        "upper": _series(estimate.q975[row]),
        "warning": [bool(v) for v in estimate.warning[row]],
        "latest": {**_latest_rt(estimate, row, last), "date": dates[last]},
    }


def _growth(reported: Any) -> list[dict[str, Any]]:
    """The growth over the last 7 and 14 complete days (today excluded), by the report date."""
    n = len(reported)
    out: list[dict[str, Any]] = []
    for days in GROWTH_WINDOWS:
        window = reported[max(0, n - 1 - days) : n - 1]
        g = growth_engine.growth(window) if len(window) == days else growth_engine.growth([])
        out.append(
            {"days": days, "cases": g.cases, "rate": _num(g.rate), "lower": _num(g.lower),
             "upper": _num(g.upper), "doubling": _num(g.doubling), "doubling_lower": _num(g.doubling_lower),
             "doubling_upper": _num(g.doubling_upper), "halving": _num(g.halving),
             "halving_lower": _num(g.halving_lower), "halving_upper": _num(g.halving_upper)}
        )  # fmt: skip
    return out


def _clusters(cases: list[_Case], today: dt.date) -> list[dict[str, Any]]:
    """The clusters with cases reported in the last 7 days, those that grew most over the 7 days before first."""
    last: Counter[tuple[int, str, str]] = Counter()
    before: Counter[tuple[int, str, str]] = Counter()
    totals: Counter[tuple[int, str, str]] = Counter()
    for c in cases:
        if c.cluster is None:
            continue
        totals[c.cluster] += 1
        age = (today - c.report).days
        if age < CLUSTER_DAYS:
            last[c.cluster] += 1
        elif age < 2 * CLUSTER_DAYS:
            before[c.cluster] += 1
    growing: list[dict[str, Any]] = [
        {"code": k[1], "name": k[2], "cases": totals[k], "last_7": last[k], "previous_7": before[k],
         "change": last[k] - before[k]} for k in last
    ]  # fmt: skip
    return sorted(growing, key=lambda x: (-x["change"], -x["last_7"], x["code"]))[:TOP]


def _latest_rt(estimate: rt.RtEstimate, row: int, day: int) -> dict[str, Any]:
    return {
        "mean": _num(estimate.mean[row, day]),
        "lower": _num(estimate.q025[row, day]),
        "upper": _num(estimate.q975[row, day]),
        "cv": _num(estimate.cv[row, day]),
        "warning": bool(estimate.warning[row, day]),
    }


def _moved(below: list[Jurisdiction], counts: _Counts, estimate: rt.RtEstimate, language: str) -> list[Any]:
    """The areas one level down, those whose reports changed most from yesterday to today first."""
    n = counts.reported.shape[0]
    moved: list[dict[str, Any]] = []
    for j, a in enumerate(below):
        t, y = int(counts.reported_by_area[j, n - 1]), int(counts.reported_by_area[j, n - 2]) if n > 1 else 0
        latest = _latest_rt(estimate, j + 1, n - 1)
        moved.append(
            {"code": a.code, "name": a.display_name(language), "today": t, "yesterday": y, "change": t - y,
             "total": int(counts.by_area[j].sum()), "rt": latest["mean"], "rt_lower": latest["lower"],
             "rt_upper": latest["upper"], "rt_warning": latest["warning"],
             "rt_yesterday": _num(estimate.mean[j + 1, n - 2]) if n > 1 else None}
        )  # fmt: skip
    moved.sort(key=lambda x: (-abs(x["change"]), x["code"]))
    return moved


def _areas(user: Actor, area: str) -> tuple[list[Jurisdiction], Jurisdiction, list[Jurisdiction]]:
    """The areas the user may analyse, the one chosen (its code; the user's own node when empty) and the areas
    one level below it. ``NotFound`` for an area the user may not analyse."""
    areas, chosen = figures.chosen_area(user, area)
    below = areas[1:] if chosen.pk == areas[0].pk else list(geo.children_of(user, chosen).order_by("code"))
    return areas, chosen, below


def _rts(
    cases: list[_Case], basis: str, first: dt.date, dates: list[str], counts: _Counts
) -> tuple[rt.RtEstimate, dict[str, Any], dict[str, Any] | None]:
    """Rt of the area and of each area below (local cases infected, imported ones as sources only), the area's
    series as reported, and its series on the nowcast of the local cases (none by report date)."""
    _profile, si_mean, si_sd = serial_interval()
    total = counts.community + counts.control
    estimate = rt.estimate_rt(
        np.vstack([total - counts.imported, counts.by_area - counts.imported_by_area]),
        np.vstack([counts.imported, counts.imported_by_area]),
        si_mean=si_mean,
        si_sd=si_sd,
    )
    as_reported = _rt_series(estimate, 0, dates)
    corrected = None if basis == "report" else _nowcast_local(cases, basis, first, total - counts.imported)
    if corrected is None:
        return estimate, as_reported, None
    return (
        estimate,
        as_reported,
        _rt_series(_on_nowcast(corrected, counts.imported, si_mean, si_sd), 0, dates),
    )


def analysis(
    user: Actor,
    *,
    area: str = "",
    basis: str = "onset",
    today: dt.date | None = None,
    until: dt.datetime | None = None,
) -> dict[str, Any]:
    """Every figure of the situation analysis of one area (its code; the user's own node when empty) on one
    date basis. ``NotFound`` for an area the user may not analyse; ``ValueError`` for an unknown basis.
    ``until``: only the cases reported before then (a daily report of a past day sees the cases as they
    were known at its end)."""
    if basis not in BASES:
        raise ValueError(basis)
    areas, chosen, below = _areas(user, area)
    today = today or timezone.localdate()
    cases = _read_cases(user, chosen, until)
    first = min((c.day(basis) for c in cases), default=today)
    shortest = max(
        NOWCAST_DAYS, max(GROWTH_WINDOWS) + 1
    )  # every figure has its days (zeros before the first)
    first = max(
        min(first, today - dt.timedelta(days=shortest - 1)), today - dt.timedelta(days=HISTORY_DAYS - 1)
    )
    n = (today - first).days + 1
    dates = [(first + dt.timedelta(days=i)).isoformat() for i in range(n)]
    counts = _count(cases, basis, first, n, below)
    profile, si_mean, si_sd = serial_interval()
    estimate, as_reported, on_nowcast = _rts(cases, basis, first, dates, counts)
    recent = [c for c in cases if (today - c.report).days < KNOWN_SOURCE_DAYS]
    known = sum(1 for c in recent if c.control or c.cluster)
    language = translation.get_language() or settings.LANGUAGE_CODE
    return {
        "area": {"code": chosen.code, "name": chosen.display_name(language)},
        "areas": [{"code": a.code, "name": a.display_name(language)} for a in areas],
        "basis": basis,
        "today": today.isoformat(),
        "cases": len(cases),
        "reported_today": int(counts.reported[n - 1]),
        "reported_yesterday": int(counts.reported[n - 2]) if n > 1 else 0,
        "curve": {
            "dates": dates,
            "community": [int(v) for v in counts.community],
            "control": [int(v) for v in counts.control],
            "imported": [int(v) for v in counts.imported],
        },
        "rt": {
            "profile": profile,
            "si_mean": round(si_mean, 3),
            "si_sd": round(si_sd, 3),
            "window": estimate.window,
            "cv_threshold": rt.CV_THRESHOLD,
            "on": "reported" if on_nowcast is None else "nowcast",
            **(on_nowcast or as_reported),  # the default shown: on the nowcast by onset or sampling date
            "reported": as_reported,
            "nowcast": on_nowcast,
        },
        "nowcast": _nowcast(cases, basis, first, dates),
        "growth": _growth(counts.reported),
        "known_source": {
            "days": KNOWN_SOURCE_DAYS,
            "cases": len(recent),
            "known": known,
            "share": _num(known / len(recent)) if recent else None,
        },
        "clusters": _clusters(cases, today),
        "moved": _moved(below, counts, estimate, language),
    }


# The daily reports' reads (report areas, the reports a user may see, a report's figures) are in
# ``selectors/reports.py``; they are named here too, so callers read every selector of the app from one place.
from .reports import (  # noqa: E402 (after the analysis, which they use)
    REPORT_RULE,
    daily_figures,
    get_report_for,
    report_area_for,
    report_areas,
    reports_of_day,
    reports_visible_to,
    scheduled_areas,
    scheduled_done,
)

__all__ = [
    "BASES",
    "REPORT_RULE",
    "analysis",
    "areas_for",
    "daily_figures",
    "get_report_for",
    "report_area_for",
    "report_areas",
    "reports_of_day",
    "reports_visible_to",
    "scheduled_areas",
    "scheduled_done",
    "serial_interval",
]
