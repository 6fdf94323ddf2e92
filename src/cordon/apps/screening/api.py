"""API of mass screening: rounds and sites, tubes, the scanners' batch of sample bindings, lab manifests and
results (JSON or a CSV file), coverage with the not-yet-sampled list, the follow-up of positives, overdue
key-industry workers and the pool-design advisor."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from cordon.apps.accounts.roles import Cap
from cordon.apps.accounts.scoping import NotFound
from cordon.apps.geo import selectors as geo
from cordon.site.access import api

from . import actions, selectors
from .models import ScreeningRound

router = Router(tags=["screening"])


class RoundOut(Schema):
    id: int
    code: str
    name: str
    owner: str
    status: str
    design: str
    tube_size: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    key_industry: bool
    areas: list[str]
    buildings: list[str]
    sectors: list[str]


def _round_out(r: ScreeningRound) -> dict[str, Any]:
    return {
        "id": r.pk,
        "code": r.code,
        "name": r.name,
        "owner": r.owner.code,
        "status": r.status,
        "design": r.design,
        "tube_size": r.tube_size,
        "starts_at": r.starts_at,
        "ends_at": r.ends_at,
        "key_industry": r.key_industry,
        "areas": [j.code for j in r.jurisdictions.all()],
        "buildings": [b.code for b in r.buildings.all()],
        "sectors": [s.code for s in r.sectors.all()],
    }


@router.get("/screening/rounds", response=list[RoundOut], summary="Screening rounds visible to the caller")
@api(Cap.VIEW_SCREENING)
def list_rounds(request: HttpRequest) -> Any:
    qs = selectors.rounds_visible_to(request.user).prefetch_related("jurisdictions", "buildings", "sectors")
    return [_round_out(r) for r in qs[:200]]


class RoundIn(Schema):
    code: str
    name: str
    owner: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    design: str = "10-in-1"
    areas: list[str] = []
    buildings: list[str] = []
    sectors: list[str] = []
    key_industry: bool = False


@router.post("/screening/rounds", response={201: RoundOut}, summary="Open a screening round")
@api(Cap.MANAGE_SCREENING)
def create_round(request: HttpRequest, payload: RoundIn) -> Any:
    def node(code: str) -> Any:
        try:
            return geo.get_jurisdiction_for(request.user, code)
        except NotFound:
            raise ValidationError({"areas": _("Unknown jurisdiction %(c)s.") % {"c": code}}) from None

    def building(code: str) -> Any:
        try:
            return geo.get_building_for(request.user, code)
        except NotFound:
            raise ValidationError({"buildings": _("Unknown building %(c)s.") % {"c": code}}) from None

    sectors = list(geo.sectors().filter(code__in=payload.sectors))
    if len(sectors) != len(set(payload.sectors)):
        raise ValidationError({"sectors": _("Unknown industry sector.")})
    try:
        owner = geo.get_jurisdiction_for(request.user, payload.owner)
    except NotFound:
        owner = None
    r = actions.create_round(
        actor=request.user,
        data=actions.RoundData(
            code=payload.code, name=payload.name, owner=owner, starts_at=payload.starts_at,
            ends_at=payload.ends_at, design=payload.design, jurisdictions=[node(c) for c in payload.areas],
            buildings=[building(c) for c in payload.buildings], sectors=sectors,
            key_industry=payload.key_industry,
        ),
        source="api",
    )  # fmt: skip
    return Status(201, _round_out(r))


@router.get("/screening/rounds/{code}", summary="A round with its sites")
@api(Cap.VIEW_SCREENING)
def get_round(request: HttpRequest, code: str) -> Any:
    r = selectors.get_round_for(request.user, code)
    return {
        **_round_out(r),
        "sites": [
            {"id": s.pk, "code": s.code, "name": s.name, "jurisdiction": s.jurisdiction.code,
             "opens": s.opens, "closes": s.closes, "staff": s.staff, **selectors.site_status(s)}
            for s in selectors.sites_visible_to(request.user).filter(round=r)
        ],
    }  # fmt: skip


@router.post("/screening/rounds/{code}/close", summary="Close a round (no more samples)")
@api(Cap.MANAGE_SCREENING)
def close_round(request: HttpRequest, code: str) -> Any:
    r = selectors.get_round_for(request.user, code, Cap.MANAGE_SCREENING)
    actions.close_round(actor=request.user, round=r, source="api")
    return {"code": r.code, "status": r.status}


@router.post(
    "/screening/rounds/{code}/recount", summary="Count the target population from the register again"
)
@api(Cap.MANAGE_SCREENING)
def recount(request: HttpRequest, code: str) -> Any:
    r = selectors.get_round_for(request.user, code, Cap.MANAGE_SCREENING)
    return {"code": r.code, "target": actions.recount_target(actor=request.user, round=r, source="api")}


class SiteIn(Schema):
    code: str
    name: str
    jurisdiction: str
    opens: dt.time = dt.time(7, 0)
    closes: dt.time = dt.time(21, 0)
    staff: int = 2


@router.post("/screening/rounds/{code}/sites", response={201: dict}, summary="Add a sampling site")
@api(Cap.MANAGE_SCREENING)
def add_site(request: HttpRequest, code: str, payload: SiteIn) -> Any:
    r = selectors.get_round_for(request.user, code, Cap.MANAGE_SCREENING)
    try:
        node = geo.get_jurisdiction_for(request.user, payload.jurisdiction)
    except NotFound:
        node = None
    site = actions.add_site(
        actor=request.user, round=r,
        data=actions.SiteData(payload.code, payload.name, node, payload.opens, payload.closes, payload.staff),
        source="api",
    )  # fmt: skip
    return Status(201, {"id": site.pk, "code": site.code})


class TubesIn(Schema):
    barcodes: str
    size: int | None = None


@router.post("/screening/sites/{int:site_id}/tubes", response={201: dict}, summary="Issue tubes to a site")
@api(Cap.MANAGE_SCREENING)
def issue_tubes(request: HttpRequest, site_id: int, payload: TubesIn) -> Any:
    site = selectors.get_site_for(request.user, site_id, Cap.MANAGE_SCREENING)
    n = actions.issue_tubes(
        actor=request.user, site=site, barcodes=payload.barcodes, size=payload.size, source="api"
    )
    return Status(201, {"issued": n})


class QueueIn(Schema):
    persons: int


@router.post("/screening/sites/{int:site_id}/queue", summary="Report the persons queueing at a site")
@api(Cap.SAMPLE)
def report_queue(request: HttpRequest, site_id: int, payload: QueueIn) -> Any:
    site = selectors.get_site_for(request.user, site_id, Cap.SAMPLE)
    actions.report_queue(actor=request.user, site=site, persons=payload.persons, source="api")
    return {"queue_length": site.queue_length, **selectors.site_status(site)}


class BindingIn(Schema):
    tube: str
    person: str
    at: dt.datetime | None = None


class BatchIn(Schema):
    site: int
    bindings: list[BindingIn]


@router.post("/screening/bindings", summary="A scanner's batch of person-to-tube bindings")
@api(Cap.SAMPLE)
def bind(request: HttpRequest, payload: BatchIn) -> Any:
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
    return {
        "bound": len(res.bound),
        "refused": [{"index": i, "code": c, "message": m} for i, c, m in res.refused],
        "flagged": res.flagged,
        "tubes": res.tubes,
    }


@router.post("/screening/tubes/{barcode}/seal", summary="Seal a tube before it is full")
@api(Cap.SAMPLE)
def seal(request: HttpRequest, barcode: str) -> Any:
    tube = selectors.get_tube_for(request.user, barcode, Cap.SAMPLE)
    actions.seal_tube(actor=request.user, tube=tube, source="api")
    return {"tube": tube.barcode, "status": tube.status, "samples": tube.bound}


class LabIn(Schema):
    code: str
    name: str
    jurisdiction: str


@router.post("/screening/labs", response={201: dict}, summary="Register a lab")
@api(Cap.MANAGE_SCREENING)
def create_lab(request: HttpRequest, payload: LabIn) -> Any:
    try:
        node = geo.get_jurisdiction_for(request.user, payload.jurisdiction)
    except NotFound:
        node = None
    lab = actions.create_lab(
        actor=request.user, code=payload.code, name=payload.name, jurisdiction=node, source="api"
    )
    return Status(201, {"id": lab.pk, "code": lab.code})


def _report(rep: actions.RowReport) -> dict[str, Any]:
    return {
        "done": rep.done,
        "unchanged": rep.unchanged,
        "errors": [{"row": n, "message": m} for n, m in rep.errors],
        "positive_pools": rep.positive_pools,
        "cases": rep.cases,
    }


class ManifestIn(Schema):
    tubes: list[str]


@router.post("/screening/labs/{code}/manifests", summary="Receive tubes at a lab by manifest")
@api(Cap.LAB)
def receive(request: HttpRequest, code: str, payload: ManifestIn) -> Any:
    lab = selectors.get_lab_for(request.user, code)
    return _report(actions.receive_tubes(actor=request.user, lab=lab, barcodes=payload.tubes, source="api"))


class ResultRow(Schema):
    tube: str
    result: str
    ct: dict[str, float] = {}


class ResultsIn(Schema):
    results: list[ResultRow]


@router.post("/screening/labs/{code}/results", summary="Record results (row-level errors)")
@api(Cap.LAB)
def results(request: HttpRequest, code: str, payload: ResultsIn) -> Any:
    lab = selectors.get_lab_for(request.user, code)
    rows = [actions.ResultIn(r.tube, r.result, dict(r.ct)) for r in payload.results]
    return _report(actions.record_results(actor=request.user, rows=rows, lab=lab, source="api"))


@router.post(
    "/screening/labs/{code}/results-file", summary="Import a results CSV (barcode,result,ct_orf1ab,ct_n)"
)
@api(Cap.LAB)
def results_file(request: HttpRequest, code: str) -> Any:
    """Send the CSV as multipart field ``file``."""
    lab = selectors.get_lab_for(request.user, code)
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationError({"file": _("Choose a results file.")})
    rows, errors = actions.parse_results_file(upload.read())
    rep = actions.record_results(actor=request.user, rows=rows, lab=lab, source="api", first_line=2)
    rep.errors = sorted(errors + rep.errors)
    return _report(rep)


class CoverageFilter(Schema):
    node: str = ""
    after: int = 0
    limit: int = 50


@router.get("/screening/rounds/{code}/coverage", summary="Coverage and who is not yet sampled (应检尽检)")
@api(Cap.VIEW_SCREENING)
def coverage(request: HttpRequest, code: str, f: Query[CoverageFilter]) -> Any:
    r = selectors.get_round_for(request.user, code)
    node = selectors.coverage_node(request.user, r, f.node)
    cov = selectors.coverage(request.user, r, node)
    missing = selectors.not_sampled(request.user, r, node, after=f.after, limit=f.limit)
    assert cov.total is not None

    def row(x: selectors.CoverageRow) -> dict[str, Any]:
        return {"code": x.jurisdiction.code, "name": x.jurisdiction.name, "target": x.target,
                "sampled": x.sampled, "missing": x.missing, "percent": x.percent}  # fmt: skip

    return {
        "node": row(cov.total),
        "children": [row(x) for x in cov.rows],
        "outside_scope": cov.outside_scope,
        "resampled": cov.resampled,
        "not_sampled": [
            {
                "person_id": p.pk,
                "name": p.name,
                "jurisdiction": p.jurisdiction.code,
                "building": p.home_building.code if p.home_building else None,
            }
            for p in missing
        ],
        "next_after": missing[-1].pk if len(missing) >= max(1, min(f.limit, 500)) else None,
    }


@router.get("/screening/alerts", summary="Temporary controls and re-sample tasks in the caller's territory")
@api(Cap.VIEW_SCREENING)
def alerts(request: HttpRequest) -> Any:
    return {
        "temporary_controls": [
            {"person_id": t.person_id, "name": t.person.name, "district": t.district.code,
             "building": t.building.code if t.building else None, "tube": t.tube.barcode,
             "reason": t.reason, "started_at": t.started_at, "case": t.case.code if t.case else None}
            for t in selectors.temporary_controls(request.user)[:2000]
        ],
        "resample_tasks": [
            {"id": t.pk, "person_id": t.person_id, "name": t.person.name, "district": t.district.code,
             "round": t.round.code, "source_tube": t.source_tube.barcode, "status": t.status,
             "due_at": t.due_at, "overdue": t.overdue()}
            for t in selectors.resample_tasks(request.user)[:2000]
        ],
        "marked_buildings": [
            {"building": b["building__code"], "address": b["building__address"], "persons": b["n"]}
            for b in selectors.marked_buildings(request.user)
        ],
    }  # fmt: skip


@router.get("/screening/overdue", summary="Key-industry workers overdue for screening, per sector")
@api(Cap.VIEW_SCREENING)
def overdue(request: HttpRequest, sector: str = "") -> Any:
    s = geo.sectors().filter(code=sector).first() if sector else None
    if sector and s is None:
        raise NotFound
    return [
        {"sector": x["sector"].code, "every_days": x["rule"].every_days, "overdue": x["overdue"],
         "workers": [{"person_id": p.pk, "name": p.name, "last_sampled": p.last} for p in x["workers"]]}
        for x in selectors.overdue_workers(request.user, sector=s)
    ]  # fmt: skip


class RuleIn(Schema):
    sector: str
    every_days: int


@router.post("/screening/rules", summary="Set a key-industry screening frequency")
@api(Cap.MANAGE_SCREENING)
def save_rule(request: HttpRequest, payload: RuleIn) -> Any:
    s = geo.sectors().filter(code=payload.sector).first()
    if s is None:
        raise ValidationError({"sector": _("Unknown industry sector.")})
    rule = actions.save_rule(actor=request.user, sector=s, every_days=payload.every_days, source="api")
    return {"sector": s.code, "every_days": rule.every_days}


@router.get("/screening/advice", summary="The pool-design advisor for an expected prevalence")
@api(Cap.VIEW_SCREENING)
def advice(request: HttpRequest, prevalence: float = 0.0, population: int | None = None) -> Any:
    try:
        rec = selectors.advice(prevalence, population)
    except ValueError as exc:
        raise ValidationError({"prevalence": str(exc)}) from None
    station = selectors.station_choice(rec)
    return {
        "station_design": station.design.label,
        "station_tests_per_person": station.tests_per_person,
        "design": rec.design.label,
        "tests_per_person": rec.tests_per_person,
        "missed_per_10000": rec.missed_per_10000,
        "expected_tests": rec.expected_tests,
        "alternatives": [
            {"design": a.design.label, "tests_per_person": a.tests_per_person, "feasible": a.feasible}
            for a in rec.alternatives
        ],
        "notes": list(rec.notes),
    }
