"""What a worker does with a queued job: claim it, run its kind's runner with a progress reporter and a
heartbeat, and record how it ended. Joined to the queued task through ``cordon.core.jobs.set_executor``."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection
from django.utils.translation import gettext as _
from django.utils.translation import override

from cordon.core import jobs
from cordon.core.jobs import JobCancelled

from . import actions
from .models import Job

log = logging.getLogger("cordon.jobs")


def reap_lost() -> list[int]:
    """Fail the jobs whose worker stopped (``actions.reap``), logging each; a busy SQLite waits for the next
    round. Run by every worker on a clock (``hooks.py``)."""
    stale = dt.timedelta(seconds=float(getattr(settings, "CORDON_JOB_STALE_SECONDS", 120)))
    try:
        reaped = actions.reap(stale_after=stale)
    except OperationalError:
        return []
    for job_id in reaped:
        log.warning("job %s: its worker stopped; marked failed", job_id)
    return reaped


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Reporter:
    """The ``progress`` a runner calls: writes at most every ``every`` seconds (and always the last step), and
    raises ``JobCancelled`` there once someone has asked the job to stop."""

    def __init__(self, job_id: int, every: float = 0.5) -> None:
        self.job_id = job_id
        self.every = every
        self._last = 0.0
        self.done = 0
        self.total: int | None = None

    def __call__(self, done: int, total: int | None = None, note: str = "") -> None:
        self.done, self.total = done, total
        now = time.monotonic()
        if now - self._last < self.every and not (total is not None and done >= total):
            return
        self._last = now
        if actions.report(job_id=self.job_id, done=done, total=total, note=str(note)):
            raise JobCancelled


class Heartbeat(threading.Thread):
    """Says every few seconds that the job's worker is alive, even while a runner works on one long step; a
    worker that stops saying so is reaped (``actions.reap``)."""

    def __init__(self, job_id: int, every: float) -> None:
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.job_id = job_id
        self.every = every
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.every):
                try:
                    actions.heartbeat(job_id=self.job_id)
                except OperationalError:  # SQLite busy with the runner's own write: the next beat will do
                    log.debug("heartbeat of job %s skipped: database busy", self.job_id)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return _("The job stopped with an error: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}


def execute(job_id: int) -> None:
    me = worker_name()
    job = actions.claim(job_id=job_id, worker=me)
    if job is None:
        return
    kind = jobs.kind(job.kind)
    if kind is None:
        _end(job, status=Job.Status.FAILED, error=f"Unknown kind of job: {job.kind}")
        return
    progress = Reporter(job_id, every=float(getattr(settings, "CORDON_JOB_PROGRESS_SECONDS", 0.5)))
    beat = Heartbeat(job_id, every=float(getattr(settings, "CORDON_JOB_HEARTBEAT_SECONDS", 10)))
    beat.start()
    language = job.language or settings.LANGUAGE_CODE
    try:
        with override(language):
            result = kind.run(progress, job.params, job.started_by)
    except JobCancelled:
        beat.stop()
        done: dict[str, object] = {"done": progress.done, "total": progress.total}
        _end(job, status=Job.Status.CANCELLED, result=done, keep=True)
    except ValidationError as exc:  # refused (its file, its case): running again would refuse the same
        beat.stop()
        log.info("job %s (%s) refused: %s", job_id, job.kind, exc)
        with override(language):
            _end(job, status=Job.Status.FAILED, error=_error_text(exc))
    except Exception as exc:  # a job that fails is recorded as failed with its reason, never lost
        beat.stop()
        log.exception("job %s (%s) failed", job_id, job.kind)
        with override(language):
            _end(job, status=Job.Status.FAILED, error=_error_text(exc), keep=True)
    else:
        beat.stop()
        actions.report(job_id=job_id, done=progress.done, total=progress.total, note="")
        _end(job, status=Job.Status.DONE, result=dict(result or {}))
    finally:
        beat.stop()  # also when the worker is told to exit at once (SystemExit): the job is then reaped


def _end(
    job: Job, *, status: str, result: dict[str, object] | None = None, error: str = "", keep: bool = False
) -> None:
    """Record how the job ended, then clean up after it (its uploaded file): only once the end is recorded, so
    a worker stopped half way leaves the file for the reaper. With ``keep`` (a cancel, an unexpected error: the
    job may well run again) a kind that cleans up after itself keeps its file to run again (``Job.KEPT``),
    until it does or ``actions.sweep`` deletes it."""
    found = jobs.kind(job.kind)
    keep = keep and found is not None and found.cleanup is not None
    if keep:
        result = {**(result or {}), Job.KEPT: True}
    ended = actions.finish(job_id=job.pk, status=status, result=result, error=error, worker=job.worker)
    if ended is None:
        log.warning("job %s was ended by someone else (reaped) before its worker finished it", job.pk)
        return
    if keep:
        return
    try:
        jobs.clean_up(job.kind, job.params)
    except OSError:  # the job has ended and is recorded; a file left behind is logged, not the job's failure
        log.exception("job %s (%s): its cleanup failed", job.pk, job.kind)


def sweep_kept() -> list[int]:
    """Delete the files kept to run jobs again once ``CORDON_UPLOAD_KEEP_HOURS`` have passed (``actions.sweep``);
    a busy SQLite waits for the next round. Run by every worker on a clock (``hooks.py``)."""
    hours = float(getattr(settings, "CORDON_UPLOAD_KEEP_HOURS", 24))
    try:
        swept = actions.sweep(keep_for=dt.timedelta(hours=hours))
    except OperationalError:
        return []
    for job_id in swept:
        log.info("job %s: the file kept to run it again was deleted", job_id)
    return swept
