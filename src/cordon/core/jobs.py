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

A runner whose result is a file (an export, a batch of PDFs) writes it whole to a temporary file, then keeps it
with ``result_file(data, filename, content_type)`` as its last step and puts what that returns in its result
(``{"file": ...}``): the file is kept with the uploads (``cordon.core.uploads``, under a random name), only the
person who started the job downloads it from the job's page (or ``GET /api/jobs/{id}/file``), and the jobs app
deletes it ``CORDON_JOB_FILE_HOURS`` after the job ended. An API operation that starts a job answers 202 with
``JobStarted``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from django.urls import reverse
from ninja import Schema

from . import uploads
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
    # Refused while a job of this kind is queued or running (the demo's next day), or one the same person
    # started (a simulator run), however it is started: from its page or run again from the job's.
    one_at_a_time: bool = False
    one_per_person: bool = False


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


# --- Results that are files, and the API's answer to a started job -----------------------------------------------

FILE = "file"  # the result key of a kept file: {"name", "filename", "content_type", "size"}


def result_file(data: IO[bytes], filename: str, content_type: str) -> dict[str, Any]:
    """Keep a runner's finished file (``data``, read from its start) in the uploads storage under a random name,
    and return what its result holds of it (``{"file": this}``)."""
    data.seek(0, 2)
    size = data.tell()
    data.seek(0)
    name = uploads.keep_file(data, Path(filename).suffix)
    return {"name": name, "filename": filename, "content_type": content_type, "size": size}


def kept_file(result: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The kept file a job's result names, if it names one."""
    found = result.get(FILE)
    return found if isinstance(found, Mapping) and isinstance(found.get("name"), str) else None


def open_file(found: Mapping[str, Any]) -> IO[bytes]:
    """The kept file of a result (``kept_file``), open for reading; ``FileNotFoundError`` once deleted."""
    return uploads.open_kept(str(found["name"]))  # type: ignore[return-value]


def discard_file(found: Mapping[str, Any]) -> None:
    uploads.discard(str(found["name"]))


class JobStarted(Schema):
    """The answer (202) of an API operation that starts a job: follow ``url`` until its ``status`` is done,
    failed or cancelled."""

    id: int
    status: str
    url: str  # GET this (the API's view of the job) for its progress and result
    page: str  # the job's page in the browser

    @classmethod
    def of(cls, job_id: int, status: str = "queued") -> JobStarted:
        return cls(
            id=job_id,
            status=status,
            url=f"/api/jobs/{job_id}",
            page=reverse("jobs:detail", kwargs={"job_id": job_id}),
        )
