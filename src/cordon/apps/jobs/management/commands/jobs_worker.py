"""``cordon worker``: django-tasks' database worker, plus a reaper that fails jobs whose worker was killed."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection
from django_tasks_db.management.commands.db_worker import Command as DbWorker

from cordon.apps.jobs import actions
from cordon.core import periodic

log = logging.getLogger("cordon.jobs")


def stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=float(getattr(settings, "CORDON_JOB_STALE_SECONDS", 120)))


def reap_now() -> list[int]:
    try:
        reaped = actions.reap(stale_after=stale_after())
    except OperationalError:  # SQLite busy: try again at the next round
        return []
    for job_id in reaped:
        log.warning("job %s: its worker stopped; marked failed", job_id)
    return reaped


class Reaper(threading.Thread):
    def __init__(self, every: float) -> None:
        super().__init__(name="job-reaper", daemon=True)
        self.every = every
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.every):
                reap_now()
        finally:
            connection.close()


class Clock(threading.Thread):
    """Runs one periodic task (``cordon.core.periodic``) at the start and then every ``every`` seconds."""

    def __init__(self, task: periodic.Periodic) -> None:
        super().__init__(name=f"periodic-{task.name}", daemon=True)
        self.task = task
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            every = max(1.0, self.task.every())
            while True:
                try:
                    self.task.run()
                except OperationalError:  # SQLite busy: the next round will do
                    log.info("periodic %s skipped: database busy", self.task.name)
                except Exception:  # a failing periodic task is logged and tried again, never kills the worker
                    log.exception("periodic %s failed", self.task.name)
                if self.stopped.wait(every):
                    return
        finally:
            connection.close()


class Command(DbWorker):
    help = "Run background jobs and periodic work (and fail jobs whose worker was killed)"

    def handle(self, *args: Any, **options: Any) -> None:
        reap_now()
        Reaper(every=max(5.0, stale_after().total_seconds() / 4)).start()
        if not options.get("batch"):
            for task in periodic.tasks():
                Clock(task).start()
        super().handle(*args, **options)
