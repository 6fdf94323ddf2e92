"""Every write to jobs: starting, cancelling and running again (people), and the worker's side of a run (claim,
progress, finish, fail, reap). Each is an action; the job row is audited, its progress row is derived."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from django_tasks_db.models import DBTaskResult

from cordon.apps.audit import actions as audit
from cordon.core import jobs, locks
from cordon.core.actions import action
from cordon.core.actors import Actor
from cordon.core.roles import Cap, caps_for

from .models import Job, JobProgress
from .tasks import run_job

WORKER = "worker"  # the audit source of what a worker writes
NEVER_QUEUED = dt.timedelta(minutes=5)  # a job with no queue entry this long after it was started was lost
log = logging.getLogger("cordon.jobs")


def may_manage(actor: Actor, job: Job) -> bool:
    """Whoever started a job may cancel it or run it again; so may an administrator."""
    return job.started_by_id == actor.pk or bool(Cap.ADMIN in caps_for(actor.role))


@action
def start(
    *,
    actor: Actor,
    kind: str,
    params: Mapping[str, Any] | None = None,
    retry_of: Job | None = None,
    source: str = "web",
    one_at_a_time: bool = False,
) -> Job:
    """Record a job and queue it for a worker (queued once this transaction commits). ``one_at_a_time`` (or the
    kind's own): refused while a job of the same kind is queued or running (checked under a lock, so two clicks
    start one); a kind ``one_per_person``: while one the same person started is."""
    found = jobs.kind(kind)
    if found is None:
        raise ValidationError({"kind": _("Unknown kind of job: %(kind)s.") % {"kind": kind}})
    if not found.may_start(actor):
        raise PermissionDenied
    active = (Job.Status.QUEUED, Job.Status.RUNNING)
    if one_at_a_time or found.one_at_a_time:
        locks.exclusive(f"jobs.start:{kind}")
        if Job.objects.filter(kind=kind, status__in=active).exists():
            raise ValidationError(_("A job of this kind is already queued or running."))
    if found.one_per_person:
        locks.exclusive(f"jobs.start:{kind}:{actor.pk}")
        if Job.objects.filter(kind=kind, started_by_id=actor.pk, status__in=active).exists():
            raise ValidationError(
                _("You already have a job of this kind queued or running: wait for it, or cancel it.")
            )
    job = audit.create(
        actor,
        Job,
        source=source,
        kind=kind,
        params=dict(params or {}),
        started_by=actor,
        retry_of=retry_of,
        language=get_language() or "",
    )
    JobProgress.objects.create(job=job, note=_("Waiting for a worker"))
    transaction.on_commit(lambda: _queue(job.pk))
    return job


def _queue(job_id: int) -> None:
    """Put a committed job on the queue and note its queue entry. A job that could not be queued (the database
    busy past its timeout) keeps no entry and is failed by the reaper, never left waiting for ever."""
    try:
        entry = run_job.enqueue(job_id)
    except DatabaseError:
        log.exception("job %s could not be queued", job_id)
        return
    queued(job_id=job_id, task_id=str(entry.id))


@action
def queued(*, job_id: int, task_id: str) -> None:
    job = Job.objects.filter(pk=job_id).first()
    if job is not None:
        audit.change(None, job, source=WORKER, task_id=task_id)


@action
def cancel(*, actor: Actor, job: Job, source: str = "web") -> Job:
    """Stop a job: a queued one at once; a running one at its next progress report (what it committed stays)."""
    if not may_manage(actor, job):
        raise PermissionDenied
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.finished:
        raise ValidationError(_("This job has already finished."))
    if job.status == Job.Status.QUEUED:
        audit.change(
            actor, job, source=source, status=Job.Status.CANCELLED, finished_at=timezone.now(), **_kept(job)
        )
    else:
        audit.change(actor, job, source=source, cancel_requested=True)
    return job


@action
def run_again(*, actor: Actor, job: Job, source: str = "web") -> Job:
    """Start a finished job again with the same parameters (after a failure, a cancel or a killed worker)."""
    if not may_manage(actor, job):
        raise PermissionDenied
    job = Job.objects.select_for_update().get(pk=job.pk)
    if not job.finished:
        raise ValidationError(_("This job is still running."))
    again = start(actor=actor, kind=job.kind, params=job.params, retry_of=job, source=source)
    if job.result.get(Job.KEPT):  # its file goes to the new job, which cleans up after it
        audit.change(actor, job, source=source, result={k: v for k, v in job.result.items() if k != Job.KEPT})
    return again


# --- The worker's side ----------------------------------------------------------------------------------------


@action
def claim(*, job_id: int, worker: str) -> Job | None:
    """Mark a queued job as running on ``worker``; ``None`` when it is no longer queued (cancelled, or run)."""
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.status != Job.Status.QUEUED:
        return None
    audit.change(
        None, job, source=WORKER, status=Job.Status.RUNNING, started_at=timezone.now(), worker=worker[:128]
    )
    JobProgress.objects.filter(job_id=job_id).update(heartbeat_at=Now(), note="")
    return job


@action
def report(*, job_id: int, done: int, total: int | None, note: str) -> bool:
    """Record how far a job has got (and that its worker is alive, at the database's time: see ``heartbeat``);
    whether someone asked it to stop."""
    JobProgress.objects.filter(job_id=job_id).update(
        done=done, total=total, note=note[:300], heartbeat_at=Now()
    )
    return bool(Job.objects.filter(pk=job_id, cancel_requested=True).exists())


@action
def heartbeat(*, job_id: int) -> None:
    """Say that the job's worker is alive. The time is the database's (``Now()`` in the ``UPDATE``), never the
    worker's: workers on other machines, whose clocks may be off, and the reaper (``reap``, which compares in
    SQL too) then read one clock, so a worker whose clock is behind is not reaped alive and one whose clock is
    ahead does not keep its job "running" after it died."""
    JobProgress.objects.filter(job_id=job_id).update(heartbeat_at=Now())


@action
def finish(
    *,
    job_id: int,
    status: str,
    result: Mapping[str, Any] | None = None,
    error: str = "",
    worker: str | None = None,
) -> Job | None:
    """End a running job: done (with its result), failed (with the error a person can act on) or cancelled.
    Only a job still running (on ``worker``, when given) is ended: one the reaper has already failed stays
    failed (its steps were committed, but someone may be running it again), and ``None`` says so.
    An error may quote the file a job read; a NUL byte there (which PostgreSQL refuses in text) is shown as
    "\\0"."""
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status != Job.Status.RUNNING or (worker is not None and job.worker != worker[:128]):
        return None
    audit.change(
        None,
        job,
        source=WORKER,
        status=status,
        result=dict(result or {}),
        error=error.replace("\x00", "\\0"),
        finished_at=timezone.now(),
    )
    return job


def _alive_here(worker: str) -> bool:
    """Whether ``worker`` ("host:pid") is a process still running on this machine (a worker busy in one long
    write on SQLite cannot beat, but is not dead)."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _before(age: dt.timedelta) -> ExpressionWrapper:
    """The database's time ``age`` ago, as an expression (compared in SQL: see ``heartbeat``)."""
    return ExpressionWrapper(Now() - age, output_field=DateTimeField())


@action
def reap(*, stale_after: dt.timedelta) -> list[int]:
    """Fail the running jobs whose worker has not been heard from for ``stale_after`` (killed, or its machine
    lost): never left "running" for ever. What they committed is whole (runners commit in complete steps); the
    job page offers to run them again. "Not heard from" is measured on the database's clock, which also set the
    heartbeats (``heartbeat``), not on this machine's."""
    stale = list(
        Job.objects.select_for_update()
        .filter(status=Job.Status.RUNNING, progress__heartbeat_at__lt=_before(stale_after))
        .select_related("progress")
    )
    stale = [job for job in stale if not _alive_here(job.worker)]
    for job in stale:
        seen = timezone.localtime(job.progress.heartbeat_at)
        with override(job.language or None):
            error = _(
                "The worker running this job stopped (last seen %(seen)s). Steps it finished are saved; "
                "the rest was not done. Run it again to finish."
            ) % {"seen": seen.strftime("%Y-%m-%d %H:%M")}
        audit.change(
            None,
            job,
            source=WORKER,
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            error=error,
            **_kept(job),
        )
    return [job.pk for job in stale] + _reap_unstarted(stale_after)


def _reap_unstarted(stale_after: dt.timedelta) -> list[int]:
    """Queued jobs that will never start: never put on the queue, or whose queue entry failed, ended, vanished,
    or was taken by a worker that stopped before it could claim the job. Ages are compared in SQL, with the
    database's clock (as ``reap``)."""
    queued = Job.objects.select_for_update().filter(status=Job.Status.QUEUED)
    never = set(queued.filter(task_id="", created_at__lt=_before(NEVER_QUEUED)).values_list("pk", flat=True))
    lost = []
    for job in queued:
        if not job.task_id:
            if job.pk in never:
                lost.append(job)
            continue
        entry = DBTaskResult.objects.filter(pk=job.task_id).values("status", "started_at").first()
        if (
            entry is None
            or entry["status"] in ("FAILED", "SUCCESSFUL")
            or (
                entry["status"] == "RUNNING"
                and DBTaskResult.objects.filter(pk=job.task_id, started_at__lt=_before(stale_after)).exists()
            )
        ):
            lost.append(job)
    now = timezone.now()
    for job in lost:
        with override(job.language or None):
            error = _(
                "This job could not be started (its worker stopped or the queue lost it). Run it again."
            )
        audit.change(
            None, job, source=WORKER, status=Job.Status.FAILED, finished_at=now, error=error, **_kept(job)
        )
    return [job.pk for job in lost]


@action
def expire_files(*, ended_before: dt.datetime) -> list[int]:
    """Delete the result files of the jobs that ended before ``ended_before`` (``CORDON_JOB_FILE_HOURS`` ago),
    once that is committed; each job's result then says its file was deleted."""
    expired = []
    for job in Job.objects.select_for_update().filter(
        status=Job.Status.DONE, finished_at__lt=ended_before, result__has_key=jobs.FILE
    ):
        found = jobs.kept_file(job.result)
        result = {k: v for k, v in job.result.items() if k != jobs.FILE}
        audit.change(None, job, source=WORKER, result={**result, "file_deleted": True})
        if found is not None:
            transaction.on_commit(lambda found=found: jobs.discard_file(found))  # type: ignore[misc]
        expired.append(job.pk)
    return expired


def _kept(job: Job) -> dict[str, Any]:
    """For a job ended without its runner finishing (cancelled, its worker lost): its kind's files (an upload)
    are kept so that it can run again (``Job.KEPT`` in its result; ``sweep`` cleans up after it later)."""
    found = jobs.kind(job.kind)
    if found is None or found.cleanup is None:
        return {}
    return {"result": {**job.result, Job.KEPT: True}}


@action
def sweep(*, keep_for: dt.timedelta) -> list[int]:
    """Clean up after the jobs that ended ``keep_for`` ago (the database's clock) with their files kept to run
    again (``Job.KEPT``) and were not run again: their uploads are deleted (once this commits) and the jobs no
    longer offer to run again."""
    ended = list(
        Job.objects.select_for_update()
        .filter(status__in=Job.FINISHED, finished_at__lt=_before(keep_for), result__has_key=Job.KEPT)
        .order_by("pk")
    )
    for job in ended:
        audit.change(None, job, source=WORKER, result={k: v for k, v in job.result.items() if k != Job.KEPT})
        _clean_up_on_commit(job)
    return [job.pk for job in ended]


def _clean_up_on_commit(job: Job) -> None:
    """A job whose files were kept to run again (``sweep``): its kind's ``cleanup`` once that is committed."""
    kind, params = job.kind, dict(job.params)
    transaction.on_commit(lambda: jobs.clean_up(kind, params))
