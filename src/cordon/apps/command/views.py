"""The situation analysis page (``/command/analysis/``): one page a commander reads first."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from cordon.core.access import AuthedRequest, page
from cordon.core.pages import found
from cordon.core.roles import Cap

from . import selectors

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
        "rt": {"mean": _("Rt"), "band": "95% " + str(_("credible interval")), "one": _("Rt = 1")},
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
