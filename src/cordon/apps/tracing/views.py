"""Pages of case management and tracing: thin views over selectors and actions."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cordon.apps.geo import selectors as geo
from cordon.apps.jobs import actions as jobs
from cordon.apps.people import selectors as people
from cordon.apps.people.models import Person
from cordon.apps.venues import selectors as venues
from cordon.core import live, openitems, uploads
from cordon.core.access import AuthedRequest, page
from cordon.core.pages import (
    conflict_text,
    error_fields,
    error_text,
    found,
    local_datetime,
    posted_version,
    pressed_enter,
)
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope
from cordon.core.versions import Conflict
from cordon.engine.scanstore import SUFFIXES

from . import actions, selectors
from .hooks import INGEST_SCANS
from .models import Case, Classification, Control, Decision, FoundBy, TrajectoryKind
from .scanwords import unknown_format

PAGE_SIZE = settings.CORDON_PAGE_SIZE


def _case(request: AuthedRequest, pk: int) -> Case:
    return found(lambda: selectors.get_case_for(request.user, pk))


def _person(request: AuthedRequest, key: str) -> Person:
    """The person a case is reported for: a register number (digits, shorter than a national ID) or a national
    ID, in the user's scope; ``NotFound`` otherwise."""
    if key.isdigit() and len(key) < 15:
        return people.get_person_for(request.user, int(key))
    return selectors.person_by_national_id(request.user, key)


def _state(request: AuthedRequest) -> str:
    """``?state=``: one of the board's states (``openitems.STATES``), or none."""
    state = request.GET.get("state", "")
    return state if state in openitems.STATES else ""


@page(Cap.VIEW_CASES)
@personal_data()
def case_list(request: AuthedRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    control = request.GET.get("control", "")
    since = parse_date(request.GET.get("since", "") or "") if request.GET.get("since") else None
    area = request.GET.get("area", "")[:32]
    reader = found(lambda: geo.narrowed_to(request.user, area))
    # ``?open=untraced&state=``: the board's cell "Cases not traced" (overdue, due today or open) lists these.
    untraced = _state(request) if request.GET.get("open") == "untraced" else ""
    qs = selectors.search_cases(reader, query=q, control=control, since=since, untraced=untraced)
    version = selectors.cases_version(qs)
    if unchanged := live.nothing_new(request, version):
        return unchanged
    page_obj = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tracing/cases.html",
        {
            "page_obj": page_obj,
            "query": q,
            "control": control,
            "since": request.GET.get("since", ""),
            "area": area,
            "state": untraced,
            "today": selectors.case_summary(request.user),
            "can_trace": Scope.of(request.user).can(Cap.TRACE),
            "untraced": selectors.untraced_cases(request.user).count(),
            "version": version,
        },
    )


CONTACT_FILTERS = {"to_judge": _lazy("To judge (close and secondary, not judged yet)")}


@page(Cap.VIEW_CASES)
@personal_data()
def contact_list(request: AuthedRequest) -> HttpResponse:
    """The contacts of the cases in the user's territory (or of ``?area=``, a node of it), by judgment."""
    status = request.GET.get("status", "to_judge")[:20]
    area = request.GET.get("area", "")[:32]
    reader = found(lambda: geo.narrowed_to(request.user, area))
    state = _state(request)
    page_obj = Paginator(selectors.search_contacts(reader, status=status, state=state), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "tracing/contacts.html",
        {
            "page_obj": page_obj,
            "status": status,
            "area": area,
            "state": state,
            "statuses": [*CONTACT_FILTERS.items(), *Decision.choices],
        },
    )


@page(Cap.TRACE)
def case_new(request: AuthedRequest) -> HttpResponse:
    values: dict[str, Any] = {"classification": Classification.CONFIRMED, "control": Control.COMMUNITY}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = request.POST.dict()
        person = None
        key = values.get("person", "").strip()
        if key:
            try:
                person = _person(request, key)
            except NotFound:
                errors["person"] = _("No person with this national ID or register number in your area.")
        sampled = local_datetime(values.get("sampled_at"))
        data = actions.CaseData(
            person=person,
            classification=values.get("classification", ""),
            onset_date=parse_date(values.get("onset_date") or "") if values.get("onset_date") else None,
            sampled_at=sampled,
            reported_at=local_datetime(values.get("reported_at")),
            found_by=values.get("found_by", ""),
            control=values.get("control", ""),
            isolated_at=local_datetime(values.get("isolated_at")),
            imported=values.get("imported") == "on",
        )
        if not errors:
            try:
                case = actions.report_case(actor=request.user, data=data)
            except ValidationError as exc:
                errors = error_fields(exc)
            else:
                messages.success(
                    request, _("Case %(code)s reported; its investigation is open.") % {"code": case.code}
                )
                return redirect("tracing:case", pk=case.pk)
        status = 422
    return render(
        request,
        "tracing/case_new.html",
        {
            "values": values,
            "errors": errors,
            "classifications": Classification.choices,
            "found_by": FoundBy.choices,
            "controls": Control.choices,
        },
        status=status,
    )


@page(Cap.VIEW_CASES)
@personal_data()
def case_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    tab = request.GET.get("tab", "close")
    degree = {"close": 1, "secondary": 2, "risk": 0}.get(tab, 1)
    status = request.GET.get("status", "")
    contacts = selectors.contacts_of_case(request.user, case, degree=degree, status=status).select_related(
        "decided_by"
    )
    page_obj = Paginator(contacts, 200).get_page(request.GET.get("page"))
    scope = Scope.of(request.user)
    return render(
        request,
        "tracing/case.html",
        {
            "case": case,
            "investigation": selectors.investigation_of(case),
            "trajectory": selectors.trajectory_of(case),
            "page_obj": page_obj,
            "tab": tab,
            "status": status,
            "counts": selectors.contact_counts(case),
            "associations": selectors.associations(request.user, case),
            "risk_venues": selectors.risk_venues_of(case),
            "can_trace": scope.can(Cap.TRACE),
            "kinds": TrajectoryKind.choices,
            "national_id": people.national_id_for(request.user, case.person),
            "window": selectors.exposure_window(case),
            "shows_pii": people.shows_pii(request.user),
        },
    )


@require_POST
@page(Cap.TRACE)
def case_trace(request: AuthedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    job = jobs.start(actor=request.user, kind="tracing.trace_case", params={"case_id": case.pk})
    return redirect("jobs:detail", job_id=job.pk)


@require_POST
@page(Cap.TRACE)
def cases_trace_untraced(request: AuthedRequest) -> HttpResponse:
    """Trace every case of the user's territory not traced yet, as one background job."""
    job = jobs.start(actor=request.user, kind="tracing.trace_untraced", params={})
    return redirect("jobs:detail", job_id=job.pk)


@require_POST
@page(Cap.TRACE)
def case_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    if pressed_enter(request):
        return redirect(f"{case_url(case)}#contacts")
    ids = [int(i) for i in request.POST.getlist("contact") if i.isdigit()]
    decision = request.POST.get("decision", "")
    try:
        n = actions.decide_contacts(
            actor=request.user,
            case=case,
            contact_ids=ids,
            decision=decision,
            note=request.POST.get("note", ""),
            versions={i: posted_version(request, f"v{i}") for i in ids},
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except Conflict:
        messages.error(request, conflict_text())
    else:
        label = dict(Decision.choices).get(decision, decision)
        messages.success(
            request,
            ngettext("%(n)d contact: %(decision)s.", "%(n)d contacts: %(decision)s.", n)
            % {"n": n, "decision": label},
        )
    tab = request.POST.get("tab", "close")
    return redirect(f"{case_url(case)}?tab={tab if tab in ('close', 'secondary') else 'close'}#contacts")


@require_POST
@page(Cap.TRACE)
def case_trajectory(request: AuthedRequest, pk: int) -> HttpResponse:
    """Add one trajectory entry (keyboard-first form: Enter submits, focus returns to the place code)."""
    case = _case(request, pk)
    venue = None
    code = request.POST.get("venue", "").strip()
    if code:
        try:
            venue = venues.get_venue_for(request.user, code)
        except NotFound:
            messages.error(request, _("Unknown place code: %(code)s.") % {"code": code})
            return redirect(f"{case_url(case)}#trajectory")
    sub = request.POST.get("subarea", "").strip()
    subarea = None
    if sub:
        if venue is not None and sub in venue.sub_areas:
            subarea = venue.sub_areas.index(sub)
        elif sub.isdigit():
            subarea = int(sub)
    try:
        actions.add_trajectory_entry(
            actor=request.user,
            case=case,
            data=actions.TrajectoryData(
                kind=request.POST.get("kind", TrajectoryKind.VENUE) if not venue else TrajectoryKind.VENUE,
                venue=venue,
                subarea=subarea,
                place=request.POST.get("place", ""),
                address=request.POST.get("address", ""),
                time_in=local_datetime(request.POST.get("time_in")),
                time_out=local_datetime(request.POST.get("time_out")),
            ),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Trajectory entry added."))
    return redirect(f"{case_url(case)}?added=1#trajectory")


def case_url(case: Case) -> str:
    return reverse("tracing:case", kwargs={"pk": case.pk})


@require_POST
@page(Cap.TRACE)
def case_autofill(request: AuthedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    n = actions.autofill_trajectory(actor=request.user, case=case)
    messages.success(request, _("%(n)d visits filled in from check-in scans.") % {"n": n})
    return redirect(f"{case_url(case)}#trajectory")


@require_POST
@page(Cap.TRACE)
def case_investigation(request: AuthedRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    complete = {"complete": True, "reopen": False}.get(request.POST.get("action", ""))
    try:
        actions.update_investigation(
            actor=request.user,
            case=case,
            notes=request.POST.get("notes"),
            complete=complete,
            version=posted_version(request),
        )
    except Conflict:
        messages.error(request, conflict_text())
    else:
        messages.success(request, _("Investigation saved."))
    return redirect("tracing:case", pk=case.pk)


@require_POST
@page(Cap.TRACE)
def case_cluster(request: AuthedRequest, pk: int) -> HttpResponse:
    """Put the case (and the linked cases ticked) into a new cluster or an existing one."""
    case = _case(request, pk)
    codes = request.POST.getlist("case")
    cases = [case]
    for code in codes:
        with contextlib.suppress(NotFound):
            cases.append(selectors.get_case_for(request.user, code))
    try:
        existing = request.POST.get("cluster", "").strip()
        if existing:
            cluster = selectors.get_cluster_for(request.user, existing)
            actions.add_to_cluster(actor=request.user, cluster=cluster, cases=cases)
        else:
            cluster = actions.create_cluster(
                actor=request.user, name=request.POST.get("name", ""), cases=cases
            )
    except NotFound:
        messages.error(request, _("Unknown cluster."))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Cluster %(code)s updated.") % {"code": cluster.code})
    return redirect("tracing:case", pk=case.pk)


@page(Cap.RECEIVE_LINKAGE)
@personal_data()
def linkage_inbox(request: AuthedRequest) -> HttpResponse:
    version = selectors.linkage_version(request.user)
    if unchanged := live.nothing_new(request, version):
        return unchanged
    pending = request.GET.get("all") != "1"
    state, area = _state(request), request.GET.get("area", "")[:32]
    if state or area:  # the board's cell: the handovers to the area's districts in that state
        reader = found(lambda: geo.narrowed_to(request.user, area))
        qs = selectors.linkage_inbox(reader, state=state or "open")
    else:
        qs = selectors.linkage_inbox(request.user, pending_only=pending)
    page_obj = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tracing/linkage.html",
        {
            "page_obj": page_obj,
            "pending": pending,
            "state": state,
            "area": area,
            "now": timezone.now(),
            "hours": settings.CORDON_LINKAGE_ACK_HOURS,
            "version": version,
        },
    )


@require_POST
@page(Cap.RECEIVE_LINKAGE)
def linkage_ack(request: AuthedRequest) -> HttpResponse:
    if pressed_enter(request):
        return redirect("tracing:linkage")
    n = 0
    for raw in request.POST.getlist("linkage"):
        try:
            link = selectors.get_linkage_for(request.user, int(raw))
        except (NotFound, ValueError):
            continue
        actions.acknowledge_linkage(actor=request.user, linkage=link)
        n += 1
    if not n:  # none ticked, or none of the caller's inbox
        messages.error(request, _("Choose the contacts to acknowledge."))
        return redirect("tracing:linkage")
    messages.success(request, _("%(n)d contacts acknowledged.") % {"n": n})
    return redirect("tracing:linkage")


@page(Cap.VIEW_CASES)
def cluster_list(request: AuthedRequest) -> HttpResponse:
    page_obj = Paginator(selectors.clusters_visible_to(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "tracing/clusters.html", {"page_obj": page_obj})


@page(Cap.VIEW_CASES)
@personal_data()
def cluster_detail(request: AuthedRequest, code: str) -> HttpResponse:
    cluster = found(lambda: selectors.get_cluster_for(request.user, code))
    if cluster.merged_into is not None:
        target = cluster.merged_into.code
        messages.info(request, _("This cluster was merged into %(code)s.") % {"code": target})
        return redirect("tracing:cluster", code=target)
    cases = selectors.cases_in_cluster(request.user, cluster)
    return render(
        request,
        "tracing/cluster.html",
        {
            "cluster": cluster,
            "cases": cases[:500],
            "n_cases": cases.count(),
            "can_trace": Scope.of(request.user).can(Cap.TRACE),
            "others": selectors.clusters_visible_to(request.user).exclude(pk=cluster.pk)[:200],
        },
    )


@require_POST
@page(Cap.TRACE)
def cluster_merge(request: AuthedRequest, code: str) -> HttpResponse:
    try:
        target = selectors.get_cluster_for(request.user, code)
        others = [selectors.get_cluster_for(request.user, c) for c in request.POST.getlist("other")]
        n = actions.merge_clusters(actor=request.user, target=target, others=others)
    except NotFound:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("%(n)d cases moved into %(code)s.") % {"n": n, "code": target.code})
    return redirect("tracing:cluster", code=code)


@page(Cap.VIEW_CASES)
def risk_venue_list(request: AuthedRequest) -> HttpResponse:
    days = (
        int(request.GET.get("days", "14") or 14) if (request.GET.get("days", "14") or "14").isdigit() else 14
    )
    since = timezone.localdate() - dt.timedelta(days=max(1, min(days, 60)))
    qs = selectors.risk_venues_visible_to(request.user, since=since)
    page_obj = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    points = [
        {
            "lat": r.venue.building.latitude,
            "lon": r.venue.building.longitude,
            "address": f"{r.venue.name} · {r.case.code} · {timezone.localtime(r.first_in):%m-%d %H:%M}"
            f"–{timezone.localtime(r.last_out):%m-%d %H:%M}",
            "code": r.venue.code,
        }
        for r in qs[:2000]
        if r.venue.building and r.venue.building.latitude is not None
    ]
    return render(request, "tracing/risk_venues.html", {"page_obj": page_obj, "points": points, "days": days})


@page(Cap.INGEST_SCANS)
def scan_upload(request: AuthedRequest) -> HttpResponse:
    """The scans page: recent batches, and a form whose file is kept in the uploads storage and loaded by a
    background job (``tracing.ingest_scans``); the page goes to that job. A file whose name tells no format, or
    over ``CORDON_MAX_UPLOAD_BYTES``, is refused here, before it is kept."""
    context: dict[str, Any] = {"batches": selectors.scan_batches(request.user)[:20]}
    if request.method != "POST":
        return render(request, "tracing/scans.html", context)
    upload = request.FILES.get("file")
    name = Path(upload.name or "scans.csv").name[:200] if upload is not None else ""
    fmt = SUFFIXES.get(Path(name).suffix.lower())
    if upload is None or fmt is None:
        context["error"] = unknown_format(name) if upload is not None else _("Choose a file to upload.")
        return render(request, "tracing/scans.html", context, status=422)
    if refused := uploads.too_large(upload):  # CORDON_MAX_UPLOAD_BYTES, as every request body
        context["error"] = refused
        return render(request, "tracing/scans.html", context, status=413)
    stored = uploads.keep(upload)
    params = {uploads.PARAM: stored, "filename": name, "fmt": fmt}
    try:
        job = jobs.start(actor=request.user, kind=INGEST_SCANS, params=params)
    except PermissionDenied:
        uploads.discard(stored)
        raise
    return redirect("jobs:detail", job_id=job.pk)


@require_POST
@page(Cap.TRACE)
def case_imported(request: AuthedRequest, pk: int) -> HttpResponse:
    """Mark the case imported or local (the case page's switch)."""
    case = _case(request, pk)
    actions.set_imported(actor=request.user, case=case, imported=request.POST.get("imported") == "on")
    messages.success(request, _("Case saved."))
    return redirect("tracing:case", pk=case.pk)
