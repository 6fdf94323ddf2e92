"""The pool-design advisor: the design that needs the fewest expected tests within the limits.

Designs are ranked by expected tests per person with perfect tests: the load the labs must be ready for (under
dilution some positive pools go undetected and are not followed up, which lowers the load a little and is
what ``max_missed_share`` limits). Ties go to fewer rounds, then smaller pools.

The search is exhaustive over hierarchical designs (individual, Dorfman, nested chains of divisors) up to the
limits. Without a pool-size limit, first-stage pools stop at ``useful_pool_bound(p)``: for a first pool of
``n1 >= that bound`` (where ``n1 * (1-p)**n1 <= 1``), dropping the first stage gives a design that costs no
more (``1/n1 - (1-p)**n1 / n2 >= 0``), uses one round less and finds at least as many positives. Nested
chains are found by branch and bound: the lower bound of a partial chain is its cost so far plus the exact
cheapest completion with perfect tests (a dynamic programme over divisors, computed once), and a partial
chain is dropped when even ending it with individual tests misses too many positives (each further stage
only adds a pool that must be detected). Arrays (rows <= cols) and hypercubes (3 or more dimensions) with
slices up to the same bound are enumerated with cost bounds.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .designs import (
    Array,
    Design,
    Dorfman,
    Hypercube,
    Individual,
    Nested,
    chain_sensitivity,
    entropy_bound,
)
from .dilution import DEFAULT_DILUTION, DilutionModel

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

MAX_SEARCH_POOL_SIZE = 100_000
_REL_TIE = 1e-12


@dataclass(frozen=True)
class Assessment:
    """One design under the advisor's inputs."""

    design: Design
    tests_per_person: float  # perfect tests: the load to plan for
    tests_per_person_with_dilution: float  # under the dilution model (equal without one)
    rounds: int
    max_pool_size: int
    sensitivity: float  # share of positives found
    missed_per_10000: float  # positives missed per 10,000 people screened
    feasible: bool  # within every limit (rounds, pool sizes, missed share)
    note: str

    @property
    def missed_share(self) -> float:
        return 1.0 - self.sensitivity


@dataclass(frozen=True)
class Recommendation:
    prevalence: float
    choice: Assessment
    alternatives: tuple[Assessment, ...]  # the best of each family and the validated N-in-1, cheapest first
    entropy_bound: float  # H(p): no design needs fewer expected tests per person
    population: int | None
    expected_tests: float | None  # for the population
    expected_missed: float | None  # positives missed in the population
    within_capacity: bool | None  # None without a capacity
    notes: tuple[str, ...]

    @property
    def design(self) -> Design:
        return self.choice.design

    @property
    def tests_per_person(self) -> float:
        return self.choice.tests_per_person

    @property
    def rounds(self) -> int:
        return self.choice.rounds

    @property
    def missed_per_10000(self) -> float:
        return self.choice.missed_per_10000

    @property
    def ratio_to_entropy(self) -> float:
        return self.choice.tests_per_person / self.entropy_bound


MIN_PREVALENCE = 1e-12  # one in a million million: below it, no pool design changes


def useful_pool_bound(prevalence: float) -> int:
    """The smallest ``n`` from which ``m * (1-p)**m <= 1`` for every ``m >= n``: first-stage pools of that size
    or more never pay (see the module docstring)."""
    p = prevalence
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 < p < 1.0:
        raise ValueError(f"prevalence must be a share strictly between 0 and 1 (got {p!r})")
    if p < MIN_PREVALENCE:  # 1 - p is then 1 to within rounding, and the bound past any number
        raise ValueError(f"prevalence must be at least {MIN_PREVALENCE:g} to plan pools for (got {p!r})")
    log_q = math.log1p(-p)

    def f(m: int) -> float:
        return math.log(m) + m * log_q  # log(m (1-p)**m): rises to a peak, then falls

    peak = -1.0 / log_q
    lo = max((max(1, math.floor(peak)), math.ceil(peak)), key=f)  # the integer peak
    if f(lo) <= 0.0:
        return 2  # m (1-p)**m <= 1 everywhere: no pool pays (p above about 0.37)
    hi = lo * 2
    while f(hi) > 0.0:
        hi *= 2
    while hi - lo > 1:  # f(lo) > 0 >= f(hi)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if f(mid) > 0.0 else (lo, mid)
    return hi


@dataclass(frozen=True)
class _Limits:
    p: float
    limit: int  # largest pool allowed (max_pool_size, population)
    cap: int  # largest pool searched (the limit, or less where larger pools cannot pay)
    max_rounds: int
    allowed: frozenset[int] | None
    dilution: DilutionModel | None
    min_sensitivity: float | None
    max_block: int | None  # population: a grid block is not larger

    def size_ok(self, m: int) -> bool:
        # Individual tests (m = 1) always pass: the limit is at least 1 and ``allowed`` always holds 1.
        return m <= self.limit and (self.allowed is None or m in self.allowed)

    def sensitive_enough(self, sens: float) -> bool:
        return self.min_sensitivity is None or sens >= self.min_sensitivity - 1e-12


def advise(
    prevalence: float,
    *,
    max_pool_size: int | None = None,
    max_rounds: int = 3,
    lab_capacity_tests: int | None = None,
    population: int | None = None,
    dilution: DilutionModel | None = DEFAULT_DILUTION,
    max_missed_share: float | None = None,
    allowed_pool_sizes: Collection[int] | None = None,
) -> Recommendation:
    """Recommend a pool design.

    ``prevalence`` is the expected share of positives (0.005 for 0.5%). ``max_pool_size`` limits every pool
    (``None``: no limit); ``max_rounds`` the lab rounds; ``allowed_pool_sizes`` the pool sizes a lab has
    validated (e.g. :data:`~.designs.VALIDATED_POOL_SIZES`; individual tests are always allowed).
    ``dilution`` (``None`` for perfect tests) gives the missed positives, and ``max_missed_share`` the largest
    share of positives a design may miss under it. ``population`` (people to screen) turns rates into counts
    and keeps pools no larger than it; ``lab_capacity_tests`` is the tests the labs can run for this
    screening, checked against the expected tests. Raises ``ValueError`` with a readable message for inputs
    out of range.
    """
    p, limits = _check(
        prevalence,
        max_pool_size,
        max_rounds,
        lab_capacity_tests,
        population,
        dilution,
        max_missed_share,
        allowed_pool_sizes,
    )
    assessed = _candidates(limits)
    feasible = [a for a in assessed if a.feasible]
    choice = min(feasible, key=_rank)
    alternatives = tuple(sorted((a for a in assessed if a is not choice), key=_rank))
    notes = _notes(choice, dilution, max_missed_share)
    expected_tests = expected_missed = None
    within: bool | None = None
    if population is not None:
        expected_tests = choice.tests_per_person * population
        expected_missed = choice.missed_per_10000 * population / 10_000
        if lab_capacity_tests is not None:
            within = expected_tests <= lab_capacity_tests
            if not within:
                notes.append(
                    f"It needs about {expected_tests:,.0f} tests, more than the capacity of "
                    f"{lab_capacity_tests:,}: allow more rounds or larger pools, or spread the screening."
                )
    return Recommendation(
        prevalence=p,
        choice=choice,
        alternatives=alternatives,
        entropy_bound=entropy_bound(p),
        population=population,
        expected_tests=expected_tests,
        expected_missed=expected_missed,
        within_capacity=within,
        notes=tuple(notes),
    )


def _candidates(limits: _Limits) -> list[Assessment]:
    """The best design of each family within the limits, and the validated Dorfman designs, assessed."""
    families: list[tuple[str, Design]] = [("individual testing", Individual())]
    if (n := _best_dorfman(limits)) is not None:
        families.append(("the best Dorfman N-in-1", Dorfman(n)))
    if (chain := _best_chain(limits)) is not None and len(chain) > 2:
        families.append(("the best nested design", Nested(chain)))
    if (rc := _best_array(limits)) is not None:
        families.append(("the best array", Array(*rc)))
    if (sd := _best_hypercube(limits)) is not None:
        families.append(("the best hypercube", Hypercube(*sd)))
    assessed = [_assess(d, limits, f"{what} within the limits") for what, d in families]
    for n in (5, 10, 20):
        standard = Dorfman(n)
        if all(a.design != standard for a in assessed):
            assessed.append(_assess(standard, limits, "validated in practice"))
    return assessed


def _notes(choice: Assessment, dilution: DilutionModel | None, max_missed_share: float | None) -> list[str]:
    """What to tell about the chosen design: when pooling does not pay, and what it misses under dilution."""
    notes: list[str] = []
    if isinstance(choice.design, Individual):
        notes.append(
            "No pooled design within the limits needs fewer tests than testing everyone alone"
            + (" while missing no more positives than allowed." if max_missed_share is not None else ".")
        )
    elif choice.tests_per_person > 0.8:
        notes.append("Pooling saves little at this prevalence (it pays at low prevalence).")
    if dilution is not None:
        notes.append(
            f"Under the dilution model it misses about {1000 * choice.missed_share:.0f} of every 1,000 "
            f"positives ({choice.missed_per_10000:.2f} per 10,000 people screened); re-test each positive "
            "sample before it becomes a case."
        )
    return notes


def _rank(a: Assessment) -> tuple[float, int, int, str]:
    return (_rounded(a.tests_per_person), a.rounds, a.max_pool_size, a.design.label)


def _rounded(x: float) -> float:
    return float(f"{x:.11e}")  # equal costs computed along different paths compare equal


def _assess(design: Design, limits: _Limits, note: str) -> Assessment:
    p, dil = limits.p, limits.dilution
    sens = design.sensitivity(p, dil)
    fits = isinstance(design, Individual) or (
        design.rounds <= limits.max_rounds
        and all(limits.size_ok(m) for m in design.pool_sizes)
        and (limits.max_block is None or design.block_size <= limits.max_block)
    )
    feasible = fits and limits.sensitive_enough(sens)
    if not fits:
        note += "; outside the limits"
    elif not feasible:
        note += "; misses more positives than allowed"
    return Assessment(
        design=design,
        tests_per_person=design.expected_tests(p),
        tests_per_person_with_dilution=design.expected_tests(p, dil),
        rounds=design.rounds,
        max_pool_size=design.max_pool_size,
        sensitivity=sens,
        missed_per_10000=10_000 * p * (1.0 - sens),
        feasible=feasible,
        note=note,
    )


def _check(
    prevalence: float,
    max_pool_size: int | None,
    max_rounds: int,
    lab_capacity_tests: int | None,
    population: int | None,
    dilution: DilutionModel | None,
    max_missed_share: float | None,
    allowed_pool_sizes: Collection[int] | None,
) -> tuple[float, _Limits]:
    problems: list[str] = []

    def whole(name: str, value: object, minimum: int) -> bool:
        if value is None:
            return True
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            problems.append(f"{name} must be a whole number of at least {minimum} (got {value!r})")
            return False
        return True

    if not (
        isinstance(prevalence, int | float)
        and not isinstance(prevalence, bool)
        and math.isfinite(prevalence)
        and 0.0 < prevalence < 1.0
    ):
        problems.append(
            f"prevalence must be a share strictly between 0 and 1, e.g. 0.005 for 0.5% (got {prevalence!r})"
        )
    whole("max_pool_size", max_pool_size, 1)
    if max_rounds is None:
        problems.append("max_rounds must be a whole number of at least 1 (got None)")
    whole("max_rounds", max_rounds, 1)
    whole("lab_capacity_tests", lab_capacity_tests, 1)
    whole("population", population, 1)
    if lab_capacity_tests is not None and population is None:
        problems.append("lab_capacity_tests needs population (the number of people to screen)")
    if max_missed_share is not None and not (
        isinstance(max_missed_share, int | float)
        and not isinstance(max_missed_share, bool)
        and 0.0 <= max_missed_share < 1.0
    ):
        problems.append(
            f"max_missed_share must be a share from 0 up to (not including) 1 (got {max_missed_share!r})"
        )
    if dilution is not None and not isinstance(dilution, DilutionModel):
        problems.append("dilution must be a DilutionModel or None (perfect tests)")
    allowed: frozenset[int] | None = None
    if allowed_pool_sizes is not None:
        sizes = list(allowed_pool_sizes)
        if all(whole("every allowed pool size", m, 1) for m in sizes):
            allowed = frozenset(sizes) | {1}
    if problems:
        raise ValueError("; ".join(problems))
    p = float(prevalence)
    limit = min(x for x in (max_pool_size, population, MAX_SEARCH_POOL_SIZE) if x is not None)
    cap = min(limit, useful_pool_bound(p), max(allowed) if allowed else limit)
    min_sens = 1.0 - max_missed_share if max_missed_share is not None and dilution is not None else None
    return p, _Limits(p, limit, cap, max_rounds, allowed, dilution, min_sens, population)


# --- Hierarchical designs -----------------------------------------------------------------------------------


def _searchable(lim: _Limits) -> npt.NDArray[np.bool_]:
    """Pool sizes 0..cap that a feasible design may use anywhere.

    A positive is found only if every pool on its path is detected, and its pool of size m is detected exactly
    as in Dorfman(m) (it or one of the m-1 others is strong enough), so a design using m finds at most the
    share that Dorfman(m) finds.
    """
    m = np.arange(lim.cap + 1)
    ok = np.zeros(lim.cap + 1, dtype=bool)
    ok[1:] = True
    if lim.allowed is not None:
        ok &= np.isin(m, sorted(lim.allowed))
    if lim.min_sensitivity is not None and lim.dilution is not None:
        dil = lim.dilution
        shares = np.array([x for x, _ in dil.ct_quantiles])
        cts = np.array([c for _, c in dil.ct_quantiles])
        thr = dil.limit_ct - dil.cycles_per_doubling * np.log2(np.maximum(m, 1))
        f = np.interp(thr, cts, shares, left=0.0, right=1.0)
        sens = f + (1 - f) * -np.expm1(np.maximum(m - 1, 0) * np.log1p(-lim.p * f))
        ok &= sens >= lim.min_sensitivity - 1e-9  # a little slack: this is only a filter
    ok[1] = True
    return ok


class _Completion:
    """Cheapest completion of a chain with perfect tests: ``best[k][m]`` for a tested pool of ``m`` and at most
    ``k`` further stages (the last of them individual tests), over sub-pool sizes that are searchable."""

    def __init__(self, lim: _Limits, ok: npt.NDArray[np.bool_], stages: int) -> None:
        cap = lim.cap
        self.positive = -np.expm1(np.arange(cap + 1) * math.log1p(-lim.p))  # 1 - (1-p)**m
        ms: list[I64] = []
        ds: list[I64] = []
        for d in np.flatnonzero(ok[: cap // 2 + 1]):
            m = np.arange(2 * d, cap + 1, d, dtype=np.int64)
            m = m[ok[m]]
            ms.append(m)
            ds.append(np.full(len(m), d, dtype=np.int64))
        m_all = np.concatenate(ms) if ms else np.zeros(0, np.int64)
        d_all = np.concatenate(ds) if ds else np.zeros(0, np.int64)
        step = self.positive[m_all] / d_all
        start = np.full(cap + 1, np.inf)
        start[1] = 0.0
        self.best: list[F64] = [start]
        for _ in range(stages):
            g = np.full(cap + 1, np.inf)
            g[1] = 0.0
            np.minimum.at(g, m_all, step + self.best[-1][d_all])
            self.best.append(g)

    def bound(self, m: int, k: int) -> float:
        return float(self.best[min(k, len(self.best) - 1)][m])


def _divisors(m: int, ok: npt.NDArray[np.bool_]) -> list[int]:
    out: set[int] = set()
    for d in range(1, math.isqrt(m) + 1):
        if m % d == 0:
            out.update(x for x in (d, m // d) if x < m and ok[x])
    return sorted(out)


def _best_chain(lim: _Limits) -> tuple[int, ...] | None:
    """The cheapest feasible hierarchical chain of two or more stages, by branch and bound."""
    stages = min(lim.max_rounds, lim.cap.bit_length() + 1)
    if stages < 2 or lim.cap < 2:
        return None
    ok = _searchable(lim)
    table = _Completion(lim, ok, stages - 1)
    q = 1.0 - lim.p
    best: list[tuple[tuple[float, int, int], tuple[int, ...]]] = []

    def good(bound: float) -> bool:
        return not best or bound <= best[0][0][0] * (1 + _REL_TIE)

    def offer(cost: float, chain: tuple[int, ...]) -> None:
        key = (_rounded(cost), len(chain), chain[0])
        if not best or key < best[0][0]:
            best[:] = [(key, chain)]

    def useless(chain: tuple[int, ...], d: int) -> bool:
        # Dropping the last level b (parent a, child d) costs no more, takes a round less and finds at least
        # as many positives: (1-q**b) >= (1-q**a) (1 - d/b); for a first level: d >= b q**b.
        *outer, b = chain
        if not outer:
            return d >= b * q**b
        return bool(table.positive[b] >= table.positive[outer[-1]] * (1 - d / b))

    def grow(chain: tuple[int, ...], cost: float) -> None:
        if not lim.sensitive_enough(chain_sensitivity((*chain, 1), lim.p, lim.dilution)):
            return  # every completion misses at least as many
        last, left = chain[-1], stages - len(chain)
        options = []
        for d in _divisors(last, ok):
            if (d > 1 and left < 2) or useless(chain, d):
                continue
            c = cost + float(table.positive[last]) / d
            options.append((c + table.bound(d, left - 1), c, d))
        for bound, c, d in sorted(options):
            if not good(bound):
                break
            if d == 1:
                offer(c, (*chain, 1))
            else:
                grow((*chain, d), c)

    firsts = np.flatnonzero(ok)
    firsts = firsts[firsts >= 2]
    lower = 1.0 / firsts + table.best[stages - 1][firsts]
    for i in np.argsort(lower, kind="stable"):
        if not good(float(lower[i])):
            break
        n1 = int(firsts[i])
        grow((n1,), 1.0 / n1)
    return best[0][1] if best else None


def _best_dorfman(lim: _Limits) -> int | None:
    """The cheapest feasible N-in-1 (the whole family, for the alternatives)."""
    if lim.max_rounds < 2 or lim.cap < 2:
        return None
    n = np.flatnonzero(_searchable(lim))
    n = n[n >= 2]
    cost = 1.0 / n - np.expm1(n * math.log1p(-lim.p))
    for i in np.lexsort((n, np.array([_rounded(c) for c in cost]))):
        size = int(n[i])
        if lim.sensitive_enough(chain_sensitivity((size, 1), lim.p, lim.dilution)):
            return size
    return None


# --- Grid designs ---------------------------------------------------------------------------------------


def _best_array(lim: _Limits) -> tuple[int, int] | None:
    """The cheapest feasible rows x cols array (rows <= cols), with perfect-test cost bounds."""
    if lim.max_rounds < 2 or lim.cap < 2:
        return None
    p, q = lim.p, 1.0 - lim.p
    log_q = math.log1p(-p)
    ok = _searchable(lim)
    best: tuple[float, int, int] | None = None
    for r in range(2, lim.cap + 1):
        row_part = 1 - q ** (r - 1)
        c_lo, c_hi = r, lim.cap
        if best is not None:
            if p + q * row_part**2 > best[0]:
                break  # every array with rows >= r (and cols >= rows) costs more
            if 1.0 / r + p >= best[0]:
                continue
            # cost >= 1/r + 1/c + p and >= 1/r + p + q (1 - q**(c-1)) row_part: both must stay under the best
            c_lo = max(c_lo, math.floor(1.0 / (best[0] - 1.0 / r - p)))
            need = (best[0] - 1.0 / r - p) / (q * row_part)
            if need < 1.0:
                c_hi = min(c_hi, 2 + math.floor(math.log1p(-need) / log_q))
        if not ok[r] or c_lo > c_hi:
            continue
        c = np.arange(c_lo, c_hi + 1)
        c = c[ok[c]]
        if lim.max_block is not None:
            c = c[r * c <= lim.max_block]
        if lim.min_sensitivity is not None and lim.dilution is not None and len(c):
            c = c[_array_sensitivity(r, c, p, lim.dilution) >= lim.min_sensitivity - 1e-12]
        if not len(c):
            continue
        cost = 1.0 / r + 1.0 / c + p + q * (-np.expm1((c - 1) * log_q)) * row_part
        i = int(np.argmin(cost))
        if best is None or _rounded(float(cost[i])) < _rounded(best[0]):
            best = (float(cost[i]), r, int(c[i]))
    return (best[1], best[2]) if best else None


def _array_sensitivity(r: int, c: I64, p: float, dil: DilutionModel) -> F64:
    """:meth:`Array.sensitivity` of ``Array(r, c)`` for many ``c`` at once."""
    shares = np.array([x for x, _ in dil.ct_quantiles])
    cts = np.array([x for _, x in dil.ct_quantiles])
    row_t = dil.limit_ct - dil.cycles_per_doubling * np.log2(c)
    col_t = dil.threshold(r)
    f_row = np.interp(row_t, cts, shares, left=0.0, right=1.0)
    f_col = dil.cdf(col_t)
    row_help = -np.expm1((c - 1) * np.log1p(-p * f_row))
    col_help = 1.0 - (1.0 - p * f_col) ** (r - 1)
    f_lo, f_hi = np.minimum(f_row, f_col), np.maximum(f_row, f_col)
    weaker = np.where(row_t < col_t, row_help, col_help)
    out: F64 = f_lo + (f_hi - f_lo) * weaker + (1.0 - f_hi) * row_help * col_help
    return out


def _best_hypercube(lim: _Limits) -> tuple[int, int] | None:
    """The cheapest feasible hypercube of three or more dimensions with slices up to the cap."""
    if lim.max_rounds < 2:
        return None
    found: list[tuple[float, int, int]] = []
    d = 3
    while 2 ** (d - 1) <= lim.cap:
        s = 2
        while s ** (d - 1) <= lim.cap:
            cube = Hypercube(s, d)
            if (
                lim.size_ok(s ** (d - 1))
                and (lim.max_block is None or cube.block_size <= lim.max_block)
                and lim.sensitive_enough(cube.sensitivity(lim.p, lim.dilution))
            ):
                found.append((_rounded(cube.expected_tests(lim.p)), s, d))
            s += 1
        d += 1
    if not found:
        return None
    _, s, d = min(found)
    return s, d
