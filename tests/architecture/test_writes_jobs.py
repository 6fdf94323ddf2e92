"""The jobs app's write paths (tests/test_jobs.py runs each through pages and a worker; here under the audit
watch, the same way as every app's)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from architecture.audit_watch import WATCH
from cordon.apps.audit.models import AuditEntry
from cordon.apps.jobs import actions
from cordon.apps.jobs.models import Job, JobProgress

JOBS = "cordon.apps.jobs.actions"
_NAMES = (
    "start",
    "queued",
    "cancel",
    "run_again",
    "claim",
    "report",
    "heartbeat",
    "finish",
    "reap",
    "sweep",
    "expire_files",
)
COVERS = {f"{JOBS}.{name}" for name in _NAMES}

pytestmark = pytest.mark.django_db


@pytest.mark.db_clock
def test_every_job_write_is_audited(city: Any, make_user: Any) -> None:
    admin = make_user("administrator", city.city)
    job = actions.start(actor=admin, kind="jobs.worker_check", params={"seconds": 2})
    actions.queued(job_id=job.pk, task_id="")
    assert actions.claim(job_id=job.pk, worker="host:1") is not None
    assert actions.claim(job_id=job.pk, worker="host:2") is None  # claimed once
    assert actions.report(job_id=job.pk, done=1, total=2, note="x") is False
    actions.heartbeat(job_id=job.pk)
    actions.cancel(actor=admin, job=job)
    assert actions.report(job_id=job.pk, done=1, total=2, note="x") is True
    actions.finish(job_id=job.pk, status=Job.Status.CANCELLED, result={"done": 1})
    again = actions.run_again(actor=admin, job=job)
    actions.claim(job_id=again.pk, worker="host:3")
    JobProgress.objects.filter(job=again).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    assert actions.reap(stale_after=dt.timedelta(minutes=2)) == [again.pk]
    assert actions.sweep(keep_for=dt.timedelta(hours=1)) == []  # a worker check keeps no file
    updates = AuditEntry.objects.filter(model="jobs.job", verb="update", object_pk=str(job.pk))
    statuses = [e.changes.get("status", [None, None])[1] for e in updates.order_by("id")]
    assert statuses == ["running", None, "cancelled"]  # claimed, cancel requested, ended
    assert AuditEntry.objects.filter(model="jobs.job", verb="create").count() == 2
    # A done job whose file has outlived its hours: the file goes, the result says so (audited).
    made = actions.start(actor=admin, kind="jobs.worker_check", params={"seconds": 1})
    actions.claim(job_id=made.pk, worker="host:4")
    file = {"name": "0" * 32 + ".csv", "filename": "x.csv", "content_type": "text/csv", "size": 0}
    actions.finish(job_id=made.pk, status=Job.Status.DONE, result={"summary": "x", "file": file})
    assert actions.expire_files(ended_before=timezone.now() + dt.timedelta(seconds=1)) == [made.pk]
    expired = AuditEntry.objects.filter(model="jobs.job", object_pk=str(made.pk)).order_by("-id").first()
    assert expired is not None and expired.changes["result"][1] == {"summary": "x", "file_deleted": True}
    assert all(WATCH.seen[name] for name in COVERS)
