"""Pages of mass screening: thin views over selectors and actions. A refused write shows its reasons and
changes nothing. The station page is made for a scanner and a keyboard on a tablet: scan a tube, then persons
one after another; each Enter binds and the page comes back ready for the next scan."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction
from cordon.core import live, openitems
from cordon.core.access import AuthedRequest, page
from cordon.core.pages import error_text, found, local_datetime
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope

from . import actions, selectors
from .models import TubeStatus

NOT_SAMPLED_PAGE = 50


# --- Rounds ------------------------------------------------------------------------------------------------


@page(Cap.VIEW_SCREENING)
def rounds(request: AuthedRequest) -> HttpResponse:
    scope = Scope.of(request.user)
    now = timezone.localtime()
    area = request.GET.get("area", "")[:32]
    reader = found(lambda: geo.narrowed_to(request.user, area))
    day = parse_date(request.GET.get("day", "") or "") if request.GET.get("day") else None
    listed = selectors.rounds_on(reader, day) if day else selectors.rounds_visible_to(reader)
    return render(
        request,
        "screening/rounds.html",
        {
            "rounds": listed[:200],
            "day": day,
            "area": area,
            "can_manage": scope.can(Cap.MANAGE_SCREENING),
            "defaults": {
                "starts_at": now.strftime("%Y-%m-%d %H:%M"),
                "ends_at": (now + dt.timedelta(hours=14)).strftime("%Y-%m-%d %H:%M"),
                "owner": getattr(getattr(request.user, "jurisdiction", None), "code", ""),
            },
            "sectors": geo.sectors(),
        },
    )


def _areas(request: AuthedRequest, raw: str, field: str = "areas") -> list[Jurisdiction]:
    """The jurisdictions named by codes (spaces or commas) in the user's territory; ValidationError naming the
    first unknown one."""
    out = []
    for code in raw.replace(",", " ").split():
        try:
            out.append(geo.get_jurisdiction_for(request.user, code))
        except NotFound:
            raise ValidationError({field: _("Unknown jurisdiction %(c)s.") % {"c": code}}) from None
    return out


@page(Cap.MANAGE_SCREENING)
def round_target(request: AuthedRequest) -> HttpResponse:
    """The new-round form's live answer: how many people a round over the areas and sectors ticked would
    target (the sectors' workers in the areas, or the areas' residents)."""
    context: dict[str, object] = {}
    try:
        areas = _areas(request, request.GET.get("areas", ""))
    except ValidationError as exc:
        context["error"] = error_text(exc)
    else:
        sectors = list(geo.sectors().filter(code__in=request.GET.getlist("sectors")))
        context.update(
            n=selectors.target_count([a.path for a in areas], [], [s.pk for s in sectors]),
            areas=areas,
            sectors=sectors,
        )
    return render(request, "screening/_round_target.html", context)


@page(Cap.MANAGE_SCREENING)
@require_POST
def round_new(request: AuthedRequest) -> HttpResponse:
    p = request.POST

    def nodes(name: str) -> list[Jurisdiction]:
        return _areas(request, p.get(name, ""), name)

    try:
        try:
            owner = geo.get_jurisdiction_for(request.user, p.get("owner", "").strip())
        except NotFound:
            owner = None
        r = actions.create_round(
            actor=request.user,
            data=actions.RoundData(
                code=p.get("code", ""),
                name=p.get("name", ""),
                owner=owner,
                starts_at=local_datetime(p.get("starts_at")),
                ends_at=local_datetime(p.get("ends_at")),
                design=p.get("design", "10-in-1"),
                jurisdictions=nodes("areas"),
                sectors=list(geo.sectors().filter(code__in=p.getlist("sectors"))),
            ),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("screening:rounds")
    messages.success(request, _("Round %(code)s is open.") % {"code": r.code})
    return redirect("screening:round", code=r.code)


@page(Cap.VIEW_SCREENING)
def round_detail(request: AuthedRequest, code: str) -> HttpResponse:
    r = found(lambda: selectors.get_round_for(request.user, code))
    sites = [(s, selectors.site_status(s)) for s in selectors.sites_visible_to(request.user).filter(round=r)]
    advice = None
    station = None
    advice_error = ""
    raw = request.GET.get("prevalence", "").strip()
    if raw:
        try:
            advice = selectors.advice(float(raw) / 100)
            station = selectors.station_choice(advice)
        except ValueError:
            advice_error = _("Give the expected prevalence as a percentage between 0 and 100.")
    scope = Scope.of(request.user)
    return render(
        request,
        "screening/round.html",
        {
            "round": r,
            "sites": sites,
            "advice": advice,
            "station": station,
            "runnable": {
                a.design.label
                for a in (advice.choice, *advice.alternatives)
                if selectors.runs_at_stations(a.design)
            }
            if advice
            else set(),
            "advice_error": advice_error,
            "prevalence": raw,
            "can_manage": selectors.may_manage(request.user, r),
            "can_sample": scope.can(Cap.SAMPLE),
        },
    )


@page(Cap.MANAGE_SCREENING)
@require_POST
def round_close(request: AuthedRequest, code: str) -> HttpResponse:
    r = found(lambda: selectors.get_round_for(request.user, code, Cap.MANAGE_SCREENING))
    try:
        actions.close_round(actor=request.user, round=r)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Round %(code)s is closed.") % {"code": r.code})
    return redirect("screening:round", code=r.code)


@page(Cap.MANAGE_SCREENING)
@require_POST
def round_recount(request: AuthedRequest, code: str) -> HttpResponse:
    r = found(lambda: selectors.get_round_for(request.user, code, Cap.MANAGE_SCREENING))
    n = actions.recount_target(actor=request.user, round=r)
    messages.success(request, _("%(n)d persons to screen, counted from the register.") % {"n": n})
    return redirect("screening:coverage", code=r.code)


@page(Cap.MANAGE_SCREENING)
@require_POST
def site_new(request: AuthedRequest, code: str) -> HttpResponse:
    r = found(lambda: selectors.get_round_for(request.user, code, Cap.MANAGE_SCREENING))
    p = request.POST
    try:
        try:
            node = geo.get_jurisdiction_for(request.user, p.get("jurisdiction", "").strip())
        except NotFound:
            node = None
        opens = dt.time.fromisoformat(p.get("opens") or "07:00")
        closes = dt.time.fromisoformat(p.get("closes") or "21:00")
        actions.add_site(
            actor=request.user,
            round=r,
            data=actions.SiteData(p.get("code", ""), p.get("name", ""), node, opens, closes,
                                  int(p.get("staff") or 2)),
        )  # fmt: skip
    except ValueError:
        messages.error(request, _("Check the opening hours and the number of samplers."))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Sampling site added."))
    return redirect("screening:round", code=r.code)


@page(Cap.MANAGE_SCREENING)
@require_POST
def tubes_issue(request: AuthedRequest, pk: int) -> HttpResponse:
    site = found(lambda: selectors.get_site_for(request.user, pk, Cap.MANAGE_SCREENING))
    try:
        size = int(request.POST.get("size") or site.round.tube_size)
        n = actions.issue_tubes(
            actor=request.user, site=site, barcodes=request.POST.get("barcodes", ""), size=size
        )
    except ValueError:
        messages.error(request, _("A tube holds 1, 5, 10 or 20 samples."))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("%(n)d tubes issued to %(site)s.") % {"n": n, "site": site.name})
    return redirect("screening:round", code=site.round.code)


# --- Coverage ----------------------------------------------------------------------------------------------


@page(Cap.VIEW_SCREENING)
@personal_data()
def coverage(request: AuthedRequest, code: str) -> HttpResponse:
    r = found(lambda: selectors.get_round_for(request.user, code))
    node = found(lambda: selectors.coverage_node(request.user, r, request.GET.get("node", "")))
    try:
        after = min(max(0, int(request.GET.get("after") or 0)), selectors.MAX_KEY)
    except ValueError:
        after = 0
    cov = selectors.coverage(request.user, r, node)
    missing = selectors.not_sampled(request.user, r, node, after=after, limit=NOT_SAMPLED_PAGE)
    nxt = missing[-1].pk if len(missing) == NOT_SAMPLED_PAGE else None
    return render(
        request,
        "screening/coverage.html",
        {
            "round": r,
            "node": node,
            "cov": cov,
            "missing": missing,
            "after": after,
            "next_url": (
                reverse("screening:coverage", args=[r.code])
                + "?"
                + urlencode({"node": node.code, "after": str(nxt)})
                if nxt
                else ""
            ),
            "parent": node.parent if node.parent_id and node.path != r.owner.path else None,
            "can_manage": selectors.may_manage(request.user, r),
        },
    )


# --- Station -----------------------------------------------------------------------------------------------


def _station_url(site_pk: int, tube: str) -> str:
    url = reverse("screening:station", args=[site_pk])
    return url + ("?" + urlencode({"tube": tube}) if tube else "")


@page(Cap.SAMPLE)
def station(request: AuthedRequest, pk: int) -> HttpResponse:
    site = found(lambda: selectors.get_site_for(request.user, pk, Cap.SAMPLE))
    barcode = request.GET.get("tube", "").strip()
    tube = selectors.tube_at_site(site, barcode)
    return render(
        request,
        "screening/station.html",
        {
            "site": site,
            "tube": tube,
            "barcode": barcode,
            "status": selectors.site_status(site),
            "tubes_ready": selectors.tubes_ready(site),
        },
    )


@page(Cap.SAMPLE)
@require_POST
def station_bind(request: AuthedRequest, pk: int) -> HttpResponse:
    """One scan: a tube barcode (the tube to fill next) or a person's pass or ID (bound to the current tube)."""
    site = found(lambda: selectors.get_site_for(request.user, pk, Cap.SAMPLE))
    barcode = request.POST.get("tube", "").strip()
    token = request.POST.get("person", "").strip()
    if token and selectors.tube_at_site(site, token) is not None:
        barcode, token = token, ""  # a tube scanned into the person field: switch tubes
    if not barcode:
        messages.error(request, _("Scan a tube first."))
        return redirect(_station_url(site.pk, ""))
    if not token:
        tube = selectors.tube_at_site(site, barcode)
        if tube is None:
            messages.error(
                request,
                _(
                    "Unknown tube %(t)s: no tube with this barcode was issued to this site. Tubes must be "
                    "issued first, on the round's page (Issue tubes)."
                )
                % {"t": barcode},
            )
            return redirect(_station_url(site.pk, ""))
        if tube.status not in (TubeStatus.ISSUED, TubeStatus.OPEN) or tube.is_full:
            messages.error(request, _("Tube %(t)s is sealed.") % {"t": barcode})
            return redirect(_station_url(site.pk, ""))
        return redirect(_station_url(site.pk, barcode))
    res = actions.bind_samples(
        actor=request.user, site=site, rows=[actions.BindingIn(barcode, token)], source="station"
    )
    if res.refused:
        messages.error(request, res.refused[0][2])
    elif res.flagged:
        messages.warning(request, _("Bound, but this person is outside the round's scope (flagged)."))
    else:
        messages.success(request, _("Bound to %(t)s.") % {"t": barcode})
    tube = selectors.tube_at_site(site, barcode)
    if tube is not None and tube.is_full:
        messages.info(request, _("Tube %(t)s is full: scan the next tube.") % {"t": barcode})
        barcode = ""
    return redirect(_station_url(site.pk, barcode))


@page(Cap.SAMPLE)
@require_POST
def station_seal(request: AuthedRequest, pk: int) -> HttpResponse:
    """Seal the current tube before it is full (the end of a shift, the last persons of the day)."""
    site = found(lambda: selectors.get_site_for(request.user, pk, Cap.SAMPLE))
    tube = selectors.tube_at_site(site, request.POST.get("tube", ""))
    if tube is None:
        messages.error(request, _("Scan a tube first."))
        return redirect(_station_url(site.pk, ""))
    try:
        actions.seal_tube(actor=request.user, tube=tube)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(_station_url(site.pk, tube.barcode))
    messages.success(
        request, _("Tube %(t)s is sealed with %(n)d samples.") % {"t": tube.barcode, "n": tube.bound}
    )
    return redirect(_station_url(site.pk, ""))


@page(Cap.SAMPLE)
@require_POST
def station_queue(request: AuthedRequest, pk: int) -> HttpResponse:
    site = found(lambda: selectors.get_site_for(request.user, pk, Cap.SAMPLE))
    try:
        actions.report_queue(actor=request.user, site=site, persons=int(request.POST.get("persons") or 0))
    except (ValueError, ValidationError):
        messages.error(request, _("The queue cannot be negative."))
    return redirect(_station_url(site.pk, request.POST.get("tube", "")))


# --- Lab ---------------------------------------------------------------------------------------------------


@page(Cap.LAB)
def lab(request: AuthedRequest) -> HttpResponse:
    labs = list(selectors.labs_visible_to(request.user))
    return render(request, "screening/lab.html", {"labs": labs, "report": None})


@page(Cap.LAB)
@require_POST
def lab_submit(request: AuthedRequest) -> HttpResponse:
    try:
        the_lab = selectors.get_lab_for(request.user, request.POST.get("lab", ""))
    except NotFound:
        messages.error(request, _("Choose a lab."))
        return redirect("screening:lab")
    what = request.POST.get("what", "results")
    if what == "manifest":
        report = actions.receive_tubes(
            actor=request.user, lab=the_lab, barcodes=request.POST.get("tubes", "").split()
        )
    else:
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a results file."))
            return redirect("screening:lab")
        rows, errors = actions.parse_results_file(upload.read(), upload.name or "")
        report = actions.record_results(actor=request.user, rows=rows, lab=the_lab, first_line=2)
        report.errors = sorted(errors + report.errors)
    labs = list(selectors.labs_visible_to(request.user))
    return render(request, "screening/lab.html", {"labs": labs, "report": report, "what": what})


# --- Follow-up and key industries ---------------------------------------------------------------------------


@page(Cap.VIEW_SCREENING)
@personal_data()
def alerts(request: AuthedRequest) -> HttpResponse:
    version = selectors.follow_up_version(request.user)
    if unchanged := live.nothing_new(request, version):
        return unchanged
    kind, state = request.GET.get("open", ""), request.GET.get("state", "")
    if kind in ("temporary_controls", "resamples") and state in openitems.STATES:
        # The board's cell of ``kind`` in ``area``: exactly the items it counts in ``state``.
        reader = found(lambda: geo.narrowed_to(request.user, request.GET.get("area", "")[:32]))
        controls, tasks = selectors.follow_up_in_state(reader, kind, state)
    else:
        state = ""
        controls, tasks = selectors.temporary_controls(request.user), selectors.resample_tasks(request.user)
    return render(
        request,
        "screening/alerts.html",
        {
            "version": version,
            "state": state,
            "controls": controls[:1000],
            "tasks": tasks[:1000],
            "buildings": selectors.marked_buildings(request.user),
            "now": timezone.now(),
        },
    )


@page(Cap.VIEW_SCREENING)
@personal_data()
def overdue(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "screening/overdue.html",
        {"sectors": selectors.overdue_workers(request.user, limit=200)},
    )
