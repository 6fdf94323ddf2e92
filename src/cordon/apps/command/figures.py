"""The commander's headline figures: what a city or district commander reads first on their home page, the API
``GET /api/command/home`` and the daily report, from one function, :func:`headline`, so they cannot disagree.

Every figure is of one area, the user's own node or a node of it (``area``), read as a user of that node would
(``geo.selectors.narrowed_to``), and each links to the list it counts, filtered the same way. Today's figures
come from kept counts, not from counting big tables per request ("Kept counts" in docs/architecture.md):

- new cases reported today (and yesterday's, for the change), found in the community and under control: a
  kept roll-up group recounted every few seconds (``command_cases``, ``hooks.py``), counted live (an index
  range on ``reported_at``) when stale, for another day, or for a reader limited to a sector;
- contacts to judge and the overdue items of every kind the user sees: the open-items board's kept counts
  (``tallies.OpenItemTally`` of the node), counted live when they are stale;
- the residents to transfer, not yet under control, under control: a kept roll-up group
  (``command_control``, ``hooks.py``: orders per residence, summed up the tree into ``geo.RollupTally``);
- zones in force per kind: a kept roll-up group (``zones_in_force``, the zones app's ``hooks.py``: every
  node's own count, a zone over two districts once), counted live when stale;
- screening coverage of the rounds that ran today: a kept roll-up group of the screening app
  (``screening_today``, recounted every few seconds from the counters the binding action keeps,
  ``RoundCount`` and ``RoundTarget``), summed from those counters live when stale.

"Change from yesterday" compares with the figures stored for yesterday (``DayFigures``, taken by the workers
through the day, the last take being the day's close); when none were stored, yesterday's new cases are
counted as of then (cases do not change their day) and the other figures show no change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cordon.apps.control import selectors as control
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction, Level
from cordon.apps.screening import selectors as screening
from cordon.apps.tallies import selectors as tallies
from cordon.apps.tracing import selectors as tracing
from cordon.apps.tracing.models import Control
from cordon.apps.zones import selectors as zones
from cordon.apps.zones.models import Kind, State
from cordon.core import openitems
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope

from .models import DayFigures

# The kept roll-up group of the control figures (orders per residence), and its figures: the order list's
# filters of the same name (``control.selectors.RESIDENT_STATUSES``) list what they count.
CONTROL_GROUP = "command_control"
CONTROL_FIGURES = {
    "to_transfer": "command_to_transfer",
    "not_controlled": "command_not_controlled",
    "under_control": "command_under_control",
}

# Every figure, in the order the home shows them, with its label.
LABELS: dict[str, Any] = {
    "cases": _("New cases today"),
    "cases_community": _("found in the community"),
    "cases_control": _("found under control"),
    "to_judge": _("Contacts to judge"),
    "to_transfer": _("Residents to transfer"),
    "not_controlled": _("Residents not yet under control"),
    "under_control": _("Residents under control"),
    "zones_sealed": _("Sealed zones in force"),
    "zones_controlled": _("Controlled zones in force"),
    "zones_prevention": _("Prevention zones in force"),
    "screening_rounds": _("Screening rounds today"),
    "screening_sampled": _("Persons sampled"),
    "screening_target": _("Persons to sample"),
    "overdue": _("Overdue items"),
}
KEYS = tuple(LABELS)
ZONE_KINDS = {
    "zones_sealed": Kind.SEALED,
    "zones_controlled": Kind.CONTROLLED,
    "zones_prevention": Kind.PREVENTION,
}

# The kept roll-up group of the cases of today and yesterday (recounted every few seconds, read only on the day
# it was counted), and its figures.
CASES_GROUP = "command_cases"
CASES_FIGURES = {
    "today": "command_cases_today",
    "today_community": "command_cases_today_community",
    "yesterday": "command_cases_yesterday",
    "yesterday_community": "command_cases_yesterday_community",
}

Values = dict[str, int | None]


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def cases_on(reader: Actor, day: dt.date) -> Values:
    """Cases reported on ``day`` (the city's day) in the reader's territory: an index range on the report
    time. What the case list shows with ``since=day`` on that day."""
    start = _day_start(day)
    counts = (
        tracing.cases_visible_to(reader)
        .filter(reported_at__gte=start, reported_at__lt=start + dt.timedelta(days=1))
        .aggregate(total=Count("id"), community=Count("id", filter=Q(control=Control.COMMUNITY)))
    )
    total, community = counts["total"] or 0, counts["community"] or 0
    return {"cases": total, "cases_community": community, "cases_control": total - community}


def cases_by_place(user: Actor, path: str) -> dict[str, dict[int, int]]:
    """The ``command_cases`` roll-up group's count: the cases reported today and yesterday (the city's days),
    each also found in the community, placed at their jurisdiction under ``path`` (what ``cases_on`` counts for
    a user whose territory is the subtree)."""
    today = timezone.localdate()
    start, yesterday = _day_start(today), _day_start(today - dt.timedelta(days=1))
    community = Q(control=Control.COMMUNITY)
    rows = (
        tracing.cases_visible_to(user)
        .filter(
            jurisdiction__path__startswith=path,
            reported_at__gte=yesterday,
            reported_at__lt=start + dt.timedelta(days=1),
        )
        .values("jurisdiction_id")
        .annotate(
            today=Count("id", filter=Q(reported_at__gte=start)),
            today_community=Count("id", filter=Q(reported_at__gte=start) & community),
            yesterday=Count("id", filter=Q(reported_at__lt=start)),
            yesterday_community=Count("id", filter=Q(reported_at__lt=start) & community),
        )
        .order_by()
    )
    found: list[dict[str, Any]] = [dict(r) for r in rows]
    return {key: {r["jurisdiction_id"]: r[name] for r in found} for name, key in CASES_FIGURES.items()}


Kept = Mapping[str, dict[str, int] | None]  # the kept roll-up groups the headline reads, by group


def _kept(reader: Actor, now: dt.datetime) -> Kept:
    """The headline's kept groups as the reader may read them (``geo.kept_groups``, one query), each ``None``
    where it is counted live instead."""
    return geo.kept_groups(
        reader, [CASES_GROUP, CONTROL_GROUP, zones.IN_FORCE, screening.COVERAGE_TODAY], now
    )


def _cases(reader: Actor, day: dt.date, now: dt.datetime, which: str, groups: Kept) -> Values:
    """``cases_on`` for ``day``, read from the kept group when ``day`` is the group's today (``which``:
    "today") or yesterday ("yesterday") and it is kept and fresh, else counted now."""
    expected = timezone.localdate(now) - dt.timedelta(days=0 if which == "today" else 1)
    kept = groups[CASES_GROUP] if day == expected else None
    if kept is None:
        return cases_on(reader, day)
    total, community = kept[CASES_FIGURES[which]], kept[CASES_FIGURES[f"{which}_community"]]
    return {"cases": total, "cases_community": community, "cases_control": total - community}


def _open_items(reader: Actor, now: dt.datetime) -> Values:
    """Contacts to judge and every overdue item the reader sees: the board's kept counts of the reader's node,
    or counted live (the same count functions) when they are stale or missing."""
    scope = Scope.of(reader)
    kinds = [k for k in openitems.kinds() if scope.can(k.capability)]
    kept = tallies.board_counts(reader, [k.key for k in kinds], now)
    total: dict[str, list[int]] = {k.key: [0, 0] for k in kinds}
    if kept is not None:
        for by_kind in kept.counts.values():
            for key, (n, late) in by_kind.items():
                total[key][0] += n
                total[key][1] += late
    else:
        for kind in kinds:
            for n, late in kind.count(reader, now).values():
                total[kind.key][0] += n
                total[kind.key][1] += late
    return {
        "to_judge": total["to_judge"][0] if "to_judge" in total else None,
        "overdue": sum(late for _n, late in total.values()),
    }


def control_by_residence(user: Actor, path: str) -> dict[str, dict[int, int]]:
    """The ``command_control`` roll-up group's count: the orders of each pipeline stage placed at the
    residence of their person, under ``path`` (what the order list's filters of the same name count for a user
    whose territory is the subtree)."""
    out: dict[str, dict[int, int]] = {}
    for status, key in CONTROL_FIGURES.items():
        rows = (
            control.search_orders(user, status=status)
            .filter(jurisdiction__path__startswith=path)
            .values("jurisdiction_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        out[key] = {r["jurisdiction_id"]: r["n"] for r in rows}
    return out


def _control(reader: Actor, groups: Kept) -> Values:
    kept = groups[CONTROL_GROUP]
    if kept is not None:
        return {status: kept[key] for status, key in CONTROL_FIGURES.items()}
    return {status: control.search_orders(reader, status=status).count() for status in CONTROL_FIGURES}


def _zones(reader: Actor, groups: Kept) -> Values:
    kept = groups[zones.IN_FORCE]
    if kept is not None:
        return {key: kept[zones.IN_FORCE_FIGURES[str(kind)]] for key, kind in ZONE_KINDS.items()}
    counts = zones.counts_by_kind(reader)
    return {key: counts.get(kind, {}).get(State.IN_FORCE, 0) for key, kind in ZONE_KINDS.items()}


def _screening(reader: Actor, day: dt.date, now: dt.datetime, groups: Kept) -> Values:
    kept = groups[screening.COVERAGE_TODAY] if day == timezone.localdate(now) else None
    if kept is not None:
        c = {name: kept[key] for name, key in screening.COVERAGE_TODAY_FIGURES.items()}
    else:
        c = screening.coverage_on(reader, day)
    return {
        "screening_rounds": c["rounds"],
        "screening_sampled": c["sampled"],
        "screening_target": c["target"],
    }


def values(reader: Actor, day: dt.date, now: dt.datetime | None = None, groups: Kept | None = None) -> Values:
    """Every headline figure of the reader's territory as counted now (``day``: the city's day of ``now``, which
    the new cases and the screening rounds are of). A figure the reader's role may not see is ``None``.
    ``groups``: the kept groups when the caller read them already."""
    now = now or timezone.now()
    scope = Scope.of(reader)
    kept = groups if groups is not None else _kept(reader, now)
    parts: list[tuple[Cap, Callable[[], Values]]] = [
        (Cap.VIEW_CASES, lambda: _cases(reader, day, now, "today", kept)),
        (Cap.VIEW_JURISDICTIONS, lambda: _open_items(reader, now)),
        (Cap.VIEW_CONTROL, lambda: _control(reader, kept)),
        (Cap.VIEW_CONTROL, lambda: _zones(reader, kept)),
        (Cap.VIEW_SCREENING, lambda: _screening(reader, day, now, kept)),
    ]
    out: Values = dict.fromkeys(KEYS)
    for cap, count in parts:
        if scope.can(cap):
            out.update(count())
    return out


def _caps_of(key: str) -> Cap:
    """The capability a figure is counted under in ``values`` (the stored figures are masked with it too)."""
    if key.startswith("cases"):
        return Cap.VIEW_CASES
    if key in CONTROL_FIGURES or key in ZONE_KINDS:
        return Cap.VIEW_CONTROL
    if key.startswith("screening"):
        return Cap.VIEW_SCREENING
    return Cap.VIEW_JURISDICTIONS  # to_judge, overdue: the open-items board's counts


def _stored_for(reader: Actor, kept: DayFigures | None) -> Values:
    """A stored day's figures as the reader may see them: the workers store each node's figures as a reader of
    the whole node with every capability, so a figure the reader's role may not see is ``None``, and a reader
    limited to an industry sector sees none of them (they count every sector)."""
    scope = Scope.of(reader)
    if kept is None or scope.sector_id is not None:
        return {}
    return {k: (v if scope.can(_caps_of(k)) else None) for k, v in kept.figures.items()}


def stored_nodes() -> list[Jurisdiction]:
    """The jurisdictions whose figures are stored every day: every city, district and street, the areas a
    headline is read of (unscoped: the workers' take reads every node as a reader of it)."""
    levels = [Level.CITY, Level.DISTRICT, Level.STREET]
    return list(Jurisdiction.objects.filter(level__in=levels).order_by("path"))


def stored(node: Jurisdiction, day: dt.date) -> DayFigures | None:
    """The figures stored for ``node`` on ``day`` (unscoped: the caller has the node from a scoped read)."""
    return DayFigures.objects.filter(jurisdiction=node, day=day).first()


def _links(area: str, day: dt.date) -> dict[str, str]:
    def to(name: str, **query: str) -> str:
        if area:
            query["area"] = area
        return reverse(name) + ("?" + urlencode(query) if query else "")

    since = day.isoformat()
    return {
        "cases": to("tracing:cases", since=since),
        "cases_community": to("tracing:cases", since=since, control="community"),
        "cases_control": to("tracing:cases", since=since, control="controlled"),
        "to_judge": to("tracing:contacts", status="to_judge"),
        **{status: to("control:orders", status=status) for status in CONTROL_FIGURES},
        **{
            key: to("zones:zones", kind=str(kind), state=str(State.IN_FORCE))
            for key, kind in ZONE_KINDS.items()
        },
        "screening_rounds": to("screening:rounds", day=since),
        "screening_sampled": to("screening:rounds", day=since),
        "screening_target": to("screening:rounds", day=since),
        "overdue": to("command:zero"),  # every kind's overdue items of the area, each with its list
    }


def areas_for(user: Actor) -> list[Jurisdiction]:
    """The areas the user may read the headline and the analysis of: their own node first, then each node one
    level down."""
    Scope.of(user).require(Cap.VIEW_CASES)
    root = geo.root_for(user)
    if root is None:
        return []
    return [root, *geo.children_of(user, root).order_by("code")]


def chosen_area(user: Actor, area: str) -> tuple[list[Jurisdiction], Jurisdiction]:
    """``areas_for`` and the one chosen by ``area`` (a code; the user's own node when empty); ``NotFound`` for
    an area the user may not read."""
    areas = areas_for(user)
    chosen = next((a for a in areas if a.code == area), None) if area else (areas[0] if areas else None)
    if chosen is None:
        raise NotFound
    return areas, chosen


def _percent(sampled: int | None, target: int | None) -> float | None:
    return round(100 * sampled / target, 1) if sampled is not None and target else None


def headline(user: Actor, day: dt.date, *, area: str = "", now: dt.datetime | None = None) -> dict[str, Any]:
    """The headline of the user's node (or of ``area``, a node one level down: ``NotFound`` for any other) on
    ``day``: for today, counted now from the kept counts; for a past day, the figures stored that day (``None``
    where nothing was stored, new cases excepted: counted as of then). Each figure with yesterday's value (the
    figures stored for the day before, else ``None``), the change and the link to the list it counts."""
    areas, chosen = chosen_area(user, area)
    reader = geo.narrowed_to(user, chosen.code if chosen.pk != areas[0].pk else "")
    now = now or timezone.now()
    today = timezone.localdate(now)
    groups = _kept(reader, now)
    if day >= today:
        day = today
        shown = values(reader, day, now, groups)
        taken_at: dt.datetime | None = now
    else:
        kept = stored(chosen, day)
        shown = {**dict.fromkeys(KEYS), **_stored_for(reader, kept), **cases_on(reader, day)}
        taken_at = kept.taken_at if kept else None
    before = stored(chosen, day - dt.timedelta(days=1))
    yesterday: dict[str, Any] = {**dict.fromkeys(KEYS), **_stored_for(reader, before)}
    yesterday.update(_cases(reader, day - dt.timedelta(days=1), now, "yesterday", groups))
    links = _links(area if chosen.pk != areas[0].pk else "", day)
    figures = {}
    for key in KEYS:
        v, y = shown.get(key), yesterday.get(key)
        figures[key] = {
            "label": str(LABELS[key]),
            "value": v,
            "yesterday": y,
            "change": v - y if v is not None and y is not None else None,
            "link": links[key],
        }
    coverage = _percent(shown.get("screening_sampled"), shown.get("screening_target"))
    coverage_before = _percent(yesterday.get("screening_sampled"), yesterday.get("screening_target"))
    language = translation.get_language() or settings.LANGUAGE_CODE
    return {
        "area": {"code": chosen.code, "name": chosen.display_name(language)},
        "areas": [{"code": a.code, "name": a.display_name(language)} for a in areas],
        "day": day.isoformat(),
        "taken_at": taken_at.isoformat() if taken_at else None,
        "yesterday_stored": before is not None,
        "figures": figures,
        "coverage": {
            "percent": coverage,
            "yesterday": coverage_before,
            "change": round(coverage - coverage_before, 1)
            if coverage is not None and coverage_before is not None
            else None,
        },
    }
