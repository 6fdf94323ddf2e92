"""Jobs whose result is a file (a register export, a batch of quarantine-order PDFs) and the jobs API: the page or
the API starts the job and returns at once; the job counts its rows (or pages), keeps the file whole or not at
all, logs the persons in it as read by the starter, and only the starter downloads it, until it is deleted
after ``CORDON_JOB_FILE_HOURS``. ``GET /api/jobs/{id}`` and ``POST /api/jobs/{id}/cancel`` are scoped as the job
pages are."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.audit.models import AccessLog
from cordon.apps.jobs import actions as jobs
from cordon.apps.jobs import run
from cordon.apps.jobs.models import Job
from cordon.apps.tracing.models import Contact
from test_upload_jobs import _job, _kept

pytestmark = pytest.mark.django_db


def _rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_an_export_counts_its_rows_and_only_its_starter_downloads_the_file(
    city: Any, make_user: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    settings.CORDON_JOB_PROGRESS_SECONDS = 0
    commander = make_user("district_commander", city.fengtai)
    client = client_for(commander)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    # Queued: the request returns at once with the job's page; nothing read or kept yet.
    queued = _job(client.post("/data/export/persons.csv"))
    assert (queued.kind, queued.params, queued.status) == (
        "dataio.export",
        {"kind": "persons", "format": "csv"},
        Job.Status.QUEUED,
    )
    assert not AccessLog.objects.exists() and _kept(settings) == []
    jobs.cancel(actor=commander, job=queued)

    with worker():
        job = _job(client.post("/data/export/persons.csv"))
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.progress.done == job.progress.total == 2 and job.result["rows"] == 2
    assert job.result["summary"] == "2 rows of Persons exported."
    (kept,) = _kept(settings)
    assert kept.name == job.result["file"]["name"] and "persons" not in kept.name  # a random name
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-testid="job-file"' in page and f'href="/jobs/{job.pk}/file/"' in page
    assert job.result["file"]["filename"] in page

    download = client.get(f"/jobs/{job.pk}/file/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert {r[0] for r in _rows(download)[1:]} == {"张伟", "王芳"}
    # One access-log row, the starter's, written by the job; the download reads no one again.
    (row,) = AccessLog.objects.all()
    assert (row.actor, row.via, set(row.person_ids())) == (
        commander,
        "export",
        {city.ft_person.pk, city.ft_person2.pk},
    )

    # The city's administrator sees the job but does not download another person's export.
    admin = client_for(make_user("administrator", city.city))
    shown = admin.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="job-file-theirs"' in shown and 'data-testid="job-file"' not in shown
    assert admin.get(f"/jobs/{job.pk}/file/").status_code == 404
    assert admin.get(f"/api/jobs/{job.pk}/file").status_code == 404
    assert admin.get(f"/api/jobs/{job.pk}").json()["file"] == f"/api/jobs/{job.pk}/file"
    # Another district's commander does not even see it.
    other = client_for(make_user("district_commander", city.changping))
    assert other.get(f"/jobs/{job.pk}/").status_code == 404
    assert other.get(f"/jobs/{job.pk}/file/").status_code == 404
    assert other.get(f"/api/jobs/{job.pk}").status_code == 404

    # The API's view of the same job, for the starter: progress, summary, file.
    seen = client.get(f"/api/jobs/{job.pk}").json()
    assert (seen["status"], seen["done"], seen["total"], seen["started_by"]) == (
        "done",
        2,
        2,
        commander.username,
    )
    assert seen["result"] == {"summary": job.result["summary"], "rows": 2} and seen["error"] == ""
    api_download = client.get(seen["file"])
    assert api_download.status_code == 200 and len(_rows(api_download)) == 3
    assert AccessLog.objects.count() == 1


def test_an_export_started_over_the_api_and_cancelled_leaves_no_file_and_no_log(
    city: Any, make_user: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    officer = make_user("street_officer", city.beigong)
    client = client_for(officer)
    with worker():
        started = client.post("/api/export/persons?format=xlsx")
        assert started.status_code == 202, started.content
        job_id = started.json()["id"]
        # Asked to stop as it starts running (the worker claims a queued job, so set on the row directly).
        Job.objects.filter(pk=job_id).update(cancel_requested=True)
    seen = client.get(f"/api/jobs/{job_id}").json()
    assert seen["status"] == "cancelled" and seen["file"] is None
    assert _kept(settings) == [] and not AccessLog.objects.exists()
    assert client.get(f"/api/jobs/{job_id}/file").status_code == 404
    # Nothing to cancel any more: said, and nothing changed.
    again = client.post(f"/api/jobs/{job_id}/cancel", HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 422 and "already finished" in again.json()["errors"]["__all__"]
    # Unknown kinds and formats are refused at once, nothing queued.
    assert client.post("/api/export/planets").status_code == 404
    assert client.post("/api/export/persons?format=pdf").status_code == 404
    assert Job.objects.count() == 1


def test_a_job_is_cancelled_over_the_api_by_its_starter_only(
    city: Any, make_user: Any, client_for: Any
) -> None:
    officer = make_user("street_officer", city.beigong)
    started = client_for(officer).post("/api/export/persons")
    job_id = started.json()["id"]
    assert started.json()["page"] == f"/jobs/{job_id}/"
    stranger = client_for(make_user("street_officer", city.beigong))
    assert stranger.post(f"/api/jobs/{job_id}/cancel").status_code == 404
    assert Job.objects.get(pk=job_id).status == Job.Status.QUEUED
    cancelled = client_for(officer).post(f"/api/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_past_the_volume_limit_an_export_is_refused_at_once_or_fails_its_job(
    city: Any, make_user: Any, client_for: Any, worker: Any, exported: Any, settings: Any
) -> None:
    settings.CORDON_PII_READ_LIMIT = 2
    officer = make_user("street_officer", city.beigong)
    client = client_for(officer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert exported(client, "/data/export/persons.csv").status_code == 200  # two persons: at the limit now
    # The page and the API refuse before a job is started.
    assert client.post("/data/export/persons.csv").status_code == 429
    assert client.post("/api/export/persons").status_code == 429
    assert Job.objects.count() == 1
    # A job queued before the limit was reached checks it again when it runs: failed, saying why.
    settings.CORDON_PII_READ_LIMIT = 100
    with worker():
        job = _job(client.post("/data/export/persons.csv"))
        settings.CORDON_PII_READ_LIMIT = 2
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "the most allowed" in job.error
    assert AccessLog.objects.count() == 1 and len(_kept(settings)) == 1  # the first export's file only
    assert 'role="alert"' in client.get(f"/jobs/{job.pk}/").content.decode()


def test_result_files_are_deleted_some_hours_after_their_job_ended(
    city: Any,
    make_user: Any,
    client_for: Any,
    exported: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CORDON_JOB_FILE_HOURS = 24
    commander = make_user("district_commander", city.fengtai)
    client = client_for(commander)
    assert exported(client, "/data/export/persons.csv").status_code == 200
    job = Job.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert run.expire_files() == []  # not yet
    assert len(_kept(settings)) == 1
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - dt.timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        assert run.expire_files() == [job.pk]
    job.refresh_from_db()
    assert _kept(settings) == [] and job.result["file_deleted"] and "file" not in job.result
    assert client.get(f"/jobs/{job.pk}/file/").status_code == 404
    page = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The file was deleted 24 hours after the job ended" in page and 'data-testid="job-again"' in page
    assert client.get(f"/api/jobs/{job.pk}").json()["file"] is None
    zh = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "24 小时" in zh


def test_a_trace_over_the_api_is_a_job_and_a_case_out_of_scope_is_refused_at_once(
    city: Any, make_user: Any, client_for: Any, fengtai_case: Any, api_job: Any
) -> None:
    case = fengtai_case()
    investigator = client_for(make_user("investigator", city.fengtai))
    job = api_job(investigator, f"/api/cases/{case.pk}/trace")
    assert job["kind"] == "tracing.trace_case" and job["result"]["total"] == Contact.objects.count() > 0
    outsider = client_for(make_user("investigator", city.changping))
    assert outsider.post(f"/api/cases/{case.pk}/trace").status_code == 404
    assert Job.objects.count() == 1
