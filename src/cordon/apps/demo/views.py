"""The administrator's exercise page: how far the demo outbreak has been played, and a button that plays its next
day as a background job (the same audited action as ``cordon demo --next-day``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.apps.jobs import actions as jobs
from cordon.apps.jobs import selectors as job_reads
from cordon.core.access import AuthedRequest, page
from cordon.core.roles import Cap

from . import selectors
from .hooks import NEXT_DAY


@page(Cap.ADMIN)
def exercise(request: AuthedRequest) -> HttpResponse:
    context = {
        "run": selectors.demo_run(),
        "today": timezone.localdate(),
        "playing": job_reads.active_of_kind(NEXT_DAY),
    }
    return render(request, "demo/exercise.html", context)


@require_POST
@page(Cap.ADMIN)
def next_day(request: AuthedRequest) -> HttpResponse:
    refusal = selectors.next_day_refusal()
    if refusal:
        messages.error(request, refusal)
        return redirect("demo:exercise")
    try:
        job = jobs.start(actor=request.user, kind=NEXT_DAY, one_at_a_time=True)
    except ValidationError:  # already queued or running: follow that one
        playing = job_reads.active_of_kind(NEXT_DAY)
        messages.info(request, _("The next day is already being played."))
        return redirect("jobs:detail", job_id=playing.pk) if playing else redirect("demo:exercise")
    return redirect("jobs:detail", job_id=job.pk)
