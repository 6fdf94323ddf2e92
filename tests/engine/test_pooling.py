"""The pooling engine: exact expectations (against formulas and against every infection pattern run through the
decoder), decoder correctness on random infection sets (hypothesis), Monte Carlo agreement, and the advisor
against a brute-force search written out here."""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cordon.engine.pooling import (
    DEFAULT_DILUTION,
    VALIDATED_POOL_SIZES,
    Array,
    Design,
    DilutionModel,
    Dorfman,
    Hypercube,
    Individual,
    Nested,
    Status,
    advise,
    dilution_test,
    entropy_bound,
    monte_carlo,
    parse_design,
    perfect_test,
    plan,
    simulate,
    useful_pool_bound,
)
from cordon.engine.pooling.advisor import _array_sensitivity

D = DEFAULT_DILUTION
STEEP = DilutionModel(
    limit_ct=38.0, ct_quantiles=((0.0, 15.0), (0.5, 30.0), (1.0, 38.0)), cycles_per_doubling=1.5
)


def chain_design(chain: tuple[int, ...]) -> Design:
    if chain == (1,):
        return Individual()
    if len(chain) == 2:
        return Dorfman(chain[0])
    return Nested(chain)


# --- Closed forms -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 5, 10, 20, 33])
@pytest.mark.parametrize("p", [0.001, 0.02, 0.2])
def test_dorfman_expected_tests_is_the_textbook_formula(n: int, p: float) -> None:
    assert Dorfman(n).expected_tests(p) == pytest.approx(1 / n + 1 - (1 - p) ** n, rel=1e-12)
    assert Dorfman(n).sensitivity(p) == 1.0


def test_nested_and_grid_formulas_by_hand() -> None:
    p, q = 0.01, 0.99
    assert Nested((20, 4, 1)).expected_tests(p) == pytest.approx(
        1 / 20 + (1 - q**20) / 4 + (1 - q**4), rel=1e-12
    )
    assert Array(8, 12).expected_tests(p) == pytest.approx(
        1 / 8 + 1 / 12 + p + q * (1 - q**11) * (1 - q**7), rel=1e-12
    )
    for s in (2, 3, 7):
        assert Hypercube(s, 2).expected_tests(p) == pytest.approx(Array(s, s).expected_tests(p), rel=1e-12)
        assert Hypercube(s, 2).sensitivity(p, D) == pytest.approx(Array(s, s).sensitivity(p, D), rel=1e-12)
    assert Individual().expected_tests(p) == 1.0


def test_entropy_bound() -> None:
    assert entropy_bound(0.5) == pytest.approx(1.0)
    assert entropy_bound(0.01) == pytest.approx(0.0807931, rel=1e-5)
    assert entropy_bound(0.99) == pytest.approx(entropy_bound(0.01), rel=1e-12)  # H(p) = H(1 - p)
    assert entropy_bound(0.0) == 0.0 and entropy_bound(1.0) == 0.0


ALL_DESIGNS = [Individual(), Dorfman(10), Nested((20, 4, 1)), Array(8, 12), Hypercube(3, 3)]


@pytest.mark.parametrize("p", [1.5, -0.01, 1.0000001, math.nan, math.inf, True, "0.01", None])
def test_a_prevalence_that_is_not_a_share_is_refused(p: Any) -> None:
    """A prevalence is a share from 0 to 1: 1.5 (a percentage typed as a share, or a typo) is refused by every
    calculation that takes one, not turned into a number of tests."""
    from cordon.engine.pooling.designs import chain_sensitivity, chain_tests

    calculations: list[Any] = [
        lambda: entropy_bound(p),
        lambda: chain_tests((10, 1), p),
        lambda: chain_sensitivity((10, 1), p, D),
        lambda: useful_pool_bound(p),
        lambda: advise(p),
    ]
    for design in ALL_DESIGNS:
        calculations += [
            lambda d=design: d.expected_tests(p),
            lambda d=design: d.expected_tests(p, D),
            lambda d=design: d.sensitivity(p, D),
            lambda d=design: d.missed_share(p, D),
        ]
    for calculation in calculations:
        with pytest.raises(ValueError, match="prevalence"):
            calculation()


@pytest.mark.parametrize("p", [5e-87, 1e-17, 5e-324])
def test_a_prevalence_too_small_to_plan_for_is_refused_not_divided_by(p: float) -> None:
    """1 - p rounds to 1 for a prevalence under about 1e-16, and the advisor once divided by zero (found by
    Schemathesis on GET /api/screening/advice): a prevalence under MIN_PREVALENCE is refused by name."""
    with pytest.raises(ValueError, match="prevalence"):
        advise(p, population=88_224_582_769)
    assert advise(1e-12).design is not None


@pytest.mark.parametrize("design", ALL_DESIGNS, ids=lambda d: d.label)
def test_the_ends_of_the_prevalence_range(design: Design) -> None:
    """With no positives a block costs its first round only; with every sample positive, every pool and every
    sample is tested; perfect tests miss nothing at any prevalence."""
    first_round = 1 / design.block_size * (sum(design.shape) if isinstance(design, Array | Hypercube) else 1)
    assert design.expected_tests(0.0) == pytest.approx(first_round, rel=1e-12)
    if isinstance(design, Array | Hypercube):
        assert design.expected_tests(1.0) == pytest.approx(first_round + 1, rel=1e-12)
    else:
        assert design.expected_tests(1.0) == pytest.approx(sum(1 / m for m in design.pool_sizes), rel=1e-12)
    for p in (0.0, 0.3, 1.0):
        assert design.sensitivity(p) == 1.0 and design.missed_share(p) == 0.0


def _exact_by_enumeration(design: Design, p: float, dilution: DilutionModel | None) -> tuple[float, float]:
    """Expected tests per person and sensitivity, summing over every infection pattern of one block (and, with
    dilution, every Ct band of every positive) run through the decoder."""
    n = design.block_size
    states: list[tuple[float, float]] = [(math.inf, 1 - p)]  # (Ct, probability)
    if dilution is None:
        states.append((20.0, p))
    else:
        cuts = sorted(dilution.threshold(m) for m in design.pool_sizes if m > 1)
        edges = [dilution.ct_quantiles[0][1], *cuts, dilution.limit_ct]
        for lo, hi in itertools.pairwise(edges):
            mass = dilution.cdf(hi) - dilution.cdf(lo) if lo > edges[0] else dilution.cdf(hi)
            states.append(((lo + hi) / 2 if lo > edges[0] else min(hi - 0.25, (lo + hi) / 2), p * mass))
    tests = found = positive = 0.0
    for pattern in itertools.product(range(len(states)), repeat=n):
        prob = math.prod(states[v][1] for v in pattern)
        if prob == 0.0:
            continue
        ct = [states[v][0] for v in pattern]
        oracle = dilution_test(ct, dilution) if dilution else perfect_test([v > 0 for v in pattern])
        run = simulate(design, n, oracle)
        tests += prob * run.tests
        for i, v in enumerate(pattern):
            if v:
                positive += prob
                found += prob * (run.statuses[i] is Status.POSITIVE)
    return tests / n, found / positive


@pytest.mark.parametrize(
    "design",
    [
        Individual(),
        Dorfman(4),
        Nested((4, 2, 1)),
        Nested((6, 3, 1)),
        Array(2, 3),
        Array(3, 2),
        Hypercube(2, 3),
    ],
    ids=lambda d: d.label,
)
@pytest.mark.parametrize("dilution", [None, D, STEEP], ids=["perfect", "default", "steep"])
def test_closed_forms_equal_the_decoder_over_every_pattern(
    design: Design, dilution: DilutionModel | None
) -> None:
    p = 0.09
    tests, sens = _exact_by_enumeration(design, p, dilution)
    assert design.expected_tests(p, dilution) == pytest.approx(tests, rel=1e-9)
    assert design.sensitivity(p, dilution) == pytest.approx(sens, rel=1e-9)


def test_array_sensitivity_vectorised_matches_the_design() -> None:
    c = np.arange(2, 40)
    for p in (0.001, 0.05):
        for r in (2, 5, 9):
            vec = _array_sensitivity(r, c, p, D)
            assert vec == pytest.approx([Array(r, int(x)).sensitivity(p, D) for x in c], rel=1e-12)


def test_dilution_model() -> None:
    assert D.shift(10) == pytest.approx(3.3219, abs=1e-4)
    assert D.cdf(27.2) == pytest.approx(0.5)
    assert D.cdf(0) == 0.0 and D.cdf(41) == 1.0
    sens = [D.pool_sensitivity(m) for m in (1, 5, 10, 20, 100)]
    assert sens[0] == 1.0 and all(b < a for a, b in itertools.pairwise(sens))
    draws = D.draw(np.random.default_rng(1), 20_000)
    assert draws.min() >= 12.0 and draws.max() <= 40.0
    assert np.median(draws) == pytest.approx(27.2, abs=0.3)
    for bad in (
        {"ct_quantiles": ((0.0, 20.0),)},
        {"ct_quantiles": ((0.0, 20.0), (0.5, 19.0), (1.0, 30.0))},
        {"ct_quantiles": ((0.1, 20.0), (1.0, 30.0))},
        {"ct_quantiles": ((0.0, 20.0), (1.0, 42.0))},
        {"cycles_per_doubling": 0.0},
    ):
        with pytest.raises(ValueError):
            DilutionModel(**bad)


def test_design_values_and_labels() -> None:
    for design in (Individual(), Dorfman(10), Nested((20, 4, 1)), Array(8, 12), Hypercube(3, 4)):
        assert parse_design(design.label) == design
    assert Dorfman(10).tube_size == 10 and Dorfman(10).pool_sizes == (10, 1) and Dorfman(10).rounds == 2
    assert Nested((20, 4, 1)).rounds == 3 and Nested((20, 4, 1)).max_pool_size == 20
    assert Array(8, 12).pool_sizes == (12, 8, 1) and Array(8, 12).tube_size == 1
    assert Hypercube(3, 4).max_pool_size == 27 and Hypercube(3, 4).block_size == 81
    bad: list[Any] = [
        lambda: Nested((20, 6, 1)),
        lambda: Nested((20, 0, 1)),
        lambda: Nested((20, 4.0, 1)),
        lambda: Nested([20, 4, 1]),
        lambda: Nested((4, 1)),
        lambda: Nested((4, 2, 2, 1)),
        lambda: Dorfman(1),
        lambda: Array(1, 5),
        lambda: Hypercube(2, 1),
        lambda: parse_design("ten"),
    ]
    for make in bad:
        with pytest.raises(ValueError):
            make()
    with pytest.raises(
        ValueError, match="a nested pool size must be a whole number of at least 1 \\(got 0\\)"
    ):
        Nested((20, 0, 1))


# --- The decoder -------------------------------------------------------------------------------------------


@st.composite
def designs(draw: Any) -> Design:
    kind = draw(st.sampled_from(["individual", "dorfman", "nested", "array", "hypercube"]))
    if kind == "individual":
        return Individual()
    if kind == "dorfman":
        return Dorfman(draw(st.integers(2, 12)))
    if kind == "nested":
        sizes = [1]
        for _ in range(draw(st.integers(2, 4))):
            sizes.append(sizes[-1] * draw(st.integers(2, 3)))
        return Nested(tuple(reversed(sizes)))
    if kind == "array":
        return Array(draw(st.integers(2, 6)), draw(st.integers(2, 6)))
    return Hypercube(draw(st.integers(2, 3)), draw(st.integers(2, 4)))


@st.composite
def infections(draw: Any) -> list[bool]:
    n = draw(st.integers(1, 70))
    mode = draw(st.sampled_from(["random", "none", "all", "sparse"]))
    if mode == "none":
        return [False] * n
    if mode == "all":
        return [True] * n
    if mode == "sparse":
        return [draw(st.integers(0, 19)) == 0 for _ in range(n)]
    return draw(st.lists(st.booleans(), min_size=n, max_size=n))


@settings(max_examples=200, deadline=None)
@given(designs(), infections())
def test_perfect_tests_decode_exactly(design: Design, infected: list[bool]) -> None:
    run = simulate(design, len(infected), perfect_test(infected))
    assert [s is Status.POSITIVE for s in run.statuses] == infected
    assert [s is Status.NEGATIVE for s in run.statuses] == [not x for x in infected]
    assert run.protocol.done and not run.protocol.unexplained_pools()
    assert 1 <= run.rounds <= design.rounds
    pools = [run.protocol.pools[k] for k in run.protocol.results]
    assert all(p.size >= 1 and p.size <= design.max_pool_size for p in pools)
    assert len({p.samples for p in pools if p.size == 1}) == sum(p.size == 1 for p in pools)  # none twice


@settings(max_examples=100, deadline=None)
@given(designs(), infections(), st.randoms(use_true_random=False))
def test_dilution_only_misses(design: Design, infected: list[bool], rnd: random.Random) -> None:
    ct = [rnd.uniform(12.0, 40.0) if x else math.inf for x in infected]
    noisy = simulate(design, len(infected), dilution_test(ct, D))
    perfect = simulate(design, len(infected), perfect_test(infected))
    decoded = [s is Status.POSITIVE for s in noisy.statuses]
    assert all(x for x, d in zip(infected, decoded, strict=True) if d)  # no false positives
    assert noisy.tests <= perfect.tests  # an undetected pool is never followed up
    if isinstance(design, Individual | Dorfman | Nested | Hypercube) or (
        isinstance(design, Array)
        and design.rows == design.cols
        and len(infected) % (design.rows * design.cols) == 0
    ):
        # Equal slice sizes (or nested pools): whatever is detected is explained. A square array that is not
        # full has rows and columns of different sizes, diluted differently: a positive its row detects and its
        # shorter column misses is rightly inconclusive.
        assert Status.INCONCLUSIVE not in noisy.statuses


@settings(max_examples=80, deadline=None)
@given(designs(), infections(), st.randoms(use_true_random=False))
def test_results_in_any_order_decode_the_same(
    design: Design, infected: list[bool], rnd: random.Random
) -> None:
    n = len(infected)
    oracle = perfect_test(infected)
    protocol = plan(design, n)
    all_results: dict[str, bool] = {}
    while protocol.pending:
        pool = rnd.choice(protocol.pending)  # one result at a time, from any stage
        all_results[pool.key] = oracle(pool)
        protocol = protocol.record({pool.key: all_results[pool.key]})
        assert all(
            s is not Status.NEGATIVE or not x for s, x in zip(protocol.statuses(), infected, strict=True)
        )
    reference = simulate(design, n, oracle)
    assert protocol.statuses() == reference.statuses
    assert protocol.tests_used == reference.tests
    assert plan(design, n, all_results).statuses() == reference.statuses  # replayed from stored results


def test_lab_workflow_dorfman() -> None:
    protocol = plan(Dorfman(10), 23)
    assert [(p.key, p.size, p.resample) for p in protocol.pending] == [("1", 10, False), ("2", 10, False),
                                                                      ("3", 3, False)]  # fmt: skip
    protocol = protocol.record({"1": False, "2": True})
    st_ = protocol.statuses()
    assert set(st_[:10]) == {Status.NEGATIVE} and set(st_[10:]) == {Status.PENDING}
    assert [p.key for p in protocol.pending] == ["3", *(f"2.{j}" for j in range(1, 11))]
    assert all(p.resample and p.stage == 2 and p.size == 1 for p in protocol.pending[1:])
    protocol = protocol.record({"3": False, **{f"2.{j}": j == 4 for j in range(1, 11)}})
    assert protocol.done and protocol.positives() == (13,) and protocol.rounds_used == 2
    with pytest.raises(ValueError, match="no pending pool"):
        protocol.record({"2.4": True})
    with pytest.raises(ValueError, match="never reaches"):
        plan(Dorfman(10), 23, {"1": False, "1.1": True})


def test_unexplained_pools() -> None:
    # Dorfman: a positive tube whose members all test negative alone; the individual tests stand.
    protocol = plan(Dorfman(4), 4, {"1": True, "1.1": False, "1.2": False, "1.3": False, "1.4": False})
    assert set(protocol.statuses()) == {Status.NEGATIVE}
    assert [p.key for p in protocol.unexplained_pools()] == ["1"]
    # Nested: a positive tube whose sub-pools are both negative: nobody is cleared.
    nested = plan(Nested((4, 2, 1)), 4, {"1": True, "1.1": False})
    assert set(nested.statuses()) == {Status.PENDING}  # held while 1.2 is pending
    nested = nested.record({"1.2": False})
    assert set(nested.statuses()) == {Status.INCONCLUSIVE}


def test_grid_workflow() -> None:
    protocol = plan(Array(3, 4), 12)
    assert sorted(p.key for p in protocol.pending) == sorted(
        ["1.r1", "1.r2", "1.r3", "1.c1", "1.c2", "1.c3", "1.c4"]
    )
    assert {p.size for p in protocol.pending} == {4, 3} and not any(p.resample for p in protocol.pending)
    results = {p.key: p.key in ("1.r2", "1.c3") for p in protocol.pending}
    protocol = protocol.record(results)
    assert [(p.key, p.samples) for p in protocol.pending] == [("1.s7", (6,))]  # row 2, column 3
    assert protocol.record({"1.s7": True}).positives() == (6,)


# --- Monte Carlo ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("design", [Dorfman(10), Nested((16, 4, 1)), Array(6, 6)], ids=lambda d: d.label)
def test_monte_carlo_agrees_with_the_closed_form(design: Design) -> None:
    p = 0.02
    for dilution, seed in ((None, 3), (D, 4)):
        mc = monte_carlo(design, p, people=30_000, dilution=dilution, seed=seed)
        assert mc.people % design.block_size == 0
        assert abs(mc.tests_per_person - design.expected_tests(p, dilution)) < 4 * mc.tests_per_person_se
        missed = 1 - design.sensitivity(p, dilution)
        se = math.sqrt(missed * (1 - missed) / mc.positives) + 1e-9
        assert abs(mc.missed / mc.positives - missed) < 4 * se + 1e-12
        assert mc.false_positives == 0
        if dilution is None:
            assert mc.missed == 0 and mc.inconclusive == 0


# --- The advisor ---------------------------------------------------------------------------------------------


def brute_force_chains(limit: int, rounds: int, allowed: set[int] | None) -> list[tuple[int, ...]]:
    """Every individual, Dorfman and nested chain within the limits, written out plainly."""
    ok = lambda m: m == 1 or allowed is None or m in allowed  # noqa: E731
    out = [(1,)]

    def extend(chain: tuple[int, ...]) -> None:
        for d in range(1, chain[-1]):
            if chain[-1] % d == 0 and ok(d) and len(chain) < rounds:
                if d == 1:
                    out.append((*chain, 1))
                else:
                    extend((*chain, d))

    for n1 in range(2, limit + 1):
        if ok(n1):
            extend((n1,))
    return out


@settings(max_examples=100, deadline=None)
@given(
    p=st.floats(0.0005, 0.35),
    limit=st.integers(1, 48),
    rounds=st.integers(1, 5),
    missed=st.one_of(st.none(), st.floats(0.0, 0.4)),
    allowed=st.one_of(st.none(), st.sets(st.integers(2, 48), min_size=1, max_size=8)),
    steep=st.booleans(),
)
def test_advisor_is_never_worse_than_brute_force(
    p: float, limit: int, rounds: int, missed: float | None, allowed: set[int] | None, steep: bool
) -> None:
    dilution = STEEP if steep else D
    rec = advise(
        p, max_pool_size=limit, max_rounds=rounds, dilution=dilution, max_missed_share=missed,
        allowed_pool_sizes=allowed,
    )  # fmt: skip
    candidates = [chain_design(c) for c in brute_force_chains(limit, rounds, allowed)]
    feasible = [d for d in candidates if missed is None or d.missed_share(p, dilution) <= missed + 1e-12]
    best = min(d.expected_tests(p) for d in feasible)
    chosen = rec.design
    assert rec.tests_per_person <= best * (1 + 1e-9)
    assert chosen.expected_tests(p) == pytest.approx(rec.tests_per_person)
    assert chosen.rounds <= rounds or isinstance(chosen, Individual)
    assert chosen.max_pool_size <= limit
    assert all(m == 1 or allowed is None or m in allowed for m in chosen.pool_sizes)
    if missed is not None:
        assert chosen.missed_share(p, dilution) <= missed + 1e-9
    assert all(
        rec.tests_per_person <= a.tests_per_person * (1 + 1e-9) for a in rec.alternatives if a.feasible
    )


@settings(max_examples=100, deadline=None)
@given(p=st.floats(0.0005, 0.4), data=st.data())
def test_pruning_lemmas(p: float, data: Any) -> None:
    """The two facts the search relies on: dropping a level that the search skips costs no more and finds at
    least as many positives."""
    q = 1 - p
    chain = [1]
    for _ in range(data.draw(st.integers(2, 4))):
        chain.append(chain[-1] * data.draw(st.integers(2, 5)))
    chain_t = tuple(reversed(chain))
    long = chain_design(chain_t)
    n1, n2 = chain_t[0], chain_t[1]
    first_useless = n2 >= n1 * q**n1
    for i in range(1, len(chain_t) - 1):
        a, b, c = chain_t[i - 1], chain_t[i], chain_t[i + 1]
        if (1 - q**b) >= (1 - q**a) * (1 - c / b):
            short = chain_design(chain_t[:i] + chain_t[i + 1 :])
            assert short.expected_tests(p) <= long.expected_tests(p) * (1 + 1e-12)
            assert short.sensitivity(p, D) >= long.sensitivity(p, D) - 1e-12
    if first_useless:
        short = chain_design(chain_t[1:])
        assert short.expected_tests(p) <= long.expected_tests(p) * (1 + 1e-12)
        assert short.sensitivity(p, D) >= long.sensitivity(p, D) - 1e-12
    bound = useful_pool_bound(p)
    assert all(m * q**m <= 1 + 1e-12 for m in range(bound, bound + 200))


@given(p=st.floats(0.0005, 0.3), n1=st.integers(2, 2000))
@settings(max_examples=100, deadline=None)
def test_first_pools_beyond_the_bound_never_pay(p: float, n1: int) -> None:
    assume(n1 >= useful_pool_bound(p))
    for d in (1, *(x for x in range(2, min(n1, 50)) if n1 % x == 0)):
        long = chain_design((n1, d, 1) if d > 1 else (n1, 1))
        short = chain_design((d, 1) if d > 1 else (1,))
        assert short.expected_tests(p) <= long.expected_tests(p) * (1 + 1e-12)


@pytest.mark.parametrize("p", [0.001, 0.005, 0.01, 0.02])
def test_targets(p: float) -> None:
    free = advise(p, max_rounds=7, dilution=None)
    assert free.tests_per_person <= 1.6 * entropy_bound(p)
    assert free.ratio_to_entropy == pytest.approx(free.tests_per_person / entropy_bound(p))
    tight = advise(p, max_rounds=3, max_pool_size=20, dilution=None)
    assert tight.tests_per_person <= 0.8 * Dorfman(10).expected_tests(p)


def test_advisor_report() -> None:
    rec = advise(0.005, max_pool_size=20, max_rounds=3, population=2_000_000, lab_capacity_tests=150_000)
    assert rec.design == Nested((20, 4, 1))
    assert rec.expected_tests == pytest.approx(rec.tests_per_person * 2_000_000)
    assert rec.within_capacity is False and any("capacity" in n for n in rec.notes)
    assert rec.expected_missed == pytest.approx(rec.missed_per_10000 * 200)
    labels = [a.design.label for a in rec.alternatives]
    assert "10-in-1" in labels and "individual" in labels
    assert [a.tests_per_person for a in rec.alternatives if a.feasible] == sorted(
        a.tests_per_person for a in rec.alternatives if a.feasible
    )
    assert advise(0.005, max_pool_size=20, population=2_000_000, lab_capacity_tests=250_000).within_capacity

    validated = advise(0.01, allowed_pool_sizes=VALIDATED_POOL_SIZES, max_rounds=3)
    assert set(validated.design.pool_sizes) <= set(VALIDATED_POOL_SIZES)
    strict = advise(0.01, max_pool_size=20, max_missed_share=0.05)
    assert strict.choice.missed_share <= 0.05
    assert isinstance(advise(0.45, dilution=None).design, Individual)
    assert advise(0.001, max_rounds=7, dilution=None, population=300).design.block_size <= 300
    assert isinstance(advise(0.01, max_rounds=1).design, Individual)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prevalence": 0.0}, "prevalence must be a share strictly between 0 and 1"),
        ({"prevalence": 1.0}, "prevalence"),
        ({"prevalence": -0.01}, "prevalence"),
        ({"prevalence": math.nan}, "prevalence"),
        ({"prevalence": "0.01"}, "prevalence"),
        ({"prevalence": 0.01, "max_pool_size": 0}, "max_pool_size must be a whole number of at least 1"),
        ({"prevalence": 0.01, "max_pool_size": 2.5}, "max_pool_size"),
        ({"prevalence": 0.01, "max_rounds": 0}, "max_rounds must be a whole number of at least 1"),
        ({"prevalence": 0.01, "lab_capacity_tests": 100}, "lab_capacity_tests needs population"),
        ({"prevalence": 0.01, "population": 0}, "population"),
        ({"prevalence": 0.01, "max_missed_share": 1.0}, "max_missed_share"),
        ({"prevalence": 0.01, "allowed_pool_sizes": [10, 0]}, "allowed pool size"),
    ],
)
def test_advisor_refuses_bad_inputs(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        advise(**kwargs)


@settings(max_examples=60, deadline=None)
@given(
    p=st.floats(0.0005, 0.3),
    limit=st.integers(2, 60),
    population=st.one_of(st.none(), st.integers(4, 400)),
    missed=st.one_of(st.none(), st.floats(0.0, 0.3)),
)
def test_best_grids_equal_brute_force(
    p: float, limit: int, population: int | None, missed: float | None
) -> None:
    """The pruned searches for the cheapest array and hypercube find what trying every shape finds."""
    from cordon.engine.pooling.advisor import _best_array, _best_hypercube, _check

    _, lim = _check(p, limit, 3, None, population, D, missed, None)

    def fits(design: Design) -> bool:
        return (
            all(m == 1 or m <= lim.cap for m in design.pool_sizes)
            and (population is None or design.block_size <= population)
            and (missed is None or design.missed_share(p, D) <= missed + 1e-12)
        )

    arrays = [Array(r, c) for r in range(2, lim.cap + 1) for c in range(r, lim.cap + 1)]
    arrays = [a for a in arrays if fits(a)]
    got = _best_array(lim)
    if not arrays:
        assert got is None
    else:
        assert got is not None and fits(Array(*got))
        best = min(a.expected_tests(p) for a in arrays)
        assert Array(*got).expected_tests(p) == pytest.approx(best, rel=1e-9)
    cubes = [Hypercube(s, d) for d in range(3, 12) for s in range(2, lim.cap + 1) if s ** (d - 1) <= lim.cap]
    cubes = [c for c in cubes if fits(c)]
    found = _best_hypercube(lim)
    if not cubes:
        assert found is None
    else:
        assert found is not None and fits(Hypercube(*found))
        assert Hypercube(*found).expected_tests(p) == pytest.approx(
            min(c.expected_tests(p) for c in cubes), rel=1e-9
        )


def test_the_default_ct_distribution_is_its_source() -> None:
    """The quartiles of the first positive Ct in the cited study (Emerging Infectious Diseases 27(1), table 2:
    median 27.2, IQR 22.2-32.4) and the laboratory's limit of detection, Ct 40."""
    assert [DEFAULT_DILUTION.cdf(ct) for ct in (22.2, 27.2, 32.4)] == pytest.approx([0.25, 0.5, 0.75])
    assert DEFAULT_DILUTION.limit_ct == 40.0 and DEFAULT_DILUTION.cdf(40.0) == 1.0
    # A 10-in-1 pool shifts Ct by log2(10) cycles at 100% efficiency.
    assert DEFAULT_DILUTION.threshold(10) == pytest.approx(40.0 - math.log2(10))


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        ({"ct_quantiles": ((0.0, 20.0),)}, "ct_quantiles needs at least two (share, Ct) knots"),
        (
            {"ct_quantiles": ((0.1, 20.0), (1.0, 30.0))},
            "ct_quantiles must start at share 0 and end at share 1",
        ),
        (
            {"ct_quantiles": ((0.0, 20.0), (0.9, 30.0))},
            "ct_quantiles must start at share 0 and end at share 1",
        ),
        (
            {"ct_quantiles": ((0.0, 20.0), (0.5, 25.0), (0.5, 26.0), (1.0, 30.0))},
            "the shares of ct_quantiles must increase",
        ),
        (
            {"ct_quantiles": ((0.0, 20.0), (0.5, 25.0), (1.0, 25.0))},
            "the Ct values of ct_quantiles must be finite and increase",
        ),
        ({"ct_quantiles": ((0.0, 20.0), (1.0, math.inf))}, "the Ct values of ct_quantiles must be finite"),
        (
            {"ct_quantiles": ((0.0, 20.0), (1.0, 40.5))},
            "the largest Ct of ct_quantiles must not exceed limit_ct",
        ),
        ({"limit_ct": math.nan}, "limit_ct must be a finite Ct value"),
        ({"cycles_per_doubling": -1.0}, "cycles_per_doubling must be a positive number"),
        ({"cycles_per_doubling": math.inf}, "cycles_per_doubling must be a positive number"),
    ],
)
def test_a_dilution_model_is_refused_with_its_problem(model: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError) as err:
        DilutionModel(**model)
    assert problem in str(err.value)


def test_a_two_knot_dilution_model_is_a_straight_line() -> None:
    line = DilutionModel(limit_ct=30.0, ct_quantiles=((0.0, 20.0), (1.0, 30.0)), cycles_per_doubling=2.0)
    assert [line.cdf(ct) for ct in (19.9, 20.0, 22.5, 25.0, 29.99, 30.0, 31.0)] == pytest.approx(
        [0.0, 0.0, 0.25, 0.5, 0.999, 1.0, 1.0]
    )
    assert (
        line.shift(4) == 4.0 and line.threshold(4) == 26.0 and line.pool_sensitivity(4) == pytest.approx(0.6)
    )
    assert line.pool_sensitivity(1) == 1.0
    draws = line.draw(np.random.default_rng(2), 40_000)
    assert draws.min() >= 20.0 and draws.max() <= 30.0
    assert np.quantile(draws, [0.25, 0.5, 0.75]) == pytest.approx([22.5, 25.0, 27.5], abs=0.1)
    assert line == DilutionModel(
        limit_ct=30.0, ct_quantiles=((0.0, 20.0), (1.0, 30.0)), cycles_per_doubling=2.0
    )
    assert line != DilutionModel(
        limit_ct=30.0, ct_quantiles=((0.0, 21.0), (1.0, 30.0)), cycles_per_doubling=2.0
    )


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.001, 0.3), missed=st.floats(0.001, 0.3), steep=st.booleans())
def test_searchable_sizes_are_those_whose_dorfman_finds_enough(p: float, missed: float, steep: bool) -> None:
    """A pool of m on a positive's path is detected as in Dorfman(m), so a size is worth searching exactly when
    Dorfman(m) misses no more than allowed."""
    from cordon.engine.pooling.advisor import _check, _searchable

    dilution = STEEP if steep else D
    _, lim = _check(p, 64, 3, None, None, dilution, missed, None)
    ok = _searchable(lim)
    assert not ok[0] and ok[1]
    for m in range(2, lim.cap + 1):
        sens = Dorfman(m).sensitivity(p, dilution)
        if abs(sens - (1 - missed)) > 1e-6:  # not at the edge, where the filter leaves slack
            assert bool(ok[m]) == (sens >= 1 - missed), m
    allowed = _check(p, 64, 3, None, None, dilution, None, [5, 10])[1]
    assert np.flatnonzero(_searchable(allowed)).tolist() == [m for m in (1, 5, 10) if m <= allowed.cap]
