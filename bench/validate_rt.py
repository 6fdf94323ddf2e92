"""Rt and the nowcast (``cordon.engine.rt``) checked against a simulated outbreak whose truth is known.

One run of the simulator (``city-1m`` preset at a smaller population, the ``sars-cov-2-ancestral`` profile,
cases isolated when found, so Rt falls through isolation and through the depletion of susceptibles), then:

- the data an analyst would have: the reported cases (symptomatic people sampled at fever clinics) by their
  day of infection (as case investigation establishes it) and day of report, per city and district; the first
  (seed) infections are the imported cases, every other case is local;
- the true reproduction number from the simulator's own state, independent of the estimator's serial
  interval: on day ``t`` each infectious person ``i`` exerts infectiousness ``weight_i`` (its relative
  infectiousness; 0 outside its infectious days), and the true instantaneous reproduction number is the number of
  new infections per unit of infectiousness that day times the mean infectiousness an infection carries over its
  whole course: ``R_t = m * I_t / sum_i weight_i`` with ``m`` the mean of ``weight * infectious days`` over the
  run's infections. Over the same 7-day window as the estimate: ``m * sum I / sum_i weight_i``. All infections
  count (not just reported ones); for a district, the infections of its residents and its residents'
  infectiousness;
- the estimate (Cori, prior mean 5 sd 5, 7-day windows) from the complete reported series with the profile's
  generation interval (mean and sd of ``PathogenProfile.generation_interval``) as the serial interval, and the
  share of days from day 14 on (days with a defined truth) whose 95 % interval covers the truth;
- the nowcast: by day of symptom onset (what a case report carries), for every "today" ``D`` from day 21 on,
  the cases reported by ``D`` and the delay distribution estimated from them, the nowcast of the 7 days
  ``D - 6 .. D``, compared with the final counts; coverage of the 90 % band per days-ago and overall;
- Rt on the nowcast (what the situation analysis shows by onset date): for every such ``D``, the city's Rt by
  onset on the local cases reported by ``D`` as they are, and on the same counts with the last 14 days replaced
  by the median of the nowcast of the local cases (imported cases as reported), each compared with Rt by onset
  on the final counts: the bias the nowcast removes, per days-ago.

The run goes on 21 days (the longest delay counted) past the last day evaluated, so that the final counts of
every evaluated day are complete; the estimate is from those complete counts (the nowcast is checked apart).

Writes docs/rt-validation.md (with ``--write``) and prints it.

    .venv/bin/python bench/validate_rt.py --write
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from cordon.engine import rt
from cordon.engine.sim import Simulation, built_in, generate_city, load_profile, preset

ROOT = Path(__file__).resolve().parents[1]
OFFSET = 3  # seeds are infected on days -2 .. 0; series start on day -3


def run(pop: int, days: int, seed: int, interventions: str) -> dict[str, Any]:
    profile = load_profile("sars-cov-2-ancestral")
    city = generate_city(preset("city-1m", population=pop, seed_infections=40), seed=seed)
    t0 = time.perf_counter()
    sim = Simulation(city, profile, built_in(interventions), seed=seed)
    sim.run(days, progress=lambda r: print(f"day {r.day}: {r.new_infections} infections", file=sys.stderr)
            if r.day % 20 == 0 else None)  # fmt: skip
    t_sim = time.perf_counter() - t0
    n_days = days + OFFSET
    districts = [int(d) for d in city.districts()]
    names = ["city"] + [city.jur_name_en[d] for d in districts]
    home = city.district
    lookup = np.zeros(len(city.jur_code), np.int64)
    lookup[districts] = np.arange(1, len(districts) + 1)
    person_region = lookup[home]
    n_regions = len(names)

    # The truth: all infections by day (local ones), and each day's infectiousness.
    inf = sim.infections.table()
    person, source, day = (np.asarray(inf[k], np.int64) for k in ("person", "source", "day"))
    local = source >= 0
    assert (person_region > 0).all(), "every person lives in a district"
    infections = np.zeros((n_regions, n_days))
    np.add.at(infections[0], day[local] + OFFSET, 1)
    np.add.at(infections, (person_region[person[local]], day[local] + OFFSET), 1)
    infected = person
    start = sim.inf_start[infected].astype(np.int64) + OFFSET
    end = sim.inf_end[infected].astype(np.int64) + OFFSET
    weight = sim.weight[infected]
    m = float(np.mean(weight * (end - start)))
    pressure = np.zeros((n_regions, n_days + 1))
    for r_of in (np.zeros(len(infected), np.int64), person_region[infected]):  # the city, then districts
        # + weight from the first infectious day, - weight from the day after the last (summed below)
        np.add.at(pressure, (r_of, np.minimum(start, n_days)), weight)
        np.add.at(pressure, (r_of, np.minimum(end, n_days)), -weight)
    pressure = np.cumsum(pressure, axis=1)[:, :n_days]
    win_i = rt.window_sums(infections, rt.WINDOW)
    win_p = rt.window_sums(pressure, rt.WINDOW)
    with np.errstate(divide="ignore", invalid="ignore"):
        truth = np.where(win_p > 0, m * win_i / win_p, np.nan)

    # The data: reported cases by day of infection and day of report.
    cases = sim.case_list()
    c_person = cases.person
    c_event = sim.t_inf[c_person].astype(np.int64) + OFFSET
    c_report = cases.reported.astype(np.int64) + OFFSET
    c_region = person_region[c_person]
    seed_person = person[source < 0]
    c_imported = np.isin(c_person, seed_person)
    final = c_report < n_days  # reported within the run
    loc = np.zeros((n_regions, n_days))
    imp = np.zeros((n_regions, n_days))
    for target, sel in ((loc, final & ~c_imported), (imp, final & c_imported)):
        np.add.at(target[0], c_event[sel], 1)
        np.add.at(target, (c_region[sel], c_event[sel]), 1)
    gi_mean, gi_sd = rt.profile_interval(profile)
    est = rt.estimate_rt(loc, imp, si_mean=gi_mean, si_sd=gi_sd)

    first = 14 + OFFSET
    max_delay = 21
    last = n_days - 1 - max_delay  # the cases of days up to here are all reported within the run
    ok = np.isfinite(truth) & np.isfinite(est.mean)
    ok[:, :first] = False
    ok[:, last + 1 :] = False
    covered = (est.q025 <= truth) & (truth <= est.q975)
    for d in np.flatnonzero(ok[0] & ~covered[0]):
        print(
            f"not covered: day {d - OFFSET}: truth {truth[0, d]:.3f}, interval {est.q025[0, d]:.3f} .. "
            f"{est.q975[0, d]:.3f}, cases in window {est.shape[0, d] - 1:.0f}",
            file=sys.stderr,
        )
    rt_rows = []
    for r in range(n_regions):
        days_r = ok[r]
        sure = days_r & ~est.warning[r]
        rt_rows.append(
            (
                names[r],
                int(days_r.sum()),
                float(covered[r][days_r].mean()) if days_r.any() else float("nan"),
                int(sure.sum()),
                float(covered[r][sure].mean()) if sure.any() else float("nan"),
                float(np.nanmedian(np.abs(est.mean[r][sure] - truth[r][sure]) / truth[r][sure]))
                if sure.any()
                else float("nan"),
            )
        )

    # The nowcast, day by day.
    horizon = 7
    hits = np.zeros((n_regions, horizon))
    tried = np.zeros((n_regions, horizon))
    width = []
    # By day of onset (what a case report carries; every case here was sampled at a fever clinic for
    # symptoms, so it has one).
    onset = sim.onset[c_person].astype(np.int64)
    has_onset = onset > -OFFSET
    c_onset = onset[has_onset] + OFFSET
    all_region = np.concatenate((np.zeros(len(c_onset), np.int64), c_region[has_onset]))
    all_event = np.concatenate((c_onset, c_onset))
    all_report = np.concatenate((c_report[has_onset], c_report[has_onset]))
    both = np.concatenate((final[has_onset], final[has_onset]))
    truth_counts = np.zeros((n_regions, n_days))
    np.add.at(truth_counts, (all_region[both], all_event[both]), 1)
    # Rt by onset on the final counts (the city), and the local cases' line list for its nowcast.
    on_local = has_onset & ~c_imported
    on_imp = has_onset & c_imported
    ev_l, rp_l = onset[on_local] + OFFSET, c_report[on_local]
    ev_i, rp_i = onset[on_imp] + OFFSET, c_report[on_imp]
    final_l = np.bincount(ev_l[rp_l < n_days], minlength=n_days)[:n_days].astype(np.float64)
    final_i = np.bincount(ev_i[rp_i < n_days], minlength=n_days)[:n_days].astype(np.float64)
    est_final = rt.estimate_rt(final_l, final_i, si_mean=gi_mean, si_sd=gi_sd)
    nc_rt: dict[str, list[list[float]]] = {
        key: [[] for _ in range(horizon)] for key in ("reported", "nowcast", "covered")
    }
    for now in range(21 + OFFSET, last + 1):
        nc = rt.nowcast(all_region, all_event, all_report, now, n_regions, max_delay=max_delay)
        seen_l, seen_i = rp_l <= now, rp_i <= now
        loc_now = np.bincount(ev_l[seen_l], minlength=now + 1)[: now + 1].astype(np.float64)
        imp_now = np.bincount(ev_i[seen_i], minlength=now + 1)[: now + 1].astype(np.float64)
        ncl = rt.nowcast(np.zeros(len(ev_l), np.int64), ev_l, rp_l, now, 1, max_delay=max_delay)
        corrected = loc_now.copy()
        corrected[now - 13 :] = ncl.median[0, now - 13 :]
        missing = np.isnan(corrected)
        est_rep = rt.estimate_rt(loc_now, imp_now, si_mean=gi_mean, si_sd=gi_sd)
        est_nc = rt.estimate_rt(np.nan_to_num(corrected), imp_now, si_mean=gi_mean, si_sd=gi_sd)
        hit = np.convolve(missing.astype(np.float64), np.ones(rt.WINDOW))[: now + 1] > 0
        for k in range(horizon):
            t = int(now - k)
            ref = est_final.mean[0, t]
            if hit[t] or not np.isfinite(ref) or not np.isfinite(est_nc.mean[0, t]):
                continue
            nc_rt["reported"][k].append((est_rep.mean[0, t] - ref) / ref)
            nc_rt["nowcast"][k].append((est_nc.mean[0, t] - ref) / ref)
            nc_rt["covered"][k].append(float(est_nc.q025[0, t] <= ref <= est_nc.q975[0, t]))
        for k in range(horizon):
            d = now - k
            lo, hi = nc.lower[:, d], nc.upper[:, d]
            valid = np.isfinite(lo)
            true = truth_counts[:, d]
            tried[:, k] += valid
            hits[:, k] += valid & (lo <= true) & (true <= hi)
            width.append((k, float(nc.completeness[d])))
    days_reported = [(k, float(np.mean([c for kk, c in width if kk == k]))) for k in range(horizon)]
    return {
        "names": names,
        "rt_rows": rt_rows,
        "hits": hits,
        "tried": tried,
        "completeness": days_reported,
        "gi": (gi_mean, gi_sd),
        "m": m,
        "t_sim": t_sim,
        "infections": int(local.sum()),
        "cases": int(final.sum()),
        "series": (truth[0], est, loc[0], imp[0], infections[0]),
        "pop": pop,
        "days": days,
        "seed": seed,
        "interventions": interventions,
        "nowcast_days": max(0, last + 1 - (21 + OFFSET)),
        "nc_rt": nc_rt,
    }


HEADER = """# Rt and nowcast validation against the simulator

Generated by `bench/validate_rt.py` (`--write`); {when}.

## What is compared

- **The data** an analyst would have: the reported cases (in these runs, symptomatic people sampled at fever
  clinics; a result is reported the day after the sample) per city and district, by day of infection for Rt (as
  case investigation establishes it; the simulator knows it exactly) and by day of symptom onset for the
  nowcast. The first (seed) infections that were reported are the imported cases; all other cases are local.
- **The truth**: the simulator's instantaneous reproduction number, from its own state and independent of the
  estimator's serial interval. On day t every infectious person i exerts infectiousness weight_i (its
  relative infectiousness, 0 outside its infectious days); R_t = m * I_t / sum_i weight_i, the new infections
  per unit of infectiousness that day times the infectiousness an infection carries over its whole course
  (m, the mean of weight * infectious days over the run's infections). Over the estimate's 7-day window:
  m * sum I / sum weight. All infections count, reported or not; for a district, its residents' infections and
  infectiousness.
- **The estimate**: `cordon.engine.rt.estimate_rt`, Cori's method (prior mean 5, sd 5; 7-day windows ending on
  each day; local cases in the numerator, local and imported as sources), serial interval = a gamma with the
  mean and sd of the profile's generation interval (`cordon.engine.rt.profile_interval`), discretised as
  EpiEstim's `discr_si`, from the complete counts: the run goes on 21 days past the last day evaluated.
  Counted: days from day 14 of the outbreak on where the truth is defined (infectious people in the window).
- **Rt on the nowcast** (the situation analysis's default by onset or sampling date): for the same days taken as
  "today", the city's Rt by onset on the local cases reported by then, as they are and with the last 14 days
  replaced by the median of the nowcast of the local cases (imported cases as reported; no estimate for a
  window holding a day without a nowcast), each against Rt by onset on the final counts. The signed median
  relative error shows the bias: as reported the last days lean low. (The situation analysis also keeps a day
  with no local case reported yet at zero, where the median would be the flat prior's; this check does not.)
- **The nowcast**: `cordon.engine.rt.nowcast`; for every day from day 21 on taken as "today", the cases reported
  by then, the delay distribution estimated from them (cohorts at least 21 days old; its sampling error is
  carried into the band), the nowcast of the last 7 days by onset, compared with the final counts. Days with
  less than 5 % of their cases expected to be in (F < 0.05: today, and here mostly yesterday, since a sample is
  taken about 3 days after onset) get no nowcast and are not counted.

Targets (issue 20): the 95 % interval covers the truth on at least 90 % of days after the first two weeks; the
90 % nowcast band covers the true incidence on at least 80 % of days.

Limits of this check: in these runs every case is found the same way (fever clinics), so the reported share
of infections and the reporting delay do not change over time. Screening and quarantine (the `basic` and
`zero-covid` interventions) find cases earlier and find asymptomatic ones, which changes both; the estimate
then assumes a constant reported share within each window, and the nowcast's band does not cover a change of
the delay distribution. The first days after the seeds lean high (unreported seed infections are missing as
sources). Rt on the nowcast uses the nowcast's median as if it were the count: its credible interval does not
carry the nowcast's own uncertainty, so on the days least reported (2 days ago here) it covers the final Rt
less often than 95 %; the days without a nowcast (today, mostly yesterday) get no Rt on the nowcast.

## Summary

| run | Rt: city days covered | Rt: all regions | nowcast: city days covered | nowcast: all regions |
|---|---:|---:|---:|---:|
"""


def summary_row(res: dict[str, Any]) -> str:
    rows = res["rt_rows"]
    n_all = sum(r[1] for r in rows)
    cov_all = sum(r[1] * r[2] for r in rows) / max(n_all, 1)
    hits, tried = res["hits"], res["tried"]
    return (
        f"| `{res['interventions']}`, seed {res['seed']} | {rows[0][2]:.1%} of {rows[0][1]} | "
        f"{cov_all:.1%} of {n_all} | {hits[0].sum() / max(tried[0].sum(), 1):.1%} of {int(tried[0].sum())} | "
        f"{hits.sum() / max(tried.sum(), 1):.1%} of {int(tried.sum())} |"
    )


def section(res: dict[str, Any]) -> str:
    gi = res["gi"]
    lines = [
        f"## Run: interventions `{res['interventions']}`, seed {res['seed']}",
        "",
        f"`city-1m` preset at {res['pop']:,} people, profile `sars-cov-2-ancestral`, {res['days']} days: "
        f"{res['infections']:,} local infections, {res['cases']:,} reported cases (simulation "
        f"{res['t_sim']:.0f} s). Serial interval: mean {gi[0]:.2f} d, sd {gi[1]:.2f} d; m = {res['m']:.3f}.",
        "",
        "### Rt: coverage of the 95 % credible interval",
        "",
        "| region | days | covered | days without CV warning | covered | median abs. relative error |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, n, cov, n_sure, cov_sure, err in res["rt_rows"]:
        lines.append(f"| {name} | {n} | {cov:.1%} | {n_sure} | {cov_sure:.1%} | {err:.1%} |")
    hits, tried, comp = res["hits"], res["tried"], res["completeness"]
    lines += [
        "",
        f"### Nowcast: coverage of the 90 % band ({res['nowcast_days']} days as today)",
        "",
        "| days ago | mean expected share reported F | city: nowcasts | city: covered | all regions: covered |",
        "|---:|---:|---:|---:|---:|",
    ]
    for k in range(hits.shape[1]):
        city_cov = f"{hits[0, k] / tried[0, k]:.1%}" if tried[0, k] else "-"
        all_cov = f"{hits[:, k].sum() / tried[:, k].sum():.1%}" if tried[:, k].sum() else "-"
        lines.append(f"| {k} | {comp[k][1]:.2f} | {int(tried[0, k])} | {city_cov} | {all_cov} |")
    nc_rt = res["nc_rt"]
    lines += [
        "",
        "### Rt by onset on the nowcast: the city's Rt against Rt on the final counts",
        "",
        "| days ago | days | as reported: median relative error | on the nowcast: median relative error "
        "| on the nowcast: 95 % interval covers the final Rt |",
        "|---:|---:|---:|---:|---:|",
    ]
    for k in range(hits.shape[1]):
        rep, now_, cov = nc_rt["reported"][k], nc_rt["nowcast"][k], nc_rt["covered"][k]
        if not rep:
            lines.append(f"| {k} | 0 | - | - | - |")
            continue
        lines.append(
            f"| {k} | {len(rep)} | {np.median(rep):+.1%} | {np.median(now_):+.1%} | {np.mean(cov):.1%} |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pop", type=int, default=300_000)
    ap.add_argument("--days", type=int, default=160)
    ap.add_argument("--runs", default="isolate:5,none:6", help="interventions:seed pairs, comma-separated")
    ap.add_argument("--write", action="store_true", help="write docs/rt-validation.md")
    args = ap.parse_args()
    results = []
    for item in args.runs.split(","):
        interventions, seed = item.split(":")
        results.append(run(args.pop, args.days, int(seed), interventions))
    load = os.getloadavg()
    when = (
        f"{dt.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    text = HEADER.format(when=when) + "\n".join(summary_row(r) for r in results) + "\n\n"
    text += "\n".join(section(r) for r in results)
    print(text)
    if args.write:
        (ROOT / "docs" / "rt-validation.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
