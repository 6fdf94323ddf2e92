"""Scoped reads of mass screening: rounds, sites, tubes, coverage (应检尽检), the not-yet-sampled list,
temporary controls and re-sample tasks, overdue key-industry workers, and the per-district open items the
control board shows.

- A round is seen by users whose territory holds its organiser, or lies under it (a district sees a
  city-wide round, and within it only its own district).
- Coverage, the not-yet-sampled list, temporary controls and re-sample tasks are limited to the user's
  territory (by the person's residence).
- Tubes and sites are seen by users whose territory holds the site; a lab sees the tubes it received.

Coverage is counted with grouped aggregates over indexed columns (persons by jurisdiction, samples by round and
jurisdiction) and rolled up over the jurisdiction tree in Python; the not-yet-sampled list is read a page at a
time by person id (keyset), never by loading the population.

The reads of a station's batch (register rows by ID or pass, who is already sampled, due re-sample tasks, the
round's scope) are unscoped, as their docstrings say: the binding action checks the batch itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import IndustrySector, Jurisdiction, Level
from cordon.apps.people.models import Person
from cordon.core import live, openitems
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope, may_change
from cordon.engine import pooling

from ..models import (
    TUBE_SIZES,
    Binding,
    FrequencyRule,
    Lab,
    ResampleTask,
    RoundCount,
    RoundStatus,
    RoundTarget,
    SamplingSite,
    ScreeningRound,
    SiteDayCount,
    TaskStatus,
    TemporaryControl,
    Tube,
    TubeStatus,
)


def _scope(user: Actor, cap: Cap = Cap.VIEW_SCREENING) -> Scope:
    scope = Scope.of(user)
    scope.require(cap)
    return scope


def ancestor_paths(path: str) -> list[str]:
    """The paths of the nodes above the node at ``path`` (a plain computation over the path)."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]


def rounds_visible_to(user: Actor, cap: Cap = Cap.VIEW_SCREENING) -> QuerySet[ScreeningRound]:
    scope = _scope(user, cap)
    if scope.path is None:
        return ScreeningRound.objects.none()
    return ScreeningRound.objects.filter(
        scope.territory("owner") | Q(owner__path__in=ancestor_paths(scope.path))
    ).select_related("owner")


def rounds_on(user: Actor, day: dt.date) -> QuerySet[ScreeningRound]:
    """The rounds the user sees that ran on ``day`` (the city's day): opened, with a window touching it."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return rounds_visible_to(user).filter(
        status__in=[RoundStatus.OPEN, RoundStatus.CLOSED],
        starts_at__lt=start + dt.timedelta(days=1),
        ends_at__gte=start,
    )


def get_round_for(user: Actor, code: str, cap: Cap = Cap.VIEW_SCREENING) -> ScreeningRound:
    try:
        return rounds_visible_to(user, cap).get(code=code)
    except ScreeningRound.DoesNotExist:
        raise NotFound from None


def may_manage(user: Actor, round: ScreeningRound) -> bool:
    """Whether the user may change the round, its sites and tubes: the capability, and the round organised by
    their level or a level below it (a district sees a city-wide round but does not run it). The actions check
    the same (``require_may_change``); pages ask here only to offer the buttons."""
    return Scope.of(user).can(Cap.MANAGE_SCREENING) and may_change(user, round.owner)


def sites_visible_to(user: Actor, cap: Cap = Cap.VIEW_SCREENING) -> QuerySet[SamplingSite]:
    scope = _scope(user, cap)
    return SamplingSite.objects.filter(scope.territory("jurisdiction")).select_related(
        "round", "jurisdiction"
    )


def get_site_for(user: Actor, pk: int, cap: Cap = Cap.VIEW_SCREENING) -> SamplingSite:
    try:
        return sites_visible_to(user, cap).get(pk=pk)
    except (SamplingSite.DoesNotExist, ValueError):
        raise NotFound from None


def labs_visible_to(user: Actor, cap: Cap = Cap.LAB) -> QuerySet[Lab]:
    scope = _scope(user, cap)
    return Lab.objects.filter(scope.territory("jurisdiction"))


def get_lab_for(user: Actor, code: str, cap: Cap = Cap.LAB) -> Lab:
    try:
        return labs_visible_to(user, cap).get(code=code)
    except Lab.DoesNotExist:
        raise NotFound from None


def get_tube_for(user: Actor, barcode: str, cap: Cap = Cap.VIEW_SCREENING) -> Tube:
    scope = _scope(user, cap)
    try:
        return Tube.objects.select_related("site", "round").get(
            scope.territory("site__jurisdiction"), barcode=barcode.strip()
        )
    except Tube.DoesNotExist:
        raise NotFound from None


def tube_at_site(site: SamplingSite, barcode: str) -> Tube | None:
    """The tube with this barcode issued to ``site`` (which comes from ``get_site_for``, so is in the user's
    scope), or ``None``: the station page reads its current tube here."""
    barcode = barcode.strip()
    return Tube.objects.filter(site=site, barcode=barcode).first() if barcode else None


def tubes_ready(site: SamplingSite) -> int:
    """How many tubes issued to ``site`` can still take samples (the station says when there are none)."""
    return Tube.objects.filter(site=site, status__in=(TubeStatus.ISSUED, TubeStatus.OPEN)).count()


def site_status(site: SamplingSite, now: dt.datetime | None = None) -> dict[str, Any]:
    """Samples taken today (the site's kept count of the day, ``SiteDayCount``) and in the last 15 minutes (an
    index range of the site's last samples, counted now), and the live queue estimate: the persons reported
    queueing over the recent rate (or 2 minutes per person per sampler without a recent rate)."""
    now = now or timezone.now()
    recent = Binding.objects.filter(site=site, bound_at__gte=now - dt.timedelta(minutes=15)).count()
    today = (
        SiteDayCount.objects.filter(site=site, day=timezone.localdate(now))
        .values_list("sampled", flat=True)
        .first()
        or 0
    )
    per_minute = recent / 15 if recent else site.staff / 2
    wait = round(site.queue_length / per_minute) if site.queue_length else 0
    local = timezone.localtime(now).time()
    return {
        "today": today,
        "per_hour": round(per_minute * 60),
        "wait_minutes": wait,
        "open_now": site.opens <= local <= site.closes and site.round.accepting(now),
    }


# --- Coverage (应检尽检) -------------------------------------------------------------------------------------


def scope_filter(
    area_paths: list[str], buildings: list[int], sectors: list[int], subtree: dict[int, str] | None = None
) -> Q:
    """Persons a round over these areas (jurisdiction paths), buildings and sectors targets: those living in
    the areas or buildings; with sectors, only the sectors' workers among them (a key-industry round over the
    pre-filled area is the couriers of that area, not the whole area), or the sectors' workers anywhere when the
    round names no area or building. With ``subtree`` (jurisdiction id -> path of the node being looked at),
    the area part becomes a list of jurisdiction ids, so counts read the persons' jurisdiction index without a
    join."""
    if subtree is None:
        place = Q(pk__in=[])
        for path in area_paths:
            place |= Q(jurisdiction__path__startswith=path)
    else:
        ids = [i for i, path in subtree.items() if any(path.startswith(a) for a in area_paths)]
        place = Q(jurisdiction_id__in=ids) if ids else Q(pk__in=[])
    if buildings:
        place |= Q(home_building_id__in=buildings)
    if not sectors:
        return place
    workers = Q(sector_id__in=sectors)
    return workers & place if (area_paths or buildings) else workers


def target_filter(round: ScreeningRound, subtree: dict[int, str] | None = None) -> Q:
    """Persons in the round's target population (``scope_filter`` over the round's areas, buildings and
    sectors)."""
    paths, buildings, sectors = round_scope(round)
    return scope_filter(paths, sorted(buildings), sorted(sectors), subtree)


def target_count(area_paths: list[str], buildings: list[int], sectors: list[int]) -> int:
    """Unscoped: how many persons a round over these areas, buildings and sectors would target (the new-round
    form says it before the round is created; the areas come from the user's own scoped look-ups)."""
    if not (area_paths or buildings or sectors):
        return 0
    return Person.objects.filter(scope_filter(area_paths, buildings, sectors)).count()


def _subtree(node: Jurisdiction) -> dict[int, str]:
    return dict(Jurisdiction.objects.filter(path__startswith=node.path).values_list("id", "path"))


def coverage_node(user: Actor, round: ScreeningRound, code: str = "") -> Jurisdiction:
    """The jurisdiction a coverage page breaks down: ``code`` when it lies in the user's territory, by
    default the deeper of the round's organiser and the user's own jurisdiction."""
    scope = _scope(user)
    if code:
        node = Jurisdiction.objects.filter(code=code).first()
        if node is None or scope.path is None or not node.path.startswith(scope.path):
            raise NotFound
        return node
    own = user.jurisdiction
    if own is None:
        raise NotFound
    if not own.path.startswith(round.owner.path):
        return round.owner
    if isinstance(own, Jurisdiction):  # a signed-in user's own node, already loaded
        return own
    node = Jurisdiction.objects.filter(path=own.path).first()
    if node is None:
        raise NotFound
    return node


@dataclass
class CoverageRow:
    jurisdiction: Jurisdiction
    target: int = 0
    sampled: int = 0

    @property
    def missing(self) -> int:
        return max(self.target - self.sampled, 0)

    @property
    def percent(self) -> float:
        return round(100 * self.sampled / self.target, 1) if self.target else 0.0


@dataclass
class Coverage:
    node: Jurisdiction
    rows: list[CoverageRow] = field(default_factory=list)
    total: CoverageRow | None = None
    outside_scope: int = 0  # sampled here although outside the round's scope (flagged)
    resampled: int = 0


def coverage(user: Actor, round: ScreeningRound, node: Jurisdiction) -> Coverage:
    """Counts under ``node`` (which must come from ``coverage_node``), per child jurisdiction: the target
    population as counted when the round opened (or was recounted) and the samples as of now (counters kept
    with the samples)."""
    _scope(user)
    subtree = _subtree(node)
    children = list(node.children.order_by("code"))
    rows = {c.path: CoverageRow(c) for c in children}
    total = CoverageRow(node)
    depth = node.path.count("/")

    def child_of(path: str) -> CoverageRow | None:
        parts = path.split("/")
        return rows.get("/".join(parts[: depth + 1]) + "/") if len(parts) > depth + 1 else None

    ids = list(subtree)
    out = Coverage(node=node, total=total)
    for jid, n in RoundTarget.objects.filter(round=round, jurisdiction_id__in=ids).values_list(
        "jurisdiction_id", "persons"
    ):
        total.target += n
        if (row := child_of(subtree[jid])) is not None:
            row.target += n
    for jid, n, outside in RoundCount.objects.filter(round=round, jurisdiction_id__in=ids).values_list(
        "jurisdiction_id", "sampled", "outside"
    ):
        out.outside_scope += outside
        total.sampled += n
        if (row := child_of(subtree[jid])) is not None:
            row.sampled += n
    out.resampled = (
        ResampleTask.objects.filter(round=round, jurisdiction_id__in=ids)
        .exclude(status__in=[TaskStatus.DUE, TaskStatus.CANCELLED])
        .count()
    )
    out.rows = [r for r in rows.values() if r.target or r.sampled]
    return out


NOT_SAMPLED_CAP = 500  # persons per page of the not-yet-sampled list, at most
MAX_KEY = 2**63 - 1  # the largest person id (a bigint): the list pages by id, ``after`` goes up to this


def not_sampled_limit(limit: int) -> int:
    """How many persons a page of the not-yet-sampled list holds for a requested ``limit`` (1 to the cap)."""
    return max(1, min(limit, NOT_SAMPLED_CAP))


def not_sampled(
    user: Actor, round: ScreeningRound, node: Jurisdiction, *, after: int = 0, limit: int = 50
) -> list[Person]:
    """The next ``limit`` persons (at most ``NOT_SAMPLED_CAP``) of the target population under ``node`` not yet
    sampled in the round, by person id after ``after`` (keyset pagination)."""
    _scope(user)
    subtree = _subtree(node)
    sampled = Binding.objects.filter(round=round, person_id=OuterRef("pk"), resample__isnull=True)
    return list(
        Person.objects.filter(target_filter(round, subtree), jurisdiction_id__in=list(subtree), pk__gt=after)
        .filter(~Exists(sampled))
        .select_related("jurisdiction", "home_building")
        .order_by("pk")[: not_sampled_limit(limit)]
    )


# --- Follow-up of positives -------------------------------------------------------------------------------


def temporary_controls(user: Actor, *, open_only: bool = True) -> QuerySet[TemporaryControl]:
    scope = _scope(user)
    qs = TemporaryControl.objects.filter(scope.territory("jurisdiction"))
    if open_only:
        qs = qs.filter(lifted_at__isnull=True)
    return qs.select_related("person", "building", "district", "tube", "round", "case")


def resample_tasks(user: Actor, *, open_only: bool = True) -> QuerySet[ResampleTask]:
    scope = _scope(user)
    qs = ResampleTask.objects.filter(scope.territory("jurisdiction"))
    if open_only:
        qs = qs.filter(status__in=[TaskStatus.DUE, TaskStatus.SAMPLED])
    return qs.select_related("person", "district", "source_tube", "round")


POSITIVES = "badge_positives"  # the menu badge's kept roll-up group (registered in hooks.py)


def positives_badge(user: Actor) -> int:
    """The positives badge: persons of positive pools under temporary control in the user's territory, kept
    when fresh (``geo.kept_group``), else counted now."""
    kept = geo.kept_group(user, POSITIVES)
    return kept[POSITIVES] if kept is not None else temporary_controls(user).count()


def controls_by_jurisdiction(user: Actor, path: str) -> dict[str, dict[int, int]]:
    """Persons under temporary control, not lifted, by jurisdiction under ``path`` (what the badge counts)."""
    qs = temporary_controls(user).filter(jurisdiction__path__startswith=path)
    rows = qs.values("jurisdiction_id").annotate(n=Count("id")).order_by()
    return {POSITIVES: {r["jurisdiction_id"]: r["n"] for r in rows}}


def follow_up_version(user: Actor) -> str:
    """What the positives follow-up page shows, summed up cheaply (for its live region): people put under or
    released from temporary control, re-sample tasks opened or done, and every five minutes (overdue)."""
    controls = temporary_controls(user).order_by().aggregate(n=Count("pk"), last=Max("pk"))
    tasks = (
        resample_tasks(user)
        .order_by()
        .aggregate(n=Count("pk"), last=Max("pk"), sampled=Count("pk", filter=Q(status=TaskStatus.SAMPLED)))
    )
    return live.version(*controls.values(), *tasks.values())


def marked_buildings(user: Actor) -> list[dict[str, Any]]:
    """Buildings with persons under temporary control (marked for the grid workers), with how many."""
    rows = (
        temporary_controls(user)
        .exclude(building__isnull=True)
        .values("building_id", "building__code", "building__address", "district__name")
        .annotate(n=Count("id"))
        .order_by("building__code")
    )
    return [dict(r) for r in rows]


def temporary_controls_open(user: Actor, now: dt.datetime) -> openitems.Open:
    """Persons of positive pools under temporary control, not yet lifted: open, none overdue."""
    qs = TemporaryControl.objects.filter(_scope(user).territory("jurisdiction"), lifted_at__isnull=True)
    return openitems.Open(qs, False)


def overdue_resamples_open(user: Actor, now: dt.datetime) -> openitems.Open:
    """Single-tube re-samples past their deadline: every one overdue."""
    territory = _scope(user).territory("jurisdiction")
    return openitems.Open(ResampleTask.objects.filter(territory, status=TaskStatus.DUE, due_at__lt=now), True)


def temporary_controls_by_district(user: Actor, now: dt.datetime) -> dict[int, tuple[int, int]]:
    return temporary_controls_open(user, now).by_district("district_id")


def overdue_resamples_by_district(user: Actor, now: dt.datetime) -> dict[int, tuple[int, int]]:
    return overdue_resamples_open(user, now).by_district("district_id")


def temporary_controls_placed(user: Actor, now: dt.datetime) -> openitems.Placed:
    return temporary_controls_open(user, now).placed("district_id", ["jurisdiction_id"])


def overdue_resamples_placed(user: Actor, now: dt.datetime) -> openitems.Placed:
    return overdue_resamples_open(user, now).placed("district_id", ["jurisdiction_id"])


def follow_up_in_state(user: Actor, kind: str, state: str) -> tuple[QuerySet[Any], QuerySet[Any]]:
    """The follow-up page's two lists as the board's cell of ``kind`` (``temporary_controls`` or ``resamples``)
    counts them in ``state``, the other list empty."""
    controls = openitems.in_state(temporary_controls_open(user, timezone.now()), state)
    tasks = openitems.in_state(overdue_resamples_open(user, timezone.now()), state)
    controls = controls.select_related("person", "building", "district", "tube", "round", "case")
    tasks = tasks.select_related("person", "district", "source_tube", "round")
    return (controls, tasks.none()) if kind == "temporary_controls" else (controls.none(), tasks)


# --- Key industries ----------------------------------------------------------------------------------------


def rules(user: Actor) -> QuerySet[FrequencyRule]:
    """The frequency rules that hold somewhere in the user's territory: those of their own node and the levels
    above it, and those of the levels below it."""
    scope = _scope(user)
    if scope.path is None:
        return FrequencyRule.objects.none()
    return FrequencyRule.objects.filter(
        Q(jurisdiction__path__startswith=scope.path) | Q(jurisdiction__path__in=ancestor_paths(scope.path))
    ).select_related("sector", "jurisdiction")


def _holding_rule(scope: Scope, sector_rules: list[FrequencyRule]) -> FrequencyRule:
    """The rule a page shows for a sector: the strictest of those holding at the user's own node, or else the
    strictest of those below it (a district's own, seen by the city)."""
    path = scope.path or ""
    over = [r for r in sector_rules if path.startswith(r.jurisdiction.path)]
    return min(over or sector_rules, key=lambda r: r.every_days)


def overdue_workers(
    user: Actor, *, sector: IndustrySector | None = None, now: dt.datetime | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Per key-industry sector with a frequency rule: the workers in the user's territory (and sector, for a
    regulator) whose last sample is older than the rule holding where they live allows, or who were never
    sampled. Where the city's rule and a district's both hold, the stricter does: a worker is overdue when
    any rule over their home says so."""
    scope = _scope(user)
    now = now or timezone.now()
    out = []
    qs_rules = rules(user)
    if scope.sector_id is not None:
        qs_rules = qs_rules.filter(sector_id=scope.sector_id)
    if sector is not None:
        qs_rules = qs_rules.filter(sector=sector)
    by_sector: dict[int, list[FrequencyRule]] = {}
    for rule in qs_rules.order_by("sector__code", "jurisdiction__path"):
        by_sector.setdefault(rule.sector_id, []).append(rule)
    for sector_rules in by_sector.values():
        due = Q(pk__in=[])
        for rule in sector_rules:
            since = now - dt.timedelta(days=rule.every_days)
            due |= Q(jurisdiction__path__startswith=rule.jurisdiction.path) & (
                Q(last__isnull=True) | Q(last__lt=since)
            )
        workers = (
            Person.objects.filter(scope.territory("jurisdiction"), sector=sector_rules[0].sector)
            .annotate(last=Max("screening_samples__bound_at"))
            .filter(due)
            .select_related("jurisdiction")
            .order_by("last", "pk")
        )
        total = workers.count()
        out.append(
            {
                "rule": _holding_rule(scope, sector_rules),
                "rules": sector_rules,
                "sector": sector_rules[0].sector,
                "overdue": total,
                "workers": list(workers[:limit]),
            }
        )
    return out


# --- The station's batch (unscoped reads of the binding action) -------------------------------------------

BATCH_PERSON_FIELDS = (
    "id",
    "national_id",
    "jurisdiction_id",
    "jurisdiction__path",
    "home_building_id",
    "sector_id",
)


def batch_persons(nids: set[str], pks: set[int]) -> list[dict[str, Any]]:
    """Unscoped (a station binds whoever it scans): the register rows a batch names, by national ID or pass
    key, as ``BATCH_PERSON_FIELDS``. One query; ``= ANY`` on PostgreSQL, where thousands of ``IN``
    placeholders cost more to build than to run."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT p.id, p.national_id, p.jurisdiction_id, j.path, p.home_building_id, p.sector_id "
                f"FROM {Person._meta.db_table} p JOIN {Jurisdiction._meta.db_table} j ON j.id = p.jurisdiction_id "
                "WHERE p.national_id = ANY(%s) OR p.id = ANY(%s)",
                [list(nids), list(pks)],
            )
            return [dict(zip(BATCH_PERSON_FIELDS, r, strict=True)) for r in cur.fetchall()]
    out = list(Person.objects.filter(national_id__in=nids).values(*BATCH_PERSON_FIELDS)) if nids else []
    out += list(Person.objects.filter(pk__in=pks).values(*BATCH_PERSON_FIELDS)) if pks else []
    return out


def sampled_in_round(round_id: int, person_ids: set[int]) -> set[int]:
    """Unscoped: who of these persons already has a (first) sample in the round."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT person_id FROM {Binding._meta.db_table} WHERE round_id = %s AND resample_id IS NULL "
                "AND person_id = ANY(%s)",
                [round_id, list(person_ids)],
            )
            return {r[0] for r in cur.fetchall()}
    return set(
        Binding.objects.filter(
            round_id=round_id, person_id__in=person_ids, resample__isnull=True
        ).values_list("person_id", flat=True)
    )


def due_resample_tasks(round: ScreeningRound, person_ids: set[int]) -> dict[int, int]:
    """Unscoped: person id -> their re-sample task due in the round, for these persons (no second query when
    the round has none due)."""
    due = ResampleTask.objects.filter(round=round, status=TaskStatus.DUE)
    if not due.exists():
        return {}
    return dict(due.filter(person_id__in=person_ids).values_list("person_id", "id"))


def round_scope(round: ScreeningRound) -> tuple[list[str], set[int], set[int]]:
    """The round's scope as plain values: area paths, building ids, sector ids."""
    return (
        list(round.jurisdictions.values_list("path", flat=True)),
        set(round.buildings.values_list("id", flat=True)),
        set(round.sectors.values_list("id", flat=True)),
    )


def district_ids() -> dict[str, int]:
    """Unscoped: every district's id by its code."""
    return dict(Jurisdiction.objects.filter(level=Level.DISTRICT).values_list("code", "id"))


# --- Advisor -----------------------------------------------------------------------------------------------


def advice(prevalence: float, population: int | None = None) -> pooling.Recommendation:
    """The pool-design advisor over the validated station designs (N-in-1 with N in 1, 5, 10, 20; two lab
    rounds); ValueError for a prevalence out of range."""
    return pooling.advise(
        prevalence,
        max_rounds=2,
        allowed_pool_sizes=pooling.VALIDATED_POOL_SIZES,
        population=population,
    )


def runs_at_stations(design: pooling.Design) -> bool:
    """Designs the station and lab workflow runs: one tube of 1, 5, 10 or 20 per pool, single re-tests."""
    return isinstance(design, pooling.Individual | pooling.Dorfman) and design.tube_size in TUBE_SIZES


def station_choice(rec: pooling.Recommendation) -> pooling.Assessment:
    """The advisor's cheapest feasible design among those the stations run (individual testing always is)."""
    options = [a for a in (rec.choice, *rec.alternatives) if a.feasible and runs_at_stations(a.design)]
    return min(options, key=lambda a: (a.tests_per_person, a.max_pool_size))


# A day's coverage, counted and kept per node (``selectors/kept.py``), named here too.
from .kept import COVERAGE_TODAY, COVERAGE_TODAY_FIGURES, coverage_on, coverage_today_by_node  # noqa: E402,F401
