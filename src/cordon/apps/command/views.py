"""The situation analysis page (``/command/analysis/``): one page a commander reads first."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from cordon.core.access import AuthedRequest, page
from cordon.core.pages import found
from cordon.core.roles import Cap

from . import selectors, timeliness

BASIS_LABELS = {"onset": _("Onset date"), "sampling": _("Sampling date"), "report": _("Report date")}


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
