"""The daily situation reports' reads: the areas a user may report on, the reports a user may see, and a report's
figures (computed once and stored in its row)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone, translation

from cordon.apps.control import selectors as control
from cordon.apps.control.models import OrderStatus
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction, Level
from cordon.apps.screening import selectors as screening
from cordon.apps.screening.models import SiteDayCount
from cordon.apps.tallies import selectors as tallies
from cordon.apps.tracing import selectors as tracing
from cordon.apps.zones import selectors as zones
from cordon.apps.zones.models import Kind, ZoneBuilding
from cordon.core import openitems
from cordon.core.access import all_of
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope

from .. import figures
from ..models import DailyReport
from . import analysis, areas_for

# --- The daily situation report (疫情日报) ------------------------------------------------------------------------
# A report's figures are computed once, here, and stored in its row (``DailyReport.figures``); its page and its
# PDF show that dictionary and nothing else. Figures of events (cases, samples) count what was recorded before
# the report's ``as_of`` (the end of its day, or the time it was made when that is earlier). Figures of state
# (people under control, zones) are read at ``as_of`` from the records' own dates. Figures of work still open
# (contacts to judge or to transfer, open items overdue) exist only now: a report made later than the day after
# its own holds none of them and says so (``snapshot`` is null).

REPORT_CURVE_DAYS = 28
PENDING_KINDS = (
    "to_judge",
    "waiting",
    "transfers",
)  # contacts to judge; to transfer and isolate; in transfer
FIGURES_VERSION = 1


# A daily report holds cases, control and screening figures together: made and read by roles that see all three
# (``PermissionDenied`` for the others: an investigator sees no screening, so could neither make one nor read a
# stored one without seeing figures its role may not).
REPORT_CAPS = (Cap.VIEW_CASES, Cap.VIEW_CONTROL, Cap.VIEW_SCREENING)
REPORT_RULE = all_of(*REPORT_CAPS)  # the report pages' and API's access rule


def _require_report_reader(scope: Scope) -> None:
    for cap in REPORT_CAPS:
        scope.require(cap)


def report_areas(user: Actor) -> list[Jurisdiction]:
    """The areas the user may make a daily report of: the city and its districts for a city user, their own
    district for a district user; none for users below a district or limited to an industry sector."""
    _require_report_reader(Scope.of(user))
    if Scope.of(user).sector_id is not None:
        return []
    return [a for a in areas_for(user) if a.level in (Level.CITY, Level.DISTRICT)]


def report_area_for(user: Actor, code: str) -> Jurisdiction:
    """One of ``report_areas`` by code (the user's own node when empty); ``NotFound`` otherwise."""
    areas = report_areas(user)
    found = next((a for a in areas if a.code == code), None) if code else (areas[0] if areas else None)
    if found is None:
        raise NotFound
    return found


def scheduled_areas() -> list[Jurisdiction]:
    """Unscoped, for the clock (``hooks.py``): every city and every district, the areas a report is made of each
    day."""
    return list(Jurisdiction.objects.filter(level__in=(Level.CITY, Level.DISTRICT)).order_by("path"))


def scheduled_done(day: dt.date) -> set[int]:
    """Unscoped, for the clock: the areas whose report of ``day`` was already made on the clock."""
    return set(DailyReport.objects.filter(day=day, scheduled=True).values_list("jurisdiction_id", flat=True))


def reports_visible_to(user: Actor, *, area: str = "") -> QuerySet[DailyReport]:
    """The reports of the areas in the user's subtree (of one of them: ``area``, a code), newest day first: a
    district user sees its district's only (never the city's, which holds every district's figures)."""
    scope = Scope.of(user)
    _require_report_reader(scope)
    if scope.path is None or scope.sector_id is not None:
        return DailyReport.objects.none()
    qs = DailyReport.objects.filter(jurisdiction__path__startswith=scope.path)
    if area:
        qs = qs.filter(jurisdiction__code=area)
    return qs.select_related("jurisdiction", "generated_by")


def get_report_for(user: Actor, pk: int) -> DailyReport:
    try:
        return reports_visible_to(user).get(pk=pk)
    except DailyReport.DoesNotExist:
        raise NotFound from None


def reports_of_day(user: Actor, area: Jurisdiction, day: dt.date) -> QuerySet[DailyReport]:
    return reports_visible_to(user).filter(jurisdiction=area, day=day)


def _bounds(day: dt.date, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The start of the local ``day`` and the report's ``as_of``: its end, or now when that is earlier."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, min(end, now)


def report_headline(
    user: Actor, area: Jurisdiction, day: dt.date, until: dt.datetime, now: dt.datetime
) -> dict[str, int | None]:
    """The day's headline: new cases (found in the community, found under control) and the day before's, from
    the commanders' headline (``figures.headline``, which the home and its API show), and the cumulative count
    of the cases reported before ``until``."""
    root = geo.root_for(user)
    shown = figures.headline(user, day, area="" if root is None or root.pk == area.pk else area.code, now=now)
    cases = shown["figures"]
    cumulative = (
        tracing.cases_visible_to(user)
        .filter(jurisdiction__path__startswith=area.path, reported_at__lt=until)
        .aggregate(n=Count("pk"))["n"]
    )
    return {
        "new": cases["cases"]["value"],
        "community": cases["cases_community"]["value"],
        "control": cases["cases_control"]["value"],
        "yesterday": cases["cases"]["yesterday"],
        "cumulative": cumulative,
    }


def _under_control(user: Actor, area: Jurisdiction, at: dt.datetime) -> dict[str, int]:
    """Residents of the area under control at ``at``: placed (in isolation or at home) and not yet released."""
    orders = (
        control.orders_visible_to(user)
        .filter(
            Q(closed_at__isnull=True) | Q(closed_at__gt=at),
            jurisdiction__path__startswith=area.path,
            controlled_at__lte=at,
        )
        .exclude(status=OrderStatus.CANCELLED)
    )
    row = orders.aggregate(total=Count("pk"), centralized=Count("pk", filter=Q(centralized=True)))
    return {
        "total": row["total"],
        "centralized": row["centralized"],
        "home": row["total"] - row["centralized"],
    }


def _zones(user: Actor, area: Jurisdiction, day: dt.date) -> dict[str, int]:
    """Zones of the area in force at the end of ``day`` by kind (their kind now), and those lifted but guarded."""
    inside = ZoneBuilding.objects.filter(building__jurisdiction__path__startswith=area.path).values("zone_id")
    qs = zones.zones_visible_to(user).filter(Q(owner__path__startswith=area.path) | Q(pk__in=inside))
    not_closed = Q(closed_on__isnull=True) | Q(closed_on__gt=day)
    in_force = Q(in_force_on__lte=day) & (Q(guarded_on__isnull=True) | Q(guarded_on__gt=day)) & not_closed
    guarded = (
        Q(guarded_on__lte=day) & (Q(guarded_until__isnull=True) | Q(guarded_until__gte=day)) & not_closed
    )
    counts = {k: Count("pk", filter=in_force & Q(kind=k)) for k in Kind.values}
    row = qs.order_by().aggregate(**counts, guarded=Count("pk", filter=guarded))
    return {k: int(row[k]) for k in (*Kind.values, "guarded")}


def _sampled(user: Actor, area: Jurisdiction, day: dt.date) -> int:
    """Samples taken in the area's sampling sites on ``day`` (the sites' kept day counts)."""
    sites = screening.sites_visible_to(user).filter(jurisdiction__path__startswith=area.path).values("pk")
    total = SiteDayCount.objects.filter(site_id__in=sites, day=day).aggregate(n=Sum("sampled"))["n"]
    return int(total or 0)


def _open_now(user: Actor, area: Jurisdiction, now: dt.datetime) -> dict[str, Any]:
    """The open items of the area's district(s) now, per kind (open, overdue), with each kind's labels in both
    languages: the kept counts when fresh, else counted now (as the board does)."""
    scope = Scope.of(user)
    kinds = [k for k in openitems.kinds() if scope.can(k.capability)]
    kept = tallies.board_counts(user, [k.key for k in kinds], now)
    per_district: dict[int, dict[str, tuple[int, int]]] = {}
    if kept is not None:
        per_district = kept.counts
    else:
        for k in kinds:
            for district_id, counted in k.count(user, now).items():
                per_district.setdefault(district_id, {})[k.key] = counted
    ours = {area.pk} if area.level == Level.DISTRICT else set(per_district)
    out: dict[str, Any] = {}
    for k in kinds:
        n = sum(per_district.get(d, {}).get(k.key, (0, 0))[0] for d in ours)
        late = sum(per_district.get(d, {}).get(k.key, (0, 0))[1] for d in ours)
        with translation.override("zh-hans"):
            zh = str(k.label)
        with translation.override("en"):
            en = str(k.label)
        out[k.key] = {"open": n, "overdue": late, "zh": zh, "en": en}
    return out


def _analysis_part(user: Actor, area: Jurisdiction, day: dt.date, until: dt.datetime) -> dict[str, Any]:
    """Rt, growth, the curve's last weeks and the fastest-growing clusters from ``analysis`` (by report date, so
    that the curve's last day is the headline's new cases)."""
    a = analysis(user, area=area.code, basis="report", today=day, until=until)
    keep = slice(-REPORT_CURVE_DAYS, None)
    return {
        "rt": {**a["rt"]["latest"], "window": a["rt"]["window"], "profile": a["rt"]["profile"]},
        "growth": [
            {k: g[k] for k in ("days", "cases", "rate", "lower", "upper", "doubling", "halving")}
            for g in a["growth"]
        ],
        "curve": {k: a["curve"][k][keep] for k in ("dates", "community", "control")},
        "clusters": a["clusters"],
    }


def daily_figures(
    user: Actor, area: Jurisdiction, day: dt.date, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Every figure of the daily report of ``area`` (one of the user's ``report_areas``, or any area for the
    clock's ``CityReader``) for the local ``day``, as a plain dictionary to store: see the comment above."""
    now = now or timezone.now()
    _start, until = _bounds(day, now)
    snapshot_until = _bounds(day + dt.timedelta(days=1), now)[0] + dt.timedelta(days=1)
    open_now = _open_now(user, area, now) if now < snapshot_until else None
    return {
        "version": FIGURES_VERSION,
        "day": day.isoformat(),
        "area": {"code": area.code, "name": area.name, "name_en": area.name_en, "level": int(area.level)},
        "as_of": until.isoformat(),
        "computed_at": now.isoformat(),
        "reconstructed": open_now is None,
        "headline": report_headline(user, area, day, until, now),
        "under_control": _under_control(user, area, until),
        "zones": _zones(user, area, day),
        "sampled": _sampled(user, area, day),
        "pending": (
            {k: open_now[k] for k in PENDING_KINDS if k in open_now} if open_now is not None else None
        ),
        "open_items": open_now,
        **_analysis_part(user, area, day, until),
    }
