"""Uploads run as background jobs: a batch of check-in scans posted on the scans page is kept under the uploads
folder, loaded by a job (progress per date written, a summary in the starter's language, a link back) and
deleted when the job ends, whichever way: done, refused, cancelled while queued, or its worker lost. A role
that may not load scans is refused before anything is kept or queued. (The register import's job is tested in
tests/test_dataio.py.)"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cordon.apps.jobs import actions as jobs
from cordon.apps.jobs.models import Job, JobProgress
from cordon.apps.tracing import actions
from cordon.apps.tracing.models import ScanBatch
from cordon.apps.tracing.store import scan_store
from cordon.core import uploads
from cordon.core.jobs import JobCancelled

pytestmark = pytest.mark.django_db


def _scans(city: Any, days: int = 2) -> bytes:
    """One stay of 张伟 at the hotel on each of the last ``days`` days."""
    start = timezone.localdate() - dt.timedelta(days=days)
    lines = [
        f"{city.ft_person.pk},{city.ft_venue.pk},{start + dt.timedelta(days=d)} 08:00,"
        f"{start + dt.timedelta(days=d)} 09:00"
        for d in range(days)
    ]
    return ("person_id,venue_id,time_in,time_out\n" + "\n".join(lines) + "\n").encode()


def _post(client: Any, data: bytes, name: str = "hotel.csv") -> Any:
    return client.post("/tracing/scans/", {"file": SimpleUploadedFile(name, data)}, HTTP_ACCEPT_LANGUAGE="en")


def _kept(settings: Any) -> list[Path]:
    folder = Path(settings.CORDON_UPLOAD_DIR)
    return sorted(folder.iterdir()) if folder.exists() else []


def _job(response: Any) -> Job:
    assert response.status_code == 302, response.content.decode()
    return Job.objects.get(pk=int(response["Location"].split("/")[2]))


def test_scans_are_loaded_by_a_job_with_progress_per_date(
    city: Any, make_user: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    settings.CORDON_JOB_PROGRESS_SECONDS = 0
    admin = make_user("administrator", city.city)
    client = client_for(admin)

    # Queued: the request returns at once; the file is kept under a random name, nothing is loaded yet.
    queued = _job(_post(client, _scans(city)))
    kept = _kept(settings)
    assert queued.kind == "tracing.ingest_scans" and queued.status == Job.Status.QUEUED
    assert len(kept) == 1 and kept[0].name == queued.params["path"] and "hotel" not in kept[0].name
    assert scan_store().count() == 0 and not ScanBatch.objects.exists()

    with worker():
        jobs.cancel(actor=admin, job=queued)  # (its file is kept to run again: tested below)
        job = _job(_post(client, _scans(city)))
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert (job.result["added"], job.result["rows_read"]) == (2, 2)
    assert job.progress.done == job.progress.total == 2  # two dates written
    assert scan_store().count() == 2
    batch = ScanBatch.objects.get()
    assert (batch.filename, batch.source, batch.actor, batch.added) == ("hotel.csv", "job", admin, 2)
    assert [k.name for k in _kept(settings)] == [queued.params["path"]]  # only the cancelled job's
    page = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "2 new scans of 2 rows read; 0 already in the store." in page and 'href="/tracing/scans/"' in page
    zh = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已完成" in zh

    # The same file again: the store knows it; said in the starter's language (Chinese this time).
    client.cookies["django_language"] = "zh-hans"
    with worker():
        again = _job(client.post("/tracing/scans/", {"file": SimpleUploadedFile("hotel.csv", _scans(city))}))
    again.refresh_from_db()
    assert again.language == "zh-hans" and "hotel.csv 已导入过" in again.result["summary"]
    assert scan_store().count() == 2 and [k.name for k in _kept(settings)] == [queued.params["path"]]


def test_a_refused_scan_file_fails_its_job_under_its_own_name_and_is_deleted(
    city: Any, make_user: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    client = client_for(make_user("administrator", city.city))
    with worker():
        job = _job(_post(client, b"person_id,time_in\n1,2026-12-01 08:00\n", "monday.csv"))
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("The file lacks required columns: venue_id (or venue_code), time_out")
    assert not ScanBatch.objects.exists() and _kept(settings) == []
    # Unreadable bytes, quoted in the store's reason: a NUL among them is kept out of the job's error (PostgreSQL
    # refuses it in text, which left the job running for ever).
    with worker():
        job = _job(_post(client, b"person_id,venue_id,time_in,time_out\n\x00\xff\xfe", "monday.csv"))
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and _kept(settings) == []
    assert "monday.csv" in job.error and job.params["path"] not in job.error  # the name it was sent under


def test_a_file_whose_name_tells_no_format_is_refused_before_it_is_kept(
    city: Any, make_user: Any, client_for: Any, settings: Any
) -> None:
    client = client_for(make_user("administrator", city.city))
    response = _post(client, _scans(city), "scans.txt")
    assert response.status_code == 422
    assert "Cannot tell the format of scans.txt from its name" in response.content.decode()
    assert not Job.objects.exists() and _kept(settings) == []
    # No file at all, on the scans page and on the import page: said at once, in the page's language.
    nothing = client.post("/tracing/scans/", {}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert nothing.status_code == 422 and "请选择要上传的文件" in nothing.content.decode()
    nothing = client.post("/data/import/", {"kind": "persons"}, HTTP_ACCEPT_LANGUAGE="en")
    assert nothing.status_code == 422 and "Choose a file to upload." in nothing.content.decode()
    assert not Job.objects.exists() and _kept(settings) == []


def test_a_role_that_may_not_load_scans_is_refused_before_anything_is_kept(
    city: Any, make_user: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    investigator = client_for(make_user("investigator", city.fengtai))
    with worker():
        response = _post(investigator, _scans(city))
    assert response.status_code == 403
    assert not Job.objects.exists() and _kept(settings) == [] and scan_store().count() == 0


def test_a_queued_scan_job_cancelled_keeps_its_file_to_run_again(
    city: Any, make_user: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    """A cancel loads nothing and keeps the file: the job page offers "Run again", which loads it and then
    deletes it; the cancelled job no longer offers to run again (its file went to the new job)."""
    client = client_for(make_user("administrator", city.city))
    job = _job(_post(client, _scans(city)))
    assert len(_kept(settings)) == 1
    with worker():
        assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.started_at is None and job.runs_again
    assert len(_kept(settings)) == 1 and scan_store().count() == 0 and not ScanBatch.objects.exists()
    page = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="job-again"' in page and "upload the file again" not in page
    with worker():
        retry = _job(client.post(f"/jobs/{job.pk}/again/"))
    retry.refresh_from_db()
    job.refresh_from_db()
    assert retry.status == Job.Status.DONE and retry.retry_of == job and scan_store().count() == 2
    assert _kept(settings) == [] and not job.runs_again and not retry.runs_again


@pytest.mark.db_clock
def test_a_reaped_scan_job_keeps_its_file_until_the_sweep(
    city: Any, make_user: Any, client_for: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A job whose worker was lost keeps its file to run again for ``CORDON_UPLOAD_KEEP_HOURS``; then the sweep
    deletes it, and the page says to upload the file again."""
    client = client_for(make_user("administrator", city.city))
    job = _job(_post(client, _scans(city)))
    jobs.claim(job_id=job.pk, worker="elsewhere:1")
    JobProgress.objects.filter(job=job).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.reap(stale_after=dt.timedelta(minutes=2)) == [job.pk]
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.runs_again and len(_kept(settings)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sweep(keep_for=dt.timedelta(hours=24)) == []  # not yet
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - dt.timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sweep(keep_for=dt.timedelta(hours=24)) == [job.pk]
    job.refresh_from_db()
    assert _kept(settings) == [] and not job.runs_again
    page = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="job-again"' not in page and "upload the file again" in page


def test_an_ingest_stopped_between_dates_leaves_no_scans_and_no_batch(city: Any, make_user: Any) -> None:
    """What a cancel does to the scans job: ``progress`` raises between two dates; the store takes the batch's
    files out again and no batch is recorded."""
    admin = make_user("administrator", city.city)
    folder = Path(scan_store().root).parent / "in"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scans.csv"
    path.write_bytes(_scans(city, days=3))

    def stop_after_the_first_date(done: int, total: int) -> None:
        if done == 1:
            raise JobCancelled

    with pytest.raises(JobCancelled):
        actions.ingest_scans(actor=admin, source_file=path, progress=stop_after_the_first_date)
    assert scan_store().count() == 0 and not ScanBatch.objects.exists()


def test_a_kept_upload_is_named_at_random_inside_the_uploads_folder(settings: Any) -> None:
    """The browser's name gives at most a plain suffix; the path is never taken from it."""
    name = uploads.keep(SimpleUploadedFile("../../etc/passwd.CSV", b"x" * 100), limit=10)
    kept = uploads.path(name)
    assert kept.parent == Path(settings.CORDON_UPLOAD_DIR) and kept.suffix == ".csv" and "passwd" not in name
    assert kept.stat().st_size == 11  # stops one byte past the limit: the import still says "too large"
    odd = uploads.keep(SimpleUploadedFile("scans.c$v", b"1"))
    assert "." not in odd and uploads.path(odd).read_bytes() == b"1"
    for forged in ("../secret", f"{name}/x", "", "/etc/passwd"):
        with pytest.raises(ValueError):
            uploads.path(forged)
    assert (kept.stat().st_mode & 0o777, kept.parent.stat().st_mode & 0o777) == (
        0o600,
        0o700,
    )  # personal data
    uploads.discard_upload({"path": name})
    uploads.discard_upload({"path": "../secret"})  # not a kept name: nothing is touched
    assert not kept.exists()


def test_uploads_go_through_the_named_storage_so_a_worker_elsewhere_reads_them(
    city: Any, make_user: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    """With the uploads storage pointed at storage with no paths on this machine (as an object store through
    django-storages would be; here Django's in-memory storage), the scans page keeps its file there, the job
    reads it from there and deletes it there; nothing lands in the uploads folder. A job's own files
    (``keep_file``) go there too."""
    import io

    settings.STORAGES = {
        **settings.STORAGES,
        "uploads": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    store = uploads.storage()
    admin = make_user("administrator", city.city)
    with worker():
        job = _job(_post(client_for(admin), _scans(city)))
        assert store.exists(job.params["path"])
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert scan_store().count() == 2 and not store.exists(job.params["path"]) and _kept(settings) == []
    with pytest.raises(NotImplementedError):
        uploads.path(job.params["path"])

    made = uploads.keep_file(io.BytesIO(b"a,b\n1,2\n"), ".CSV")
    assert made.endswith(".csv") and uploads.exists(made) and not uploads.exists("../" + made)
    with uploads.open_kept(made) as f:
        assert f.read() == b"a,b\n1,2\n"
    params = {uploads.PARAM: made}
    assert uploads.read(params) == b"a,b\n1,2\n"
    with uploads.local_copy(params) as copy:
        assert copy.read_bytes() == b"a,b\n1,2\n"
    assert not copy.exists()  # the temporary copy is gone
    uploads.discard_upload(params)
    assert not uploads.exists(made)
    with pytest.raises(ValidationError):
        uploads.read(params)


@pytest.mark.parametrize("middleware", [True, False])
def test_a_scan_file_over_the_upload_limit_is_refused_before_it_is_kept(
    middleware: bool, city: Any, make_user: Any, client_for: Any, settings: Any
) -> None:
    """``CORDON_MAX_UPLOAD_BYTES`` bounds the scans page as every request (413 before the body is read) and,
    should a body come without its length, the page itself."""
    settings.CORDON_MAX_UPLOAD_BYTES = 1000
    if not middleware:
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "RequestSizeLimit" not in m]
    client = client_for(make_user("administrator", city.city))
    r = _post(client, _scans(city, days=40))
    assert r.status_code == 413 and "the limit is 0 MB" in r.content.decode()
    assert not Job.objects.exists() and _kept(settings) == []
    assert _job(_post(client, _scans(city, days=2))).kind == "tracing.ingest_scans"  # under it: queued
