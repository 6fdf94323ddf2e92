"""Scoped reads of cases, contacts, linkage, clusters and risk venues.

- A case is seen by users whose territory holds the case's home jurisdiction (``view_cases``).
- A case's contacts are seen with the case, wherever the contacts live: the investigator who traces a case
  judges all of them. Users of another district see a contact only through their linkage inbox.
- A cluster is seen when any of its cases is seen; its graph shows only the cases the user may see.
- A risk venue is seen by users whose territory holds the venue.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction
from cordon.apps.people import selectors as people
from cordon.apps.people.models import Person
from cordon.core import live, openitems
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope
from cordon.engine import tracing as engine
from cordon.engine.sim.profile import load_profile

from .models import (
    Case,
    Cluster,
    Contact,
    Control,
    Decision,
    Investigation,
    Linkage,
    RiskVenue,
    ScanBatch,
    TrajectoryEntry,
)
from .store import local_naive
from .store import (
    scan_store as scan_store,  # the scan store, for the CLI and the demo (tracing.store is private)
)


def cases_visible_to(user: Actor) -> QuerySet[Case]:
    scope = Scope.of(user)
    scope.require(Cap.VIEW_CASES)
    return scope.filter(
        Case.objects.select_related("person", "jurisdiction", "district", "cluster", "workplace")
    )


def search_cases(
    user: Actor,
    *,
    query: str = "",
    district: str = "",
    since: dt.date | None = None,
    control: str = "",
    untraced: str = "",
) -> QuerySet[Case]:
    """The cases the user may see, filtered; ``untraced``: those not traced yet in that state of the board."""
    qs = (
        openitems.in_state(untraced_open(user, timezone.now()), untraced)
        if untraced
        else cases_visible_to(user)
    )
    q = query.strip()
    if q:
        qs = qs.filter(Q(code__iexact=q) | Q(person__name__startswith=q) | Q(cluster__code__iexact=q))
    if district:
        qs = qs.filter(district__code=district)
    if since is not None:
        qs = qs.filter(reported_at__date__gte=since)
    if control == "community":
        qs = qs.filter(control=Control.COMMUNITY)
    elif control == "controlled":
        qs = qs.exclude(control=Control.COMMUNITY)
    return qs


def search_contacts(user: Actor, *, status: str = "", state: str = "") -> QuerySet[Contact]:
    """The contacts of the cases the user may see, the longest waiting first; ``status="to_judge"``: the close
    and secondary contacts not judged yet (the open item "Contacts to judge" and the commander's home count
    the same; ``state``: those in that state of the board), otherwise one ``Decision`` or all."""
    qs = Contact.objects.filter(case__in=cases_visible_to(user)).select_related("person", "case", "district")
    if status == "to_judge":
        items = openitems.in_state(to_judge_open(user, timezone.now()), state)
        qs = items.select_related("person", "case", "district")
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("found_at", "id")


def get_case_for(user: Actor, key: int | str) -> Case:
    qs = cases_visible_to(user)
    try:
        return qs.get(pk=key) if isinstance(key, int) else qs.get(code=key)
    except (Case.DoesNotExist, ValueError):
        raise NotFound from None


def person_by_national_id(user: Actor, national_id: str) -> Person:
    """The person of the register with this national ID (any case of letters, spaces around it ignored), in
    the user's scope: ``NotFound`` when there is none or it is out of scope (a case is reported for a person
    from the register)."""
    try:
        return people.persons_visible_to(user).get(national_id=national_id.strip().upper())
    except Person.DoesNotExist:
        raise NotFound from None


def investigation_of(case: Case) -> Investigation | None:
    """``case`` must come from ``get_case_for`` (so it is in scope)."""
    return Investigation.objects.filter(case=case).select_related("investigator").first()


def trajectory_of(case: Case) -> QuerySet[TrajectoryEntry]:
    """The case's trajectory in time order; ``case`` must come from ``get_case_for``."""
    return case.trajectory.select_related("venue")


def risk_venues_of(case: Case) -> QuerySet[RiskVenue]:
    """The venues the case visited in its window (as of its last trace); ``case`` must come from
    ``get_case_for``."""
    return case.risk_venues.select_related("venue")


def cases_in_cluster(user: Actor, cluster: Cluster) -> QuerySet[Case]:
    """The cluster's cases that the user may see."""
    return cases_visible_to(user).filter(cluster=cluster)


def case_summary(user: Actor, day: dt.date | None = None) -> dict[str, int]:
    """Cases reported on ``day`` (default today) in the user's territory: total, found in the community,
    found under control."""
    day = day or timezone.localdate()
    counts = (
        cases_visible_to(user)
        .filter(reported_at__date=day)
        .aggregate(total=Count("id"), community=Count("id", filter=Q(control=Control.COMMUNITY)))
    )
    total, community = counts["total"] or 0, counts["community"] or 0
    return {"total": total, "community": community, "controlled": total - community}


def contacts_of_case(
    user: Actor, case: Case, *, status: str = "", degree: int | None = None
) -> QuerySet[Contact]:
    """``case`` must come from ``get_case_for`` (so it is in scope)."""
    qs = Contact.objects.filter(case=case).select_related("person", "via", "district", "jurisdiction")
    if status:
        qs = qs.filter(status=status)
    if degree is not None:
        qs = qs.filter(degree=degree)
    return qs


def contact_counts(case: Case) -> dict[str, int]:
    rows = Contact.objects.filter(case=case).values("degree", "status").annotate(n=Count("id"))
    out = {"close": 0, "secondary": 0, "risk_venue": 0, "candidates": 0, "confirmed": 0, "dismissed": 0}
    for row in rows:
        out[{0: "risk_venue", 1: "close", 2: "secondary"}[row["degree"]]] += row["n"]
        out[
            {"candidate": "candidates", "confirmed": "confirmed", "dismissed": "dismissed"}[row["status"]]
        ] += row["n"]
    return out


def linkage_inbox(user: Actor, *, pending_only: bool = False, state: str = "") -> QuerySet[Linkage]:
    """Contacts handed to the user's district (or any district under the user's node, for the city); ``state``:
    those the board's cell "Handovers to acknowledge" counts in that state."""
    scope = Scope.of(user)
    scope.require(Cap.RECEIVE_LINKAGE)
    related = ("contact__person", "contact__case", "contact__jurisdiction", "from_district", "to_district")
    if state:
        return openitems.in_state(linkage_open(user, timezone.now()), state).select_related(*related)
    qs = scope.filter(Linkage.objects.select_related(*related), territory="contact__jurisdiction")
    if pending_only:
        qs = qs.filter(acknowledged_at__isnull=True)
    return qs


def linkage_version(user: Actor, now: dt.datetime | None = None) -> str:
    """What the linkage inbox shows, summed up cheaply: it changes when a handover arrives or is acknowledged,
    when one turns overdue, and every five minutes (the countdowns). An open inbox asks with the version it
    shows and is answered "nothing new" while it holds."""
    now = now or timezone.now()
    ack = dt.timedelta(hours=settings.CORDON_LINKAGE_ACK_HOURS)
    qs = linkage_inbox(user).order_by()
    figures = qs.aggregate(
        n=Count("pk"),
        last=Max("pk"),
        acked=Count("pk", filter=Q(acknowledged_at__isnull=False)),
        overdue=Count("pk", filter=Q(acknowledged_at__isnull=True, created_at__lt=now - ack)),
    )
    return live.version(*figures.values())


def cases_version(qs: QuerySet[Case]) -> str:
    """What a list of cases shows, summed up cheaply (for the live case list): a new case, a trace, a case put
    under control, and every five minutes."""
    figures = qs.order_by().aggregate(
        n=Count("pk"),
        last=Max("pk"),
        traced=Count("pk", filter=Q(traced_at__isnull=False)),
        at=Max("traced_at"),
        clustered=Count("pk", filter=Q(cluster__isnull=False)),
        controlled=Count("pk", filter=Q(isolated_at__isnull=False)),
    )
    return live.version(*figures.values())


def _today_start(now: dt.datetime | None = None) -> dt.datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def cases_reported_today(user: Actor) -> int:
    """How many cases in the user's area were reported today (the city's day), counted now."""
    return cases_visible_to(user).filter(reported_at__gte=_today_start()).count()


# The menu badges' kept counts: roll-up groups recounted by workers every few seconds (registered in hooks.py).
CASES_TODAY = "badge_cases_today"
LINKAGE_PENDING = "badge_linkage"


def cases_today_badge(user: Actor) -> int:
    """The cases badge: the kept count of today's cases under the user's node when fresh, else counted now."""
    kept = geo.kept_group(user, CASES_TODAY)
    return kept[CASES_TODAY] if kept is not None else cases_reported_today(user)


def linkage_badge(user: Actor) -> int:
    """The linkage badge: handovers to acknowledge in the user's territory, kept when fresh, else counted now."""
    kept = geo.kept_group(user, LINKAGE_PENDING)
    return kept[LINKAGE_PENDING] if kept is not None else linkage_inbox(user, pending_only=True).count()


def cases_today_by_jurisdiction(user: Actor, path: str) -> dict[str, dict[int, int]]:
    """Cases reported today placed at each jurisdiction under ``path`` (what ``cases_reported_today`` counts)."""
    qs = cases_visible_to(user).filter(jurisdiction__path__startswith=path, reported_at__gte=_today_start())
    rows = qs.values("jurisdiction_id").annotate(n=Count("id")).order_by()
    return {CASES_TODAY: {r["jurisdiction_id"]: r["n"] for r in rows}}


def pending_linkage_by_jurisdiction(user: Actor, path: str) -> dict[str, dict[int, int]]:
    """Handovers not acknowledged, by the jurisdiction of their contact under ``path`` (what the linkage
    inbox's pending count counts; read by a city-wide reader, so with ``VIEW_CASES``)."""
    scope = Scope.of(user)
    scope.require(Cap.VIEW_CASES)
    qs = Linkage.objects.filter(
        scope.territory("contact__jurisdiction"),
        contact__jurisdiction__path__startswith=path,
        acknowledged_at__isnull=True,
    )
    rows = qs.values("contact__jurisdiction_id").annotate(n=Count("id")).order_by()
    return {LINKAGE_PENDING: {r["contact__jurisdiction_id"]: r["n"] for r in rows}}


def get_linkage_for(user: Actor, pk: int) -> Linkage:
    try:
        return linkage_inbox(user).get(pk=pk)
    except Linkage.DoesNotExist:
        raise NotFound from None


def clusters_visible_to(user: Actor) -> QuerySet[Cluster]:
    visible = cases_visible_to(user)
    return (
        Cluster.objects.filter(merged_into__isnull=True, cases__in=visible)
        .distinct()
        .annotate(n_cases=Count("cases", distinct=True))
        .order_by("-created_at", "-id")
    )


def get_cluster_for(user: Actor, key: int | str) -> Cluster:
    visible = cases_visible_to(user)
    qs = Cluster.objects.filter(cases__in=visible).distinct()
    try:
        cluster = qs.get(pk=key) if isinstance(key, int) else qs.get(code=key)
    except (Cluster.DoesNotExist, ValueError):
        raise NotFound from None
    return cluster


def cluster_size(cluster: Cluster) -> int:
    """How many cases the cluster holds, wherever they are (unscoped: a count, for a cluster the user may
    see)."""
    return cluster.cases.count()


def risk_venues_visible_to(user: Actor, *, since: dt.date | None = None) -> QuerySet[RiskVenue]:
    scope = Scope.of(user)
    scope.require(Cap.VIEW_CASES)
    qs = scope.filter(
        RiskVenue.objects.select_related("venue", "venue__building", "venue__jurisdiction", "case"),
        territory="venue__jurisdiction",
    )
    if since is not None:
        qs = qs.filter(last_out__date__gte=since)
    return qs


def scan_batches(user: Actor) -> QuerySet[ScanBatch]:
    Scope.of(user).require(Cap.INGEST_SCANS)
    return ScanBatch.objects.select_related("actor")


def pending_decisions(case: Case) -> int:
    return Contact.objects.filter(case=case, status=Decision.CANDIDATE, degree__gt=0).count()


# --- Association comparison (关联比对) and chains ---------------------------------------------------------


def associations(user: Actor, case: Case) -> list[dict[str, Any]]:
    """Existing cases (and their clusters) the case connects to, each with its evidence: same household, same
    workplace, a contact link either way (the contact's evidence: venue, sub-area, times) and a shared risk
    venue at overlapping times. Linked cases of other districts are listed (code and district), but only cases
    in the user's scope can be opened."""
    visible = set(cases_visible_to(user).values_list("pk", flat=True))
    found: dict[int, dict[str, Any]] = {}

    def add(other: Case, kind: str, evidence: str) -> None:
        if other.pk == case.pk:
            return
        entry = found.setdefault(
            other.pk,
            {
                "case": other,
                "visible": other.pk in visible,
                "cluster": other.cluster
                if other.cluster is not None and other.cluster.merged_into_id is None
                else None,
                "links": [],
            },
        )
        entry["links"].append({"kind": kind, "evidence": evidence})

    base = Case.objects.select_related("district", "cluster", "person")
    person = case.person
    if person.household_id:
        for other in base.filter(person__household_id=person.household_id):
            add(other, "household", person.household.code if person.household else "")
    if case.workplace_id:
        for other in base.filter(workplace_id=case.workplace_id):
            same_unit = bool(person.work_unit) and other.person.work_unit == person.work_unit
            add(
                other,
                "work_unit" if same_unit else "workplace",
                case.workplace.name if case.workplace else "",
            )
    for c in Contact.objects.filter(case=case, person__cases__isnull=False).select_related("person"):
        for other in base.filter(person_id=c.person_id):
            add(other, "contact", _evidence_text(c))
    for c in Contact.objects.filter(person_id=case.person_id).select_related("case"):
        other = base.get(pk=c.case_id)
        add(other, "contact_of", _evidence_text(c))
    mine = list(RiskVenue.objects.filter(case=case).select_related("venue"))
    for rv in mine:
        shared = RiskVenue.objects.filter(
            venue_id=rv.venue_id, first_in__lte=rv.last_out, last_out__gte=rv.first_in
        ).exclude(case=case)
        for other_rv in shared.select_related("case"):
            other = base.get(pk=other_rv.case_id)
            span = f"{timezone.localtime(max(rv.first_in, other_rv.first_in)):%m-%d %H:%M}"
            add(other, "venue", f"{rv.venue.name} {span}")
    return sorted(found.values(), key=lambda e: (-len(e["links"]), e["case"].reported_at))


def _evidence_text(contact: Contact) -> str:
    ev = contact.evidence[0] if contact.evidence else {}
    if "venue_name" in ev:
        return (
            f"{ev['venue_name']} {ev.get('subarea', '')} {ev['contact_in'][5:16].replace('T', ' ')}".strip()
        )
    return str(contact.get_contact_type_display())


GRAPH_NODE_LIMIT = 1500


def _chain_key(case: dict[str, Any]) -> tuple[dt.date, dt.datetime, int]:
    """Cases in the order of the chain: onset (or first positive sample), then report, then number."""
    start = case["onset_date"] or timezone.localtime(case["sampled_at"]).date()
    return (start, case["reported_at"], case["pk"])


def _chain_edges(cases: list[dict[str, Any]]) -> dict[tuple[int, int], dict[str, Any]]:
    """The contact links between the cluster's cases, one per pair, drawn from the earlier case to the later
    one (whichever case's tracing found the other), dated by the first shared stay when a venue gave it."""
    by_person = {c["person_id"]: c for c in cases}
    key = {c["pk"]: _chain_key(c) for c in cases}
    links = Contact.objects.filter(case__in=list(key), person_id__in=list(by_person)).exclude(
        status=Decision.DISMISSED
    )
    edges: dict[tuple[int, int], dict[str, Any]] = {}
    for row in links.values("case_id", "person_id", "contact_type", "evidence"):
        a, b = row["case_id"], by_person[row["person_id"]]["pk"]
        if a == b:
            continue
        pair = (a, b) if key[a] < key[b] else (b, a)
        when = min(
            (str(ev["contact_in"])[:10] for ev in row["evidence"] or [] if ev.get("contact_in")), default=None
        )
        seen = edges.get(pair)
        if seen is None or (when and (seen["date"] is None or when < seen["date"])):
            edges[pair] = {"type": row["contact_type"], "date": when}
    return edges


def _chain_roots(cases: list[dict[str, Any]], pairs: Any) -> list[int]:
    """The earliest case of each connected part, the index case of the whole cluster first."""
    part = {c["pk"]: c["pk"] for c in cases}

    def find(x: int) -> int:
        while part[x] != x:
            part[x] = part[part[x]]
            x = part[x]
        return x

    for a, b in pairs:
        part[find(a)] = find(b)
    first: dict[int, dict[str, Any]] = {}
    for c in sorted(cases, key=_chain_key):
        first.setdefault(find(c["pk"]), c)
    return [c["pk"] for c in first.values()]


def cluster_graph(user: Actor, cluster: Cluster, *, limit: int = GRAPH_NODE_LIMIT) -> dict[str, Any]:
    """The transmission-chain graph of a cluster: cases as nodes, contact links between them as edges drawn
    from the earlier case to the later one with the date of contact, and ``roots``: the index case (the
    earliest onset) first, then the earliest case of each part not linked to it. Above ``limit`` cases the
    graph is summarised: one node per street with its case count, edges counted between streets."""
    cases: list[dict[str, Any]] = [
        dict(c)
        for c in cases_visible_to(user)
        .filter(cluster=cluster)
        .values(
            "pk", "code", "person_id", "district__name", "jurisdiction__path", "reported_at", "control",
            "onset_date", "sampled_at",
        )
    ]  # fmt: skip
    edges = _chain_edges(cases)
    if len(cases) <= limit:
        roots = _chain_roots(cases, edges)
        return {
            "summarised": False,
            "total": len(cases),
            "index": str(roots[0]) if roots else None,
            "roots": [str(r) for r in roots],
            "nodes": [
                {
                    "id": str(c["pk"]),
                    "label": c["code"],
                    "district": c["district__name"],
                    "community": c["control"] == Control.COMMUNITY,
                    "onset": _chain_key(c)[0].isoformat(),
                }
                for c in sorted(cases, key=_chain_key)
            ],
            "edges": [
                {"source": str(a), "target": str(b), "type": e["type"], "date": e["date"]}
                for (a, b), e in edges.items()
            ],
        }
    return _street_summary(cases, edges)


def _street_summary(cases: list[dict[str, Any]], edges: dict[tuple[int, int], Any]) -> dict[str, Any]:
    street_of = {c["pk"]: "/".join(c["jurisdiction__path"].split("/")[:4]) for c in cases}
    codes = {p.split("/")[-1] for p in street_of.values()}
    names = dict(Jurisdiction.objects.filter(code__in=codes).values_list("code", "name"))
    counts: dict[str, int] = {}
    for key in street_of.values():
        counts[key] = counts.get(key, 0) + 1
    pair_counts: dict[tuple[str, str], int] = {}
    for a, b in edges:
        pair = (street_of[a], street_of[b])
        pair_counts[pair] = pair_counts.get(pair, 0) + 1
    first = min(cases, key=_chain_key)
    return {
        "summarised": True,
        "total": len(cases),
        "index": street_of[first["pk"]],
        "roots": [street_of[first["pk"]]],
        "nodes": [
            {"id": k, "label": f"{names.get(k.split('/')[-1], k)} ({n})", "size": n, "community": False}
            for k, n in counts.items()
        ],
        "edges": [
            {"source": a, "target": b, "type": "summary", "count": n}
            for (a, b), n in pair_counts.items()
            if a != b
        ],
    }


# --- Exposure window ----------------------------------------------------------------------------------------


@cache
def _profile_days_before() -> int:
    return int(load_profile(settings.CORDON_PATHOGEN_PROFILE).exposure_window_days_before_onset)


def exposure_window(case: Case, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """From the profile's days before onset (or before the first positive sample for an asymptomatic
    infection) until isolation (or the report, when the case was not isolated before it)."""
    onset = dt.datetime.combine(case.onset_date, dt.time()) if case.onset_date else None
    end = case.isolated_at or case.reported_at
    start, stop = engine.exposure_window(
        onset=onset,
        first_positive_sample=None if onset else local_naive(case.sampled_at),
        isolated_at=local_naive(end),
        days_before=_profile_days_before(),
        now=local_naive(now or timezone.now()),
    )
    return timezone.make_aware(start), timezone.make_aware(stop)


# --- Tracing's kinds of open item (registered in hooks.py) ---------------------------------------------------


def untraced_cases(user: Actor) -> QuerySet[Case]:
    """The cases in the user's territory not traced yet, oldest report first (the batch trace's work)."""
    return cases_visible_to(user).filter(traced_at__isnull=True).order_by("reported_at", "pk")


def _due_today(field: str, now: dt.datetime, hours: float) -> Q:
    """Items whose deadline (``field`` + ``hours``) has not passed yet but passes before the local day ends."""
    limit = dt.timedelta(hours=hours)
    return Q(**{f"{field}__gte": now - limit, f"{field}__lt": openitems.day_end(now) - limit})


def untraced_open(user: Actor, now: dt.datetime) -> openitems.Open:
    """Cases not traced yet, overdue once the judgment deadline after the report has passed: what the board's
    "Cases not traced" counts and the case list shows with ``?open=untraced&state=``."""
    judge, qs = settings.CORDON_JUDGE_HOURS, cases_visible_to(user).filter(traced_at__isnull=True)
    return openitems.Open(
        qs, Q(reported_at__lt=now - dt.timedelta(hours=judge)), _due_today("reported_at", now, judge)
    )


def to_judge_open(user: Actor, now: dt.datetime) -> openitems.Open:
    """Close and secondary contacts not judged, overdue past the judgment deadline after they were found."""
    judge = settings.CORDON_JUDGE_HOURS
    qs = Contact.objects.filter(case__in=cases_visible_to(user), status=Decision.CANDIDATE, degree__gt=0)
    return openitems.Open(
        qs, Q(found_at__lt=now - dt.timedelta(hours=judge)), _due_today("found_at", now, judge)
    )


def linkage_open(user: Actor, now: dt.datetime) -> openitems.Open:
    """Handovers to the user's districts not acknowledged, overdue past the acknowledgement deadline."""
    scope, ack = Scope.of(user), settings.CORDON_LINKAGE_ACK_HOURS
    scope.require(Cap.VIEW_CASES)
    qs = Linkage.objects.filter(scope.territory("to_district"), acknowledged_at__isnull=True)
    return openitems.Open(
        qs, Q(created_at__lt=now - dt.timedelta(hours=ack)), _due_today("created_at", now, ack)
    )


# Their counts by district (the control board) and by the places they are scoped by (the kept counts).


def untraced_by_district(user: Actor, now: dt.datetime) -> dict[int, tuple[int, int]]:
    return untraced_open(user, now).by_district("district_id")


def to_judge_by_district(user: Actor, now: dt.datetime) -> dict[int, tuple[int, int]]:
    return to_judge_open(user, now).by_district("case__district_id")


def linkage_by_district(user: Actor, now: dt.datetime) -> dict[int, tuple[int, int]]:
    return linkage_open(user, now).by_district("to_district_id")


def untraced_placed(user: Actor, now: dt.datetime) -> openitems.Placed:
    return untraced_open(user, now).placed("district_id", ["jurisdiction_id"])


def to_judge_placed(user: Actor, now: dt.datetime) -> openitems.Placed:
    return to_judge_open(user, now).placed("case__district_id", ["case__jurisdiction_id"])


def linkage_placed(user: Actor, now: dt.datetime) -> openitems.Placed:
    return linkage_open(user, now).placed("to_district_id", ["to_district_id"])
