"""Background jobs through their pages: a trace queued from the case page and run by a worker, progress, the
result, cancel (queued and running), a failure, running again, who may see and stop a job, and a worker killed
half way (a real ``cordon worker`` process, killed with SIGKILL)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from cordon.apps.jobs import actions
from cordon.apps.jobs.models import Job, JobProgress
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Contact
from cordon.core import jobs
from cordon.core.actors import Actor

pytestmark = pytest.mark.django_db


def _english(client: Any) -> Any:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_a_trace_is_queued_from_the_case_page_and_run_by_a_worker(
    city: Any, make_user: Any, client_for: Any, worker: Any, fengtai_case: Any
) -> None:
    investigator = make_user("investigator", city.fengtai)
    client = _english(client_for(investigator))
    case = fengtai_case()

    # Queued: the request returns at once with the job's page; nothing traced yet.
    r = client.post(f"/tracing/cases/{case.pk}/trace/")
    job = Job.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/jobs/{job.pk}/"
    assert (job.kind, job.started_by, job.status) == ("tracing.trace_case", investigator, Job.Status.QUEUED)
    assert not Contact.objects.filter(case=case).exists()
    page = client.get(r["Location"]).content.decode()
    assert (
        'hx-trigger="every 1s"' in page
        and "Waiting for a worker" in page
        and 'data-testid="job-progress"' in page
    )

    # Run by a worker: done, with what it found, the same as tracing the case directly finds.
    with worker():
        r = client.post(f"/tracing/cases/{case.pk}/trace/")
    job = Job.objects.get(pk=int(r["Location"].split("/")[2]))
    assert job.status == Job.Status.DONE and job.started_at and job.finished_at and job.worker
    found = set(Contact.objects.filter(case=case).values_list("person_id", flat=True))
    assert found and job.result["total"] == len(found)
    assert city.ft_person2.pk in found  # the household
    assert tracing.trace_case(actor=None, case=case).total == len(found)
    fragment = client.get(r["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment  # finished: the page stops asking
    assert job.result["summary"] in fragment and f'href="/tracing/cases/{case.pk}/"' in fragment
    assert job.progress.done == job.progress.total == 1

    # In Chinese, for a person who reads Chinese (the summary is in the language the job was started in).
    zh = client.get(r["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已完成" in zh and "发起人" in zh and "Done" not in zh


def test_a_queued_job_cancelled_never_runs(city: Any, make_user: Any, client_for: Any, worker: Any) -> None:
    admin = make_user("administrator", city.city)
    client = _english(client_for(admin))
    with worker():
        r = client.post("/jobs/check/", {"seconds": "3"})
        job = Job.objects.get()
        assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.started_at is None and r.status_code == 302
    assert "has already finished" in client.post(f"/jobs/{job.pk}/cancel/", follow=True).content.decode()


STEPS: list[int] = []


def _steps(progress: jobs.Progress, params: Mapping[str, Any], actor: Actor | None) -> dict[str, Any]:
    """A test kind: five steps; asks for its own cancel after the second when told to, fails when told to."""
    for step in range(5):
        progress(step, 5, f"step {step}")
        STEPS.append(step)
        if params.get("fail_at") == step:
            raise ValidationError("The file has no header row.")
        if params.get("cancel_at") == step:
            assert actor is not None
            actions.cancel(actor=actor, job=Job.objects.get(kind="tests.steps", status=Job.Status.RUNNING))
    return {"summary": "five steps"}


jobs.register(jobs.JobKind("tests.steps", "Steps", _steps, may_start=lambda actor: True))


def test_a_running_job_stops_at_its_next_report_and_says_how_far_it_got(
    city: Any, make_user: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    settings.CORDON_JOB_PROGRESS_SECONDS = 0
    user = make_user("investigator", city.fengtai)
    STEPS.clear()
    with worker():
        job = actions.start(actor=user, kind="tests.steps", params={"cancel_at": 1})
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.cancel_requested
    assert STEPS == [0, 1] and job.result == {"done": 2, "total": 5}
    page = _english(client_for(user)).get(f"/jobs/{job.pk}/").content.decode()
    assert "2 / 5" in page and "Stopped on request" in page and 'data-testid="job-again"' in page


def test_a_failed_job_says_why_and_runs_again(
    city: Any, make_user: Any, client_for: Any, worker: Any
) -> None:
    user = make_user("investigator", city.fengtai)
    client = _english(client_for(user))
    with worker():
        job = actions.start(actor=user, kind="tests.steps", params={"fail_at": 2})
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error == "The file has no header row."
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'role="alert"' in page and "The file has no header row." in page
    with worker():
        r = client.post(f"/jobs/{job.pk}/again/")
    again = Job.objects.exclude(pk=job.pk).get()
    assert r["Location"] == f"/jobs/{again.pk}/" and again.retry_of == job and again.params == job.params


def test_only_the_starter_and_an_administrator_see_or_stop_a_job(
    city: Any, make_user: Any, client_for: Any
) -> None:
    mine = make_user("investigator", city.fengtai)
    other = client_for(make_user("investigator", city.fengtai))
    admin = _english(client_for(make_user("administrator", city.city)))
    job = actions.start(actor=mine, kind="tests.steps")
    assert other.get(f"/jobs/{job.pk}/").status_code == 404
    assert other.post(f"/jobs/{job.pk}/cancel/").status_code == 404
    assert 'data-testid="no-jobs"' in other.get("/jobs/").content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and not job.cancel_requested  # the refused cancel changed nothing
    assert client_for(mine).get(f"/jobs/{job.pk}/").status_code == 200
    assert admin.post(f"/jobs/{job.pk}/cancel/").status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    # Only an administrator checks the workers; the refusal queues nothing.
    assert other.post("/jobs/check/", {"seconds": "5"}).status_code == 403
    assert Job.objects.count() == 1
    assert "1 to 600" in admin.post("/jobs/check/", {"seconds": "0"}, follow=True).content.decode()
    assert Job.objects.count() == 1


@pytest.mark.db_clock
def test_a_job_whose_worker_went_silent_is_reaped_as_failed(city: Any, make_user: Any) -> None:
    user = make_user("investigator", city.fengtai)
    with override("en"):
        silent, alive = (actions.start(actor=user, kind="tests.steps") for _ in range(2))
    for job in (silent, alive):
        actions.claim(job_id=job.pk, worker="elsewhere:1")
    JobProgress.objects.filter(job=silent).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=5))
    assert actions.reap(stale_after=dt.timedelta(minutes=2)) == [silent.pk]
    silent.refresh_from_db()
    alive.refresh_from_db()
    assert silent.status == Job.Status.FAILED and "worker running this job stopped" in silent.error  # English
    assert alive.status == Job.Status.RUNNING


@pytest.mark.db_clock
def test_heartbeats_and_the_reaper_read_the_databases_clock_not_the_workers(
    city: Any, make_user: Any
) -> None:
    """Workers on other machines with clocks an hour off: one an hour behind beats and is not reaped by a reaper
    whose clock is an hour ahead (nor is a job just queued); one an hour ahead beats, then dies, and is reaped
    once silent for the stale time on the database's clock (by the machines' clocks it beat an hour in the
    future: alive for an hour more)."""
    import time_machine

    user = make_user("investigator", city.fengtai)
    behind, ahead = (actions.start(actor=user, kind="tests.steps") for _ in range(2))
    hour = dt.timedelta(hours=1)
    with time_machine.travel(timezone.now() - hour, tick=True):  # the worker on a slow clock
        actions.claim(job_id=behind.pk, worker="slow-host:1")
        actions.heartbeat(job_id=behind.pk)
        assert actions.report(job_id=behind.pk, done=1, total=3, note="") is False
    with time_machine.travel(timezone.now() + hour, tick=True):  # a reaper on a fast clock
        assert actions.reap(stale_after=dt.timedelta(minutes=2)) == []
    with time_machine.travel(timezone.now() + hour, tick=True):  # a worker on a fast clock, then it dies
        actions.claim(job_id=ahead.pk, worker="fast-host:1")
        actions.heartbeat(job_id=ahead.pk)
    beat = JobProgress.objects.get(job=ahead).heartbeat_at
    assert beat is not None and abs(beat - timezone.now()) < dt.timedelta(minutes=1)  # the database's time
    time.sleep(1)
    with time_machine.travel(timezone.now() - hour, tick=True):
        actions.heartbeat(job_id=behind.pk)  # the slow worker's job is still running, and says so
    assert actions.reap(stale_after=dt.timedelta(seconds=0.5)) == [ahead.pk]
    behind.refresh_from_db()
    assert behind.status == Job.Status.RUNNING


@pytest.mark.db_clock
def test_a_job_that_can_never_start_is_reaped_too(
    city: Any, make_user: Any, worker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    user = make_user("investigator", city.fengtai)
    with override("en"):
        never = actions.start(actor=user, kind="tests.steps")  # its queueing never ran: no queue entry
        with django_capture_on_commit_callbacks(execute=True):
            broken = actions.start(actor=user, kind="tests.steps")
    broken.refresh_from_db()
    assert broken.task_id and not never.task_id
    DBTaskResult.objects.filter(pk=broken.task_id).update(status="FAILED")  # e.g. its claim raised
    assert actions.reap(stale_after=dt.timedelta(minutes=2)) == [broken.pk]  # the other is young yet
    Job.objects.filter(pk=never.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10))
    assert actions.reap(stale_after=dt.timedelta(minutes=2)) == [never.pk]
    for job in (never, broken):
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED and "could not be started" in job.error


@pytest.mark.db_clock
def test_a_reaped_job_is_not_marked_done_by_its_late_worker(city: Any, make_user: Any) -> None:
    user = make_user("investigator", city.fengtai)
    job = actions.start(actor=user, kind="tests.steps")
    actions.claim(job_id=job.pk, worker="elsewhere:1")
    JobProgress.objects.filter(job=job).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=5))
    assert actions.reap(stale_after=dt.timedelta(minutes=2)) == [job.pk]
    assert actions.finish(job_id=job.pk, status=Job.Status.DONE, worker="elsewhere:1") is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED


def test_a_busy_worker_on_this_machine_is_not_reaped(city: Any, make_user: Any) -> None:
    """A worker in one long write on SQLite cannot beat; it is alive, so its job is not failed under it."""
    import socket

    user = make_user("investigator", city.fengtai)
    job = actions.start(actor=user, kind="tests.steps")
    actions.claim(job_id=job.pk, worker=f"{socket.gethostname()}:{os.getpid()}")
    JobProgress.objects.filter(job=job).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=5))
    assert actions.reap(stale_after=dt.timedelta(minutes=2)) == []


def _sql(db: Path, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(query, args).fetchall()


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_leaves_its_job_failed_not_running_for_ever(tmp_path: Path) -> None:
    """Real processes on a database file: a worker picks up a worker check, is killed with SIGKILL half way;
    the next worker to start finds the job silent and marks it failed, with what to do."""
    db = tmp_path / "jobs.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "CORDON_VAR": str(tmp_path),
        "CORDON_JOB_HEARTBEAT_SECONDS": "0.5",
        "CORDON_JOB_STALE_SECONDS": "2",
    }
    cordon = [sys.executable, "-m", "cordon.cli"]
    subprocess.run([*cordon, "migrate"], env=env, check=True, capture_output=True)
    start = "\n".join(
        [
            "from django.utils.translation import override",
            "from cordon.apps.accounts.models import User",
            "from cordon.apps.jobs import actions",
            "u = User.objects.create(username='admin', role='administrator')",
            "with override('en'):",
            "    print(actions.start(actor=u, kind='jobs.worker_check', params={'seconds': 60}, source='cli').pk)",
        ]
    )
    out = subprocess.run([*cordon, "manage", "shell", "-c", start], env=env, check=True, capture_output=True)
    job_id = int(out.stdout.decode().split()[-1])
    worker = subprocess.Popen([*cordon, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = _sql(db, "SELECT done FROM jobs_jobprogress WHERE job_id = ?", job_id)
            if done and done[0][0] >= 2:
                break
            time.sleep(0.2)
        else:
            pytest.fail(
                f"the worker did not run the job: {worker.stderr.read1().decode() if worker.stderr else ''}"
            )
        assert _sql(db, "SELECT status FROM jobs_job WHERE id = ?", job_id) == [("running",)]
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    time.sleep(2.5)
    assert _sql(db, "SELECT status FROM jobs_job WHERE id = ?", job_id) == [("running",)]  # nobody knows yet
    subprocess.run([*cordon, "worker", "--batch"], env=env, check=True, capture_output=True, timeout=120)
    ((status, error),) = _sql(db, "SELECT status, error FROM jobs_job WHERE id = ?", job_id)
    assert status == "failed" and "Run it again" in error
    ((verb,),) = _sql(
        db,
        "SELECT verb FROM audit_auditentry WHERE model = 'jobs.job' AND object_pk = ? ORDER BY id DESC",
        str(job_id),
    )[:1]
    assert verb == "update"


def test_the_server_starts_its_worker_again_when_it_dies(tmp_path: Path, monkeypatch: Any) -> None:
    """``cordon serve`` keeps one worker beside it: a worker killed is replaced."""
    from cordon.cli import serve

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.sqlite3'}")
    monkeypatch.setenv("CORDON_VAR", str(tmp_path))
    supervisor = serve.Supervisor(every=0.2)
    supervisor.start()
    try:
        first = supervisor.proc
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        deadline = time.monotonic() + 30
        while supervisor.proc is first and time.monotonic() < deadline:
            time.sleep(0.1)
        assert supervisor.proc is not first and supervisor.proc.poll() is None
    finally:
        supervisor.stop()
    assert supervisor.proc.poll() is not None  # stopped with the server


def _gone(pid: int) -> bool:
    """The process has ended (a zombie nobody reaped has ended too)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_a_server_that_ends_leaves_no_worker_behind(tmp_path: Path, how: int) -> None:
    """``cordon serve`` stopped (SIGTERM: systemd, ``kill``, the end of its process group) stops its worker; a
    server killed outright (SIGKILL) too: the worker sees its parent gone and stops."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "CORDON_VAR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "cordon.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = ""
        deadline = time.monotonic() + 120
        while "process" not in line and time.monotonic() < deadline:
            line = server.stdout.readline()
        worker = int(line.rsplit("process ", 1)[1].split(")")[0])
        assert not _gone(worker)
        server.send_signal(how)
        server.wait(timeout=60)
        deadline = time.monotonic() + 60
        while not _gone(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _gone(worker), "the worker outlived its server"
    finally:
        server.kill()
        server.wait()


def test_a_one_at_a_time_kind_starts_once(city: Any, make_user: Any) -> None:
    user = make_user("investigator", city.fengtai)
    first = actions.start(actor=user, kind="tests.steps", one_at_a_time=True)
    with pytest.raises(ValidationError):
        actions.start(actor=user, kind="tests.steps", one_at_a_time=True)
    assert list(Job.objects.values_list("pk", flat=True)) == [first.pk]


def test_every_untraced_case_of_my_area_is_traced_by_one_job_the_same_as_one_by_one(
    city: Any, make_user: Any, client_for: Any, worker: Any
) -> None:
    from cordon.apps.tracing.models import Case

    def report(person: Any) -> Any:
        return tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=person,
                onset_date=timezone.localdate() - dt.timedelta(days=1),
                sampled_at=timezone.now(),
                found_by="fever_clinic",
            ),
        )

    fengtai = [report(city.ft_person), report(city.ft_person2)]
    changping = report(city.cp_person)
    client = _english(client_for(make_user("investigator", city.fengtai)))
    page = client.get("/tracing/cases/").content.decode()
    assert 'data-testid="trace-untraced"' in page and "Trace the 2 cases not traced yet" in page

    with worker():
        r = client.post("/tracing/cases/trace-untraced/")
    job = Job.objects.get(pk=int(r["Location"].split("/")[2]))
    assert job.status == Job.Status.DONE, job.error
    assert job.kind == "tracing.trace_untraced" and job.result["traced"] == 2
    assert job.progress.done == job.progress.total == 2
    assert "2 cases traced" in job.result["summary"]
    # The district's cases are traced, the other district's is not (the job reads in the starter's scope).
    assert all(c.traced_at for c in Case.objects.filter(pk__in=[c.pk for c in fengtai]))
    changping.refresh_from_db()
    assert changping.traced_at is None
    # The batch finds what tracing each case alone finds (a re-trace adds nothing new).
    batch = {c.pk: set(Contact.objects.filter(case=c).values_list("person_id", flat=True)) for c in fengtai}
    for c in fengtai:
        again = tracing.trace_case(actor=None, case=c)
        assert again.added == 0 and again.total == len(batch[c.pk])
    assert "Trace the" not in client.get("/tracing/cases/").content.decode()  # nothing left to trace

    # Run again with nothing left: done, saying so, in the language it was started in.
    with worker():
        r = client.post("/tracing/cases/trace-untraced/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    job = Job.objects.get(pk=int(r["Location"].split("/")[2]))
    assert job.status == Job.Status.DONE and job.result["traced"] == 0
