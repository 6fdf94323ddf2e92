"""The commanders' pages: their home (``/`` for city and district commanders, and ``/command/`` with an area
switch), the headline figures of ``figures.headline``; the situation analysis (``/command/analysis/``); the
daily-zero board (``/command/zero/``); the daily reports (``/command/reports/``: the list, one report, its PDF,
and the button that asks for one, a job)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from cordon.core import jobs
from cordon.core.access import AuthedRequest, page
from cordon.core.pages import error_text, found
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound

from . import actions, figures, pdf, selectors, timeliness
from . import zero as zero_board

BASIS_LABELS = {"onset": _("Onset date"), "sampling": _("Sampling date"), "report": _("Report date")}

# The home's groups of figures, in order: (heading, figure keys).
GROUPS = [
    (_("Cases"), ["cases", "cases_community", "cases_control"]),
    (_("Judge, transfer, isolate"), ["to_judge", "to_transfer", "not_controlled", "under_control"]),
    (_("Zones"), ["zones_sealed", "zones_controlled", "zones_prevention"]),
    (_("Screening today"), ["screening_rounds", "screening_sampled", "screening_target"]),
    (_("Daily zero"), ["overdue"]),
]


def _day(raw: str) -> dt.date | None:
    try:
        return parse_date(raw[:10]) if raw else None
    except ValueError:
        return None


@page(Cap.VIEW_CASES)
def home(request: AuthedRequest) -> HttpResponse:
    """The headline of the user's area (or ``?district=``, one level down) today, or on ``?day=`` a past day
    (its stored figures); every figure links to the list it counts."""
    user = request.user
    day = _day(request.GET.get("day", "")) or timezone.localdate()
    area = request.GET.get("district", "")[:32]
    try:
        h = figures.headline(user, day, area=area)
    except NotFound:
        if area or figures.areas_for(user):
            raise Http404 from None
        return render(request, "command/home.html", {"h": None})  # a user without a jurisdiction
    groups = [(title, [(k, h["figures"][k]) for k in keys]) for title, keys in GROUPS]
    return render(request, "command/home.html", {"h": h, "groups": groups, "area": area})


@page(Cap.VIEW_CASES)
def analysis(request: AuthedRequest) -> HttpResponse:
    basis = request.GET.get("basis", "onset")
    if basis not in selectors.BASES:
        basis = "onset"
    area = request.GET.get("district", "")[:32]
    data = found(lambda: selectors.analysis(request.user, area=area, basis=basis))
    labels = {
        "curve": {"community": _("In the community"), "control": _("Under control")},
        "rt": {
            "mean": _("Rt on the nowcast") if data["rt"]["on"] == "nowcast" else _("Rt"),
            "band": "95% " + str(_("credible interval")),
            "one": _("Rt = 1"),
            "reported": _("Rt on the cases as reported"),
        },
        "nowcast": {
            "reported": _("Reported so far"),
            "estimate": _("Nowcast"),
            "band": "90% " + str(_("nowcast band")),
        },
    }
    context = {
        "a": data,
        "bases": list(BASIS_LABELS.items()),
        "basis_label": BASIS_LABELS[basis],
        "charts": {
            "curve": {**data["curve"], "labels": labels["curve"]},
            "rt": {"dates": data["curve"]["dates"], **data["rt"], "labels": labels["rt"]},
            "nowcast": {**data["nowcast"], "labels": labels["nowcast"]},
        },
    }
    return render(request, "command/analysis.html", context)


# --- timeliness (timeliness.py) -----------------------------------------------------------------------------

TIMELINESS_DAYS = (14, 30, 60)


@page(Cap.VIEW_CASES)
def timeliness_page(request: AuthedRequest) -> HttpResponse:
    try:
        days = int(request.GET.get("days", timeliness.DAYS))
    except ValueError:
        days = timeliness.DAYS
    if days not in TIMELINESS_DAYS:
        days = timeliness.DAYS
    district = request.GET.get("district", "")[:32]
    data = found(lambda: timeliness.timeliness(request.user, district=district, days=days))
    area = data["rows"][0]
    pending = _("not yet known")
    measures = {
        "trajectory": _("Report to trajectory done (hours)"),
        "transfer": _("Report to close contacts transferred (hours)"),
    }
    charts = {
        key: {
            "dates": data["dates"],
            "median": area[key]["median"],
            "p90": area[key]["p90"],
            "pending": area[key]["pending"],
            "target": area[key]["target_hours"],
            "labels": {
                "median": _("Median"),
                "p90": _("90th percentile"),
                "target": _("Target"),
                "pending": pending,
                "title": title,
            },
        }
        for key, title in measures.items()
    }
    charts["control"] = {
        "dates": data["dates"],
        "share": [None if s is None else round(100 * s, 1) for s in area["control_share"]],
        "cases": area["cases"],
        "labels": {"share": _("Found under control (%)"), "cases": _("Cases reported")},
    }
    tr, tx = area["trajectory"], area["transfer"]
    days_rows = [
        {"date": d, "cases": area["cases"][i], "control": area["under_control"][i], "tm": tr["median"][i],
         "tp": tr["p90"][i], "tpending": tr["pending"][i], "xm": tx["median"][i], "xp": tx["p90"][i],
         "xpending": tx["pending"][i]}
        for i, d in reversed(list(enumerate(data["dates"])))
    ]  # fmt: skip
    context = {
        "t": data, "area": area, "choices": TIMELINESS_DAYS, "charts": charts, "measures": measures,
        "days_rows": days_rows,
    }  # fmt: skip
    return render(request, "command/timeliness.html", context)


# --- The daily-zero board (每日清零) ----------------------------------------------------------------------------


@page(Cap.VIEW_CASES)
def zero(request: AuthedRequest) -> HttpResponse:
    """One row per node one level down (a card each on a phone), every kind of open item: overdue now, due
    today, open, and yesterday's close; ``?area=`` a node in the user's subtree (404 outside it)."""
    area = request.GET.get("area", "")[:32]
    data = found(lambda: zero_board.board(request.user, area=area))
    return render(request, "command/zero.html", {"z": data})


# --- The command map (``/command/map/``): its reads are ``map.py``'s ---------------------------------------------


@page(Cap.VIEW_CASES)
def command_map(request: AuthedRequest) -> HttpResponse:
    from django.conf import settings

    from cordon.apps.zones.models import Kind

    from . import map as command_map_reads

    box = command_map_reads.extent(request.user)
    try:
        days = int(request.GET.get("days", command_map_reads.DAYS))
    except ValueError:
        days = command_map_reads.DAYS
    days = max(1, min(days, command_map_reads.MAX_DAYS))
    names = {
        "districts": _("District outlines"),
        "zones": _("Zones"),
        "cases": _("Cases"),
        "venues": _("Risk venues"),
        "sites": _("Isolation sites"),
    }
    context = {
        "kinds": Kind.choices,
        "layers": [(name, names[name]) for name in command_map_reads.layers_for(request.user)],
        "days": days,
        "day_choices": [3, 7, 14, 28],
        "tile_url": settings.CORDON_MAP_TILE_URL,
        "extent": ",".join(f"{v:.6f}" for v in box) if box else "",
    }
    return render(request, "command/map.html", context)


# --- Daily reports (疫情日报) ------------------------------------------------------------------------------------

REPORTS_SHOWN = 200


@page(selectors.REPORT_RULE)
def reports(request: AuthedRequest) -> HttpResponse:
    """The past reports the user may read (their area's, and for a city user each district's), and the form that
    asks for one."""
    area = request.GET.get("area", "")[:32]
    rows = list(selectors.reports_visible_to(request.user, area=area)[:REPORTS_SHOWN])
    language = get_language()
    return render(
        request,
        "command/reports.html",
        {
            "rows": [(r, r.jurisdiction.display_name(language)) for r in rows],
            "areas": [(a.code, a.display_name(language)) for a in selectors.report_areas(request.user)],
            "chosen": area,
            "today": timezone.localdate().isoformat(),
            "hour": settings.CORDON_DAILY_REPORT_HOUR,
            "shown": REPORTS_SHOWN,
        },
    )


@page(selectors.REPORT_RULE)
@require_POST
def make_report(request: AuthedRequest) -> HttpResponse:
    try:
        day = dt.date.fromisoformat(request.POST.get("day", "")[:10])
    except ValueError:
        messages.error(request, _("Give the day as YYYY-MM-DD."))
        return redirect("command:reports")
    try:
        area = selectors.report_area_for(request.user, request.POST.get("area", "")[:32])
        job = actions.request_report(actor=request.user, area=area, day=day)
    except NotFound:
        messages.error(request, _("You cannot make a report of this area."))
        return redirect("command:reports")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("command:reports")
    return redirect("jobs:detail", job_id=job.pk)


def _language(request: AuthedRequest) -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


def _bar(
    i: int, day: str, community: int, control: int, top: int
) -> tuple[str, int, int, int, int, int, int, int]:
    """One day of the curve's SVG: community cases stacked on those found under control, 60 units high."""
    hb = round(60 * control / top)
    ha = round(60 * community / top)
    return day, community, control, 10 * i + 1, 62 - hb - ha, ha, 62 - hb, hb


@page(selectors.REPORT_RULE)
def report(request: AuthedRequest, report_id: int) -> HttpResponse:
    """One report: the rows its PDF prints, from the same stored figures, in the reader's language."""
    r = found(lambda: selectors.get_report_for(request.user, report_id))
    f = r.figures
    en = _language(request) == "en"
    curve = f["curve"]
    days = list(zip(curve["dates"], curve["community"], curve["control"], strict=True))
    top = max([a + b for _d, a, b in days] or [0]) or 1
    return render(
        request,
        "command/report.html",
        {
            "r": r,
            "f": f,
            "area_name": (f["area"].get("name_en") or f["area"]["name"]) if en else f["area"]["name"],
            "sections": [
                (
                    s.key,
                    s.en if en else s.zh,
                    [(x.key, x.en if en else x.zh, x.value) for x in s.rows],
                    s.note_en if en else s.note_zh,
                )
                for s in pdf.sections(f)
            ],
            "curve": [_bar(i, d, a, b, top) for i, (d, a, b) in enumerate(days)],
            "width": 10 * len(days),
            "clusters": pdf.clusters(f),
            "as_of": dt.datetime.fromisoformat(f["as_of"]),
        },
    )


@page(selectors.REPORT_RULE)
def report_pdf(request: AuthedRequest, report_id: int) -> HttpResponse:
    """The report's PDF as kept when it was made; drawn again from its stored figures when the file is gone."""
    r = found(lambda: selectors.get_report_for(request.user, report_id))
    try:
        with jobs.open_file(r.file) as kept:
            content = kept.read()
    except (FileNotFoundError, KeyError):
        try:
            made_by = r.generated_by.get_username() if r.generated_by else "system"
            content = pdf.daily_report_pdf(r.figures, made_by=made_by)
        except pdf.PdfUnavailable as exc:
            messages.error(request, _("The PDF cannot be made: %(why)s") % {"why": exc})
            return redirect("command:report", report_id=r.pk)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="daily-report-{r.jurisdiction.code}-{r.day}.pdf"'
    return response
