"""Groups of persons, as index arithmetic over the city's arrays: the members of numbered groups (work units,
school classes), the residents of each jurisdiction at a level, and a per-jurisdiction value passed down the
tree."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cordon.engine.sim.citydata import City

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class Groups:
    """Members of numbered groups (units, classes): persons sorted by group, with offsets."""

    def __init__(self, group_of: I32) -> None:
        self.of = np.where(group_of >= 0, group_of, 0).astype(np.int64)
        valid = np.flatnonzero(group_of >= 0)
        self.count = int(group_of.max()) + 1 if len(valid) else 0
        self.sorted = valid[np.argsort(group_of[valid], kind="stable")]
        self.first = np.searchsorted(group_of[self.sorted], np.arange(self.count + 1)).astype(np.int64)

    def members(self, groups: I64) -> I64:
        return self.sorted[expand(self.first[groups], self.first[groups + 1])]


def expand(lo: I64, hi: I64) -> I64:
    """Concatenate the ranges ``[lo[i], hi[i])`` without a Python loop."""
    lengths = hi - lo
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.repeat(lo - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return np.arange(total, dtype=np.int64) + offsets


def person_areas(city: City, grid: I32, level: int) -> tuple[I64, I64, I64]:
    """For jurisdiction level ``level``: each person's area at that level (-1: none), and the persons sorted by
    it (stable, so a household stays together) with each jurisdiction's first index into them (the residents of
    ``a`` are ``order[first[a]:first[a + 1]]``). ``grid``: each person's grid."""
    node = grid.astype(np.int64)
    for _ in range(5):
        up = city.jur_level[node] > level
        if not up.any():
            break
        node = np.where(up, city.jur_parent[node], node)
    area = np.where(city.jur_level[node] == level, node, -1)
    order = np.argsort(area, kind="stable").astype(np.int64)
    first = np.searchsorted(area[order], np.arange(len(city.jur_code) + 1)).astype(np.int64)
    return area, order, first


def down_the_tree(city: City, value: F64) -> F64:
    """A per-jurisdiction value where each jurisdiction takes the largest over itself and its ancestors."""
    out = np.asarray(value, np.float64).copy()
    for level in range(int(city.jur_level.min()) + 1, int(city.jur_level.max()) + 1):
        nodes = np.flatnonzero(city.jur_level == level)
        out[nodes] = np.maximum(out[nodes], out[city.jur_parent[nodes]])
    return out
