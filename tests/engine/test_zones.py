"""The zone rules against a plain day-by-day reading of them (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cordon.engine import zones as z

TODAY = dt.date(2026, 5, 30)

kinds = st.sampled_from(z.KINDS)
rule_sets = st.sampled_from(z.DEFAULT_RULE_SETS)


@st.composite
def custom_rules(draw: st.DrawFn) -> z.RuleSet:
    """Any valid rule set (rules are data: the engine must follow whatever an administrator writes)."""
    kinds_ = {}
    for kind in z.KINDS:
        clean = draw(st.integers(1, 20))
        day = draw(st.one_of(st.none(), st.integers(1, clean)))
        looser = [k for k in z.KINDS if z.STRICTNESS[k] < z.STRICTNESS[kind]]
        then = draw(st.one_of(st.none(), st.sampled_from(looser))) if looser else None
        kinds_[kind] = {"clean_days": clean, "round_day": day, "then": then}
    data = {
        "kinds": kinds_,
        "guard_days": draw(st.integers(0, 30)),
        "escalate_on_case": {"controlled": "sealed"},
    }
    return z.parse_rules("custom", data)


any_rules = st.one_of(rule_sets, custom_rules())


@st.composite
def zone_facts(draw: st.DrawFn) -> z.ZoneFacts:
    state = draw(st.sampled_from(z.STATES))
    in_force = TODAY - dt.timedelta(days=draw(st.integers(0, 30)))
    last_case = draw(st.one_of(st.none(), st.integers(0, 30).map(lambda d: TODAY - dt.timedelta(days=d))))
    rounds = draw(
        st.lists(
            st.builds(
                z.RoundFact,
                code=st.sampled_from(["R1", "R2", "R3"]),
                day=st.integers(0, 30).map(lambda d: TODAY - dt.timedelta(days=d)),
                outcome=st.sampled_from([z.NEGATIVE, z.POSITIVE, z.PENDING]),
            ),
            max_size=4,
        )
    )
    guarded = TODAY - dt.timedelta(days=draw(st.integers(0, 20))) if state == z.GUARDED else None
    return z.ZoneFacts(
        id=draw(st.integers(1, 10**6)),
        kind=draw(kinds),
        state=state,
        in_force_on=in_force,
        last_case_on=last_case,
        guarded_on=guarded,
        rounds=tuple(rounds),
        case_since_in_force=draw(st.booleans()),
    )


def reference(f: z.ZoneFacts, rules: z.RuleSet, today: dt.date) -> tuple[str, str, str, bool] | None:
    """The rules read plainly, day by day: (action, kind, state, hold) or None."""
    if f.state == z.GUARDED:
        assert f.guarded_on is not None
        days = 0
        d = f.guarded_on
        while d < today:
            d += dt.timedelta(days=1)
            days += 1
        return (z.CLOSE, f.kind, z.CLOSED, False) if days >= rules.guard_days else None
    if f.state != z.IN_FORCE:
        return None
    if f.case_since_in_force and f.kind in rules.escalate_on_case:
        return (z.ESCALATE, rules.escalate_on_case[f.kind], z.IN_FORCE, False)
    start = f.in_force_on
    if f.last_case_on is not None and (start is None or f.last_case_on > start):
        start = f.last_case_on
    assert start is not None
    streak = 0
    d = start
    while d < today:  # every day after the clock's start without a case (none is later than the start)
        d += dt.timedelta(days=1)
        streak += 1
    rule = rules.kinds[f.kind]
    if streak < rule.clean_days:
        return None
    ok = True
    if rule.round_day is not None:
        ok = any(
            r.outcome == z.NEGATIVE and (r.day - start).days >= rule.round_day and r.day <= today
            for r in f.rounds
        )
    if rule.then is not None:
        return (z.DOWNGRADE, rule.then, z.IN_FORCE, not ok)
    return (z.LIFT, f.kind, z.GUARDED, not ok)


@settings(max_examples=400)
@given(facts=zone_facts(), rules=any_rules)
def test_evaluation_matches_the_plain_reading(facts: z.ZoneFacts, rules: z.RuleSet) -> None:
    found = z.evaluate_one(facts, rules, TODAY)
    expected = reference(facts, rules, TODAY)
    got = None if found is None else (found.action, found.kind, found.state, found.hold)
    assert got == expected


@given(kind=kinds, rules=any_rules, extra=st.integers(0, 10))
def test_a_clean_streak_with_a_negative_round_always_lifts_or_downgrades(
    kind: str, rules: z.RuleSet, extra: int
) -> None:
    rule = rules.kinds[kind]
    days = rule.clean_days + extra
    start = TODAY - dt.timedelta(days=days)
    day = start + dt.timedelta(days=rule.round_day or 1)
    facts = z.ZoneFacts(1, kind, z.IN_FORCE, start, None, rounds=(z.RoundFact("FT-1", day, z.NEGATIVE),))
    found = z.evaluate_one(facts, rules, TODAY)
    assert found is not None and not found.hold
    assert found.action == (z.DOWNGRADE if rule.then else z.LIFT)
    assert found.reasons[0] == z.Reason(z.R_CLEAN_DAYS, {"days": days})
    if rule.round_day is not None:
        assert found.reasons[1].code == z.R_ROUND_NEGATIVE and found.reasons[1].params["round"] == "FT-1"


@given(kind=kinds, rules=any_rules, case_days_ago=st.integers(0, 30))
def test_any_case_resets_the_clock(kind: str, rules: z.RuleSet, case_days_ago: int) -> None:
    rule = rules.kinds[kind]
    long_ago = TODAY - dt.timedelta(days=60)
    case = TODAY - dt.timedelta(days=case_days_ago)
    rounds = tuple(z.RoundFact(f"R{d}", TODAY - dt.timedelta(days=d), z.NEGATIVE) for d in range(0, 40))
    found = z.evaluate_one(z.ZoneFacts(1, kind, z.IN_FORCE, long_ago, case, rounds=rounds), rules, TODAY)
    if case_days_ago < rule.clean_days:
        assert found is None
    else:
        assert found is not None and found.reasons[0].params["days"] == case_days_ago


@given(rules=any_rules)
def test_a_case_in_a_controlled_zone_argues_for_sealing_it(rules: z.RuleSet) -> None:
    facts = z.ZoneFacts(1, z.CONTROLLED, z.IN_FORCE, TODAY, TODAY, case_since_in_force=True)
    found = z.evaluate_one(facts, rules, TODAY)
    assert found is not None and (found.action, found.kind) == (z.ESCALATE, z.SEALED)
    assert found.reasons[0].code == z.R_CASE_IN_ZONE


def test_the_rule_sets_differ_only_in_data() -> None:
    start = TODAY - dt.timedelta(days=7)
    facts = z.ZoneFacts(
        1, z.SEALED, z.IN_FORCE, start, None, rounds=(z.RoundFact("FT-7", TODAY, z.NEGATIVE),)
    )
    ninth = z.evaluate_one(facts, z.NINTH_EDITION, TODAY)
    second = z.evaluate_one(facts, z.SEALED_THEN_MONITORED, TODAY)
    assert ninth is not None and (ninth.action, ninth.state) == (z.LIFT, z.GUARDED)
    assert second is not None and (second.action, second.kind) == (z.DOWNGRADE, z.CONTROLLED)
    # Round-trip through JSON: the stored definition is the rule.
    for rules in z.DEFAULT_RULE_SETS:
        assert z.parse_rules(rules.code, z.rules_to_json(rules)) == rules


def test_a_pending_round_holds_the_lift_and_is_named() -> None:
    start = TODAY - dt.timedelta(days=8)
    facts = z.ZoneFacts(1, z.SEALED, z.IN_FORCE, start, None, rounds=(z.RoundFact("FT-9", TODAY, z.PENDING),))
    found = z.evaluate_one(facts, z.NINTH_EDITION, TODAY)
    assert (
        found is not None
        and found.hold
        and found.reasons[1] == z.Reason(z.R_ROUND_PENDING, {"round": "FT-9", "day": 8})
    )
    assert z.pending_rounds(facts, TODAY) == ["FT-9"]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kinds": {"sealed": {"clean_days": 7}}},
        {"kinds": {k: {"clean_days": 0} for k in z.KINDS}},
        {"kinds": {k: {"clean_days": 7, "round_day": 8} for k in z.KINDS}},
        {"kinds": {k: {"clean_days": 7, "then": "sealed"} for k in z.KINDS}},
        {"kinds": {k: {"clean_days": 7} for k in z.KINDS}, "escalate_on_case": {"sealed": "prevention"}},
    ],
)
def test_bad_rule_definitions_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(z.RuleError):
        z.parse_rules("bad", data)


@given(a=kinds, b=kinds)
def test_the_stricter_kind_applies(a: str, b: str) -> None:
    s = z.stricter(a, b)
    assert s in (a, b) and z.STRICTNESS[s] == max(z.STRICTNESS[a], z.STRICTNESS[b])
    assert z.strictest([a, b]) == s


SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}


@given(x=st.floats(-5, 15), y=st.floats(-5, 15))
def test_a_point_is_inside_a_square_exactly_when_within_its_sides(x: float, y: float) -> None:
    if x in (0, 10) or y in (0, 10):
        return  # on the edge: either answer is fine
    polys = z.polygons_of({"type": "Feature", "geometry": SQUARE})
    assert z.contains(polys, x, y) == (0 < x < 10 and 0 < y < 10)
    assert z.points_inside(polys, [(7, x, y)]) == ([7] if 0 < x < 10 and 0 < y < 10 else [])


@pytest.mark.parametrize(
    ("geojson", "code"),
    [
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not_closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "too_few_points"),
        ({"type": "Point", "coordinates": [0, 0]}, "not_polygon"),
        ({"type": "Polygon", "coordinates": [[[0, 0], ["a", 0], [1, 1], [0, 0]]]}, "bad_coordinates"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [500, 0], [1, 1], [0, 0]]]}, "bad_coordinates"),
        ({"type": "FeatureCollection", "features": []}, "not_polygon"),
        ([1, 2], "not_polygon"),
    ],
)
def test_bad_boundaries_say_why(geojson: object, code: str) -> None:
    with pytest.raises(z.GeometryError) as err:
        z.polygons_of(geojson)
    assert err.value.code == code
