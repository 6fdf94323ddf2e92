"""Running a design: which pools to test, what to test next given results, and each sample's status.

:func:`plan` lays out the first-stage pools over sample indices ``0 .. n-1``; :meth:`Protocol.record` takes
results of pending pools (any subset, in any order) and returns the protocol with the follow-up pools pending;
:meth:`Protocol.statuses` decodes each sample. :func:`simulate` runs the whole protocol against a test oracle and
:func:`monte_carlo` repeats it on random populations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from .designs import Design, _Grid, _Hierarchical
from .dilution import DilutionModel

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


class Status(StrEnum):
    """A sample's decoded status."""

    PENDING = "pending"  # not decided yet: under temporary control while a pool holding it is positive
    POSITIVE = "positive"  # its individual test was positive (re-test before it becomes a case)
    NEGATIVE = "negative"
    INCONCLUSIVE = "inconclusive"  # in a positive pool that no decoded positive explains


@dataclass(frozen=True, slots=True)
class Pool:
    """One test: the samples mixed into one tube.

    ``resample`` is true when the people must be swabbed again into a new tube of this size (a sub-pool of a
    positive station tube); false when the tube exists (a station tube) or the lab makes it from stored
    single-sample tubes (grid designs). ``stage`` is the lab round counted along the pool's own lineage.
    """

    key: str
    stage: int
    samples: tuple[int, ...]
    resample: bool

    @property
    def size(self) -> int:
        return len(self.samples)


@dataclass(frozen=True)
class _Layout:
    """What :func:`plan` fixes once: the design, the first-stage pools and, for grids, each block's pools."""

    design: Design
    n_samples: int
    first: tuple[Pool, ...]
    block_pools: Mapping[int, tuple[str, ...]]  # grid: block -> keys of its slice pools


@dataclass(frozen=True, eq=False)
class Protocol:
    """The state of one screening under a design: pools issued, results recorded, pools pending."""

    _layout: _Layout
    pools: Mapping[str, Pool]  # every pool issued so far, by key
    results: Mapping[str, bool]  # key -> positive?
    pending: tuple[Pool, ...]  # pools to test now (from any stage)
    _block_done: frozenset[int] = field(default=frozenset())

    @property
    def design(self) -> Design:
        return self._layout.design

    @property
    def n_samples(self) -> int:
        return self._layout.n_samples

    @property
    def done(self) -> bool:
        return not self.pending

    @property
    def tests_used(self) -> int:
        return len(self.results)

    @property
    def rounds_used(self) -> int:
        return max((self.pools[k].stage for k in self.results), default=0)

    def record(self, results: Mapping[str, bool]) -> Protocol:
        """The protocol after these results of pending pools (``True`` = positive)."""
        waiting = {p.key: p for p in self.pending}
        unknown = [k for k in results if k not in waiting]
        if unknown:
            shown = ", ".join(sorted(unknown)[:5])
            raise ValueError(f"no pending pool has the key {shown} (already recorded, or never planned)")
        new_results = dict(self.results)
        new_results.update((k, bool(v)) for k, v in results.items())
        pools = dict(self.pools)
        issued: list[Pool] = []
        blocks_done = set(self._block_done)
        design = self._layout.design
        if isinstance(design, _Hierarchical):
            for key, positive in results.items():
                if positive and waiting[key].size > 1:
                    issued.extend(_split(waiting[key], design.levels))
        else:
            touched = {waiting[key].samples[0] // design.block_size for key in results}
            for block in sorted(touched - blocks_done):
                keys = self._layout.block_pools[block]
                if all(k in new_results for k in keys):
                    blocks_done.add(block)
                    issued.extend(_candidates(block, keys, pools, new_results, design.block_size))
        for pool in issued:
            pools[pool.key] = pool
        pending = tuple(p for p in self.pending if p.key not in results) + tuple(issued)
        return Protocol(
            self._layout,
            MappingProxyType(pools),
            MappingProxyType(new_results),
            pending,
            frozenset(blocks_done),
        )

    def statuses(self) -> tuple[Status, ...]:
        """Every sample's status (see :class:`Status`); pending samples are decided by pools still to test."""
        n = self.n_samples
        alone: list[bool | None] = [None] * n
        in_negative = [False] * n
        positive_pools: list[Pool] = []
        for key, positive in self.results.items():
            pool = self.pools[key]
            if pool.size == 1:
                alone[pool.samples[0]] = positive
            elif positive:
                positive_pools.append(pool)
            else:
                for i in pool.samples:
                    in_negative[i] = True
        waiting = {i for p in self.pending for i in p.samples}
        held = [False] * n
        unexplained = [False] * n
        for pool in positive_pools:
            if any(alone[i] for i in pool.samples):
                continue  # explained by a decoded positive
            mark = held if any(i in waiting for i in pool.samples) else unexplained
            for i in pool.samples:
                mark[i] = True
        out: list[Status] = []
        for i in range(n):
            a = alone[i]
            if a is not None:
                out.append(Status.POSITIVE if a else Status.NEGATIVE)
            elif unexplained[i]:
                out.append(Status.INCONCLUSIVE)
            elif held[i]:
                out.append(Status.PENDING)
            elif in_negative[i]:
                out.append(Status.NEGATIVE)
            else:
                # Only positive pools so far: the follow-up decides (a finished protocol never leaves this).
                out.append(Status.INCONCLUSIVE if self.done else Status.PENDING)
        return tuple(out)

    def positives(self) -> tuple[int, ...]:
        """Samples decoded positive so far."""
        return tuple(i for i, s in enumerate(self.statuses()) if s is Status.POSITIVE)

    def unexplained_pools(self) -> tuple[Pool, ...]:
        """Positive pools with no decoded positive whose follow-up is finished (never with perfect tests)."""
        st = self.statuses()
        waiting = {i for p in self.pending for i in p.samples}
        return tuple(
            pool
            for key, positive in self.results.items()
            if positive
            and (pool := self.pools[key]).size > 1
            and not any(st[i] is Status.POSITIVE for i in pool.samples)
            and not any(i in waiting for i in pool.samples)
        )


def plan(design: Design, n_samples: int, results: Mapping[str, bool] | None = None) -> Protocol:
    """The protocol for ``n_samples`` samples (indices ``0 .. n-1``), with ``results`` replayed if given.

    Hierarchical designs put consecutive samples in station tubes of the first-stage size (the last tube may
    hold fewer). Grid designs lay consecutive blocks of ``block_size`` samples on the grid (the last block may
    be partial; slices that come out identical are tested once).
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be a whole number of at least 1 (got {n_samples!r})")
    if isinstance(design, _Hierarchical):
        size = design.levels[0]
        first = tuple(
            Pool(str(j + 1), 1, tuple(range(a, min(a + size, n_samples))), False)
            for j, a in enumerate(range(0, n_samples, size))
        )
        layout = _Layout(design, n_samples, first, MappingProxyType({}))
    else:
        first_list: list[Pool] = []
        blocks: dict[int, tuple[str, ...]] = {}
        for b, start in enumerate(range(0, n_samples, design.block_size)):
            pools = _grid_pools(design, b, start, min(start + design.block_size, n_samples))
            blocks[b] = tuple(p.key for p in pools)
            first_list.extend(pools)
        layout = _Layout(design, n_samples, tuple(first_list), MappingProxyType(blocks))
    protocol = Protocol(
        layout, MappingProxyType({p.key: p for p in layout.first}), MappingProxyType({}), layout.first
    )
    if results:
        left = dict(results)
        while left:
            ready = {p.key: left.pop(p.key) for p in protocol.pending if p.key in left}
            if not ready:
                shown = ", ".join(sorted(left)[:5])
                raise ValueError(f"results for pools this design never reaches: {shown}")
            protocol = protocol.record(ready)
    return protocol


def _split(pool: Pool, levels: tuple[int, ...]) -> list[Pool]:
    """Sub-pools of a positive pool: chunks of the largest level size below the pool's size."""
    size = max(s for s in levels if s < pool.size)
    s = pool.samples
    return [
        Pool(f"{pool.key}.{j + 1}", pool.stage + 1, s[a : a + size], True)
        for j, a in enumerate(range(0, len(s), size))
    ]


_AXES = "rc"


def _grid_pools(design: _Grid, block: int, start: int, stop: int) -> list[Pool]:
    shape = design.shape
    strides = [math.prod(shape[d + 1 :]) for d in range(len(shape))]
    members: dict[tuple[int, int], list[int]] = {}
    for i in range(start, stop):
        pos = i - start
        for d, (a, st) in enumerate(zip(shape, strides, strict=True)):
            members.setdefault((d, (pos // st) % a), []).append(i)
    seen: set[tuple[int, ...]] = set()
    pools: list[Pool] = []
    for (d, v), samples in sorted(members.items()):
        t = tuple(samples)
        if t in seen:
            continue
        seen.add(t)
        axis = f"{_AXES[d]}{v + 1}" if len(shape) == 2 else f"d{d + 1}={v + 1}"
        pools.append(Pool(f"{block + 1}.{axis}", 1, t, False))
    return pools


def _candidates(
    block: int, keys: tuple[str, ...], pools: Mapping[str, Pool], results: Mapping[str, bool], block_size: int
) -> list[Pool]:
    """Samples of a finished block all of whose slice pools are positive, each to be tested alone."""
    negative: set[int] = set()
    covered: set[int] = set()
    tested_alone: set[int] = set()
    for k in keys:
        pool = pools[k]
        covered.update(pool.samples)
        if pool.size == 1:
            tested_alone.add(pool.samples[0])
        if not results[k]:
            negative.update(pool.samples)
    if len(negative) == len(covered):
        return []
    return [
        Pool(f"{block + 1}.s{i - block * block_size + 1}", 2, (i,), False)
        for i in sorted(covered - negative - tested_alone)
    ]


# --- Running a protocol against an oracle ----------------------------------------------------------------

Oracle = Callable[[Pool], bool]


def perfect_test(infected: Sequence[bool] | B) -> Oracle:
    """A test that is positive exactly when the pool holds an infected sample."""
    flags = np.asarray(infected, dtype=bool)

    def test(pool: Pool) -> bool:
        return bool(flags[list(pool.samples)].any())

    return test


def dilution_test(ct: Sequence[float] | F64, dilution: DilutionModel) -> Oracle:
    """A test under the dilution model: ``ct`` holds each sample's Ct (NaN or inf for a negative)."""
    values = np.where(np.isnan(np.asarray(ct, dtype=float)), np.inf, np.asarray(ct, dtype=float))

    def test(pool: Pool) -> bool:
        return bool(values[list(pool.samples)].min() <= dilution.threshold(pool.size))

    return test


@dataclass(frozen=True)
class Simulation:
    statuses: tuple[Status, ...]
    tests: int
    rounds: int
    protocol: Protocol


def simulate(design: Design, n_samples: int, test: Oracle) -> Simulation:
    """Run the whole protocol, a lab round at a time (every pending pool is tested each round)."""
    protocol = plan(design, n_samples)
    while protocol.pending:
        protocol = protocol.record({p.key: test(p) for p in protocol.pending})
    return Simulation(protocol.statuses(), protocol.tests_used, protocol.rounds_used, protocol)


@dataclass(frozen=True)
class MonteCarlo:
    """Monte Carlo estimates for one design at one prevalence, through :func:`simulate`."""

    design: Design
    prevalence: float
    people: int
    tests_per_person: float
    tests_per_person_se: float  # standard error, from the spread between blocks
    rounds: int  # the most rounds any sample needed
    positives: int
    missed: int  # positives not decoded positive
    false_positives: int
    inconclusive: int

    @property
    def missed_per_1000_positives(self) -> float:
        return 1000.0 * self.missed / self.positives if self.positives else 0.0


def monte_carlo(
    design: Design,
    prevalence: float,
    *,
    people: int,
    dilution: DilutionModel | None = None,
    seed: int = 0,
) -> MonteCarlo:
    """Infect each of ``people`` (rounded up to whole blocks of the design) with probability ``prevalence``,
    run the protocol with perfect tests (or under ``dilution``, Cts drawn from its distribution) and count."""
    rng = np.random.default_rng(seed)
    block = design.block_size
    n = -(-people // block) * block
    infected = rng.random(n) < prevalence
    if dilution is None:
        oracle = perfect_test(infected)
    else:
        ct = np.full(n, np.inf)
        ct[infected] = dilution.draw(rng, int(infected.sum()))
        oracle = dilution_test(ct, dilution)
    run = simulate(design, n, oracle)
    per_block = np.zeros(n // block)
    for key in run.protocol.results:
        per_block[run.protocol.pools[key].samples[0] // block] += 1
    decoded = np.array([s is Status.POSITIVE for s in run.statuses])
    se = float(per_block.std(ddof=1) / math.sqrt(len(per_block)) / block) if len(per_block) > 1 else math.nan
    return MonteCarlo(
        design=design,
        prevalence=prevalence,
        people=n,
        tests_per_person=run.tests / n,
        tests_per_person_se=se,
        rounds=run.rounds,
        positives=int(infected.sum()),
        missed=int((infected & ~decoded).sum()),
        false_positives=int((decoded & ~infected).sum()),
        inconclusive=sum(s is Status.INCONCLUSIVE for s in run.statuses),
    )
