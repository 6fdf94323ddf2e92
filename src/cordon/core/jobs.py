"""Long work runs as a job, in a worker, never inside a web request.

An app registers each kind of long work it offers in its ``hooks.py``::

    jobs.register(JobKind(
        name="tracing.retrace",
        label=gettext_lazy("Trace a case's contacts"),
        run=retrace_job,                        # run(progress, params, actor) -> result dict
        may_start=lambda actor: actor.can(Cap.TRACE),
    ))

and starts one with ``cordon.apps.jobs.actions.start(actor=..., kind="tracing.retrace", params={...})``. The jobs
app records the job (who, what, when; audited), queues it for a worker (django-tasks), and shows it in the
browser with a progress bar, its result or its error, and a cancel button.

A runner reports with ``progress(done, total, note)``: cheap to call often (it writes at most twice a second) and
the place where a cancel request takes effect (it raises ``JobCancelled``). A runner commits its writes in
steps that are each complete (each step an action), or all at once: a job stopped half way, by a cancel or a
killed worker, leaves only whole steps behind, and the job page says how far it got.

A runner returns its result as a dict of plain values: ``summary`` (one sentence for the person who started it,
in their language: runners run under it) and ``link`` (a page to open the result), when it has them.

A kind whose parameters hold something that must not outlive the job (an uploaded file: see
``cordon.core.uploads``) names a ``cleanup(params)``. The jobs app calls it as soon as the job is done or its
runner refused (raised ``ValidationError``: running again would refuse the same). A job that ended otherwise
(cancelled, queued or running; an unexpected error; its worker lost and reaped) keeps its file so that "Run
again" can read it: the new job takes it over, or the jobs app's sweep calls ``cleanup`` once
``CORDON_UPLOAD_KEEP_HOURS`` have passed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .actors import Actor


class JobCancelled(Exception):
    """Raised by ``progress()`` when someone asked the job to stop."""


class Progress(Protocol):
    def __call__(self, done: int, total: int | None = None, note: str = "") -> None: ...


Runner = Callable[[Progress, Mapping[str, Any], Actor | None], Mapping[str, Any] | None]


@dataclass(frozen=True)
class JobKind:
    name: str  # "<app>.<verb>", stored on every job of this kind
    label: Any  # a (lazy) translated label: "Trace a case's contacts"
    run: Runner
    may_start: Callable[[Actor], bool]
    cleanup: Callable[[Mapping[str, Any]], None] | None = None  # once the job is over (see above)


def clean_up(name: str, params: Mapping[str, Any]) -> None:
    """Run the ``cleanup`` of kind ``name`` (if it has one) for a job that has ended."""
    found = _kinds.get(name)
    if found is not None and found.cleanup is not None:
        found.cleanup(params)


_kinds: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    if kind.name in _kinds and _kinds[kind.name] != kind:
        raise ValueError(f"Job kind {kind.name!r} is registered twice.")
    _kinds[kind.name] = kind
    return kind


def kind(name: str) -> JobKind | None:
    return _kinds.get(name)


def kinds() -> dict[str, JobKind]:
    return dict(_kinds)


# --- How a worker runs a job ----------------------------------------------------------------------------------
# The queued task (``cordon.apps.jobs.tasks.run_job``) sits below the jobs app's actions, which queue it; what it
# runs (claim, the runner, progress, finish: ``cordon.apps.jobs.run``) uses those actions. The jobs app joins the
# two here when it starts, instead of through an import inside a function.

_executor: list[Callable[[int], None]] = []


def set_executor(execute: Callable[[int], None]) -> None:
    _executor[:] = [execute]


def execute(job_id: int) -> None:
    if not _executor:
        raise RuntimeError(f"The jobs app is not installed: no one can run job {job_id}.")
    _executor[0](job_id)
