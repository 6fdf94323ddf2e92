"""What the jobs app contributes: the executor the queued task runs (``cordon.core.jobs.execute``), the reaper
and the sweep of files kept to run jobs again that every worker runs on a clock (``run.reap_lost``,
``run.sweep_kept``), and the worker check an administrator runs to see that
workers pick jobs up and report progress."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cordon.core import badges, jobs, periodic
from cordon.core.actors import Actor
from cordon.core.roles import Cap, caps_for

from . import run, selectors

jobs.set_executor(run.execute)
periodic.register(
    periodic.Periodic(
        "jobs.reap", lambda: max(5.0, float(settings.CORDON_JOB_STALE_SECONDS) / 4), run.reap_lost
    )
)
periodic.register(periodic.Periodic("jobs.sweep", lambda: 300.0, run.sweep_kept))

CHECK_MAX_SECONDS = 600


def _worker_check(progress: jobs.Progress, params: Mapping[str, Any], actor: Actor | None) -> dict[str, Any]:
    """Count the seconds of ``params["seconds"]`` (1 to 600), reporting each: shows that a worker runs jobs,
    reports progress and stops on a cancel. Writes nothing else."""
    seconds = max(1, min(CHECK_MAX_SECONDS, int(params.get("seconds", 5))))
    for second in range(seconds):
        progress(second, seconds, gettext("Second %(n)d of %(total)d") % {"n": second + 1, "total": seconds})
        time.sleep(1)
    progress(seconds, seconds)
    return {"summary": gettext("A worker ran for %(n)d seconds and reported each.") % {"n": seconds}}


jobs.register(
    jobs.JobKind(
        name="jobs.worker_check",
        label=_("Worker check"),
        run=_worker_check,
        may_start=lambda actor: bool(Cap.ADMIN in caps_for(actor.role)),
    )
)

badges.register(
    badges.Badge(
        "jobs", _("%(n)d of your jobs queued or running"), None, selectors.running_count_for, order=90
    )
)
