"""The area screening rounds that count for each zone and their outcomes, as the rules read them (set-based,
every zone at once)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from cordon.apps.geo.models import Jurisdiction
from cordon.apps.screening.models import Binding, Result, RoundStatus, ScreeningRound, Tube
from cordon.engine import zones as engine

from ..models import State, ZoneBuilding


def _round_outcomes(rounds: Sequence[int], open_: set[int]) -> dict[int, str]:
    """Per round: ``pending`` while a used tube has no result (or, for a round still open, while no tube is
    used yet), ``positive`` if one is positive, else ``negative``. A closed round that sampled nobody has no
    outcome (left out)."""
    out: dict[int, str] = {r: engine.PENDING for r in rounds if r in open_}
    rows = (
        Tube.objects.filter(round_id__in=rounds, bound__gt=0)
        .values("round_id", "result")
        .annotate(n=Count("id"))
    )
    seen: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        seen[row["round_id"]].add(row["result"])
    for rid, results in seen.items():
        if Result.PENDING in results:
            out[rid] = engine.PENDING
        elif Result.POSITIVE in results:
            out[rid] = engine.POSITIVE
        else:
            out[rid] = engine.NEGATIVE
    return out


def _prefixes(path: str) -> list[str]:
    """``/a/b/c/`` -> ``/a/``, ``/a/b/``, ``/a/b/c/``: the node and the nodes above it."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def rounds_covering(
    zone_ids: Sequence[int] | QuerySet[Any] | None, since: dt.date
) -> dict[int, list[engine.RoundFact]]:
    """Area screening rounds since ``since`` covering each zone in force or guarded (or each of ``zone_ids``, a
    list or a query of zone ids): a round's buildings hold one of the zone's buildings, or one of its areas
    holds one. Set-based: a query for the rounds, one for their outcomes, one per kind of target, one for the
    zones' distinct grids."""
    rounds = {
        r["pk"]: r
        for r in ScreeningRound.objects.filter(key_industry=False, starts_at__date__gte=since).values(
            "pk", "code", "starts_at", "status"
        )
    }
    outcomes = _round_outcomes(
        list(rounds), {pk for pk, r in rounds.items() if r["status"] == RoundStatus.OPEN}
    )
    rounds = {pk: r for pk, r in rounds.items() if pk in outcomes}
    if not rounds:
        return {}
    facts = {
        pk: engine.RoundFact(r["code"], timezone.localtime(r["starts_at"]).date(), outcomes[pk])
        for pk, r in rounds.items()
    }
    members = ZoneBuilding.objects.all()
    if zone_ids is None:
        members = members.filter(zone__state__in=(State.IN_FORCE, State.GUARDED))
    else:
        members = members.filter(zone_id__in=zone_ids if isinstance(zone_ids, QuerySet) else list(zone_ids))
    out: dict[int, set[int]] = defaultdict(set)
    by_building: dict[int, list[int]] = defaultdict(list)
    for rid, bid in ScreeningRound.buildings.through.objects.filter(
        screeninground_id__in=list(rounds)
    ).values_list("screeninground_id", "building_id"):
        by_building[bid].append(rid)
    if by_building:
        for zid, bid in members.filter(building_id__in=list(by_building)).values_list(
            "zone_id", "building_id"
        ):
            out[zid].update(by_building[bid])
    by_path: dict[str, list[int]] = defaultdict(list)
    for rid, path in ScreeningRound.jurisdictions.through.objects.filter(
        screeninground_id__in=list(rounds)
    ).values_list("screeninground_id", "jurisdiction__path"):
        by_path[path].append(rid)
    if by_path:
        pairs = list(members.values_list("zone_id", "building__jurisdiction_id").distinct())
        paths = dict(Jurisdiction.objects.filter(pk__in={j for _, j in pairs}).values_list("pk", "path"))
        covering: dict[int, list[int]] = {
            j: [rid for p in _prefixes(path) for rid in by_path.get(p, ())] for j, path in paths.items()
        }
        for zid, jid in pairs:
            found = covering.get(jid)
            if found:
                out[zid].update(found)
    # A round that found positives is positive for the zones a positive tube holds a resident of, and negative
    # for the others it covers (a district's round positive elsewhere says nothing against this zone).
    positive = [
        r for r in rounds if outcomes[r] == engine.POSITIVE and any(r in rids for rids in out.values())
    ]
    hit = _zones_with_positives(positive) if positive else {}
    return {
        zid: [
            facts[r]
            if facts[r].outcome != engine.POSITIVE or zid in hit.get(r, ())
            else engine.RoundFact(facts[r].code, facts[r].day, engine.NEGATIVE)
            for r in sorted(rids)
        ]
        for zid, rids in out.items()
    }


def _zones_with_positives(rounds: Sequence[int]) -> dict[int, set[int]]:
    """Per round, the zones a positive tube of the round holds a resident of (the positive tubes are few: a
    query over their samples' persons' homes, then the zones of those few buildings)."""
    homes = set(
        Binding.objects.filter(round_id__in=list(rounds), tube__result=Result.POSITIVE)
        .exclude(person__home_building_id=None)
        .values_list("round_id", "person__home_building_id")
        .distinct()
    )
    zones_of: dict[int, set[int]] = defaultdict(set)
    for bid, zid in ZoneBuilding.objects.filter(building_id__in={b for _r, b in homes}).values_list(
        "building_id", "zone_id"
    ):
        zones_of[bid].add(zid)
    out: dict[int, set[int]] = defaultdict(set)
    for rid, bid in homes:
        out[rid] |= zones_of.get(bid, set())
    return out
