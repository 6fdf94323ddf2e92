"""Pool designs and their exact expectations under independent prevalence ``p``.

Hierarchical designs (:class:`Individual`, :class:`Dorfman`, :class:`Nested`) are a chain of pool sizes
``m_1 > m_2 > ... > 1``: a pool of ``m_1`` is tested; a positive pool is split into sub-pools of ``m_2``, and so
on down to individual tests. With perfect tests a pool at level ``i`` is tested when its parent (level ``i-1``)
is positive, so the expected tests per person are

    1/m_1 + sum over i >= 2 of (1 - (1-p)**m_(i-1)) / m_i

(Dorfman: ``1/n + 1 - (1-p)**n``). Grid designs (:class:`Array`, :class:`Hypercube`) lay a block of samples on
a grid of shape ``(a_1, ..., a_D)`` and pool every slice (all samples sharing one coordinate): ``sum(a_d)`` pools
for ``N = prod(a_d)`` samples. The samples all of whose slices are positive are then tested one by one. A
sample's slices meet only in that sample, so with slice sizes ``N/a_d`` the expected tests per person are

    sum(a_d)/N + p + (1-p) * prod over d of (1 - (1-p)**(N/a_d - 1)).

Under a :class:`~.dilution.DilutionModel` a pool of ``m`` is detected when it holds a positive with
``Ct <= threshold(m)``; the same expectations are computed exactly by conditioning on the Ct band of each sample
(:func:`_all_detected`), and so is the sensitivity: the share of positives that end decoded positive.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

from .dilution import DilutionModel

# Pool sizes validated in practice for nucleic-acid screening (1 = a single-sample tube).
VALIDATED_POOL_SIZES: tuple[int, ...] = (1, 5, 10, 20)


def entropy_bound(prevalence: float) -> float:
    """H(p) in bits: no design using tests with a yes/no answer needs fewer expected tests per person."""
    p = _share(prevalence)
    if p in (0.0, 1.0):
        return 0.0
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def _whole(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum} (got {value!r})")
    return value


class _Hierarchical:
    """Shared behaviour of designs that are a chain of pool sizes ending in individual tests."""

    @property
    def levels(self) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def rounds(self) -> int:
        """Lab rounds (stages) when every stage finds a positive."""
        return len(self.levels)

    @property
    def max_pool_size(self) -> int:
        return self.levels[0]

    @property
    def pool_sizes(self) -> tuple[int, ...]:
        """Every pool size the design uses, largest first (1 = an individual test)."""
        return self.levels

    @property
    def tube_size(self) -> int:
        """Samples per collection tube at the station (the first-stage pool)."""
        return self.levels[0]

    @property
    def block_size(self) -> int:
        """Samples handled together (one first-stage pool)."""
        return self.levels[0]

    def expected_tests(self, prevalence: float, dilution: DilutionModel | None = None) -> float:
        """Expected tests per person (perfect tests unless a dilution model is given)."""
        return chain_tests(self.levels, _share(prevalence), dilution)

    def sensitivity(self, prevalence: float, dilution: DilutionModel | None = None) -> float:
        """Share of positives that the design finds (1 with perfect tests)."""
        return chain_sensitivity(self.levels, _share(prevalence), dilution)

    def missed_share(self, prevalence: float, dilution: DilutionModel | None = None) -> float:
        return 1.0 - self.sensitivity(prevalence, dilution)


@dataclass(frozen=True)
class Individual(_Hierarchical):
    """Every sample tested alone: one round, one test per person."""

    @property
    def levels(self) -> tuple[int, ...]:
        return (1,)

    @property
    def label(self) -> str:
        return "individual"


@dataclass(frozen=True)
class Dorfman(_Hierarchical):
    """N-in-1: pools of ``n``; everyone in a positive pool is then tested alone (two rounds)."""

    n: int

    def __post_init__(self) -> None:
        _whole("Dorfman pool size", self.n, 2)

    @property
    def levels(self) -> tuple[int, ...]:
        return (self.n, 1)

    @property
    def label(self) -> str:
        return f"{self.n}-in-1"


@dataclass(frozen=True)
class Nested(_Hierarchical):
    """Multi-stage hierarchical pooling: ``sizes = (n1, n2, ..., 1)``, each size dividing the one before.

    A positive pool of ``n1`` is split into sub-pools of ``n2``, the positive ones into sub-pools of ``n3``,
    and so on; the last stage tests individuals. At least three stages (two stages is :class:`Dorfman`).
    """

    sizes: tuple[int, ...]

    def __post_init__(self) -> None:
        s = self.sizes
        if not isinstance(s, tuple) or len(s) < 3:
            raise ValueError(
                f"nested sizes need at least three stages ending in 1, e.g. (20, 4, 1) (got {s!r})"
            )
        for x in s:
            _whole("a nested pool size", x, 1)
        if s[-1] != 1:
            raise ValueError(f"nested sizes must end with 1, the individual tests (got {s!r})")
        if any(b >= a or a % b for a, b in itertools.pairwise(s)):
            raise ValueError(f"nested sizes must decrease, each dividing the one before (got {s!r})")

    @property
    def levels(self) -> tuple[int, ...]:
        return self.sizes

    @property
    def label(self) -> str:
        return "nested " + "-".join(map(str, self.sizes))


class _Grid:
    """Shared behaviour of designs that pool the slices of a grid, then test candidates individually."""

    @property
    def shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def block_size(self) -> int:
        return math.prod(self.shape)

    def _slice_sizes(self) -> tuple[int, ...]:
        n = self.block_size
        return tuple(n // a for a in self.shape)

    @property
    def rounds(self) -> int:
        return 2

    @property
    def max_pool_size(self) -> int:
        return max(self._slice_sizes())

    @property
    def pool_sizes(self) -> tuple[int, ...]:
        return (*sorted(set(self._slice_sizes()), reverse=True), 1)

    @property
    def tube_size(self) -> int:
        """Single-sample tubes: the lab pools portions of them and tests candidates from the same tubes."""
        return 1

    def _odds(self, p: float, dilution: DilutionModel | None) -> tuple[float, float]:
        """(probability that a positive sample is a candidate, the same for a negative sample)."""
        raise NotImplementedError

    def expected_tests(self, prevalence: float, dilution: DilutionModel | None = None) -> float:
        p = _share(prevalence)
        if_positive, if_negative = self._odds(p, dilution)
        return sum(self.shape) / self.block_size + p * if_positive + (1 - p) * if_negative

    def sensitivity(self, prevalence: float, dilution: DilutionModel | None = None) -> float:
        """Share of positives found: those all of whose slices are positive (their own test then is)."""
        return self._odds(_share(prevalence), dilution)[0]

    def missed_share(self, prevalence: float, dilution: DilutionModel | None = None) -> float:
        return 1.0 - self.sensitivity(prevalence, dilution)


@dataclass(frozen=True)
class Array(_Grid):
    """Samples on a ``rows`` x ``cols`` grid: one pool per row (``cols`` samples) and per column (``rows``
    samples); samples at a positive row and a positive column are then tested alone."""

    rows: int
    cols: int

    def __post_init__(self) -> None:
        _whole("array rows", self.rows, 2)
        _whole("array cols", self.cols, 2)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.rows, self.cols)

    @property
    def label(self) -> str:
        return f"array {self.rows}x{self.cols}"

    def _odds(self, p: float, dilution: DilutionModel | None) -> tuple[float, float]:
        # A sample's row and column meet only in it: given the sample, the two are independent.
        row_t, col_t = _threshold(self.cols, dilution), _threshold(self.rows, dilution)
        row_help = 1.0 - (1.0 - p * _cdf(row_t, dilution)) ** (self.cols - 1)
        col_help = 1.0 - (1.0 - p * _cdf(col_t, dilution)) ** (self.rows - 1)
        if dilution is None:
            return 1.0, row_help * col_help
        lo, hi = sorted((row_t, col_t))
        f_lo, f_hi = dilution.cdf(lo), dilution.cdf(hi)
        weaker_help = row_help if row_t < col_t else col_help  # the larger pool needs help first
        if_positive = f_lo + (f_hi - f_lo) * weaker_help + (1.0 - f_hi) * row_help * col_help
        return if_positive, row_help * col_help


@dataclass(frozen=True)
class Hypercube(_Grid):
    """``side**dims`` samples on a hypercube: one pool per slice (``side**(dims-1)`` samples, ``side * dims``
    pools); samples all of whose slices are positive are then tested alone (Mutesa et al., Nature 2021)."""

    side: int
    dims: int

    def __post_init__(self) -> None:
        _whole("hypercube side", self.side, 2)
        _whole("hypercube dims", self.dims, 2)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.side,) * self.dims

    @property
    def label(self) -> str:
        return f"hypercube {self.side}^{self.dims}"

    def _odds(self, p: float, dilution: DilutionModel | None) -> tuple[float, float]:
        # The slices through a sample meet in lines and planes, not only in it: inclusion-exclusion over the
        # sets J of dimensions whose slice holds no strong positive. Their union, without the sample, has
        # N - (side-1)**|J| * side**(dims-|J|) - 1 samples.
        s, d, n = self.side, self.dims, self.block_size
        t = _threshold(n // s, dilution)
        weak = 1.0 - p * _cdf(t, dilution)  # a sample is not a positive strong enough for a slice
        terms = [1.0] + [
            (-1) ** j * math.comb(d, j) * weak ** (n - (s - 1) ** j * s ** (d - j) - 1)
            for j in range(1, d + 1)
        ]
        helped = max(0.0, math.fsum(terms))
        strong_alone = _cdf(t, dilution)
        return strong_alone + (1.0 - strong_alone) * helped, helped


Design = Individual | Dorfman | Nested | Array | Hypercube


def parse_design(label: str) -> Design:
    """The design a :attr:`label` names: ``individual``, ``10-in-1``, ``nested 20-4-1``, ``array 8x12``,
    ``hypercube 3^6``."""
    text = label.strip().lower()
    if text == "individual":
        return Individual()
    if m := re.fullmatch(r"(\d+)-in-1", text):
        return Dorfman(int(m[1]))
    if m := re.fullmatch(r"nested ((?:\d+-)+\d+)", text):
        return Nested(tuple(int(x) for x in m[1].split("-")))
    if m := re.fullmatch(r"array (\d+)x(\d+)", text):
        return Array(int(m[1]), int(m[2]))
    if m := re.fullmatch(r"hypercube (\d+)\^(\d+)", text):
        return Hypercube(int(m[1]), int(m[2]))
    raise ValueError(
        f"not a pool design: {label!r} (expected individual, N-in-1, nested A-B-...-1, array RxC or hypercube S^D)"
    )


def _share(prevalence: float) -> float:
    """The prevalence as a float, refused unless a number from 0 to 1 (1.5 is not a share; nor is True)."""
    if isinstance(prevalence, bool) or not (isinstance(prevalence, int | float) and 0.0 <= prevalence <= 1.0):
        raise ValueError(f"prevalence must be a share between 0 and 1 (got {prevalence!r})")
    return float(prevalence)


def chain_tests(levels: tuple[int, ...], p: float, dilution: DilutionModel | None = None) -> float:
    """Expected tests per person of the hierarchical chain ``levels`` (e.g. ``(20, 4, 1)``)."""
    p = _share(p)
    total = 1.0 / levels[0]
    for i in range(1, len(levels)):
        total += _all_detected(levels[:i], p, dilution) / levels[i]
    return total


def chain_sensitivity(levels: tuple[int, ...], p: float, dilution: DilutionModel | None = None) -> float:
    """Share of positives found by the chain: every pool on a positive's path must be detected."""
    p = _share(p)
    if dilution is None:
        return 1.0
    pooled = levels[:-1]
    bands = _bands([dilution.threshold(m) for m in pooled], dilution)
    found = 0.0
    for b, mass in enumerate(bands):
        # Strong enough alone from level b on; the b outer pools need another positive.
        found += mass * (_all_detected(pooled[:b], p, dilution, others=True) if b else 1.0)
    return found


def _threshold(pool_size: int, dilution: DilutionModel | None) -> float:
    return dilution.threshold(pool_size) if dilution else math.inf


def _cdf(ct: float, dilution: DilutionModel | None) -> float:
    return dilution.cdf(ct) if dilution else 1.0


def _bands(thresholds: list[float], dilution: DilutionModel) -> list[float]:
    """Share of positives in each Ct band cut at the increasing thresholds: [<= t_1, (t_1, t_2], ..., > t_k]."""
    cum = [0.0, *(dilution.cdf(t) for t in thresholds), 1.0]
    return [max(0.0, b - a) for a, b in itertools.pairwise(cum)]


def _all_detected(
    sizes: tuple[int, ...], p: float, dilution: DilutionModel | None, *, others: bool = False
) -> float:
    """Probability that nested pools of the given sizes (outermost first) are all detected.

    A pool of size m is detected when one of its members is a positive with Ct <= threshold(m); members are
    independent. With ``others`` the pools are those around one positive sample, counted without it (sizes
    minus one). Thresholds grow inward, so the state is the band of the strongest member seen so far,
    processed from the innermost pool outward; ``tail[v]`` is the probability of the constraints so far with
    that band above v (band v = Ct <= the v-th threshold).
    """
    k = len(sizes)
    if k == 0:
        return 1.0
    if dilution is None:
        inner = sizes[-1] - (1 if others else 0)
        return 1.0 - (1.0 - p) ** inner
    strong = [p * dilution.cdf(dilution.threshold(m)) for m in sizes]
    counts = [m - (1 if others else 0) for m in sizes]
    tail = [1.0] * (k + 1)  # tail[0] is the total probability
    for j in range(k - 1, -1, -1):
        ring = counts[j] - (counts[j + 1] if j + 1 < k else 0)
        # Bands above j+1 are ruled out from here on (their tail is 0) and never read again: only tail[0 .. j+1]
        # are kept up to date.
        for v in range(1, j + 2):
            tail[v] *= (1.0 - strong[v - 1]) ** ring
        # Pool j (band index j+1) must hold a member of band <= j+1.
        cut = tail[j + 1]
        for v in range(j + 1):
            tail[v] -= cut
    return max(0.0, tail[0])
