"""Reads of zones: scoped lists and pages, the facts the rules read (set-based, every zone at once), the
stricter kind where zones overlap, and a person's zone kind.

Who sees a zone: every user whose territory holds its owner or one of its buildings, so a city zone across two
districts is seen from both (changed only by the city: ``core.scoping.require_may_change`` in the actions)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from cordon.apps.accounts.models import User
from cordon.apps.geo.models import Building, Jurisdiction, Level
from cordon.apps.people.models import Person
from cordon.apps.screening.models import ScreeningRound
from cordon.core import openitems
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope
from cordon.engine import zones as engine

from ..models import State, TransitionStatus, Zone, ZoneBuilding, ZoneRuleSet, ZoneTransition

LIVE = (State.PROPOSED, State.IN_FORCE, State.GUARDED)  # zones that still apply or may apply


def _scope(user: Actor, cap: Cap = Cap.VIEW_CONTROL) -> Scope:
    scope = Scope.of(user)
    scope.require(cap)
    return scope


def _seen_under(path: str) -> Q:
    """Zones a user of the node at ``path`` sees: owned in its subtree or holding a building there."""
    inside = ZoneBuilding.objects.filter(building__jurisdiction__path__startswith=path).values("zone_id")
    return Q(owner__path__startswith=path) | Q(pk__in=inside)


def _visible(scope: Scope, qs: QuerySet[Zone]) -> QuerySet[Zone]:
    if scope.path is None:
        return qs.none()
    return qs.filter(_seen_under(scope.path))


def zones_visible_to(user: Actor) -> QuerySet[Zone]:
    return _visible(_scope(user), Zone.objects.select_related("owner", "commander"))


def list_zones(user: Actor, *, kind: str = "", state: str = "", query: str = "") -> QuerySet[Zone]:
    qs = zones_visible_to(user).annotate(n_buildings=Count("members"))
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    if query.strip():
        q = query.strip()
        qs = qs.filter(Q(code__istartswith=q) | Q(name__icontains=q))
    return qs


def get_zone_for(user: Actor, key: int | str) -> Zone:
    qs = zones_visible_to(user)
    found = qs.filter(pk=key).first() if isinstance(key, int) or str(key).isdigit() else None
    found = found or qs.filter(code=str(key)).first()
    if found is None:
        raise NotFound
    return found


def commander_named(user: Actor, username: str) -> Any:
    """An active user of the caller's territory by user name (a zone's responsible commander): ``NotFound``
    when there is none or it is out of scope."""
    scope = _scope(user)
    found = (
        User.objects.filter(
            username=username.strip(), is_active=True, jurisdiction__path__startswith=scope.path
        )
        .select_related("jurisdiction")
        .first()
        if scope.path is not None and username.strip()
        else None
    )
    if found is None:
        raise NotFound
    return found


def get_transition_for(user: Actor, pk: int) -> ZoneTransition:
    zone_ids = zones_visible_to(user).values("pk")
    found = ZoneTransition.objects.select_related("zone__owner").filter(pk=pk, zone_id__in=zone_ids).first()
    if found is None:
        raise NotFound
    return found


def proposals_for(user: Actor) -> QuerySet[ZoneTransition]:
    """Transitions waiting for a decision, oldest first, in the user's zones."""
    return (
        ZoneTransition.objects.select_related("zone__owner", "proposed_by")
        .filter(status=TransitionStatus.PROPOSED, zone_id__in=zones_visible_to(user).values("pk"))
        .order_by("proposed_on", "id")
    )


def history(zone: Zone) -> QuerySet[ZoneTransition]:
    return zone.transitions.select_related("proposed_by", "decided_by").order_by("proposed_at", "id")


def open_proposal(zone: Zone, action: str) -> ZoneTransition | None:
    """The zone's open proposal of ``action``, if any (unscoped: for actions)."""
    return zone.transitions.filter(status=TransitionStatus.PROPOSED, action=action).first()


# --- Rules -----------------------------------------------------------------------------------------------------


def rules_in_force() -> ZoneRuleSet:
    """The rule set in force (unscoped: rules are the city's; the migration seeds one)."""
    found = ZoneRuleSet.objects.filter(in_force=True).first()
    if found is None:
        raise NotFound
    return found


def current_rules() -> ZoneRuleSet | None:
    """The rule set in force, or ``None`` when none is stored yet (pages)."""
    return ZoneRuleSet.objects.filter(in_force=True).first()


def rules_ever_set() -> bool:
    """Whether any zone rule set, in force or not, is stored (unscoped)."""
    return ZoneRuleSet.objects.exists()


def rule_sets() -> QuerySet[ZoneRuleSet]:
    return ZoneRuleSet.objects.all()


# --- Buildings of a definition (unscoped: the action has checked the owner) -----------------------------


def buildings_under(owner: Jurisdiction, nodes: Sequence[Jurisdiction]) -> list[int]:
    q = Q()
    for node in nodes:
        q |= Q(jurisdiction__path__startswith=node.path)
    if not nodes:
        return []
    return list(
        Building.objects.filter(q, jurisdiction__path__startswith=owner.path).values_list("pk", flat=True)
    )


def buildings_in_polygons(owner: Jurisdiction, polygons: Sequence[Sequence[engine.Ring]]) -> list[int]:
    """Buildings of ``owner``'s territory whose point lies inside the polygons (a box query, then the exact
    test in the engine)."""
    x0, y0, x1, y1 = engine.bounds(polygons)
    rows = Building.objects.filter(
        jurisdiction__path__startswith=owner.path,
        longitude__gte=x0,
        longitude__lte=x1,
        latitude__gte=y0,
        latitude__lte=y1,
    ).values_list("pk", "longitude", "latitude")
    return engine.points_inside(
        polygons, ((pk, x, y) for pk, x, y in rows if x is not None and y is not None)
    )


def buildings_outside(owner: Jurisdiction, building_ids: Iterable[int]) -> list[str]:
    return list(
        Building.objects.filter(pk__in=list(building_ids))
        .exclude(jurisdiction__path__startswith=owner.path)
        .values_list("code", flat=True)
    )


def zones_of_building(
    building_id: int, *, states: Sequence[str] = (State.IN_FORCE, State.GUARDED)
) -> list[Zone]:
    """Zones holding a building (unscoped: the reaction to a case)."""
    return list(
        Zone.objects.filter(members__building_id=building_id, state__in=states)
        .select_related("owner")
        .distinct()
    )


# --- What a zone page shows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overlap:
    zone: Zone
    shared: int  # buildings in both zones
    applies: str  # the stricter kind, which applies to the shared buildings


@dataclass(frozen=True)
class ZoneSummary:
    buildings: int
    population: int
    days_since_case: int | None
    clock: dt.date | None
    rounds: list[engine.RoundFact]
    overlaps: list[Overlap]
    districts: list[Jurisdiction]


def population(zone_id: int) -> int:
    """Residents of the zone's buildings (one indexed join)."""
    return Person.objects.filter(home_building__zone_members__zone_id=zone_id).count()


def overlaps(zone: Zone) -> list[Overlap]:
    """Live zones sharing buildings with ``zone``; the stricter kind applies to the shared buildings (shown on
    both zones' pages)."""
    mine = ZoneBuilding.objects.filter(zone=zone).values("building_id")
    rows = (
        ZoneBuilding.objects.filter(building_id__in=mine, zone__state__in=LIVE)
        .exclude(zone=zone)
        .values("zone_id")
        .annotate(n=Count("id"))
    )
    shared = {r["zone_id"]: r["n"] for r in rows}
    others = Zone.objects.filter(pk__in=shared).order_by("code")
    return [Overlap(o, shared[o.pk], engine.stricter(o.kind, zone.kind)) for o in others]


def summary(zone: Zone, today: dt.date | None = None) -> ZoneSummary:
    today = today or timezone.localdate()
    facts = zone_facts([zone.pk], today=today)
    f = facts[0] if facts else None
    clock = engine.clock_of(f) if f else None
    since = zone.last_case_on or zone.in_force_on
    districts = districts_of([zone.pk]).get(zone.pk, [])
    return ZoneSummary(
        buildings=ZoneBuilding.objects.filter(zone=zone).count(),
        population=population(zone.pk),
        days_since_case=(today - since).days if since else None,
        clock=clock,
        rounds=list(f.rounds) if f else [],
        overlaps=overlaps(zone),
        districts=list(Jurisdiction.objects.filter(pk__in=districts).order_by("path")),
    )


def zone_buildings(zone: Zone, *, limit: int = 500) -> QuerySet[Building]:
    return (
        Building.objects.filter(zone_members__zone=zone)
        .select_related("jurisdiction")
        .order_by("code")[:limit]
    )


def rounds_of_zone_count(zone: Zone) -> int:
    """Screening rounds already named after the zone (``<code>-R<n>``)."""
    return ScreeningRound.objects.filter(code__startswith=f"{zone.code}-R").count()


# --- The facts the rules read, for every zone at once ---------------------------------------------------------


def _needs_rounds(r: Mapping[str, Any], rules: engine.RuleSet, today: dt.date) -> bool:
    """Whether the rules will look at the zone's rounds today: in force, past its clean days, its kind asking
    for a round (a guarded zone, one short of its streak or one arguing for escalation is decided without)."""
    rule = rules.kinds.get(r["kind"])
    if r["state"] != State.IN_FORCE or rule is None or rule.round_day is None:
        return False
    if r["case_flag"] and r["kind"] in rules.escalate_on_case:
        return False
    clock = max((d for d in (r["in_force_on"], r["last_case_on"]) if d is not None), default=None)
    return clock is not None and (today - clock).days >= rule.clean_days


def _judged_on_rounds(rules: engine.RuleSet, today: dt.date) -> Q:
    """``_needs_rounds`` as a condition on zones, for the database: in force, its kind asking for a round, past
    its clean days counted from going in force and from its last case, not arguing for escalation."""
    q = Q(pk__in=[])
    for kind, rule in rules.kinds.items():
        if rule.round_day is None:
            continue
        cutoff = today - dt.timedelta(days=rule.clean_days)
        judged = (
            Q(state=State.IN_FORCE, kind=kind)
            & (Q(in_force_on__isnull=True) | Q(in_force_on__lte=cutoff))
            & (Q(last_case_on__isnull=True) | Q(last_case_on__lte=cutoff))
            & ~Q(in_force_on__isnull=True, last_case_on__isnull=True)
        )
        if kind in rules.escalate_on_case:
            judged &= Q(case_flag=False)
        q |= judged
    return q


_FACT_FIELDS = ("pk", "kind", "state", "in_force_on", "last_case_on", "guarded_on", "case_flag")


def zone_facts(
    zone_ids: Sequence[int] | None = None, *, today: dt.date, rules: engine.RuleSet | None = None
) -> list[engine.ZoneFacts]:
    """The facts of every zone in force or guarded (or of ``zone_ids``), read with a few set-based queries.
    With ``rules``, rounds are read only for the zones the rules will judge on them today (chosen in the
    database, so the zones' ids do not travel back as a list)."""
    qs = Zone.objects.filter(state__in=(State.IN_FORCE, State.GUARDED))
    if zone_ids is not None:
        qs = Zone.objects.filter(pk__in=zone_ids)
    rows = [dict(zip(_FACT_FIELDS, r, strict=True)) for r in qs.values_list(*_FACT_FIELDS)]
    if not rows:
        return []
    wanted: Sequence[int] | QuerySet[Any] | None = zone_ids
    keep: set[int] | None = None if zone_ids is None else set(zone_ids)
    if rules is not None:
        keep = {r["pk"] for r in rows if _needs_rounds(r, rules, today)}
        wanted = qs.filter(_judged_on_rounds(rules, today)).values("pk") if keep else []
    clocks = [
        d for r in rows if keep is None or r["pk"] in keep for d in (r["in_force_on"], r["last_case_on"]) if d
    ]
    since = min(clocks) if clocks else today
    covering = rounds_covering(wanted, since) if wanted is None or keep else {}
    return [
        engine.ZoneFacts(
            id=r["pk"],
            kind=r["kind"],
            state=r["state"],
            in_force_on=r["in_force_on"],
            last_case_on=r["last_case_on"],
            guarded_on=r["guarded_on"],
            rounds=tuple(covering.get(r["pk"], ())),
            case_since_in_force=r["case_flag"],
        )
        for r in rows
    ]


# --- Districts of zones, and the open items -------------------------------------------------------------------


def districts_of(zone_ids: Iterable[int]) -> dict[int, list[int]]:
    """The districts holding each zone's buildings (by the buildings' paths)."""
    paths = ZoneBuilding.objects.filter(zone_id__in=list(zone_ids)).values_list(
        "zone_id", "building__jurisdiction__path"
    )
    by_code = dict(Jurisdiction.objects.filter(level=Level.DISTRICT).values_list("path", "pk"))
    out: dict[int, set[int]] = defaultdict(set)
    for zid, path in paths.distinct():
        parts = path.strip("/").split("/")
        key = "/" + "/".join(parts[:2]) + "/" if len(parts) >= 2 else ""
        if key in by_code:
            out[zid].add(by_code[key])
    return {z: sorted(d) for z, d in out.items()}


def home_districts(zone_ids: Iterable[int]) -> dict[int, int]:
    """The one district each zone is counted under on the boards, so that a zone over two districts counts once
    in every total: its owner's district when a district (or a node below it) owns it, else the district
    holding most of its buildings (the first by path on a tie). A zone with no building in any district has
    none (it is not counted)."""
    ids = list(zone_ids)
    by_path = dict(Jurisdiction.objects.filter(level=Level.DISTRICT).values_list("path", "pk"))

    def district(path: str) -> int | None:
        parts = path.strip("/").split("/")
        return by_path.get("/" + "/".join(parts[:2]) + "/") if len(parts) >= 2 else None

    out: dict[int, int] = {}
    for zid, owner_path in Zone.objects.filter(pk__in=ids).values_list("pk", "owner__path"):
        d = district(owner_path or "")
        if d is not None:
            out[zid] = d
    weight: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        ZoneBuilding.objects.filter(zone_id__in=[z for z in ids if z not in out])
        .values_list("zone_id", "building__jurisdiction__path")
        .annotate(n=Count("id"))
        .order_by()
    )
    for zid, path, n in rows:
        d = district(path)
        if d is not None:
            weight[zid][path.strip("/").split("/")[1]] += n
    codes = {p.strip("/").split("/")[1]: pk for p, pk in by_path.items()}
    for zid, per in weight.items():
        out[zid] = codes[min(per, key=lambda code: (-per[code], code))]
    return out


def _per_district(items: dict[int, bool]) -> dict[int, tuple[int, int]]:
    """``{zone id: overdue?}`` of zones the user sees, counted under each zone's one district
    (``home_districts``)."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for zid, d in home_districts(items).items():
        counts[d][0] += 1
        counts[d][1] += int(items[zid])
    return {d: (n, o) for d, (n, o) in counts.items()}


def _placed(items: dict[int, bool], due: set[int]) -> openitems.Placed:
    """The same, grouped also by the jurisdictions a zone is seen from (its owner and its buildings' places), for
    the kept counts: a user sees a zone when one of them lies in the user's subtree (``_visible``), and counts
    it once whichever district it is counted under; ``due``: the zones falling due today."""
    owners = dict(Zone.objects.filter(pk__in=list(items)).values_list("pk", "owner_id"))
    seen_from = _seen_from(items)
    counts: dict[tuple[int, tuple[int | None, ...]], list[int]] = defaultdict(lambda: [0, 0, 0])
    for zid, d in home_districts(items).items():
        c = counts[(d, (owners[zid], *seen_from.get(zid, ())))]
        c[0] += 1
        c[1] += int(items[zid])
        c[2] += int(zid in due)
    return {k: (n, o, t) for k, (n, o, t) in counts.items()}


def _seen_from(zone_ids: Iterable[int] | QuerySet[Any]) -> dict[int, list[int]]:
    """The jurisdictions of each zone's buildings (sorted ids); ``zone_ids`` may be a query of them."""
    out: dict[int, set[int]] = defaultdict(set)
    ids = zone_ids if isinstance(zone_ids, QuerySet) else list(zone_ids)
    members = ZoneBuilding.objects.filter(zone_id__in=ids).values_list("zone_id", "building__jurisdiction_id")
    for zid, jurisdiction_id in members.distinct():
        out[zid].add(jurisdiction_id)
    return {z: sorted(j) for z, j in out.items()}


def _to_decide(scope: Scope, now: dt.datetime) -> dict[int, bool]:
    today = timezone.localdate(now)
    rows = (
        ZoneTransition.objects.filter(
            status=TransitionStatus.PROPOSED, zone_id__in=_visible(scope, Zone.objects.all()).values("pk")
        )
        .values("zone_id")
        .annotate(first=Min("proposed_on"))
    )
    return {r["zone_id"]: r["first"] < today for r in rows}


def to_decide_by_district(user: Actor, now: dt.datetime) -> dict[int, tuple[int, int]]:
    """Zones with a transition to decide (overdue: proposed before today)."""
    return _per_district(_to_decide(_scope(user), now))


def to_decide_placed(user: Actor, now: dt.datetime) -> openitems.Placed:
    """Due today: proposed today (overdue from tomorrow)."""
    items = _to_decide(_scope(user), now)
    return _placed(items, {z for z, late in items.items() if not late})


def _guard_lapsing(scope: Scope, now: dt.datetime) -> dict[int, bool]:
    today = timezone.localdate(now)
    rows = (
        _visible(scope, Zone.objects.all())
        .filter(state=State.GUARDED, guarded_until__lte=today + dt.timedelta(days=1))
        .values_list("pk", "guarded_until")
    )
    return {pk: until is not None and until < today for pk, until in rows}


def guard_lapsing_by_district(user: Actor, now: dt.datetime) -> dict[int, tuple[int, int]]:
    """Guarded zones whose guard ends by tomorrow (overdue: it ended and the zone is not closed)."""
    return _per_district(_guard_lapsing(_scope(user), now))


def guard_lapsing_placed(user: Actor, now: dt.datetime) -> openitems.Placed:
    """Due today: the guard ends today."""
    today = timezone.localdate(now)
    items = _guard_lapsing(_scope(user), now)
    ending = set(
        Zone.objects.filter(
            pk__in=[z for z, late in items.items() if not late], guarded_until=today
        ).values_list("pk", flat=True)
    )
    return _placed(items, ending)


# --- A person's zone (the people pages read it through core.personmarks) -----------------------------------


def zone_kinds_of_persons(user: Actor, person_ids: Sequence[int]) -> dict[int, str]:
    """For each person, the strictest kind of the zones in force their home building is in."""
    Scope.of(user)  # reads only what the caller already shows: the persons' own ids
    rows = Person.objects.filter(
        pk__in=list(person_ids),
        home_building__zone_members__zone__state=State.IN_FORCE,
    ).values_list("pk", "home_building__zone_members__zone__kind")
    out: dict[int, str] = {}
    for pk, kind in rows:
        out[pk] = engine.stricter(out[pk], kind) if pk in out else kind
    return out


def counts_by_kind(user: Actor) -> dict[str, dict[str, int]]:
    """Zones per kind and state (the list page's header)."""
    rows = zones_visible_to(user).values("kind", "state").annotate(n=Count("id")).order_by()
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for r in rows:
        out[r["kind"]][r["state"]] = r["n"]
    return dict(out)


def rules_summary(rules: ZoneRuleSet) -> dict[str, Any]:
    return rules.definition


# The kept count of the zones in force per node (``selectors/kept.py``), named here too.
from .kept import IN_FORCE, IN_FORCE_FIGURES, in_force_by_node  # noqa: E402,F401 (uses this module's reads)
from .rounds import rounds_covering  # noqa: E402 (the rounds that count for each zone)
