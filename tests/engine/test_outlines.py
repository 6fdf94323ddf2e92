"""Outlines from points (``cordon.engine.outlines``): every point lies inside or on its outline, the hull's corners
are points of the set, and the hull is the same as a simple reference (Andrew's monotone chain)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cordon.engine import outlines

coord = st.tuples(
    st.floats(116.0, 116.8, allow_nan=False, allow_infinity=False),
    st.floats(39.6, 40.4, allow_nan=False, allow_infinity=False),
)
points = st.lists(coord, min_size=1, max_size=200)


def _reference_hull(pts: list[tuple[float, float]]) -> set[tuple[float, float]]:
    ps = sorted(set(pts))
    if len(ps) < 3:
        return set(ps)

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in ps:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(ps):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return set(lower[:-1] + upper[:-1])


@settings(max_examples=300, deadline=None)
@given(points)
def test_every_point_lies_inside_or_on_its_outline(pts: list[tuple[float, float]]) -> None:
    ring = outlines.outline(pts)
    assert ring[0] == ring[-1] and len(ring) >= 4
    for p in pts:
        assert outlines.contains(ring, p, tolerance=1e-9), (p, ring)
    # and inside the outline made from the hull's corners only (how a parent is outlined from its children)
    parent = outlines.outline(outlines.hull_corners(pts))
    for p in pts:
        assert outlines.contains(parent, p, tolerance=1e-9)


@settings(max_examples=300, deadline=None)
@given(points)
def test_the_hull_corners_are_points_of_the_set_and_match_a_reference(pts: list[tuple[float, float]]) -> None:
    corners = outlines.hull_corners(pts)
    assert set(corners) <= set(pts)
    reference = _reference_hull(pts)
    if len(corners) >= 3:
        # the same polygon as the reference: each one's corners lie inside or on the other (Qhull may keep or drop
        # a corner a hair off a straight edge, hence the tolerance)
        ring = [list(c) for c in corners] + [list(corners[0])]
        assert all(outlines.contains(ring, p, tolerance=1e-9) for p in reference)
        ref_ring = [list(c) for c in _ordered(reference)]
        ref_ring.append(ref_ring[0])
        assert all(outlines.contains(ref_ring, p, tolerance=1e-9) for p in corners)


def _ordered(corners: set[tuple[float, float]]) -> list[tuple[float, float]]:
    import math

    cx = sum(p[0] for p in corners) / len(corners)
    cy = sum(p[1] for p in corners) / len(corners)
    return sorted(corners, key=lambda p: math.atan2(p[1] - cy, p[0] - cx))


def test_one_point_two_points_and_a_line_give_a_box_around_them() -> None:
    for pts in (
        [(116.1, 39.9)],
        [(116.1, 39.9), (116.2, 39.95)],
        [(116.0, 39.0), (116.1, 39.1), (116.2, 39.2)],
    ):
        ring = outlines.outline(pts)
        assert len(ring) == 5
        assert all(outlines.contains(ring, p) for p in pts)
    assert outlines.outline([]) == []


@settings(max_examples=100, deadline=None)
@given(points, st.floats(0.00001, 0.01))
def test_a_simplified_ring_stays_closed_and_small(pts: list[tuple[float, float]], step: float) -> None:
    ring = outlines.simplified(outlines.outline(pts), step, max_corners=20)
    assert ring[0] == ring[-1] and 4 <= len(ring) <= 22
    assert outlines.contains(outlines.outline(pts), outlines.centre(outlines.outline(pts)))
