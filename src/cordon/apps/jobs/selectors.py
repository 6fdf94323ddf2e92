"""Reads of jobs: a person sees the jobs they started; an administrator sees every job."""

from __future__ import annotations

from django.db.models import QuerySet

from cordon.core.actors import Actor
from cordon.core.roles import Cap, caps_for
from cordon.core.scoping import NotFound

from .models import Job


def jobs_for(actor: Actor) -> QuerySet[Job]:
    rows = Job.objects.select_related("progress", "started_by")
    return rows if Cap.ADMIN in caps_for(actor.role) else rows.filter(started_by_id=actor.pk)


def get_job_for(actor: Actor, job_id: int) -> Job:
    job = jobs_for(actor).filter(pk=job_id).first()
    if job is None:
        raise NotFound(job_id)
    return job


def running_count_for(actor: Actor) -> int:
    """How many of the jobs this person started are queued or running (the menu's badge; an administrator's
    counts their own too)."""
    active = (Job.Status.QUEUED, Job.Status.RUNNING)
    return Job.objects.filter(started_by_id=actor.pk, status__in=active).count()


def active_of_kind(kind: str) -> Job | None:
    """A job of this kind queued or running (anyone's), for kinds that must not run twice at once."""
    return Job.objects.filter(kind=kind, status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).first()
