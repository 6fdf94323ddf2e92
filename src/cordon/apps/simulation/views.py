"""The simulator pages: the runs (with the form that starts one), a run (its progress while it runs, then its
summary and a chart of its daily figures) and two runs side by side."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cordon.apps.jobs import actions as jobs
from cordon.core.access import AuthedRequest, page
from cordon.core.pages import error_fields, found
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound

from . import actions, selectors
from .forms import RunForm
from .models import SimulationRun
from .presentation import FIGURES, chart_data, facts, scenario_rows

LIST_SIZE = 100


def _list(request: AuthedRequest, form: RunForm, status: int = 200) -> HttpResponse:
    runs = selectors.with_jobs(selectors.runs_for(request.user)[:LIST_SIZE])
    context = {
        "form": form,
        "runs": runs,
        "size": LIST_SIZE,
        "limit": actions.max_population(),
        "active": selectors.active_job_of(request.user),
    }
    return render(request, "simulation/list.html", context, status=status)


@page(Cap.SIMULATE)
def run_list(request: AuthedRequest) -> HttpResponse:
    """The runs, and the form that starts one (posted here)."""
    if request.method == "POST":
        return _start(request)
    initial: dict[str, Any] = {}
    source = request.GET.get("from", "")
    if source.isascii() and source.isdigit():
        try:
            run = selectors.get_run_for(request.user, int(source))
        except NotFound:
            run = None
        if run is not None:
            initial = RunForm.initial_of(run.scenario, run.title)
    return _list(request, RunForm(initial=initial or None))


@page(Cap.SIMULATE)
def run_detail(request: AuthedRequest, run_id: int) -> HttpResponse:
    run = found(lambda: selectors.get_run_for(request.user, run_id))
    job = getattr(run, "job", None)
    others = list(selectors.recorded_runs_for(request.user)[:LIST_SIZE])
    context = {
        "run": run,
        "job": job,
        "may_manage": job is not None and jobs.may_manage(request.user, job),
        "facts": facts([run]),
        "scenario": _scenario_rows(run),
        "chart": chart_data([run]) if run.recorded else None,
        "figures": FIGURES,
        "days": _days(run),
        "others": [r for r in others if r.pk != run.pk],
    }
    return render(request, "simulation/run.html", context)


@page(Cap.SIMULATE)
def run_compare(request: AuthedRequest) -> HttpResponse:
    ids = [v for v in (request.GET.get("a", ""), request.GET.get("b", "")) if v.isascii() and v.isdigit()]
    if len(ids) != 2:
        messages.error(request, _("Choose two runs to compare."))
        return redirect("simulation:list")
    runs = [_visible(request, int(i)) for i in ids]
    if not all(r.recorded for r in runs):
        messages.error(request, _("Only runs that have finished can be compared."))
        return redirect("simulation:run", run_id=runs[0].pk)
    context = {
        "runs": runs,
        "facts": facts(runs),
        "scenarios": [_scenario_rows(r) for r in runs],
        "chart": chart_data(runs),
    }
    return render(request, "simulation/compare.html", context)


def _start(request: AuthedRequest) -> HttpResponse:
    form = RunForm(request.POST)
    if not form.is_valid():
        return _list(request, form, status=422)
    try:
        run = actions.start_run(
            actor=request.user, scenario=form.scenario(), title=form.cleaned_data["title"], source="web"
        )
    except ValidationError as exc:
        for field, message in error_fields(exc).items():
            form.add_error(field if field in form.fields else None, message)
        return _list(request, form, status=422)
    messages.success(request, _("The run is queued; this page shows how far it has got."))
    return redirect("simulation:run", run_id=run.pk)


def _visible(request: AuthedRequest, run_id: int) -> SimulationRun:
    return found(lambda: selectors.get_run_for(request.user, run_id))


def _scenario_rows(run: SimulationRun) -> list[tuple[str, str]]:
    return scenario_rows(run.scenario, run.persons)


def _days(run: SimulationRun) -> list[dict[str, Any]]:
    """The daily figures as rows (the chart's table, for readers without the chart)."""
    series = run.series or {}
    dates = series.get("date", [])
    columns = {k: series.get(k) or [0] * len(dates) for k, _label in FIGURES}
    return [{"date": d, "values": [columns[k][i] for k, _label in FIGURES]} for i, d in enumerate(dates)]
