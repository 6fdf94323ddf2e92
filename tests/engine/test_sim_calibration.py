"""Calibration's parts against plain references: group composition (exact and sampled), co-presence minutes
(pair by pair), and the rates it finds (the household attack rate, and R0 as the spectral radius)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cordon.engine.sim import Mobility, generate_city, load_profile, preset
from cordon.engine.sim.calibration import _composition, calibrate, copresence_minutes


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 6), st.integers(0, 3)), max_size=40))
def test_composition_counts_the_other_members_of_each_type(people: list[tuple[int, int]]) -> None:
    group = np.array([g for g, _ in people], np.int64)
    types = np.array([t for _, t in people], np.int64)
    want = np.zeros((4, 4))
    for i, (g, t) in enumerate(people):
        for j, (g2, t2) in enumerate(people):
            if g >= 0 and g2 == g and i != j:
                want[t, t2] += 1
    got = _composition(group, types, 4, np.random.default_rng(0))
    assert got == pytest.approx(want)


def test_composition_samples_groups_beyond_the_limit_and_scales_up() -> None:
    # 3,000 households of the same make-up (two adults of type 1, a child of type 0): any sample, scaled up,
    # gives the whole city's counts.
    group = np.repeat(np.arange(3000), 3)
    types = np.tile([1, 1, 0], 3000)
    exact = _composition(group, types, 2, np.random.default_rng(0))
    sampled = _composition(group, types, 2, np.random.default_rng(0), limit=500)
    assert exact.tolist() == [[0.0, 6000.0], [6000.0, 6000.0]]
    assert sampled == pytest.approx(exact)
    # Groups of different make-up: the sample is close to the whole, not equal.
    rng = np.random.default_rng(1)
    sizes = rng.integers(1, 5, 4000)
    group = np.repeat(np.arange(4000), sizes)
    types = rng.integers(0, 3, len(group))
    whole = _composition(group, types, 3, rng)
    part = _composition(group, types, 3, np.random.default_rng(2), limit=2000)
    assert np.abs(part - whole).max() < 0.1 * whole.max()
    assert _composition(np.full(5, -1, np.int64), np.zeros(5, np.int64), 2, rng).tolist() == [[0, 0], [0, 0]]


def test_copresence_minutes_pair_by_pair() -> None:
    city = generate_city(preset("demo", population=1500), seed=4)
    mobility = Mobility(city)
    visits = mobility.day(np.random.default_rng(3), weekday=2)
    got = copresence_minutes(mobility, visits)
    group = mobility.group(visits)
    a, b, att = visits.t_in.astype(int), visits.t_out.astype(int), visits.attendance
    order = np.argsort(group, kind="stable")
    starts = np.searchsorted(group[order], np.unique(group))
    want = np.zeros(len(visits))
    for lo, hi in zip(starts, [*starts[1:], len(order)], strict=True):
        members = order[lo:hi]
        for i in members:
            for j in members:
                if i != j and not (att[i] and att[j]):
                    want[i] += max(0, min(b[i], b[j]) - max(a[i], a[j]))
    assert got == pytest.approx(want)
    assert (got > 0).any()


def test_calibrated_rates_meet_the_profile() -> None:
    city = generate_city(preset("demo", population=2000), seed=2)
    p = load_profile("sars-cov-2-ancestral")
    rates = calibrate(city, Mobility(city), p, seed=2)
    assert rates.r0 == pytest.approx(p.r0, rel=1e-6)
    # The household rate gives the secondary attack rate over a natural history's infectiousness.
    h = p.natural_history(np.random.default_rng(5), 200_000)
    exposure = h.weight.astype(float) * h.infectious
    assert np.mean(1 - np.exp(-rates.household * exposure)) == pytest.approx(p.household_sar, abs=0.005)
    # Work, school and venue rates share one scale split by the profile's setting shares.
    assert min(rates.work, rates.school, rates.venue) > 0


def test_large_query_sets_give_what_small_ones_give(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 50,000 queries the integral sorts them first, and past PARALLEL_FROM it splits them over two
    threads: either way each query gets the same answer as when asked in a small batch."""
    from cordon.engine.sim import copresence

    rng = np.random.default_rng(7)
    n_src, n_q = 400, 60_000
    g = rng.integers(0, 50, n_src)
    a = rng.integers(0, 1300, n_src)
    table = copresence.SourceTable(g, a, np.minimum(a + rng.integers(1, 200, n_src), 1439), rng.random(n_src))
    qg = rng.integers(0, 50, n_q)
    qa = rng.integers(0, 1300, n_q)
    qb = np.minimum(qa + rng.integers(1, 200, n_q), 1439)
    small = np.concatenate([table.integral(qg[i : i + 20_000], qa[i : i + 20_000], qb[i : i + 20_000])
                            for i in range(0, n_q, 20_000)])  # fmt: skip
    assert table.integral(qg, qa, qb) == pytest.approx(small)
    monkeypatch.setattr(copresence, "PARALLEL_FROM", 1000)
    assert table.integral(qg, qa, qb) == pytest.approx(small)
    assert table.integral(qg[:3001], qa[:3001], qb[:3001]) == pytest.approx(small[:3001])
