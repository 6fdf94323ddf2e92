"""API of cases, tracing, judgment, cross-district linkage, clusters, risk venues and scan ingestion."""

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from cordon.apps.accounts.roles import Cap
from cordon.apps.accounts.scoping import NotFound
from cordon.apps.people import selectors as people
from cordon.apps.venues import selectors as venues
from cordon.site.access import api

from . import actions, selectors
from .models import Case, Contact, Linkage

router = Router(tags=["tracing"])


class CaseOut(Schema):
    id: int
    code: str
    person_id: int
    name: str
    classification: str
    onset_date: dt.date | None
    sampled_at: dt.datetime
    reported_at: dt.datetime
    found_by: str
    control: str
    under_control: bool
    isolated_at: dt.datetime | None
    jurisdiction: str
    district: str
    workplace: str | None
    cluster: str | None
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    traced_at: dt.datetime | None


class CaseIn(Schema):
    person_id: int | None = None
    national_id: str | None = None
    classification: str = "confirmed"
    onset_date: dt.date | None = None
    sampled_at: dt.datetime | None = None
    reported_at: dt.datetime | None = None
    found_by: str = ""
    control: str = "community"
    isolated_at: dt.datetime | None = None


class CaseFilter(Schema):
    q: str = ""
    district: str = ""
    since: dt.date | None = None
    control: str = ""
    limit: int = 50
    offset: int = 0


class ContactOut(Schema):
    id: int
    person_id: int
    name: str
    national_id: str
    district: str
    district_name: str
    degree: int
    contact_type: str
    via: str | None
    score: float
    overlap_minutes: int
    shared_stays: int
    evidence: list[dict[str, Any]]
    status: str
    decided_by: str | None
    decided_at: dt.datetime | None


class ContactFilter(Schema):
    status: str = ""
    degree: int | None = None
    limit: int = 200
    offset: int = 0


class DecideIn(Schema):
    contacts: list[int]
    decision: str
    note: str = ""


class TrajectoryIn(Schema):
    kind: str = "venue"
    venue: str | None = None  # place code
    subarea: int | None = None
    place: str = ""
    address: str = ""
    time_in: dt.datetime
    time_out: dt.datetime


class TrajectoryOut(Schema):
    id: int
    kind: str
    venue: str | None
    venue_name: str | None
    subarea: int | None
    place: str
    address: str
    time_in: dt.datetime
    time_out: dt.datetime
    from_scan: bool


class LinkageOut(Schema):
    id: int
    contact_id: int
    person_id: int
    name: str
    case: str
    from_district: str
    to_district: str
    contact_type: str
    status: str
    created_at: dt.datetime
    due_at: dt.datetime
    overdue: bool
    acknowledged_at: dt.datetime | None


class ClusterIn(Schema):
    name: str
    cases: list[str]
    note: str = ""


class CasesIn(Schema):
    cases: list[str]


class MergeIn(Schema):
    clusters: list[str]


class ClusterOut(Schema):
    id: int
    code: str
    name: str
    cases: int
    merged_into: str | None


class RiskVenueOut(Schema):
    venue: str
    venue_name: str
    venue_type: str
    jurisdiction: str
    latitude: float | None
    longitude: float | None
    case: str
    first_in: dt.datetime
    last_out: dt.datetime
    visits: int


class IngestOut(Schema):
    rows_read: int
    added: int
    duplicates: int
    rejected: dict[str, int]
    examples: list[list[Any]]
    dates: list[dt.date]
    summary: str


def _case_out(c: Case) -> dict[str, Any]:
    return {
        "id": c.pk,
        "code": c.code,
        "person_id": c.person_id,
        "name": c.person.name,
        "classification": c.classification,
        "onset_date": c.onset_date,
        "sampled_at": c.sampled_at,
        "reported_at": c.reported_at,
        "found_by": c.found_by,
        "control": c.control,
        "under_control": c.under_control,
        "isolated_at": c.isolated_at,
        "jurisdiction": c.jurisdiction.code,
        "district": c.district.code,
        "workplace": c.workplace.code if c.workplace_id and c.workplace else None,
        "cluster": c.cluster.code if c.cluster_id and c.cluster else None,
        "window_start": c.window_start,
        "window_end": c.window_end,
        "traced_at": c.traced_at,
    }


def _contact_out(user: Any, c: Contact) -> dict[str, Any]:
    return {
        "id": c.pk,
        "person_id": c.person_id,
        "name": c.person.name,
        "national_id": people.national_id_for(user, c.person),
        "district": c.district.code,
        "district_name": c.district.name,
        "degree": c.degree,
        "contact_type": c.contact_type,
        "via": c.via.name if c.via_id and c.via else None,
        "score": round(c.score, 3),
        "overlap_minutes": c.overlap_minutes,
        "shared_stays": c.shared_stays,
        "evidence": c.evidence,
        "status": c.status,
        "decided_by": c.decided_by.username if c.decided_by_id and c.decided_by else None,
        "decided_at": c.decided_at,
    }


def _linkage_out(link: Linkage) -> dict[str, Any]:
    c = link.contact
    return {
        "id": link.pk,
        "contact_id": c.pk,
        "person_id": c.person_id,
        "name": c.person.name,
        "case": c.case.code,
        "from_district": link.from_district.code,
        "to_district": link.to_district.code,
        "contact_type": c.contact_type,
        "status": c.status,
        "created_at": link.created_at,
        "due_at": link.due_at,
        "overdue": link.overdue(),
        "acknowledged_at": link.acknowledged_at,
    }


def _cases_by_code(user: Any, codes: list[str]) -> list[Case]:
    out = []
    for code in codes:
        try:
            out.append(selectors.get_case_for(user, code))
        except NotFound:
            raise ValidationError({"cases": _("Unknown case: %(code)s.") % {"code": code}}) from None
    return out


@router.get("/cases", response=list[CaseOut], summary="Cases in the caller's territory, newest first")
@api(Cap.VIEW_CASES)
def list_cases(request: HttpRequest, f: Query[CaseFilter]) -> Any:
    qs = selectors.search_cases(
        request.user, query=f.q, district=f.district, since=f.since, control=f.control
    )
    limit = max(1, min(f.limit, 500))
    return [_case_out(c) for c in qs[f.offset : f.offset + limit]]


@router.get("/cases/summary", summary="Today's cases: total, found in the community, found under control")
@api(Cap.VIEW_CASES)
def case_summary(request: HttpRequest) -> Any:
    return selectors.case_summary(request.user)


@router.post("/cases", response={201: CaseOut}, summary="Report a case (opens its investigation)")
@api(Cap.TRACE)
def report_case(request: HttpRequest, payload: CaseIn) -> Any:
    person = None
    try:
        if payload.person_id is not None:
            person = people.get_person_for(request.user, payload.person_id)
        elif payload.national_id:
            person = people.persons_visible_to(request.user).get(
                national_id=payload.national_id.strip().upper()
            )
    except (NotFound, Exception):
        raise ValidationError({"person": _("Unknown person.")}) from None
    case = actions.report_case(
        actor=request.user,
        data=actions.CaseData(
            person=person,
            classification=payload.classification,
            onset_date=payload.onset_date,
            sampled_at=payload.sampled_at,
            reported_at=payload.reported_at,
            found_by=payload.found_by,
            control=payload.control,
            isolated_at=payload.isolated_at,
        ),
        source="api",
    )
    return Status(201, _case_out(selectors.get_case_for(request.user, case.pk)))


@router.get("/cases/{int:case_id}", response=CaseOut, summary="A case")
@api(Cap.VIEW_CASES)
def get_case(request: HttpRequest, case_id: int) -> Any:
    return _case_out(selectors.get_case_for(request.user, case_id))


@router.post("/cases/{int:case_id}/trace", summary="Trace the case: find candidates with evidence")
@api(Cap.TRACE)
def trace_case(request: HttpRequest, case_id: int) -> Any:
    case = selectors.get_case_for(request.user, case_id)
    result = actions.trace_case(actor=request.user, case=case, source="api")
    return {
        "added": result.added,
        "updated": result.updated,
        "total": result.total,
        "risk_venues": result.risk_venues,
        "window_start": result.window[0],
        "window_end": result.window[1],
    }


@router.get("/cases/{int:case_id}/contacts", response=list[ContactOut], summary="The case's traced contacts")
@api(Cap.VIEW_CASES)
def list_contacts(request: HttpRequest, case_id: int, f: Query[ContactFilter]) -> Any:
    case = selectors.get_case_for(request.user, case_id)
    qs = selectors.contacts_of_case(request.user, case, status=f.status, degree=f.degree).select_related(
        "decided_by"
    )
    limit = max(1, min(f.limit, 2000))
    return [_contact_out(request.user, c) for c in qs[f.offset : f.offset + limit]]


@router.post(
    "/cases/{int:case_id}/contacts/decide", summary="Confirm or dismiss candidates, singly or in bulk"
)
@api(Cap.TRACE)
def decide(request: HttpRequest, case_id: int, payload: DecideIn) -> Any:
    case = selectors.get_case_for(request.user, case_id)
    n = actions.decide_contacts(
        actor=request.user,
        case=case,
        contact_ids=payload.contacts,
        decision=payload.decision,
        note=payload.note,
        source="api",
    )
    return {"changed": n}


@router.get(
    "/cases/{int:case_id}/trajectory", response=list[TrajectoryOut], summary="The activity trajectory"
)
@api(Cap.VIEW_CASES)
def trajectory(request: HttpRequest, case_id: int) -> Any:
    case = selectors.get_case_for(request.user, case_id)
    return [
        {
            "id": e.pk,
            "kind": e.kind,
            "venue": e.venue.code if e.venue else None,
            "venue_name": e.venue.name if e.venue else None,
            "subarea": e.subarea,
            "place": e.place,
            "address": e.address,
            "time_in": e.time_in,
            "time_out": e.time_out,
            "from_scan": e.from_scan,
        }
        for e in case.trajectory.select_related("venue")
    ]


@router.post(
    "/cases/{int:case_id}/trajectory", response={201: dict[str, int]}, summary="Add a trajectory entry"
)
@api(Cap.TRACE)
def add_trajectory(request: HttpRequest, case_id: int, payload: TrajectoryIn) -> Any:
    case = selectors.get_case_for(request.user, case_id)
    venue = None
    if payload.venue:
        try:
            venue = venues.get_venue_for(request.user, payload.venue)
        except NotFound:
            raise ValidationError({"venue": _("Unknown place code.")}) from None
    entry = actions.add_trajectory_entry(
        actor=request.user,
        case=case,
        data=actions.TrajectoryData(
            kind=payload.kind,
            venue=venue,
            subarea=payload.subarea,
            place=payload.place,
            address=payload.address,
            time_in=payload.time_in,
            time_out=payload.time_out,
        ),
        source="api",
    )
    return Status(201, {"id": entry.pk})


@router.post(
    "/cases/{int:case_id}/trajectory/autofill", summary="Fill the trajectory from the check-in scans"
)
@api(Cap.TRACE)
def autofill(request: HttpRequest, case_id: int) -> Any:
    case = selectors.get_case_for(request.user, case_id)
    return {"added": actions.autofill_trajectory(actor=request.user, case=case, source="api")}


@router.get(
    "/cases/{int:case_id}/associations", summary="Cases and clusters this case connects to, with evidence"
)
@api(Cap.VIEW_CASES)
def associations(request: HttpRequest, case_id: int) -> Any:
    case = selectors.get_case_for(request.user, case_id)
    return [
        {
            "case": a["case"].code,
            "district": a["case"].district.code,
            "visible": a["visible"],
            "cluster": a["cluster"].code if a["cluster"] else None,
            "links": a["links"],
        }
        for a in selectors.associations(request.user, case)
    ]


@router.get("/linkage", response=list[LinkageOut], summary="Contacts handed to the caller's district")
@api(Cap.RECEIVE_LINKAGE)
def linkage_inbox(request: HttpRequest, pending: bool = False) -> Any:
    return [_linkage_out(link) for link in selectors.linkage_inbox(request.user, pending_only=pending)[:1000]]


@router.post(
    "/linkage/{int:linkage_id}/acknowledge", response=LinkageOut, summary="Acknowledge a handed contact"
)
@api(Cap.RECEIVE_LINKAGE)
def acknowledge(request: HttpRequest, linkage_id: int) -> Any:
    link = selectors.get_linkage_for(request.user, linkage_id)
    return _linkage_out(actions.acknowledge_linkage(actor=request.user, linkage=link, source="api"))


def _cluster_out(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "code": c.code,
        "name": c.name,
        "cases": getattr(c, "n_cases", None) or c.cases.count(),
        "merged_into": c.merged_into.code if c.merged_into_id else None,
    }


@router.get("/clusters", response=list[ClusterOut], summary="Clusters with cases in the caller's territory")
@api(Cap.VIEW_CASES)
def list_clusters(request: HttpRequest) -> Any:
    return [_cluster_out(c) for c in selectors.clusters_visible_to(request.user)[:500]]


@router.post("/clusters", response={201: ClusterOut}, summary="Create a cluster from cases")
@api(Cap.TRACE)
def create_cluster(request: HttpRequest, payload: ClusterIn) -> Any:
    cases = _cases_by_code(request.user, payload.cases)
    cluster = actions.create_cluster(
        actor=request.user, name=payload.name, cases=cases, note=payload.note, source="api"
    )
    return Status(201, _cluster_out(cluster))


@router.post("/clusters/{code}/cases", response=ClusterOut, summary="Add cases to a cluster")
@api(Cap.TRACE)
def add_cases(request: HttpRequest, code: str, payload: CasesIn) -> Any:
    cluster = selectors.get_cluster_for(request.user, code)
    actions.add_to_cluster(
        actor=request.user, cluster=cluster, cases=_cases_by_code(request.user, payload.cases), source="api"
    )
    return _cluster_out(cluster)


@router.post("/clusters/{code}/merge", response=ClusterOut, summary="Merge other clusters into this one")
@api(Cap.TRACE)
def merge(request: HttpRequest, code: str, payload: MergeIn) -> Any:
    target = selectors.get_cluster_for(request.user, code)
    others = []
    for other in payload.clusters:
        try:
            others.append(selectors.get_cluster_for(request.user, other))
        except NotFound:
            raise ValidationError({"clusters": _("Unknown cluster: %(code)s.") % {"code": other}}) from None
    actions.merge_clusters(actor=request.user, target=target, others=others, source="api")
    target.refresh_from_db()
    return _cluster_out(target)


@router.get(
    "/clusters/{code}/graph", summary="The cluster's transmission-chain graph (summarised when large)"
)
@api(Cap.VIEW_CASES)
def cluster_graph(request: HttpRequest, code: str) -> Any:
    return selectors.cluster_graph(request.user, selectors.get_cluster_for(request.user, code))


@router.get("/risk-venues", response=list[RiskVenueOut], summary="Risk venues in the caller's territory")
@api(Cap.VIEW_CASES)
def risk_venues(request: HttpRequest, days: int = 14) -> Any:
    since = timezone.localdate() - dt.timedelta(days=max(1, min(days, 60)))
    return [
        {
            "venue": r.venue.code,
            "venue_name": r.venue.name,
            "venue_type": r.venue.venue_type,
            "jurisdiction": r.venue.jurisdiction.code,
            "latitude": r.venue.building.latitude if r.venue.building else None,
            "longitude": r.venue.building.longitude if r.venue.building else None,
            "case": r.case.code,
            "first_in": r.first_in,
            "last_out": r.last_out,
            "visits": r.visits,
        }
        for r in selectors.risk_venues_visible_to(request.user, since=since)[:5000]
    ]


@router.post(
    "/scans",
    response=IngestOut,
    summary="Load a batch of check-in scans (CSV, JSON lines, Parquet)",
    description=(
        "Send the file as multipart field `file` (its extension tells the format). Columns: person_id or "
        "national_id, venue_id or venue_code, optional subarea, time_in, time_out (local time). Rows already in "
        "the store are counted as duplicates and not added; bad rows are skipped and counted by reason."
    ),
)
@api(Cap.INGEST_SCANS)
def ingest(request: HttpRequest) -> Any:
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationError({"file": _("Send the file as the multipart field 'file'.")})
    if upload.size and upload.size > settings.CORDON_MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is larger than the upload limit.")})
    name = Path(upload.name or "scans.csv").name
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        try:
            report = actions.ingest_scans(actor=request.user, source_file=path, filename=name, source="api")
        except ValueError as exc:
            raise ValidationError({"file": str(exc)}) from None
    return {
        "rows_read": report.rows_read,
        "added": report.added,
        "duplicates": report.duplicates,
        "rejected": dict(report.rejected),
        "examples": [list(e) for e in report.examples],
        "dates": list(report.dates),
        "summary": report.describe(),
    }
