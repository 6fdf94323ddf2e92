"""The dilution model: Ct values of positives, the Ct shift of a pool and the sensitivity that follows.

A positive here is a sample that an individual test detects, so its Ct is at most the limit of detection. Its
Ct follows a piecewise-linear quantile function (``ct_quantiles``: (share of positives, Ct) knots). A pool of
``m`` samples is detected when its strongest positive would still be detected after an ``m``-fold dilution:

    min(Ct of the positives in the pool) + cycles_per_doubling * log2(m) <= limit_ct

This is the "strongest positive" (minimum) model: it ignores the signal that further positives add to the
same pool, so it errs toward reporting more misses than the concentration-mixing model
(pooled Ct = -log2(mean of 2**-Ct)). Its gain is that every expectation in :mod:`.designs` is exact under it, and
the Monte Carlo in :mod:`.protocol` simulates the same model. A re-sampled person is taken to give the same Ct
again (no test-to-test noise).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

# Quartiles of the first positive test per person (1,109 positives, median 27.2, IQR 22.2-32.4) in a clinical
# laboratory's SARS-CoV-2 testing, March-June 2020: Emerging Infectious Diseases 27(1):92-103, 2021,
# doi:10.3201/eid2701.203379, table 2. The ends are ours: 12 (a strong positive; it only matters for pools of
# more than 2**28) and the limit of detection, Ct 40, that laboratory's cut-off (40-45 was indeterminate).
DEFAULT_CT_QUANTILES: tuple[tuple[float, float], ...] = (
    (0.0, 12.0),
    (0.25, 22.2),
    (0.5, 27.2),
    (0.75, 32.4),
    (1.0, 40.0),
)


@dataclass(frozen=True)
class DilutionModel:
    """Ct values of positives (quantile knots), the limit of detection and the Ct shift per doubling of a pool.

    ``cycles_per_doubling`` is 1.0 for a PCR of 100% efficiency (each two-fold dilution delays the signal by one
    cycle, so a 10-in-1 pool shifts Ct by log2(10) = 3.3); give 1 / log2(1 + efficiency) for another efficiency.
    """

    limit_ct: float = 40.0
    ct_quantiles: tuple[tuple[float, float], ...] = DEFAULT_CT_QUANTILES
    cycles_per_doubling: float = 1.0

    def __post_init__(self) -> None:
        problems: list[str] = []
        knots = self.ct_quantiles
        if not math.isfinite(self.limit_ct):
            problems.append("limit_ct must be a finite Ct value")
        if not (math.isfinite(self.cycles_per_doubling) and self.cycles_per_doubling > 0):
            problems.append("cycles_per_doubling must be a positive number")
        if len(knots) < 2:
            problems.append("ct_quantiles needs at least two (share, Ct) knots")
        else:
            shares = [s for s, _ in knots]
            cts = [c for _, c in knots]
            if shares[0] != 0.0 or shares[-1] != 1.0:
                problems.append("ct_quantiles must start at share 0 and end at share 1")
            if any(b <= a for a, b in itertools.pairwise(shares)):
                problems.append("the shares of ct_quantiles must increase")
            if any(b <= a for a, b in itertools.pairwise(cts)) or not all(map(math.isfinite, cts)):
                problems.append("the Ct values of ct_quantiles must be finite and increase")
            elif cts[-1] > self.limit_ct:
                problems.append(
                    "the largest Ct of ct_quantiles must not exceed limit_ct "
                    "(a positive is a sample that an individual test detects)"
                )
        if problems:
            raise ValueError("; ".join(problems))

    @functools.cached_property
    def _shares(self) -> tuple[float, ...]:
        return tuple(float(s) for s, _ in self.ct_quantiles)

    @functools.cached_property
    def _cts(self) -> tuple[float, ...]:
        return tuple(float(c) for _, c in self.ct_quantiles)

    def shift(self, pool_size: int) -> float:
        """Ct shift of one positive diluted in a pool of ``pool_size`` samples."""
        return self.cycles_per_doubling * math.log2(pool_size)

    def threshold(self, pool_size: int) -> float:
        """The largest Ct a positive may have for a pool of this size holding it to be detected."""
        return self.limit_ct - self.shift(pool_size)

    def cdf(self, ct: float) -> float:
        """Share of positives whose Ct is at most ``ct``."""
        shares, cts = self._shares, self._cts
        if ct < cts[0]:
            return 0.0
        if ct >= cts[-1]:
            return 1.0
        i = bisect.bisect_right(cts, ct) - 1
        return shares[i] + (shares[i + 1] - shares[i]) * (ct - cts[i]) / (cts[i + 1] - cts[i])

    def pool_sensitivity(self, pool_size: int) -> float:
        """Probability that a pool of this size holding exactly one positive is detected."""
        return self.cdf(self.threshold(pool_size))

    def draw(self, rng: np.random.Generator, n: int) -> F64:
        """Ct values of ``n`` positives (inverse transform of the quantile knots)."""
        out: F64 = np.interp(rng.random(n), self._shares, self._cts)
        return out


DEFAULT_DILUTION = DilutionModel()
