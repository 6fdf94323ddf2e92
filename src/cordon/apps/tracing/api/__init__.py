"""API of cases, tracing, judgment, cross-district linkage, clusters, risk venues and scan ingestion (the
schemas in ``schemas.py``).

No ``from __future__ import annotations`` here: ninja reads the operations' annotations through the access
decorator's wrapper, whose module does not know these names."""

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from cordon.apps.jobs import actions as jobs
from cordon.apps.people import selectors as people
from cordon.apps.venues import selectors as venues
from cordon.core import uploads, versions
from cordon.core.access import AuthedRequest, api
from cordon.core.actors import Actor
from cordon.core.jobs import JobStarted
from cordon.core.paging import page
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound
from cordon.engine.scanstore import SUFFIXES

from .. import actions, selectors
from ..hooks import INGEST_SCANS, TRACE_CASE
from ..models import Case, Contact
from ..scanwords import unknown_format
from .schemas import (
    AddedOut,
    AssociationOut,
    CaseFilter,
    CaseIn,
    CaseOut,
    CasesIn,
    CaseSummaryOut,
    ChangedOut,
    ClusterIn,
    ClusterOut,
    ContactFilter,
    ContactOut,
    DecideIn,
    EntryCreatedOut,
    ImportedIn,
    LinkageOut,
    MergeIn,
    RiskVenueOut,
    TrajectoryIn,
    TrajectoryOut,
)

router = Router(tags=["tracing"])

CASES_CAP = 500
CONTACTS_CAP = 2000


def _cases_by_code(user: Actor, codes: list[str]) -> list[Case]:
    out = []
    for code in codes:
        try:
            out.append(selectors.get_case_for(user, code))
        except NotFound:
            raise ValidationError({"cases": _("Unknown case: %(code)s.") % {"code": code}}) from None
    return out


@router.get(
    "/cases",
    response=list[CaseOut],
    summary="Cases in the caller's territory, newest first",
    description=f"Paged with `limit` (default 50, at most {CASES_CAP}) and `offset`.",
)
@api(Cap.VIEW_CASES)
@personal_data()
def list_cases(request: AuthedRequest, f: Query[CaseFilter]) -> list[CaseOut]:
    qs = selectors.search_cases(
        request.user, query=f.q, district=f.district, since=f.since, control=f.control
    )
    rows: list[Case] = page(qs, f, cap=CASES_CAP)
    return [CaseOut.of(c) for c in rows]


@router.get(
    "/cases/summary",
    response=CaseSummaryOut,
    summary="Today's cases: total, found in the community, found under control",
)
@api(Cap.VIEW_CASES)
def case_summary(request: AuthedRequest) -> CaseSummaryOut:
    return CaseSummaryOut(**selectors.case_summary(request.user))


@router.post("/cases", response={201: CaseOut}, summary="Report a case (opens its investigation)")
@api(Cap.TRACE)
def report_case(request: AuthedRequest, payload: CaseIn) -> Status[CaseOut]:
    person = None
    try:
        if payload.person_id is not None:
            person = people.get_person_for(request.user, payload.person_id)
        elif payload.national_id:
            person = selectors.person_by_national_id(request.user, payload.national_id)
    except NotFound:
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
            imported=payload.imported,
        ),
        source="api",
    )
    return Status(201, CaseOut.of(selectors.get_case_for(request.user, case.pk)))


@router.get("/cases/{int:case_id}", response=CaseOut, summary="A case")
@api(Cap.VIEW_CASES)
@personal_data()
def get_case(request: AuthedRequest, case_id: int) -> CaseOut:
    return CaseOut.of(selectors.get_case_for(request.user, case_id))


@router.post(
    "/cases/{int:case_id}/trace",
    response={202: JobStarted},
    summary="Trace the case (find candidates with evidence), as a background job",
    description=(
        "202 with the job that traces the case: `GET /api/jobs/{id}` until it is done (its summary says how "
        "many candidates were added); then `GET /api/cases/{case_id}/contacts` lists them. The trace writes "
        "what it found in one transaction at its end: a cancelled or failed trace leaves nothing half-written."
    ),
)
@api(Cap.TRACE)
def trace_case(request: AuthedRequest, case_id: int) -> Status[JobStarted]:
    case = selectors.get_case_for(request.user, case_id)
    job = jobs.start(actor=request.user, kind=TRACE_CASE, params={"case_id": case.pk}, source="api")
    return Status(202, JobStarted.of(job.pk))


@router.get(
    "/cases/{int:case_id}/contacts",
    response=list[ContactOut],
    summary="The case's traced contacts",
    description=f"Paged with `limit` (default 200, at most {CONTACTS_CAP}) and `offset`.",
)
@api(Cap.VIEW_CASES)
@personal_data()
def list_contacts(request: AuthedRequest, case_id: int, f: Query[ContactFilter]) -> list[ContactOut]:
    case = selectors.get_case_for(request.user, case_id)
    qs = selectors.contacts_of_case(request.user, case, status=f.status, degree=f.degree).select_related(
        "decided_by"
    )
    rows: list[Contact] = page(qs, f, cap=CONTACTS_CAP)
    return [ContactOut.of(request.user, c) for c in rows]


@router.post(
    "/cases/{int:case_id}/contacts/decide",
    response={200: ChangedOut, 409: versions.ConflictOut},
    summary="Confirm or dismiss candidates, singly or in bulk",
)
@api(Cap.TRACE)
def decide(request: AuthedRequest, case_id: int, payload: DecideIn) -> ChangedOut:
    case = selectors.get_case_for(request.user, case_id)
    chosen = selectors.contacts_of_case(request.user, case).filter(pk__in=payload.contacts)
    with versions.showing(
        lambda: [ContactOut.of(request.user, c) for c in chosen.select_related("decided_by")]
    ):
        n = actions.decide_contacts(
            actor=request.user,
            case=case,
            contact_ids=payload.contacts,
            decision=payload.decision,
            note=payload.note,
            versions=payload.versions,
            source="api",
        )
    return ChangedOut(changed=n)


@router.get(
    "/cases/{int:case_id}/trajectory", response=list[TrajectoryOut], summary="The activity trajectory"
)
@api(Cap.VIEW_CASES)
@personal_data()
def trajectory(request: AuthedRequest, case_id: int) -> list[TrajectoryOut]:
    case = selectors.get_case_for(request.user, case_id)
    return [TrajectoryOut.of(e) for e in selectors.trajectory_of(case)]


@router.post(
    "/cases/{int:case_id}/trajectory", response={201: EntryCreatedOut}, summary="Add a trajectory entry"
)
@api(Cap.TRACE)
def add_trajectory(request: AuthedRequest, case_id: int, payload: TrajectoryIn) -> Status[EntryCreatedOut]:
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
    return Status(201, EntryCreatedOut(id=entry.pk))


@router.post(
    "/cases/{int:case_id}/trajectory/autofill",
    response=AddedOut,
    summary="Fill the trajectory from the check-in scans",
)
@api(Cap.TRACE)
def autofill(request: AuthedRequest, case_id: int) -> AddedOut:
    case = selectors.get_case_for(request.user, case_id)
    return AddedOut(added=actions.autofill_trajectory(actor=request.user, case=case, source="api"))


@router.get(
    "/cases/{int:case_id}/associations",
    response=list[AssociationOut],
    summary="Cases and clusters this case connects to, with evidence",
)
@api(Cap.VIEW_CASES)
@personal_data()
def associations(request: AuthedRequest, case_id: int) -> list[AssociationOut]:
    case = selectors.get_case_for(request.user, case_id)
    return [AssociationOut.of(a) for a in selectors.associations(request.user, case)]


@router.get("/linkage", response=list[LinkageOut], summary="Contacts handed to the caller's district")
@api(Cap.RECEIVE_LINKAGE)
@personal_data()
def linkage_inbox(request: AuthedRequest, pending: bool = False) -> list[LinkageOut]:
    return [
        LinkageOut.of(link) for link in selectors.linkage_inbox(request.user, pending_only=pending)[:1000]
    ]


@router.post(
    "/linkage/{int:linkage_id}/acknowledge", response=LinkageOut, summary="Acknowledge a handed contact"
)
@api(Cap.RECEIVE_LINKAGE)
def acknowledge(request: AuthedRequest, linkage_id: int) -> LinkageOut:
    link = selectors.get_linkage_for(request.user, linkage_id)
    return LinkageOut.of(actions.acknowledge_linkage(actor=request.user, linkage=link, source="api"))


@router.get("/clusters", response=list[ClusterOut], summary="Clusters with cases in the caller's territory")
@api(Cap.VIEW_CASES)
def list_clusters(request: AuthedRequest) -> list[ClusterOut]:
    return [ClusterOut.of(c) for c in selectors.clusters_visible_to(request.user)[:500]]


@router.post("/clusters", response={201: ClusterOut}, summary="Create a cluster from cases")
@api(Cap.TRACE)
def create_cluster(request: AuthedRequest, payload: ClusterIn) -> Status[ClusterOut]:
    cases = _cases_by_code(request.user, payload.cases)
    cluster = actions.create_cluster(
        actor=request.user, name=payload.name, cases=cases, note=payload.note, source="api"
    )
    return Status(201, ClusterOut.of(cluster))


@router.post("/clusters/{code}/cases", response=ClusterOut, summary="Add cases to a cluster")
@api(Cap.TRACE)
def add_cases(request: AuthedRequest, code: str, payload: CasesIn) -> ClusterOut:
    cluster = selectors.get_cluster_for(request.user, code)
    actions.add_to_cluster(
        actor=request.user, cluster=cluster, cases=_cases_by_code(request.user, payload.cases), source="api"
    )
    return ClusterOut.of(cluster)


@router.post("/clusters/{code}/merge", response=ClusterOut, summary="Merge other clusters into this one")
@api(Cap.TRACE)
def merge(request: AuthedRequest, code: str, payload: MergeIn) -> ClusterOut:
    target = selectors.get_cluster_for(request.user, code)
    others = []
    for other in payload.clusters:
        try:
            others.append(selectors.get_cluster_for(request.user, other))
        except NotFound:
            raise ValidationError({"clusters": _("Unknown cluster: %(code)s.") % {"code": other}}) from None
    actions.merge_clusters(actor=request.user, target=target, others=others, source="api")
    return ClusterOut.of(selectors.get_cluster_for(request.user, code))


@router.get(
    "/clusters/{code}/graph",
    response=dict[str, Any],
    summary="The cluster's transmission-chain graph (summarised when large)",
)
@api(Cap.VIEW_CASES)
def cluster_graph(request: AuthedRequest, code: str) -> dict[str, Any]:
    return selectors.cluster_graph(request.user, selectors.get_cluster_for(request.user, code))


@router.get("/risk-venues", response=list[RiskVenueOut], summary="Risk venues in the caller's territory")
@api(Cap.VIEW_CASES)
def risk_venues(request: AuthedRequest, days: int = 14) -> list[RiskVenueOut]:
    since = timezone.localdate() - dt.timedelta(days=max(1, min(days, 60)))
    return [RiskVenueOut.of(r) for r in selectors.risk_venues_visible_to(request.user, since=since)[:5000]]


@router.post(
    "/scans",
    response={202: JobStarted},
    summary="Load a batch of check-in scans (CSV, JSON lines, Parquet), as a background job",
    description=(
        "Send the file as multipart field `file` (its extension tells the format). Columns: person_id or "
        "national_id, venue_id or venue_code, optional subarea, time_in, time_out (local time). 202 with the "
        "job that loads it: `GET /api/jobs/{id}` shows the dates written; once done, its summary counts the "
        "rows read, the scans added, the duplicates (rows already in the store, not added) and the bad rows "
        "skipped by reason; a file the store refuses fails the job, with nothing loaded. 422 at once for no "
        "file, a file past the upload limit, or a name that tells no format."
    ),
)
@api(Cap.INGEST_SCANS)
def ingest(request: AuthedRequest) -> Status[JobStarted]:
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationError({"file": _("Send the file as the multipart field 'file'.")})
    if upload.size and upload.size > settings.CORDON_MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is larger than the upload limit.")})
    name = Path(upload.name or "scans.csv").name[:200]
    fmt = SUFFIXES.get(Path(name).suffix.lower())
    if fmt is None:
        raise ValidationError({"file": unknown_format(name)})
    stored = uploads.keep(upload)
    params = {uploads.PARAM: stored, "filename": name, "fmt": fmt}
    try:
        job = jobs.start(actor=request.user, kind=INGEST_SCANS, params=params, source="api")
    except PermissionDenied:
        uploads.discard(stored)
        raise
    return Status(202, JobStarted.of(job.pk))


@router.post("/cases/{int:case_id}/imported", response=CaseOut, summary="Mark the case imported or local")
@api(Cap.TRACE)
def set_imported(request: AuthedRequest, case_id: int, payload: ImportedIn) -> CaseOut:
    case = selectors.get_case_for(request.user, case_id)
    actions.set_imported(actor=request.user, case=case, imported=payload.imported, source="api")
    return CaseOut.of(selectors.get_case_for(request.user, case_id))
