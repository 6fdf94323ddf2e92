"""The situation analysis page (``/command/analysis/``): one page a commander reads first; the daily-zero board
(``/command/zero/``)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from cordon.core.access import AuthedRequest, page
from cordon.core.pages import found
from cordon.core.roles import Cap

from . import selectors
from . import zero as zero_board

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


# --- The daily-zero board (每日清零) ----------------------------------------------------------------------------


@page(Cap.VIEW_CASES)
def zero(request: AuthedRequest) -> HttpResponse:
    """One row per node one level down (a card each on a phone), every kind of open item: overdue now, due
    today, open, and yesterday's close; ``?area=`` a node in the user's subtree (404 outside it)."""
    area = request.GET.get("area", "")[:32]
    data = found(lambda: zero_board.board(request.user, area=area))
    return render(request, "command/zero.html", {"z": data})
