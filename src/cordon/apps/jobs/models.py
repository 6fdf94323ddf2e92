"""A job (who started what, when, and how it ended: audited) and its progress (a derived, often-written row)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cordon.core import jobs
from cordon.core.actions import DERIVED


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINISHED = (Status.DONE, Status.FAILED, Status.CANCELLED)

    kind = models.CharField(_("kind"), max_length=64)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=128, blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)  # of the page it was started from
    task_id = models.CharField(_("queue entry"), max_length=64, blank=True)  # the queue's id, once queued
    retry_of = models.ForeignKey(
        "self", verbose_name=_("run again from"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status"], name="job_status"),
            models.Index(fields=["started_by", "-created_at"], name="job_by_user"),
        ]

    def __str__(self) -> str:
        return f"{self.label} #{self.pk}"

    @property
    def label(self) -> str:
        found = jobs.kind(self.kind)
        return str(found.label) if found else self.kind

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    # In ``result``: the job ended without using up what its kind cleans up after (its uploaded file), which is
    # kept so that it can run again, until it does or ``CORDON_UPLOAD_KEEP_HOURS`` pass (``actions.sweep``).
    KEPT = "kept_for_retry"

    @property
    def runs_again(self) -> bool:
        """Whether "run again" can work: always for a kind with nothing to clean up after; for one that cleans up
        after itself (an upload), while the job's file is kept for it (a job that failed for a lost worker, an
        unexpected error or a cancel; not one done or whose file was refused, nor once its file has gone)."""
        found = jobs.kind(self.kind)
        if found is None:
            return False
        return found.cleanup is None or bool(isinstance(self.result, dict) and self.result.get(self.KEPT))


class JobProgress(models.Model):
    """How far a running job has got, and when its worker last said it was alive. Written up to twice a second
    while a job runs; a cache of the worker's state, not a decision, so not audited (the job's start, end and
    result are)."""

    audit_policy = DERIVED

    job = models.OneToOneField(Job, primary_key=True, on_delete=models.CASCADE, related_name="progress")
    done = models.BigIntegerField(_("done"), default=0)
    total = models.BigIntegerField(_("total"), null=True, blank=True)
    note = models.CharField(_("doing"), max_length=300, blank=True)
    heartbeat_at = models.DateTimeField(_("worker last seen"), null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.done}/{self.total or '?'}"

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return max(0, min(100, round(100 * self.done / self.total)))
