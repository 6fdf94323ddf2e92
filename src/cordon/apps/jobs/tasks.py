"""The one task the queue knows: run job ``job_id`` (what that means is in ``run.py``, joined through
``cordon.core.jobs.execute``). django-tasks stores it (``django_tasks_db`` on the database Cordon already uses)
and a worker (``cordon worker``) picks it up."""

from __future__ import annotations

from django_tasks import task

from cordon.core import jobs


@task()
def run_job(job_id: int) -> None:
    jobs.execute(job_id)
