"""The simulator's area lockdown as zones, under the zones engine's own rules (``cordon.engine.zones``).

When a case is reported, the home area of the case (a community by default) becomes a zone of the kind the
strategy says (sealed by default), and optionally the area one level up a zone of a less strict kind (a
controlled street around a sealed community). Every simulated day, in the morning:

1. the cases reported since yesterday are seen by the zones that hold their homes, as the zones app sees them
   (``zones.actions.case_found``): the zone's last case (its sampling day) resets its clock; a zone in force whose
   kind escalates on a case (controlled -> sealed under the 9th edition) is flagged for escalation; a guarded
   zone is put back in force;
2. new zones are made for the cases' areas that have none;
3. a zone in force whose rule asks for an area screening round and whose clean streak has reached the round's
   day without a negative round is screened (its residents, pooled like the city-wide rounds); the round is
   negative when it finds nobody, positive otherwise (the positives are cases, reported the next day);
4. ``engine.zones.evaluate`` looks at every zone and proposes escalations, downgrades, lifts and closings.
   In the simulator the commander's confirmation is automatic: every proposal (not a hold) is applied at once,
   in the same way the zones app applies a decided transition (``zones.actions._apply``);
5. the zones' kinds restrict their residents for the day (:data:`STAY_HOME`: the share of residents who stay
   home, sealed strongest, then controlled, prevention and guarded zones); where zones overlap the strictest
   share applies.

:class:`ZoneBook` holds the zones and their history in plain Python (no arrays), so it can be driven and tested
without an outbreak; :class:`ZoneLockdown` is the intervention that feeds it from a running simulation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from cordon.engine import zones as engine

if TYPE_CHECKING:
    from cordon.engine.sim.interventions import Controls, View

GUARDED_ = "guarded"  # the share and the zone-days of a lifted zone still guarded, whatever its kind
# The share of a zone's residents who stay home on a day (neither work, school nor venues), by kind.
STAY_HOME: Mapping[str, float] = {
    engine.SEALED: 1.0,  # 足不出户: nobody goes out (household transmission goes on)
    engine.CONTROLLED: 0.75,  # 人不出区: most stay in; errands only
    engine.PREVENTION: 0.3,  # 严格限制聚集
    GUARDED_: 0.1,  # 解封不解防
}
DAY_KINDS = (engine.SEALED, engine.CONTROLLED, engine.PREVENTION, GUARDED_)
PROPOSE = "propose"  # the history's first event of a zone: made by the simulator's lockdown


@dataclass(frozen=True, slots=True)
class ZoneEvent:
    """One step of a zone's history: on simulated ``day``, zone ``zone`` (over jurisdiction ``area``) took
    ``action`` and is now of ``kind`` in ``state``."""

    day: int
    zone: int
    area: int
    action: str
    kind: str
    state: str


@dataclass
class ZoneBook:
    """The zones of one simulated city under one rule set, day by day (days counted from ``start``)."""

    rules: engine.RuleSet
    start: dt.date
    zones: dict[int, engine.ZoneFacts] = field(default_factory=dict)  # zones not closed, by id
    area: dict[int, int] = field(default_factory=dict)  # every zone's area
    live: dict[int, int] = field(default_factory=dict)  # area -> its zone not closed
    history: list[ZoneEvent] = field(default_factory=list)
    zone_days: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DAY_KINDS, 0))
    rounds: int = 0

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)

    def count(self, action: str) -> int:
        return sum(1 for e in self.history if e.action == action)

    # --- what happens to zones -------------------------------------------------------------------------------
    def open(self, day: int, area: int, kind: str) -> int:
        """A zone of ``kind`` over ``area``, proposed and put in force today (the area's live zone if it has one)."""
        if area in self.live:
            return self.live[area]
        zid = len(self.area) + 1
        self.area[zid] = area
        self.live[area] = zid
        self.zones[zid] = engine.ZoneFacts(zid, kind, engine.PROPOSED, None, None)
        self.history.append(ZoneEvent(day, zid, area, PROPOSE, kind, engine.PROPOSED))
        self.apply(day, zid, engine.PUT_IN_FORCE, kind)
        return zid

    def see_case(self, day: int, zid: int, sampled: int) -> None:
        """A case sampled on day ``sampled`` (reported by ``day``) living in zone ``zid``: as the zones app's
        ``case_found``, the zone's last case moves to it, a zone in force whose kind escalates on a case is
        flagged, and a guarded zone is put back in force (confirmed at once)."""
        z = self.zones[zid]
        when = self.date(sampled)
        changes: dict[str, object] = {}
        if z.last_case_on is None or when > z.last_case_on:
            changes["last_case_on"] = when
        if z.state == engine.IN_FORCE and z.kind in self.rules.escalate_on_case:
            changes["case_since_in_force"] = True
        if changes:
            self.zones[zid] = replace(z, **changes)  # type: ignore[arg-type]
        if z.state == engine.GUARDED:
            self.apply(day, zid, engine.REINSTATE, z.kind)

    def round_due(self, day: int, zid: int) -> bool:
        """Whether zone ``zid`` is to be screened today: in force, its rule asks for a round, its clean streak
        has reached the round's day and no round counts yet (``engine.round_check`` says missing)."""
        z = self.zones[zid]
        if z.state != engine.IN_FORCE or (z.case_since_in_force and z.kind in self.rules.escalate_on_case):
            return False
        rule = self.rules.kinds.get(z.kind)
        clock = engine.clock_of(z)
        if rule is None or rule.round_day is None or clock is None:
            return False
        today = self.date(day)
        if (today - clock).days < rule.round_day:
            return False
        return engine.round_check(z, rule, clock, today)[0] == "missing"

    def record_round(self, day: int, zid: int, positives: int) -> None:
        z = self.zones[zid]
        self.rounds += 1
        outcome = engine.POSITIVE if positives else engine.NEGATIVE
        found = engine.RoundFact(f"Z{zid}-R{len(z.rounds) + 1}", self.date(day), outcome)
        self.zones[zid] = replace(z, rounds=(*z.rounds, found))

    def evaluate(self, day: int) -> list[engine.Finding]:
        """The rules' findings today (``engine.zones.evaluate``); every proposal is confirmed at once."""
        findings = engine.evaluate(list(self.zones.values()), self.rules, self.date(day))
        for f in findings:
            if not f.hold:
                self.apply(day, f.zone_id, f.action, f.kind)
        return findings

    def apply(self, day: int, zid: int, action: str, kind: str) -> None:
        """A confirmed transition, applied as the zones app applies a decided one (``engine.zones.applied``)."""
        z = engine.applied(self.zones[zid], action, kind, self.date(day))
        self.history.append(ZoneEvent(day, zid, self.area[zid], action, kind, z.state))
        if z.state == engine.CLOSED:
            del self.zones[zid]
            del self.live[self.area[zid]]
        else:
            self.zones[zid] = z

    # --- what the zones do today ------------------------------------------------------------------------------
    def restrictions(self, stay_home: Mapping[str, float] = STAY_HOME) -> tuple[list[int], list[float]]:
        """The areas restricted today and the share of their residents staying home."""
        areas: list[int] = []
        shares: list[float] = []
        for zid, z in self.zones.items():
            if z.state in (engine.IN_FORCE, engine.GUARDED):
                areas.append(self.area[zid])
                shares.append(stay_home[GUARDED_ if z.state == engine.GUARDED else z.kind])
        return areas, shares

    def count_day(self) -> None:
        """Add today's zones to the zone-days: in force by kind, and guarded."""
        for z in self.zones.values():
            if z.state == engine.GUARDED:
                self.zone_days[GUARDED_] += 1
            elif z.state == engine.IN_FORCE:
                self.zone_days[z.kind] += 1

    def summary(self) -> dict[str, object]:
        return {
            "zones": len(self.area),
            "zone_days": dict(self.zone_days),
            "zones_lifted": self.count(engine.LIFT),
            "zones_escalated": self.count(engine.ESCALATE),
            "zones_downgraded": self.count(engine.DOWNGRADE),
            "zones_reinstated": self.count(engine.REINSTATE),
            "zone_rounds": self.rounds,
        }


def empty_summary(rules: engine.RuleSet | None = None) -> dict[str, object]:
    """The zone figures of a run without the area lockdown (all zero)."""
    return ZoneBook(rules or engine.NINTH_EDITION, dt.date(2000, 1, 1)).summary()


@dataclass
class ZoneLockdown:
    """Each new case's home area (``level``: 2 district ... 5 grid) becomes a zone of ``kind``, and the area one
    level up one of ``outer`` when set; the zones follow ``rules`` (see the module's description)."""

    level: int = 4
    kind: str = engine.SEALED
    outer: str | None = None
    rules: engine.RuleSet = engine.NINTH_EDITION
    pool_size: int = 10
    stay_home: Mapping[str, float] = field(default_factory=lambda: dict(STAY_HOME))
    name: str = "lockdown-areas"
    book: ZoneBook | None = None

    def apply(self, view: View, controls: Controls) -> None:
        if self.book is None:
            self.book = ZoneBook(self.rules, view.start_date)
        book, day = self.book, view.day
        cases = view.new_cases()
        if len(cases):
            sampled = view.sampled_on(cases)
            # 1. the zones already holding the cases' homes see them (one look per level and area)
            for level in sorted({int(lv) for lv in view.level_of(np.array(list(book.live), np.int64))}):
                areas = view.area_of_everyone(level)[cases]
                for area, last in _last_by_area(areas, sampled):
                    zid = book.live.get(area)
                    if zid is not None:
                        book.see_case(day, zid, last)
            # 2. new zones for the cases' areas without one (and around them)
            homes = np.unique(view.area_of_everyone(self.level)[cases])
            homes = homes[homes >= 0]
            for area in homes.tolist():
                book.open(day, area, self.kind)
            if self.outer:
                around = np.unique(view.parent_of(homes))
                around = around[around >= 0]
                for area in around[view.level_of(around) >= 2].tolist():
                    book.open(day, area, self.outer)
        # 3. area screening rounds the rules wait for
        for zid in list(book.zones):
            if book.round_due(day, zid):
                area = book.area[zid]
                persons = view.residents(area, int(view.level_of(np.array([area]))[0]))
                found = controls.screen(persons, pool_size=self.pool_size, reason=f"zone {zid} round")
                book.record_round(day, zid, found.positives)
        # 4. the rules, confirmed at once; 5. today's restrictions
        book.evaluate(day)
        restricted, shares = book.restrictions(self.stay_home)
        if restricted:
            controls.restrict_areas(np.array(restricted, np.int64), np.array(shares), reason="zones")
        book.count_day()


def _last_by_area(areas: np.ndarray, sampled: np.ndarray) -> list[tuple[int, int]]:
    """(area, latest sampling day) for each area among the cases (areas < 0 left out)."""
    keep = areas >= 0
    a, s = areas[keep], sampled[keep]
    if not len(a):
        return []
    order = np.lexsort((s, a))
    a, s = a[order], s[order]
    last = np.ones(len(a), bool)
    last[:-1] = a[1:] != a[:-1]
    return list(zip(a[last].tolist(), s[last].tolist(), strict=True))


__all__ = ["DAY_KINDS", "STAY_HOME", "ZoneBook", "ZoneEvent", "ZoneLockdown", "empty_summary"]
