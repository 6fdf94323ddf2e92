"""``cordon worker``: django-tasks' database worker, plus the periodic work (``cordon.core.periodic``: among it
the reaper that fails jobs whose worker was killed), each on a clock of its own."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import OperationalError, connection
from django_tasks_db.management.commands.db_worker import Command as DbWorker

from cordon.apps.jobs import run
from cordon.core import periodic

log = logging.getLogger("cordon.jobs")


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
        if options.get("batch"):  # run what is queued now, after failing the jobs lost by killed workers
            run.reap_lost()
        else:
            for task in periodic.tasks():
                Clock(task).start()
        super().handle(*args, **options)
