"""Sealed, controlled and prevention zones (封控区 / 管控区 / 防范区): the lifting rules as data and the daily
evaluation that proposes transitions. Pure: plain values in, plain values out, no Django.

A zone is a set of buildings with a **kind** (sealed is the strictest, then controlled, then prevention) and a
**state** along its lifecycle: proposed -> in force -> guarded (lifted but still guarded, 解封不解防) -> closed.
Escalating or downgrading changes the kind of a zone in force. Every transition is proposed (by a person or by
these rules) and confirmed by a person: nothing here changes a zone, it only says what should be decided.

The **clock** of a zone starts on the later of the day it was put in force and the day of its last case; day
``k`` of its clean streak is ``clock + k days``. A rule set says, per kind, how many clean days lift (or
downgrade) a zone and on which day of the streak an all-negative area screening round is required; how many days
a lifted zone stays guarded; and which kind a zone in force escalates to when a case is found in it. The
national 9th-edition rule (``NINTH_EDITION``) and a second rule set (``SEALED_THEN_MONITORED``: 7 days sealed,
then 7 days of home monitoring, all negative on day 13) are both plain data, parsed from and written to JSON.

``evaluate`` looks at every zone once and returns a ``Finding`` per zone that needs a decision: a proposal
(``action`` with its target state and kind and its reasons) or a hold (the clean days are there but the round
is pending or missing: the reason says which). Reasons are codes with parameters, translated by the app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

# --- Kinds, states, actions ----------------------------------------------------------------------------------

SEALED = "sealed"
CONTROLLED = "controlled"
PREVENTION = "prevention"
KINDS: tuple[str, ...] = (SEALED, CONTROLLED, PREVENTION)  # strictest first
STRICTNESS: Mapping[str, int] = {SEALED: 3, CONTROLLED: 2, PREVENTION: 1}

PROPOSED = "proposed"
IN_FORCE = "in_force"
GUARDED = "guarded"
CLOSED = "closed"
STATES: tuple[str, ...] = (PROPOSED, IN_FORCE, GUARDED, CLOSED)

PUT_IN_FORCE = "put_in_force"
ESCALATE = "escalate"
DOWNGRADE = "downgrade"
LIFT = "lift"
CLOSE = "close"
REINSTATE = "reinstate"  # a guarded zone with a new case is put back in force
WITHDRAW = "withdraw"  # a proposed zone that is not put in force
ACTIONS: tuple[str, ...] = (PUT_IN_FORCE, ESCALATE, DOWNGRADE, LIFT, CLOSE, REINSTATE, WITHDRAW)

# Which state each action leaves the zone in, and from which states it may be taken.
TARGET_STATE: Mapping[str, str] = {
    PUT_IN_FORCE: IN_FORCE,
    ESCALATE: IN_FORCE,
    DOWNGRADE: IN_FORCE,
    LIFT: GUARDED,
    CLOSE: CLOSED,
    REINSTATE: IN_FORCE,
    WITHDRAW: CLOSED,
}
FROM_STATES: Mapping[str, frozenset[str]] = {
    PUT_IN_FORCE: frozenset({PROPOSED}),
    ESCALATE: frozenset({IN_FORCE}),
    DOWNGRADE: frozenset({IN_FORCE}),
    LIFT: frozenset({IN_FORCE}),
    CLOSE: frozenset({GUARDED}),
    REINSTATE: frozenset({GUARDED}),
    WITHDRAW: frozenset({PROPOSED}),
}

# Reason codes (the app translates them with their parameters).
R_CLEAN_DAYS = "clean_days"  # {"days": 7}
R_ROUND_NEGATIVE = "round_negative"  # {"round": "FT-...", "day": 7}
R_ROUND_PENDING = "round_pending"  # {"round": "FT-...", "day": 7}
R_ROUND_MISSING = "round_missing"  # {"day": 7}
R_ROUND_POSITIVE = "round_positive"  # {"round": "FT-..."}
R_GUARD_OVER = "guard_over"  # {"days": 7}
R_CASE_IN_ZONE = "case_in_zone"  # {"date": "2026-05-01"}
R_STRICTER = "stricter_kind"  # {"kind": "sealed"}


def stricter(a: str, b: str) -> str:
    """The stricter of two kinds (the one that applies to a building in both zones)."""
    return a if STRICTNESS[a] >= STRICTNESS[b] else b


def strictest(kinds: Iterable[str]) -> str | None:
    best: str | None = None
    for k in kinds:
        best = k if best is None else stricter(best, k)
    return best


def action_allowed(action: str, state: str) -> bool:
    return state in FROM_STATES.get(action, frozenset())


# --- Rules as data -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindRule:
    """How a zone of one kind ends: after ``clean_days`` days without a case, with an all-negative area round on
    or after day ``round_day`` of the streak (``None``: no round needed), it is lifted, or downgraded to
    ``then`` when that is set (the next kind's rule then runs on the same clock)."""

    clean_days: int
    round_day: int | None = None
    then: str | None = None


@dataclass(frozen=True)
class RuleSet:
    code: str
    kinds: Mapping[str, KindRule]
    guard_days: int = 7  # 解封不解防: how long a lifted zone stays guarded
    escalate_on_case: Mapping[str, str] = field(default_factory=dict)  # kind -> the kind a case argues for


NINTH_EDITION = RuleSet(
    code="ninth-edition",
    kinds={
        SEALED: KindRule(clean_days=7, round_day=7),
        CONTROLLED: KindRule(clean_days=7, round_day=7),
        PREVENTION: KindRule(clean_days=7),
    },
    guard_days=7,
    escalate_on_case={CONTROLLED: SEALED, PREVENTION: CONTROLLED},
)

SEALED_THEN_MONITORED = RuleSet(
    code="sealed-then-monitored",
    kinds={
        SEALED: KindRule(clean_days=7, round_day=7, then=CONTROLLED),
        CONTROLLED: KindRule(clean_days=14, round_day=13),
        PREVENTION: KindRule(clean_days=7),
    },
    guard_days=7,
    escalate_on_case={CONTROLLED: SEALED, PREVENTION: CONTROLLED},
)

DEFAULT_RULE_SETS: tuple[RuleSet, ...] = (NINTH_EDITION, SEALED_THEN_MONITORED)
RULE_NAMES: Mapping[str, tuple[str, str]] = {  # code -> (English, Chinese)
    NINTH_EDITION.code: (
        "National protocol, 9th edition: 7 clean days and an all-negative round on day 7",
        "第九版防控方案：连续7天无新增感染者且第7天区域核酸筛查全部阴性",
    ),
    SEALED_THEN_MONITORED.code: (
        "7 days sealed, then 7 days of home monitoring; all negative on day 13",
        "7天封控+7天居家健康监测，第13天核酸全部阴性",
    ),
}


class RuleError(ValueError):
    """A rule definition that cannot be used (the message says which part)."""


def _int(value: Any, name: str, *, low: int = 0, high: int = 365, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RuleError(f"{name} must be a whole number from {low} to {high}")
    return value


def parse_rules(code: str, data: Mapping[str, Any]) -> RuleSet:
    """A rule set from its JSON definition; ``RuleError`` when a part is missing or out of range."""
    if not isinstance(data, Mapping) or not isinstance(data.get("kinds"), Mapping):
        raise RuleError("kinds is required")
    kinds: dict[str, KindRule] = {}
    for kind in KINDS:
        raw = data["kinds"].get(kind)
        if not isinstance(raw, Mapping):
            raise RuleError(f"kinds.{kind} is required")
        clean = _int(raw.get("clean_days"), f"kinds.{kind}.clean_days", low=1)
        day = _int(raw.get("round_day"), f"kinds.{kind}.round_day", low=1, optional=True)
        then = raw.get("then")
        if then is not None and (then not in KINDS or STRICTNESS[then] >= STRICTNESS[kind]):
            raise RuleError(f"kinds.{kind}.then must be a less strict kind")
        assert clean is not None
        if day is not None and day > clean:
            raise RuleError(f"kinds.{kind}.round_day must not be after clean_days")
        kinds[kind] = KindRule(clean_days=clean, round_day=day, then=then)
    guard = _int(data.get("guard_days", 7), "guard_days")
    escalate = data.get("escalate_on_case", {}) or {}
    if not isinstance(escalate, Mapping) or any(
        a not in KINDS or b not in KINDS or STRICTNESS[b] <= STRICTNESS[a] for a, b in escalate.items()
    ):
        raise RuleError("escalate_on_case must map a kind to a stricter kind")
    assert guard is not None
    return RuleSet(code=code, kinds=kinds, guard_days=guard, escalate_on_case=dict(escalate))


def rules_to_json(rules: RuleSet) -> dict[str, Any]:
    return {
        "kinds": {
            k: {"clean_days": r.clean_days, "round_day": r.round_day, "then": r.then}
            for k, r in rules.kinds.items()
        },
        "guard_days": rules.guard_days,
        "escalate_on_case": dict(rules.escalate_on_case),
    }


# --- The facts of a zone and what the rules say about it ----------------------------------------------------

NEGATIVE = "negative"
POSITIVE = "positive"
PENDING = "pending"


@dataclass(frozen=True, slots=True)
class RoundFact:
    """An area screening round covering the zone: the day it sampled and its outcome over the zone
    (``negative``: every result in, all negative; ``positive``; ``pending``: results still to come)."""

    code: str
    day: dt.date
    outcome: str


@dataclass(frozen=True, slots=True)
class ZoneFacts:
    id: int
    kind: str
    state: str
    in_force_on: dt.date | None  # the day it was (last) put in force
    last_case_on: dt.date | None  # the day of its last case, if any
    guarded_on: dt.date | None = None  # the day it was lifted
    rounds: Sequence[RoundFact] = ()
    case_since_in_force: bool = False  # a case was found in it while in force (escalation argued for)


def applied(zone: ZoneFacts, action: str, kind: str, today: dt.date) -> ZoneFacts:
    """The zone after a confirmed transition on ``today``: its state and kind, the day it was (last) put in
    force (a stricter kind starts its own clock), the day it was lifted, and the case flag cleared by a new clock
    or a change of kind. The zones app (``zones.actions``) and the simulator's lockdown (``sim/zoning.py``) both
    apply transitions with it. ``ValueError`` for a step the zone's state does not allow."""
    if not action_allowed(action, zone.state):
        raise ValueError(f"zone {zone.id}: {action} is not allowed from {zone.state}")
    changes: dict[str, Any] = {"state": TARGET_STATE[action], "kind": kind}
    if action in (PUT_IN_FORCE, REINSTATE):
        changes.update(in_force_on=today, guarded_on=None, case_since_in_force=False)
    elif action in (ESCALATE, DOWNGRADE):
        changes["case_since_in_force"] = False
        if action == ESCALATE:
            changes["in_force_on"] = today
    elif action == LIFT:
        changes["guarded_on"] = today
    return replace(zone, **changes)


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}


@dataclass(frozen=True, slots=True)
class Finding:
    """What the rules say about one zone today: a proposal (``hold`` False: ``action`` to ``kind``/``state``)
    or a hold (``hold`` True: the streak is long enough but the round is not there yet)."""

    zone_id: int
    action: str
    kind: str
    state: str
    reasons: tuple[Reason, ...]
    hold: bool = False


def clock_of(z: ZoneFacts) -> dt.date | None:
    """The day the zone's clean streak counts from: the later of going in force and its last case."""
    days = [d for d in (z.in_force_on, z.last_case_on) if d is not None]
    return max(days) if days else None


def round_check(z: ZoneFacts, rule: KindRule, clock: dt.date, today: dt.date) -> tuple[str, Reason | None]:
    """Whether the round the rule asks for is there: ``ok``/``pending``/``missing``/``positive``, with the
    reason to show. A round counts from day ``round_day`` of the streak up to today."""
    if rule.round_day is None:
        return "ok", None
    first = clock + dt.timedelta(days=rule.round_day)
    counted = [r for r in z.rounds if first <= r.day <= today]
    for r in sorted(counted, key=lambda r: (r.day, r.code)):
        if r.outcome == NEGATIVE:
            return "ok", Reason(R_ROUND_NEGATIVE, {"round": r.code, "day": (r.day - clock).days})
    for r in counted:
        if r.outcome == PENDING:
            return "pending", Reason(R_ROUND_PENDING, {"round": r.code, "day": (r.day - clock).days})
    for r in counted:
        if r.outcome == POSITIVE:
            return "positive", Reason(R_ROUND_POSITIVE, {"round": r.code})
    return "missing", Reason(R_ROUND_MISSING, {"day": rule.round_day})


def pending_rounds(z: ZoneFacts, today: dt.date) -> list[str]:
    """Rounds within the zone's clean streak whose results are still pending (a lift is refused meanwhile)."""
    clock = clock_of(z)
    if clock is None:
        return []
    return sorted(r.code for r in z.rounds if r.outcome == PENDING and clock <= r.day <= today)


def evaluate_one(z: ZoneFacts, rules: RuleSet, today: dt.date) -> Finding | None:
    """What the rules say about zone ``z`` today (``None``: nothing to decide)."""
    if z.state == GUARDED:
        if z.guarded_on is not None and (today - z.guarded_on).days >= rules.guard_days:
            return Finding(z.id, CLOSE, z.kind, CLOSED, (Reason(R_GUARD_OVER, {"days": rules.guard_days}),))
        return None
    if z.state != IN_FORCE:
        return None
    if z.case_since_in_force and z.kind in rules.escalate_on_case:
        to = rules.escalate_on_case[z.kind]
        when = z.last_case_on.isoformat() if z.last_case_on else ""
        return Finding(z.id, ESCALATE, to, IN_FORCE, (Reason(R_CASE_IN_ZONE, {"date": when}),))
    clock = clock_of(z)
    rule = rules.kinds.get(z.kind)
    if clock is None or rule is None:
        return None
    clean = (today - clock).days
    if clean < rule.clean_days:
        return None
    status, why = round_check(z, rule, clock, today)
    reasons = (Reason(R_CLEAN_DAYS, {"days": clean}),) + ((why,) if why is not None else ())
    if rule.then is not None:
        action, kind, state = DOWNGRADE, rule.then, IN_FORCE
    else:
        action, kind, state = LIFT, z.kind, GUARDED
    return Finding(z.id, action, kind, state, reasons, hold=status != "ok")


def evaluate(zones: Iterable[ZoneFacts], rules: RuleSet, today: dt.date) -> list[Finding]:
    """Every zone that needs a decision today, in the order given."""
    out: list[Finding] = []
    for z in zones:
        f = evaluate_one(z, rules, today)
        if f is not None:
            out.append(f)
    return out


# --- Boundaries: a drawn or imported polygon, and the buildings inside it ----------------------------------


class GeometryError(ValueError):
    """A boundary that cannot be used; ``code`` says why (``not_closed``, ``too_few_points``, ``not_polygon``,
    ``bad_coordinates``, ``too_many_points``, ``bad_json``) for the app to translate."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


Ring = tuple[tuple[float, float], ...]  # (longitude, latitude) points, first == last


def _ring(raw: Any) -> Ring:
    if not isinstance(raw, list | tuple) or not raw:
        raise GeometryError("bad_coordinates")
    points: list[tuple[float, float]] = []
    for p in raw:
        if (
            not isinstance(p, list | tuple)
            or len(p) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in p[:2])
        ):
            raise GeometryError("bad_coordinates")
        lon, lat = float(p[0]), float(p[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise GeometryError("bad_coordinates")
        points.append((lon, lat))
    if len(points) < 4:
        raise GeometryError("too_few_points")
    if points[0] != points[-1]:
        raise GeometryError("not_closed")
    return tuple(points)


MAX_POINTS = (
    10_000  # corners of a boundary, all its polygons together: a drawn or imported zone, not a country
)


def polygons_of(geojson: Any) -> list[list[Ring]]:
    """The polygons (outer ring, then holes) of a GeoJSON geometry, Feature or FeatureCollection holding
    Polygons or MultiPolygons; ``GeometryError`` otherwise. A ring must close (first point == last); a boundary
    has at most ``MAX_POINTS`` points (``too_many_points``), and a collection holds features, not collections."""
    polygons = _polygons(geojson, 0)
    if sum(len(r) for p in polygons for r in p) > MAX_POINTS:
        raise GeometryError("too_many_points")
    return polygons


def _polygons(geojson: Any, depth: int) -> list[list[Ring]]:
    if not isinstance(geojson, Mapping) or depth > 2:  # a collection of features of geometries, no deeper
        raise GeometryError("not_polygon")
    kind = geojson.get("type")
    if kind == "FeatureCollection":
        features = geojson.get("features")
        if depth or not isinstance(features, list) or not features:
            raise GeometryError("not_polygon")
        return [p for f in features for p in _polygons(f, depth + 1)]
    if kind == "Feature":
        return _polygons(geojson.get("geometry"), depth + 1)
    coords = geojson.get("coordinates")
    if kind == "Polygon":
        if not isinstance(coords, list) or not coords or len(coords) > MAX_POINTS:
            raise GeometryError("bad_coordinates")
        return [[_ring(r) for r in coords]]
    if kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords or len(coords) > MAX_POINTS:
            raise GeometryError("bad_coordinates")
        return [
            [_ring(r) for r in poly] if isinstance(poly, list) and poly else [_ring(poly)] for poly in coords
        ]
    raise GeometryError("not_polygon")


def bounds(polygons: Sequence[Sequence[Ring]]) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of the outer rings."""
    xs = [x for poly in polygons for x, _ in poly[0]]
    ys = [y for poly in polygons for _, y in poly[0]]
    return min(xs), min(ys), max(xs), max(ys)


def _in_ring(x: float, y: float, ring: Ring) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def contains(polygons: Sequence[Sequence[Ring]], lon: float, lat: float) -> bool:
    """Whether the point lies inside one of the polygons (inside its outer ring, outside its holes)."""
    return any(
        _in_ring(lon, lat, poly[0]) and not any(_in_ring(lon, lat, h) for h in poly[1:]) for poly in polygons
    )


def points_inside(
    polygons: Sequence[Sequence[Ring]], points: Iterable[tuple[int, float, float]]
) -> list[int]:
    """The ids of the ``(id, lon, lat)`` points inside the polygons, in the order given."""
    return [i for i, lon, lat in points if contains(polygons, lon, lat)]
