"""Pooled sampling for mass nucleic-acid screening: pool designs, a design advisor and the decoder that turns
pool results into individual statuses (no Django; numpy). See docs/pooling.md.

- **Designs** (frozen dataclasses): :class:`Individual`, :class:`Dorfman` (N-in-1), :class:`Nested`
  (multi-stage), :class:`Array` (rows and columns), :class:`Hypercube`. Each has ``expected_tests(p,
  dilution=None)`` per person (exact), ``sensitivity(p, dilution)``, ``rounds``, ``max_pool_size``,
  ``pool_sizes``, ``tube_size`` (samples per station tube) and ``label`` (:func:`parse_design` reads it back).
- **Dilution** (:class:`DilutionModel`): Ct values of positives, the limit of detection and the Ct shift of
  ``log2(pool size)``; a pool is detected when its strongest positive still is after the shift.
- **Advisor** (:func:`advise`): the design with the fewest expected tests within the limits on rounds, pool
  size and missed positives, found by exhaustive search; a :class:`Recommendation` with the alternatives.
- **Protocol** (:func:`plan`): the station tubes, the pools to test next given results (re-sample tasks) and
  each sample's :class:`Status`; :func:`simulate` and :func:`monte_carlo` run it against a test oracle.
"""

from __future__ import annotations

from .advisor import MAX_SEARCH_POOL_SIZE, Assessment, Recommendation, advise, useful_pool_bound
from .designs import (
    VALIDATED_POOL_SIZES,
    Array,
    Design,
    Dorfman,
    Hypercube,
    Individual,
    Nested,
    entropy_bound,
    parse_design,
)
from .dilution import DEFAULT_CT_QUANTILES, DEFAULT_DILUTION, DilutionModel
from .protocol import (
    MonteCarlo,
    Oracle,
    Pool,
    Protocol,
    Simulation,
    Status,
    dilution_test,
    monte_carlo,
    perfect_test,
    plan,
    simulate,
)

__all__ = [
    "DEFAULT_CT_QUANTILES",
    "DEFAULT_DILUTION",
    "MAX_SEARCH_POOL_SIZE",
    "VALIDATED_POOL_SIZES",
    "Array",
    "Assessment",
    "Design",
    "DilutionModel",
    "Dorfman",
    "Hypercube",
    "Individual",
    "MonteCarlo",
    "Nested",
    "Oracle",
    "Pool",
    "Protocol",
    "Recommendation",
    "Simulation",
    "Status",
    "advise",
    "dilution_test",
    "entropy_bound",
    "monte_carlo",
    "parse_design",
    "perfect_test",
    "plan",
    "simulate",
    "useful_pool_bound",
]
