"""Outlines of areas computed from their buildings' points (longitude, latitude): the convex hull of the points,
grown a little outwards so that no building sits on the line, or a small box around one or two points (or points
on one line). Pure: plain floats in, a closed ring out.

The hull of a node's points is the hull of its children's hulls' corners with its own points, so a tree of areas
is outlined bottom-up reading every point once (:func:`hull_corners` keeps only the corners for the parent).

A convex hull is a rough outline: two neighbouring districts' hulls may overlap where their boundary bends. It
contains every point of its area (the property the tests check), which is what a commander reading the map needs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy.spatial import ConvexHull, QhullError

Point = tuple[float, float]
Ring = list[list[float]]

PAD = 0.0002  # degrees (about 20 m): how far an outline stands off its outermost buildings


def hull_corners(points: Sequence[Point]) -> list[Point]:
    """The corners of the convex hull of the points, counter-clockwise; all the distinct points when there are
    fewer than three or they lie on one line (Qhull refuses those)."""
    unique = sorted(set(points))
    if len(unique) < 3:
        return unique
    arr = np.asarray(unique, dtype=np.float64)
    try:
        hull = ConvexHull(arr)
    except QhullError:  # all on one line (or nearly): the two ends hold the others
        lo = min(unique)
        hi = max(unique)
        return [lo, hi]
    return [(float(arr[i, 0]), float(arr[i, 1])) for i in hull.vertices]


def outline(points: Sequence[Point], pad: float = PAD) -> Ring:
    """A closed ring ([lon, lat] pairs, first = last) around every point: the hull grown by ``pad`` (each corner
    moved away from the hull's centre along the bisector, so the grown polygon holds the hull), or a box around
    one or two points or points on one line."""
    if not points:
        return []
    corners = hull_corners(points)
    if len(corners) < 3:
        xs = [p[0] for p in corners]
        ys = [p[1] for p in corners]
        x0, x1, y0, y1 = min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    else:
        ring = _grown(corners, pad)
    return [*ring, ring[0]]


def _grown(corners: list[Point], pad: float) -> Ring:
    """Each corner moved outwards by ``pad`` along the ray from the corners' mean (inside a convex polygon): a
    scaling about an inner point, corner by corner, which keeps every original corner inside."""
    cx = sum(p[0] for p in corners) / len(corners)
    cy = sum(p[1] for p in corners) / len(corners)
    out: Ring = []
    for x, y in corners:
        dx, dy = x - cx, y - cy
        d = (dx * dx + dy * dy) ** 0.5
        k = pad / d if d > 0 else 0.0
        out.append([x + dx * k, y + dy * k])
    return out


def contains(ring: Ring, point: Point, tolerance: float = 1e-9) -> bool:
    """Whether the point lies inside or on the closed ring (any simple polygon: crossing number, with the
    edges themselves counted in within ``tolerance``)."""
    x, y = point
    inside = False
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        cross = (x1 - x0) * (y - y0) - (y1 - y0) * (x - x0)
        length = max(abs(x1 - x0), abs(y1 - y0))
        if (
            abs(cross) <= tolerance * max(length, 1.0)
            and min(x0, x1) - tolerance <= x <= max(x0, x1) + tolerance
            and min(y0, y1) - tolerance <= y <= max(y0, y1) + tolerance
        ):
            return True  # on this edge
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def simplified(ring: Ring, step: float, max_corners: int = 200) -> Ring:
    """A ring for a map: corners rounded to 5 decimals (about 1 m), those closer than ``step`` to the last kept
    dropped, at most ``max_corners`` kept (every k-th). Never fewer than a triangle."""
    if len(ring) < 4:
        return [[round(x, 5), round(y, 5)] for x, y in ring]
    body = ring[:-1]
    if len(body) > max_corners:
        k = -(-len(body) // max_corners)
        body = body[::k]
    out: Ring = []
    for x, y in body:
        p = [round(x, 5), round(y, 5)]
        if not out or abs(p[0] - out[-1][0]) + abs(p[1] - out[-1][1]) >= step:
            out.append(p)
    if len(out) < 3:
        out = [[round(x, 5), round(y, 5)] for x, y in body]
    return [*out, out[0]]


def centre(ring: Ring) -> Point:
    """The mean of a ring's corners (inside a convex ring): where a map puts an area's label or figure."""
    body = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
    return (sum(p[0] for p in body) / len(body), sum(p[1] for p in body) / len(body))
