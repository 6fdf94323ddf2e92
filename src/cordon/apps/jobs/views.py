"""The job pages: my jobs, one job with a live progress bar (htmx polls its fragment while it runs), its result
file for the person who started it, cancel and run again."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.core import jobs
from cordon.core.access import SIGNED_IN, AuthedRequest, page
from cordon.core.pages import error_text, found
from cordon.core.roles import Cap

from . import actions, selectors

LIST_SIZE = 100


@page(SIGNED_IN)
def job_list(request: AuthedRequest) -> HttpResponse:
    jobs = list(selectors.jobs_for(request.user)[:LIST_SIZE])
    return render(request, "jobs/list.html", {"jobs": jobs, "size": LIST_SIZE})


@page(SIGNED_IN)
def job_detail(request: AuthedRequest, job_id: int) -> HttpResponse:
    job = found(lambda: selectors.get_job_for(request.user, job_id))
    context = {
        "job": job,
        "may_manage": actions.may_manage(request.user, job),
        "file": jobs.kept_file(job.result) if job.status == job.Status.DONE else None,
        "may_download": job.started_by_id == request.user.pk,
        "file_hours": round(float(settings.CORDON_JOB_FILE_HOURS)),
    }
    if getattr(request, "htmx", False):
        return render(request, "jobs/_status.html", context)
    return render(request, "jobs/detail.html", context)


@page(SIGNED_IN)
def job_file(request: AuthedRequest, job_id: int) -> FileResponse:
    """The file a job made (an export, a batch of PDFs), for the person who started it."""
    _job, kept = found(lambda: selectors.file_of_job_for(request.user, job_id))
    try:
        data = jobs.open_file(kept)
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        data, as_attachment=True, filename=str(kept["filename"]), content_type=str(kept["content_type"])
    )


@require_POST
@page(SIGNED_IN)
def job_cancel(request: AuthedRequest, job_id: int) -> HttpResponse:
    job = found(lambda: selectors.get_job_for(request.user, job_id))
    try:
        actions.cancel(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Asked the job to stop; what it has finished stays."))
    return redirect("jobs:detail", job_id=job.pk)


@require_POST
@page(SIGNED_IN)
def job_again(request: AuthedRequest, job_id: int) -> HttpResponse:
    job = found(lambda: selectors.get_job_for(request.user, job_id))
    try:
        again = actions.run_again(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("jobs:detail", job_id=job.pk)
    return redirect("jobs:detail", job_id=again.pk)


@require_POST
@page(Cap.ADMIN)
def job_check(request: AuthedRequest) -> HttpResponse:
    """An administrator's check that workers run jobs: a job that counts seconds and reports each."""
    seconds = request.POST.get("seconds", "")
    if not (seconds.isascii() and seconds.isdigit()) or not 1 <= int(seconds) <= 600:
        messages.error(request, _("Give a number of seconds from 1 to 600."))
        return redirect("jobs:list")
    job = actions.start(actor=request.user, kind="jobs.worker_check", params={"seconds": int(seconds)})
    return redirect("jobs:detail", job_id=job.pk)
