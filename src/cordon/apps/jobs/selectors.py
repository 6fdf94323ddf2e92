"""Reads of jobs: a person sees the jobs they started; an administrator also sees the jobs of everyone at their
level or below it (every job, for an administrator of the city; a district's administrator does not see, cancel
or run again the city's jobs or another district's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet

from cordon.core import jobs
from cordon.core.actors import Actor
from cordon.core.roles import Cap, caps_for
from cordon.core.scoping import NotFound, Scope

from .models import Job


def jobs_for(actor: Actor) -> QuerySet[Job]:
    rows = Job.objects.select_related("progress", "started_by")
    own = Q(started_by_id=actor.pk)
    if Cap.ADMIN not in caps_for(actor.role):
        return rows.filter(own)
    path = Scope.of(actor).path
    if path is None:
        return rows.filter(own)
    below = Q(started_by__jurisdiction__path__startswith=path)
    if path.count("/") == 2:  # the root of the tree: the system's jobs too
        below |= Q(started_by__isnull=True)
    return rows.filter(own | below)


def get_job_for(actor: Actor, job_id: int) -> Job:
    job = jobs_for(actor).filter(pk=job_id).first()
    if job is None:
        raise NotFound(job_id)
    return job


def file_of_job_for(actor: Actor, job_id: int) -> tuple[Job, Mapping[str, Any]]:
    """A job's result file, for download: only by the person who started the job (an administrator who sees
    the job does not download what another person exported); NotFound otherwise, or once the file is deleted."""
    job = get_job_for(actor, job_id)
    found = jobs.kept_file(job.result) if job.status == Job.Status.DONE else None
    if found is None or job.started_by_id != actor.pk:
        raise NotFound(job_id)
    return job, found


def running_count_for(actor: Actor) -> int:
    """How many of the jobs this person started are queued or running (the menu's badge; an administrator's
    counts their own too)."""
    active = (Job.Status.QUEUED, Job.Status.RUNNING)
    return Job.objects.filter(started_by_id=actor.pk, status__in=active).count()


def active_of_kind(kind: str) -> Job | None:
    """A job of this kind queued or running (anyone's), for kinds that must not run twice at once."""
    return Job.objects.filter(kind=kind, status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).first()
