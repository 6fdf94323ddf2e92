"""Jobs over the JSON API: an operation that starts one answers 202 with its id and ``/api/jobs/{id}``; the client
follows that until the job has ended, downloads its file if it made one, or cancels it. Scoped as the job pages
are (``selectors.jobs_for``: the starter, and an administrator of their level or above; the file only for the
starter).

No ``from __future__ import annotations`` here: ninja reads the operations' annotations through the access
decorator's wrapper, whose module does not know these names."""

import datetime as dt
from typing import Any

from django.http import FileResponse
from ninja import Router, Schema

from cordon.core import jobs
from cordon.core.access import SIGNED_IN, AuthedRequest, api
from cordon.core.scoping import NotFound

from . import actions, selectors
from .models import Job

router = Router(tags=["jobs"])


class JobOut(Schema):
    id: int
    kind: str
    label: str
    status: str  # queued, running, done, failed or cancelled
    started_by: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    cancel_requested: bool
    done: int  # progress: how many of ``total`` (``total`` None while unknown)
    total: int | None
    note: str  # what it is doing now
    summary: str  # once done: what it did, in the starter's language
    result: dict[str, Any]  # once done: its figures (the kind's own: rows, added, ...), the summary included
    link: str | None  # once done: a page to open the result
    file: str | None  # once done, when it made a file: where the starter downloads it
    error: str  # once failed: why, a reason a person can act on

    @classmethod
    def of(cls, job: Job) -> "JobOut":
        progress = getattr(job, "progress", None)
        kept = jobs.kept_file(job.result) if job.status == Job.Status.DONE else None
        return cls(
            id=job.pk,
            kind=job.kind,
            label=job.label,
            status=job.status,
            started_by=job.started_by.username if job.started_by else None,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            cancel_requested=job.cancel_requested,
            done=progress.done if progress else 0,
            total=progress.total if progress else None,
            note=progress.note if progress and not job.finished else "",
            summary=str(job.result.get("summary", "")) if job.status == Job.Status.DONE else "",
            result={k: v for k, v in job.result.items() if k != jobs.FILE} if job.finished else {},
            link=str(job.result["link"])
            if job.status == Job.Status.DONE and job.result.get("link")
            else None,
            file=f"/api/jobs/{job.pk}/file" if kept is not None else None,
            error=job.error,
        )


@router.get("/jobs/{int:job_id}", response=JobOut, summary="A job: its status, progress and result or error")
@api(SIGNED_IN)
def get_job(request: AuthedRequest, job_id: int) -> JobOut:
    return JobOut.of(selectors.get_job_for(request.user, job_id))


@router.post(
    "/jobs/{int:job_id}/cancel",
    response=JobOut,
    summary="Stop a job",
    description=(
        "A queued job is cancelled at once; a running one stops at its next progress report (what it has "
        "committed stays). 422 when the job has already ended."
    ),
)
@api(SIGNED_IN)
def cancel_job(request: AuthedRequest, job_id: int) -> JobOut:
    job = selectors.get_job_for(request.user, job_id)
    actions.cancel(actor=request.user, job=job, source="api")
    return JobOut.of(selectors.get_job_for(request.user, job_id))


@router.get(
    "/jobs/{int:job_id}/file",
    summary="The file a job made (an export, a batch of PDFs)",
    description=(
        "Only for the person who started the job, once it is done; 404 for anyone else, for a job that made no "
        "file, and once the file has been deleted (some hours after the job ended: CORDON_JOB_FILE_HOURS)."
    ),
)
@api(SIGNED_IN)
def job_file(request: AuthedRequest, job_id: int) -> FileResponse:
    _job, kept = selectors.file_of_job_for(request.user, job_id)
    try:
        data = jobs.open_file(kept)
    except FileNotFoundError:
        raise NotFound(job_id) from None
    return FileResponse(
        data, as_attachment=True, filename=str(kept["filename"]), content_type=str(kept["content_type"])
    )
