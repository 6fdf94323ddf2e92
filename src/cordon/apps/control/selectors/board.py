"""The clocks of recent cases and the open-items board (每日清零), with control's own kinds of open item
(registered in ``hooks.py``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from cordon.apps.geo.models import Jurisdiction, Level
from cordon.apps.tallies import selectors as tallies
from cordon.apps.tracing.models import Case, Contact, Decision
from cordon.core import openitems
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import Scope

from ..models import (
    NOT_YET_CONTROLLED,
    ControlOrder,
    HealthRecord,
    OrderStatus,
    SampleTask,
    TransferStatus,
    TransferTask,
)
from . import kept
from .follow_up import missed_tests, open_alerts, releases_due_query
from .orders import _scope, orders_visible_to
from .transfers import transfers_visible_to


@dataclass
class Clock:
    confirmed_at: dt.datetime
    judged_at: dt.datetime | None
    transferred_at: dt.datetime | None
    isolated_at: dt.datetime | None
    to_judge: int
    close_confirmed: int
    close_transferred: int
    confirmed: int
    controlled: int
    traced: bool = True

    @staticmethod
    def hours(start: dt.datetime, end: dt.datetime | None) -> float | None:
        return None if end is None else round((end - start).total_seconds() / 3600, 1)

    @property
    def judge_hours(self) -> float | None:
        return self.hours(self.confirmed_at, self.judged_at)

    @property
    def transfer_hours(self) -> float | None:
        return self.hours(self.confirmed_at, self.transferred_at)

    @property
    def isolate_hours(self) -> float | None:
        return self.hours(self.confirmed_at, self.isolated_at)


def case_clocks(cases: Sequence[Case]) -> dict[int, Clock]:
    """For each case, from its confirmation (report): when every candidate close or secondary contact was
    judged, when every confirmed close contact arrived in centralised isolation (transferred), and when every
    confirmed contact was under control (isolated, at home, or already closed). None: not yet."""
    ids = [c.pk for c in cases]
    # Judging, counted in the database (every contact of the cases); control, from the confirmed contacts only
    # (the rows read into Python: a case's hundreds of candidates never leave the database).
    judging = {
        r["case_id"]: (r["to_judge"], r["decided"])
        for r in Contact.objects.filter(case_id__in=ids, degree__gt=0)
        .values("case_id")
        .annotate(
            to_judge=Count("id", filter=Q(status=Decision.CANDIDATE)),
            decided=Max("decided_at", filter=~Q(status=Decision.CANDIDATE)),
        )
        .order_by()
    }
    # The confirmed contacts, each with the first time its person came under control after being judged (any
    # order of theirs) and whether an order of theirs was converted into a case: one query, the persons' ids
    # never leaving the database.
    orders = ControlOrder.objects.filter(person_id=OuterRef("person_id")).order_by()
    first_controlled = (
        orders.filter(controlled_at__isnull=False).values("person_id").annotate(first=Min("controlled_at"))
    )
    contacts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    controlled: dict[int, dt.datetime] = {}
    converted: set[int] = set()
    for row in (
        Contact.objects.filter(case_id__in=ids, degree__gt=0, status=Decision.CONFIRMED)
        .annotate(
            first=Subquery(first_controlled.values("first")),
            converted=Exists(orders.filter(status=OrderStatus.CONVERTED)),
        )
        .values("case_id", "person_id", "degree", "first", "converted")
        .order_by()
    ):
        contacts[row["case_id"]].append({k: row[k] for k in ("case_id", "person_id", "degree")})
        if row["first"] is not None:
            controlled[row["person_id"]] = row["first"]
        if row["converted"]:
            converted.add(row["person_id"])
    out = {}
    for case in cases:
        to_judge, last_decided = judging.get(case.pk, (0, None))
        judged_at = (last_decided or case.traced_at) if case.traced_at and not to_judge else None
        confirmed = contacts.get(case.pk, [])
        close = [r for r in confirmed if r["degree"] == 1]

        def done(rs: list[dict[str, Any]]) -> tuple[int, dt.datetime | None]:
            times = [controlled.get(r["person_id"]) for r in rs]
            n = sum(1 for t, r in zip(times, rs, strict=True) if t is not None or r["person_id"] in converted)
            known = [t for t in times if t is not None]
            return n, (max(known) if known else None) if n == len(rs) else None

        n_close, t_close = done(close)
        n_all, t_all = done(confirmed)
        if judged_at is None:
            t_close = t_all = None
        out[case.pk] = Clock(
            confirmed_at=case.reported_at,
            judged_at=judged_at,
            transferred_at=(t_close or judged_at) if judged_at else None,
            isolated_at=(t_all or judged_at) if judged_at and (t_all or not confirmed) else None,
            to_judge=to_judge,
            close_confirmed=len(close),
            close_transferred=n_close,
            confirmed=len(confirmed),
            controlled=n_all,
            traced=case.traced_at is not None,
        )
        if confirmed and t_all is None:
            out[case.pk].isolated_at = None
        if close and t_close is None:
            out[case.pk].transferred_at = None
    return out


@dataclass
class BoardRow:
    district: Jurisdiction
    counts: dict[str, int]
    overdue: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def cells(self) -> list[tuple[str, int, int]]:
        """(kind, open, overdue) in the board's order, for the template."""
        return [(k, n, self.overdue[k]) for k, n in self.counts.items()]


def _board_districts(scope: Scope) -> dict[int, Jurisdiction]:
    """The districts in the user's subtree, or the one district a street or community user lies in."""
    path = scope.path or "\0"
    ancestors = ["/".join(path.split("/")[:i]) + "/" for i in range(2, path.count("/"))]
    return {
        d.pk: d
        for d in Jurisdiction.objects.filter(level=Level.DISTRICT)
        .filter(Q(path__startswith=path) | Q(path__in=ancestors))
        .order_by("code")
    }


def open_items(user: Actor, now: dt.datetime | None = None, *, teams: bool = True) -> dict[str, Any]:
    """Every open item per district, the lists that must reach zero each day: every kind of open item the apps
    register (``cordon.core.openitems``) that the user may see, with how many are overdue. Also the tests
    missed and alerts per isolation site, and (``teams``) the transfers per team."""
    scope = _scope(user)
    now = now or timezone.now()
    kinds = [k for k in openitems.kinds() if scope.can(k.capability)]
    keys = [k.key for k in kinds]
    districts = _board_districts(scope)
    rows = {pk: BoardRow(d, dict.fromkeys(keys, 0), dict.fromkeys(keys, 0)) for pk, d in districts.items()}
    kept = tallies.board_counts(user, keys, now)
    for district_id, by_kind in _counts(user, kinds, now, kept).items():
        if district_id in rows:
            for key, (n, late) in by_kind.items():
                rows[district_id].counts[key] += n
                rows[district_id].overdue[key] += late
    board = list(rows.values())
    total = BoardRow(Jurisdiction(name="", code=""), dict.fromkeys(keys, 0), dict.fromkeys(keys, 0))
    for row in board:
        for k in keys:
            total.counts[k] += row.counts[k]
            total.overdue[k] += row.overdue[k]
    return {
        "rows": board,
        "total": total,
        "items": keys,
        "labels": {k.key: k.label for k in kinds},
        "sites": _sites(user, now),
        "teams": team_items(user, now) if teams else None,
        "now": now,
        "counted_at": kept.counted_at if kept else None,
    }


def _counts(
    user: Actor, kinds: list[openitems.OpenItemKind], now: dt.datetime, kept: tallies.Kept | None
) -> dict[int, dict[str, tuple[int, int]]]:
    """Per district and kind, (open, overdue): the kept counts when the user's scope has them, else counted
    now from the source tables."""
    if kept is not None:
        return kept.counts
    out: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for kind in kinds:
        for district_id, counted in kind.count(user, now).items():
            out[district_id][kind.key] = counted
    return out


# --- Control's kinds of open item (registered in hooks.py) ---------------------------------------------------


def _grouped(qs: QuerySet[Any], field: str, late: Q | None = None) -> dict[int, tuple[int, int]]:
    annotations: dict[str, Any] = {"n": Count("id")}
    if late is not None:
        annotations["late"] = Count("id", filter=late)
    return {
        r[field]: (r["n"], r["late"] if late is not None else r["n"])
        for r in qs.values(field).annotate(**annotations).order_by()
    }


def waiting_by_district(user: Actor, now: dt.datetime) -> dict[int, tuple[int, int]]:
    """Persons judged but not yet under control; overdue past their transfer deadline."""
    qs = orders_visible_to(user).filter(status__in=NOT_YET_CONTROLLED)
    return _grouped(qs, "district_id", Q(due_at__lt=now))


def transfers_by_district(user: Actor, now: dt.datetime) -> dict[int, tuple[int, int]]:
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for t in _open_transfers(user):
        out[t.district_id][0] += 1
        out[t.district_id][1] += int(t.overdue(now))
    return {k: (v[0], v[1]) for k, v in out.items()}


def _open_transfers(user: Actor) -> list[TransferTask]:
    return list(
        transfers_visible_to(user).filter(status__in=[TransferStatus.ASSIGNED, TransferStatus.EN_ROUTE])
    )


def missed_tests_by_district(user: Actor, now: dt.datetime) -> dict[int, tuple[int, int]]:
    """Scheduled samples not taken by their day (all overdue)."""
    return _grouped(missed_tests(user, timezone.localtime(now).date()), "order__district_id")


def alerts_by_district(user: Actor, now: dt.datetime) -> dict[int, tuple[int, int]]:
    """Health alerts not handled (all overdue)."""
    return _grouped(open_alerts(user), "order__district_id")


def releases_by_district(user: Actor, now: dt.datetime) -> dict[int, tuple[int, int]]:
    """Persons whose plan has reached its last day (due, not overdue), counted in the database."""
    rows = (
        releases_due_query(user, timezone.localtime(now).date()).values("district_id").annotate(n=Count("id"))
    )
    return {r["district_id"]: (r["n"], 0) for r in rows.order_by()}


# The same kinds grouped also by the jurisdictions they are scoped by (``openitems.placed``): a control order is
# seen from its resident's jurisdiction and from its site's, a transfer from its district and its site's.
_ORDER_PLACES = ["jurisdiction_id", "site__jurisdiction_id"]
_VIA_ORDER = ["order__jurisdiction_id", "order__site__jurisdiction_id"]


def waiting_open(user: Actor, now: dt.datetime) -> openitems.Open:
    """Persons judged but not yet under control, overdue past their transfer deadline: what the board's "Not yet
    under control" counts and the queue lists with ``?state=``."""
    qs = orders_visible_to(user).filter(status__in=NOT_YET_CONTROLLED)
    return openitems.Open(qs, Q(due_at__lt=now), Q(due_at__gte=now, due_at__lt=openitems.day_end(now)))


def waiting_in_state(user: Actor, state: str, now: dt.datetime | None = None) -> QuerySet[ControlOrder]:
    """The persons the board's cell "Not yet under control" counts in ``state``, the earliest due first."""
    qs = openitems.in_state(waiting_open(user, now or timezone.now()), state)
    return qs.select_related("person__home_building", "person__household").order_by("due_at", "id")


def waiting_placed(user: Actor, now: dt.datetime) -> openitems.Placed:
    return waiting_open(user, now).placed("district_id", _ORDER_PLACES)


def transfers_placed(user: Actor, now: dt.datetime) -> openitems.Placed:
    qs = transfers_visible_to(user).filter(status__in=[TransferStatus.ASSIGNED, TransferStatus.EN_ROUTE])
    due = _transfer_late(openitems.day_end(now)) & ~_transfer_late(now)
    return openitems.placed(
        qs, "district_id", _transfer_late(now), ["district_id", "site__jurisdiction_id"], due
    )


def _transfer_late(now: dt.datetime) -> Q:
    """``TransferTask.overdue`` as a filter: not on the road an hour after pickup, not arrived three hours
    after."""
    return Q(status=TransferStatus.ASSIGNED, pickup_at__lt=now - dt.timedelta(hours=1)) | Q(
        status=TransferStatus.EN_ROUTE, pickup_at__lt=now - dt.timedelta(hours=3)
    )


def missed_tests_open(user: Actor, now: dt.datetime) -> openitems.Open:
    """Scheduled samples not taken by their day: every one overdue."""
    return openitems.Open(missed_tests(user, timezone.localtime(now).date()), True)


def alerts_open(user: Actor, now: dt.datetime) -> openitems.Open:
    """Health alerts not handled: every one overdue."""
    return openitems.Open(open_alerts(user), True)


def missed_tests_placed(user: Actor, now: dt.datetime) -> openitems.Placed:
    return missed_tests_open(user, now).placed("order__district_id", _VIA_ORDER)


def alerts_placed(user: Actor, now: dt.datetime) -> openitems.Placed:
    return alerts_open(user, now).placed("order__district_id", _VIA_ORDER)


def follow_up_in_state(
    user: Actor, kind: str, state: str, now: dt.datetime | None = None
) -> tuple[QuerySet[SampleTask], QuerySet[HealthRecord]]:
    """The tests-and-alerts page's two lists narrowed to the board's cell of ``kind`` (``missed_tests`` or
    ``alerts``) in ``state``: exactly the items it counts, the other list empty."""
    now = now or timezone.now()
    tasks = SampleTask.objects.none()
    alerts = HealthRecord.objects.none()
    if kind == "missed_tests":
        tasks = openitems.in_state(missed_tests_open(user, now), state)
        tasks = tasks.select_related("order__person", "order__site").order_by("due_on", "id")
    elif kind == "alerts":
        alerts = openitems.in_state(alerts_open(user, now), state)
    return tasks, alerts


def releases_open(user: Actor, now: dt.datetime) -> openitems.Open:
    """Persons whose plan has reached its last day: due today, every one, none overdue."""
    return openitems.Open(releases_due_query(user, timezone.localtime(now).date()), False, True)


def releases_in_state(user: Actor, state: str, now: dt.datetime | None = None) -> list[ControlOrder]:
    """The persons the board's cell "Releases due" counts in ``state``."""
    return list(openitems.in_state(releases_open(user, now or timezone.now()), state).select_related("plan"))


def releases_placed(user: Actor, now: dt.datetime) -> openitems.Placed:
    return releases_open(user, now).placed("district_id", _ORDER_PLACES)


def _sites(user: Actor, now: dt.datetime) -> list[dict[str, Any]]:
    """The site table: kept (refreshed with the open-item counts), or counted now when not fresh."""
    kept_sites = kept.kept_site_items(user, now)
    return kept_sites if kept_sites is not None else _site_items(user, timezone.localtime(now).date())


def _site_items(user: Actor, today: dt.date) -> list[dict[str, Any]]:
    sites: dict[int, dict[str, Any]] = {}
    for key, qs in (("missed_tests", missed_tests(user, today)), ("alerts", open_alerts(user))):
        for r in (
            qs.exclude(order__site__isnull=True)
            .values("order__site_id", "order__site__name")
            .annotate(n=Count("id"))
            .order_by()
        ):
            site = sites.setdefault(
                r["order__site_id"], {"name": r["order__site__name"], "missed_tests": 0, "alerts": 0}
            )
            site[key] = r["n"]
    return sorted(sites.values(), key=lambda s: -(s["missed_tests"] + s["alerts"]))


def team_items(user: Actor, now: dt.datetime) -> list[dict[str, Any]]:
    """Transfers under way per team and how many are overdue, counted in the database."""
    rows = (
        transfers_visible_to(user)
        .filter(status__in=[TransferStatus.ASSIGNED, TransferStatus.EN_ROUTE])
        .values("team")
        .annotate(n=Count("id"), late=Count("id", filter=_transfer_late(now)))
        .order_by()
    )
    teams: list[dict[str, Any]] = [{"team": r["team"], "open": r["n"], "overdue": r["late"]} for r in rows]
    return sorted(teams, key=lambda t: (-t["overdue"], t["team"]))


CLOCKS_ON_BOARD = 20  # the newest cases' clocks on the board; all of them on the clocks page
CLOCKS_AT_MOST = 500


def recent_cases_with_clocks(
    user: Actor, days: int = 3, limit: int = CLOCKS_AT_MOST
) -> list[tuple[Case, Clock]]:
    """Cases reported in the last ``days`` days in the user's territory, newest first (at most ``limit``), with
    their clocks."""
    scope = Scope.of(user)
    if not scope.can(Cap.VIEW_CASES):
        return []
    since = timezone.now() - dt.timedelta(days=days)
    cases = list(
        scope.filter(Case.objects.select_related("district"))
        .filter(reported_at__gte=since)
        .order_by("-reported_at", "-id")[:limit]
    )
    clocks = case_clocks(cases)
    return [(c, clocks[c.pk]) for c in cases]
