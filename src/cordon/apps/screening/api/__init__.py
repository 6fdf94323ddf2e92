"""API of mass screening: rounds and sites, tubes, the scanners' batch of sample bindings, lab manifests and
results (JSON or a CSV/XLSX file), coverage with the not-yet-sampled list, the follow-up of positives, overdue
key-industry workers and the pool-design advisor.

Every operation returns its schema type (``schemas``), built by that schema's one constructor."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Building, IndustrySector, Jurisdiction
from cordon.core.access import AuthedRequest, api
from cordon.core.inputs import query
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound

from .. import actions, selectors
from .schemas import (
    AdviceOut,
    AlertsOut,
    BatchIn,
    BatchOut,
    CoverageFilter,
    CoverageOut,
    CreatedOut,
    IssuedOut,
    LabIn,
    ManifestIn,
    OverdueOut,
    QueueIn,
    QueueOut,
    ReportOut,
    ResultsIn,
    RoundDetailOut,
    RoundIn,
    RoundOut,
    RoundStatusOut,
    RuleIn,
    RuleOut,
    SealOut,
    SiteIn,
    TargetOut,
    TubesIn,
)

router = Router(tags=["screening"])


# --- Rounds and sites ---------------------------------------------------------------------------------------


@router.get("/screening/rounds", response=list[RoundOut], summary="Screening rounds visible to the caller")
@api(Cap.VIEW_SCREENING)
def list_rounds(request: AuthedRequest) -> list[RoundOut]:
    qs = selectors.rounds_visible_to(request.user).prefetch_related("jurisdictions", "buildings", "sectors")
    return [RoundOut.of(r) for r in qs[:200]]


def _node(request: AuthedRequest, code: str, field: str = "areas") -> Jurisdiction:
    try:
        return geo.get_jurisdiction_for(request.user, code)
    except NotFound:
        raise ValidationError({field: _("Unknown jurisdiction %(c)s.") % {"c": code}}) from None


def _building(request: AuthedRequest, code: str) -> Building:
    try:
        return geo.get_building_for(request.user, code)
    except NotFound:
        raise ValidationError({"buildings": _("Unknown building %(c)s.") % {"c": code}}) from None


def _node_or_none(request: AuthedRequest, code: str) -> Jurisdiction | None:
    """A jurisdiction the action refuses with its own message when it is missing or out of scope."""
    try:
        return geo.get_jurisdiction_for(request.user, code)
    except NotFound:
        return None


@router.post("/screening/rounds", response={201: RoundOut}, summary="Open a screening round")
@api(Cap.MANAGE_SCREENING)
def create_round(request: AuthedRequest, payload: RoundIn) -> Status[RoundOut]:
    sectors = list(geo.sectors().filter(code__in=payload.sectors))
    if len(sectors) != len(set(payload.sectors)):
        raise ValidationError({"sectors": _("Unknown industry sector.")})
    owner = _node_or_none(request, payload.owner)
    r = actions.create_round(
        actor=request.user,
        data=actions.RoundData(
            code=payload.code, name=payload.name, owner=owner, starts_at=payload.starts_at,
            ends_at=payload.ends_at, design=payload.design,
            jurisdictions=[_node(request, c) for c in payload.areas],
            buildings=[_building(request, c) for c in payload.buildings], sectors=sectors,
            key_industry=payload.key_industry,
        ),
        source="api",
    )  # fmt: skip
    return Status(201, RoundOut.of(r))


@router.get("/screening/rounds/{code}", response=RoundDetailOut, summary="A round with its sites")
@api(Cap.VIEW_SCREENING)
def get_round(request: AuthedRequest, code: str) -> RoundDetailOut:
    r = selectors.get_round_for(request.user, code)
    return RoundDetailOut.with_sites(r, list(selectors.sites_visible_to(request.user).filter(round=r)))


@router.post(
    "/screening/rounds/{code}/close", response=RoundStatusOut, summary="Close a round (no more samples)"
)
@api(Cap.MANAGE_SCREENING)
def close_round(request: AuthedRequest, code: str) -> RoundStatusOut:
    r = selectors.get_round_for(request.user, code, Cap.MANAGE_SCREENING)
    return RoundStatusOut.of(actions.close_round(actor=request.user, round=r, source="api"))


@router.post(
    "/screening/rounds/{code}/recount",
    response=TargetOut,
    summary="Count the target population from the register again",
)
@api(Cap.MANAGE_SCREENING)
def recount(request: AuthedRequest, code: str) -> TargetOut:
    r = selectors.get_round_for(request.user, code, Cap.MANAGE_SCREENING)
    return TargetOut.of(r, actions.recount_target(actor=request.user, round=r, source="api"))


@router.post("/screening/rounds/{code}/sites", response={201: CreatedOut}, summary="Add a sampling site")
@api(Cap.MANAGE_SCREENING)
def add_site(request: AuthedRequest, code: str, payload: SiteIn) -> Status[CreatedOut]:
    r = selectors.get_round_for(request.user, code, Cap.MANAGE_SCREENING)
    node = _node_or_none(request, payload.jurisdiction)
    site = actions.add_site(
        actor=request.user, round=r,
        data=actions.SiteData(payload.code, payload.name, node, payload.opens, payload.closes, payload.staff),
        source="api",
    )  # fmt: skip
    return Status(201, CreatedOut.of(site))


@router.post(
    "/screening/sites/{int:site_id}/tubes", response={201: IssuedOut}, summary="Issue tubes to a site"
)
@api(Cap.MANAGE_SCREENING)
def issue_tubes(request: AuthedRequest, site_id: int, payload: TubesIn) -> Status[IssuedOut]:
    site = selectors.get_site_for(request.user, site_id, Cap.MANAGE_SCREENING)
    n = actions.issue_tubes(
        actor=request.user, site=site, barcodes=payload.barcodes, size=payload.size, source="api"
    )
    return Status(201, IssuedOut(issued=n))


@router.post(
    "/screening/sites/{int:site_id}/queue", response=QueueOut, summary="Report the persons queueing at a site"
)
@api(Cap.SAMPLE)
def report_queue(request: AuthedRequest, site_id: int, payload: QueueIn) -> QueueOut:
    site = selectors.get_site_for(request.user, site_id, Cap.SAMPLE)
    return QueueOut.of(
        actions.report_queue(actor=request.user, site=site, persons=payload.persons, source="api")
    )


# --- The station ----------------------------------------------------------------------------------------------


@router.post("/screening/bindings", response=BatchOut, summary="A scanner's batch of person-to-tube bindings")
@api(Cap.SAMPLE)
def bind(request: AuthedRequest, payload: BatchIn) -> BatchOut:
    """Each row is bound or refused with a code and a message; the answer comes after the commit, so every
    row not listed under ``refused`` is stored."""
    try:
        site = selectors.get_site_for(request.user, payload.site, Cap.SAMPLE)
    except NotFound:
        raise ValidationError({"site": _("Unknown sampling site.")}) from None
    res = actions.bind_samples(
        actor=request.user,
        site=site,
        rows=[actions.BindingIn(b.tube, b.person, b.at) for b in payload.bindings],
        source="api",
    )
    return BatchOut.of(res)


@router.post("/screening/tubes/{barcode}/seal", response=SealOut, summary="Seal a tube before it is full")
@api(Cap.SAMPLE)
def seal(request: AuthedRequest, barcode: str) -> SealOut:
    tube = selectors.get_tube_for(request.user, barcode, Cap.SAMPLE)
    return SealOut.of(actions.seal_tube(actor=request.user, tube=tube, source="api"))


# --- Labs -------------------------------------------------------------------------------------------------------


@router.post("/screening/labs", response={201: CreatedOut}, summary="Register a lab")
@api(Cap.MANAGE_SCREENING)
def create_lab(request: AuthedRequest, payload: LabIn) -> Status[CreatedOut]:
    node = _node_or_none(request, payload.jurisdiction)
    lab = actions.create_lab(
        actor=request.user, code=payload.code, name=payload.name, jurisdiction=node, source="api"
    )
    return Status(201, CreatedOut.of(lab))


@router.post(
    "/screening/labs/{code}/manifests", response=ReportOut, summary="Receive tubes at a lab by manifest"
)
@api(Cap.LAB)
def receive(request: AuthedRequest, code: str, payload: ManifestIn) -> ReportOut:
    lab = selectors.get_lab_for(request.user, code)
    return ReportOut.of(
        actions.receive_tubes(actor=request.user, lab=lab, barcodes=payload.tubes, source="api")
    )


@router.post(
    "/screening/labs/{code}/results", response=ReportOut, summary="Record results (row-level errors)"
)
@api(Cap.LAB)
def results(request: AuthedRequest, code: str, payload: ResultsIn) -> ReportOut:
    lab = selectors.get_lab_for(request.user, code)
    rows = [actions.ResultIn(r.tube, r.result, dict(r.ct)) for r in payload.results]
    return ReportOut.of(actions.record_results(actor=request.user, rows=rows, lab=lab, source="api"))


@router.post(
    "/screening/labs/{code}/results-file",
    response=ReportOut,
    summary="Import a results file, CSV or XLSX (barcode,result,ct_orf1ab,ct_n)",
)
@api(Cap.LAB)
def results_file(request: AuthedRequest, code: str) -> ReportOut:
    """Send the CSV or XLSX file as multipart field ``file``."""
    lab = selectors.get_lab_for(request.user, code)
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationError({"file": _("Choose a results file.")})
    rows, errors = actions.parse_results_file(upload.read(), upload.name or "")
    rep = actions.record_results(actor=request.user, rows=rows, lab=lab, source="api", first_line=2)
    rep.errors = sorted(errors + rep.errors)
    return ReportOut.of(rep)


# --- Coverage and follow-up ---------------------------------------------------------------------------------------


@router.get(
    "/screening/rounds/{code}/coverage",
    response=CoverageOut,
    summary="Coverage and who is not yet sampled (应检尽检)",
)
@api(Cap.VIEW_SCREENING)
@personal_data()
def coverage(request: AuthedRequest, code: str, f: Query[CoverageFilter]) -> CoverageOut:
    r = selectors.get_round_for(request.user, code)
    node = selectors.coverage_node(request.user, r, f.node)
    cov = selectors.coverage(request.user, r, node)
    missing = selectors.not_sampled(request.user, r, node, after=f.after, limit=f.limit)
    return CoverageOut.of(cov, missing, f.limit)


@router.get(
    "/screening/alerts",
    response=AlertsOut,
    summary="Temporary controls and re-sample tasks in the caller's territory",
)
@api(Cap.VIEW_SCREENING)
@personal_data()
def alerts(request: AuthedRequest) -> AlertsOut:
    return AlertsOut.of(
        list(selectors.temporary_controls(request.user)[:2000]),
        list(selectors.resample_tasks(request.user)[:2000]),
        selectors.marked_buildings(request.user),
    )


# --- Key industries and the advisor -------------------------------------------------------------------------------


@router.get(
    "/screening/overdue",
    response=list[OverdueOut],
    summary="Key-industry workers overdue for screening, per sector",
)
@api(Cap.VIEW_SCREENING)
@personal_data()
def overdue(request: AuthedRequest, sector: str = query(IndustrySector, "code")) -> list[OverdueOut]:
    s = geo.sectors().filter(code=sector).first() if sector else None
    if sector and s is None:
        raise NotFound
    return [OverdueOut.of(x) for x in selectors.overdue_workers(request.user, sector=s)]


@router.post(
    "/screening/rules",
    response=RuleOut,
    summary="Set a key-industry screening frequency for the caller's jurisdiction (a district: stricter only)",
)
@api(Cap.MANAGE_SCREENING)
def save_rule(request: AuthedRequest, payload: RuleIn) -> RuleOut:
    s = geo.sectors().filter(code=payload.sector).first()
    if s is None:
        raise ValidationError({"sector": _("Unknown industry sector.")})
    node = _node(request, payload.jurisdiction, "jurisdiction") if payload.jurisdiction else None
    rule = actions.save_rule(
        actor=request.user, sector=s, every_days=payload.every_days, jurisdiction=node, source="api"
    )
    return RuleOut.of(rule)


@router.get(
    "/screening/advice", response=AdviceOut, summary="The pool-design advisor for an expected prevalence"
)
@api(Cap.VIEW_SCREENING)
def advice(request: AuthedRequest, prevalence: float = 0.0, population: int | None = None) -> AdviceOut:
    try:
        rec = selectors.advice(prevalence, population)
    except ValueError as exc:
        raise ValidationError({"prevalence": str(exc)}) from None
    return AdviceOut.of(rec, selectors.station_choice(rec))
