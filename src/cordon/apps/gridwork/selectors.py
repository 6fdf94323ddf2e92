"""Scoped reads of grid management: duty posts, shifts, plans, patrols, missed patrols, a grid worker's day.

A post is seen by users whose territory holds its grid, and by whoever has a shift at it. Missed patrols are
computed from the plans and the patrols recorded (``cordon.engine.patrols``): a patrol due at T is missed when
none was recorded at the post within T ± the plan's tolerance. A missed patrol stays **open** until a patrol
is next recorded at its post, and is **overdue** once it has been open for ``OVERDUE_HOURS``. Only posts that
are active, of zones in force or lifted and still guarded, count; only the last ``LOOKBACK_DAYS`` days.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from cordon.apps.accounts.models import User
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Building, Jurisdiction
from cordon.apps.people import selectors as people
from cordon.apps.people.models import Person, SpecialGroup
from cordon.apps.zones.models import State, Zone, ZoneBuilding
from cordon.core import openitems
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope
from cordon.engine import patrols as engine

from .models import DutyPost, DutyShift, Patrol, PatrolPlan

LOOKBACK_DAYS = 7
OVERDUE_HOURS = 12
WATCHED_STATES = (State.IN_FORCE, State.GUARDED)  # zones whose posts are patrolled


def _scope(user: Actor, cap: Cap = Cap.VIEW_POSTS) -> Scope:
    scope = Scope.of(user)
    scope.require(cap)
    return scope


def _visible(scope: Scope) -> Q:
    if scope.user_id is None:
        return scope.territory("jurisdiction")
    on_duty = DutyShift.objects.filter(user_id=scope.user_id).values("post_id")
    return scope.territory("jurisdiction") | Q(pk__in=on_duty)


def posts_visible_to(user: Actor) -> QuerySet[DutyPost]:
    scope = _scope(user)
    return DutyPost.objects.filter(_visible(scope)).select_related("zone", "jurisdiction", "building")


def get_post_for(user: Actor, pk: int) -> DutyPost:
    try:
        return posts_visible_to(user).get(pk=pk)
    except (DutyPost.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


def posts_of_zone(user: Actor, zone_id: int) -> QuerySet[DutyPost]:
    return posts_visible_to(user).filter(zone_id=zone_id)


def zones_to_post(user: Actor) -> QuerySet[Zone]:
    """Zones the user may set posts up in: owned by their level or one below it, not closed."""
    scope = _scope(user, Cap.MANAGE_POSTS)
    return Zone.objects.filter(scope.territory("owner")).exclude(state=State.CLOSED).order_by("code")


def get_zone_to_post(user: Actor, pk: Any) -> Zone:
    try:
        return zones_to_post(user).get(pk=pk)
    except (Zone.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


def building_by_code(user: Actor, code: str) -> Building:
    """A building in the user's territory, by code (a post's place)."""
    scope = Scope.of(user)
    try:
        return (
            Building.objects.filter(scope.territory("jurisdiction"))
            .select_related("jurisdiction")
            .get(code=code)
        )
    except Building.DoesNotExist:
        raise NotFound from None


def grid_by_code(user: Actor, code: str) -> Jurisdiction:
    """A jurisdiction in the user's territory, by code (the grid of a post at a point)."""
    return geo.get_jurisdiction_for(user, code.strip())


def shifts_of(post: DutyPost) -> QuerySet[DutyShift]:
    """The shifts of a post the caller has already been given (a scoped ``get_post_for``)."""
    return post.shifts.select_related("user").order_by("-starts_at")


def on_duty(post: DutyPost, at: dt.datetime) -> QuerySet[DutyShift]:
    return shifts_of(post).filter(starts_at__lte=at, ends_at__gt=at)


def is_on_duty(user: Actor | None, post: DutyPost, at: dt.datetime) -> bool:
    """Unscoped (actions): whether ``user`` has a shift at ``post`` covering ``at``."""
    if user is None or not getattr(user, "pk", None):
        return False
    return post.shifts.filter(user_id=user.pk, starts_at__lte=at, ends_at__gt=at).exists()


def plans_of(post: DutyPost) -> QuerySet[PatrolPlan]:
    return post.plans.order_by("-active_from", "-id")


def plan_in_force(post: DutyPost, day: dt.date) -> PatrolPlan | None:
    return (
        post.plans.filter(active_from__lte=day)
        .filter(Q(active_to__isnull=True) | Q(active_to__gte=day))
        .order_by("-active_from", "-id")
        .first()
    )


def patrols_of(post: DutyPost) -> QuerySet[Patrol]:
    return post.patrols.select_related("by").order_by("-at", "-id")


def patrols_visible_to(user: Actor) -> QuerySet[Patrol]:
    scope = _scope(user)
    return Patrol.objects.filter(post__in=DutyPost.objects.filter(_visible(scope))).select_related(
        "post", "by"
    )


def get_patrol_for(user: Actor, pk: int) -> Patrol:
    try:
        return patrols_visible_to(user).get(pk=pk)
    except (Patrol.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


# --- Missed patrols -------------------------------------------------------------------------------------------


def _local(at: dt.datetime) -> dt.datetime:
    return timezone.localtime(at).replace(tzinfo=None)


def _aware(at: dt.datetime) -> dt.datetime:
    return timezone.make_aware(at)


def engine_plan(plan: PatrolPlan) -> engine.Plan:
    return engine.Plan(
        times=tuple(engine.parse_times(plan.times)),
        every_hours=plan.every_hours,
        tolerance=dt.timedelta(minutes=plan.tolerance_minutes),
        active_from=plan.active_from,
        active_to=plan.active_to,
    )


@dataclass(frozen=True)
class Missed:
    post: DutyPost
    due: dt.datetime  # aware
    overdue: bool


def _watched(posts: QuerySet[DutyPost]) -> QuerySet[DutyPost]:
    return posts.filter(active=True, zone__state__in=WATCHED_STATES)


def _missed(posts: QuerySet[DutyPost], now: dt.datetime) -> list[Missed]:
    start = now - dt.timedelta(days=LOOKBACK_DAYS)
    posts = _watched(posts).annotate(last=Max("patrols__at", filter=Q(patrols__at__lte=now)))
    by_id = {p.pk: p for p in posts}
    if not by_id:
        return []
    plans = defaultdict(list)
    for plan in PatrolPlan.objects.filter(post_id__in=by_id).filter(
        Q(active_to__isnull=True) | Q(active_to__gte=_local(start).date())
    ):
        plans[plan.post_id].append(plan)
    out = []
    local_now, overdue_after = _local(now), dt.timedelta(hours=OVERDUE_HOURS)
    for post_id, post_plans in plans.items():
        post = by_id[post_id]
        # Only due times after the post's last patrol are open, and no patrol is later than that one: it is
        # the only patrol that can fall within their windows.
        last = _local(post.last) if post.last is not None else None
        since = max(_local(start), last) if last is not None else _local(start)
        for plan in post_plans:
            for due in engine.missed(engine_plan(plan), [last] if last else [], since, local_now):
                out.append(Missed(post, _aware(due), local_now - due > overdue_after))
    return sorted(out, key=lambda m: (m.due, m.post.pk))


def missed_patrols(user: Actor, now: dt.datetime | None = None, *, zone_code: str = "") -> list[Missed]:
    """Missed patrols still open at the posts the user sees (of one zone when its code is given), oldest
    first."""
    posts = posts_visible_to(user)
    return _missed(posts.filter(zone__code=zone_code) if zone_code else posts, now or timezone.now())


def missed_by_district(user: Actor, now: dt.datetime) -> dict[int, tuple[int, int]]:
    """Missed patrols per district (open, overdue): an open-item kind of the board."""
    scope = _scope(user)
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for m in _missed(DutyPost.objects.filter(scope.territory("jurisdiction")), now):
        counts[m.post.district_id][0] += 1
        counts[m.post.district_id][1] += int(m.overdue)
    return {k: (v[0], v[1]) for k, v in counts.items()}


def missed_placed(user: Actor, now: dt.datetime) -> openitems.Placed:
    """The same, grouped also by the post's jurisdiction (what a user's scope is matched on), for the kept
    counts."""
    scope = _scope(user)
    counts: dict[tuple[int, tuple[int | None, ...]], list[int]] = defaultdict(lambda: [0, 0, 0])
    # Due today: not overdue yet, overdue before the local day ends.
    horizon = openitems.day_end(now) - dt.timedelta(hours=OVERDUE_HOURS)
    for m in _missed(DutyPost.objects.filter(scope.territory("jurisdiction")), now):
        c = counts[(m.post.district_id, (m.post.jurisdiction_id,))]
        c[0] += 1
        c[1] += int(m.overdue)
        c[2] += int(not m.overdue and m.due < horizon)
    return {k: (v[0], v[1], v[2]) for k, v in counts.items()}


# --- A grid worker's day --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    post: DutyPost
    due: dt.datetime  # aware
    state: str  # "done", "missed", "due" (window open now), "later"


def my_posts(user: Actor) -> QuerySet[DutyPost]:
    """The active posts of zones not closed that the user sees (their grid's, and where they have a shift)."""
    return (
        posts_visible_to(user)
        .filter(active=True)
        .exclude(zone__state=State.CLOSED)
        .order_by("zone_id", "name")
    )


def my_zones(user: Actor) -> list[Zone]:
    """The zones of the user's posts, and the zones holding buildings of the user's territory, not closed."""
    scope = _scope(user)
    ids = set(my_posts(user).values_list("zone_id", flat=True))
    ids |= set(
        ZoneBuilding.objects.filter(scope.territory("building__jurisdiction")).values_list(
            "zone_id", flat=True
        )
    )
    return list(Zone.objects.filter(pk__in=ids).exclude(state=State.CLOSED).order_by("code"))


def my_buildings(user: Actor, zones: list[Zone]) -> QuerySet[Building]:
    """The buildings of those zones in the user's territory."""
    scope = Scope.of(user)
    member = ZoneBuilding.objects.filter(zone__in=zones).values("building_id")
    return Building.objects.filter(scope.territory("jurisdiction"), pk__in=member).order_by("code")


def special_residents(user: Actor, buildings: QuerySet[Building]) -> QuerySet[Person]:
    """Residents of special groups (elderly living alone, disabled, pregnant, ...) living in ``buildings``,
    through the register's scoped read."""
    groups = Q()
    for tag in SpecialGroup.values:
        groups |= Q(tags__icontains=f'"{tag}"')
    return (
        people.persons_visible_to(user)
        .filter(groups, home_building__in=buildings)
        .order_by("home_building", "name")
    )


def today_tasks(
    user: Actor, now: dt.datetime | None = None, posts: list[DutyPost] | None = None
) -> list[Task]:
    """Today's patrols due at the user's posts (or those of ``posts``, already read through ``my_posts``), each
    done, missed, due now or later."""
    now = now or timezone.now()
    local_now = _local(now)
    day_start = dt.datetime.combine(local_now.date(), dt.time())
    out = []
    if posts is None:
        posts = list(my_posts(user))
    for post in (p for p in posts if p.zone.state in WATCHED_STATES):
        plan = plan_in_force(post, local_now.date())
        if plan is None:
            continue
        spec = engine_plan(plan)
        done = [
            _local(a)
            for a in post.patrols.filter(at__gte=_aware(day_start) - spec.tolerance).values_list(
                "at", flat=True
            )
        ]
        for due in engine.due_times(spec, day_start, day_start + dt.timedelta(days=1)):
            lo, hi = due - spec.tolerance, due + spec.tolerance
            if any(lo <= a <= hi for a in done):
                state = "done"
            elif hi < local_now:
                state = "missed"
            elif lo <= local_now:
                state = "due"
            else:
                state = "later"
            out.append(Task(post, _aware(due), state))
    return sorted(out, key=lambda t: (t.due, t.post.name))


def user_to_put_on_duty(user: Actor, username: str) -> Any:
    """An active user of the caller's territory, by user name (for a shift); ``NotFound`` otherwise."""
    scope = _scope(user, Cap.MANAGE_POSTS)
    try:
        return User.objects.filter(scope.territory("jurisdiction"), is_active=True).get(
            username=username.strip()
        )
    except User.DoesNotExist:
        raise NotFound from None
