"""What the import app contributes: importing an uploaded file as a background job (``dataio.import``)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cordon.core import jobs, uploads
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import Scope

from . import actions

IMPORT = "dataio.import"


def _import_job(progress: jobs.Progress, params: Mapping[str, Any], actor: Actor | None) -> dict[str, Any]:
    """The audited import of the uploaded file (``actions.import_file``): every row read and checked, then all
    written in one transaction or none. Row problems fail the job with the import's own report; a stop before
    the write leaves nothing behind. The file is deleted when the job ends (the kind's ``cleanup``)."""
    if actor is None:
        raise ValidationError(gettext("An import is started by a person."))
    kind, filename = str(params.get("kind", "")), str(params.get("filename", ""))
    result = actions.import_file(
        actor=actor, kind=kind, data=uploads.read(params), filename=filename, report=progress
    )
    if not result.ok:
        raise ValidationError(result.describe())
    with contextlib.suppress(jobs.JobCancelled):  # written and committed: a stop asked now comes too late
        progress(result.rows, result.rows)
    return {
        "summary": result.describe(),
        "link": f"{reverse('dataio:upload')}?kind={kind}",
        "kind": kind,
        "filename": filename,
        "rows": result.rows,
        "created": result.created,
    }


jobs.register(
    jobs.JobKind(
        name=IMPORT,
        label=_("Import a file"),
        run=_import_job,
        may_start=lambda actor: Scope.of(actor).can(Cap.IMPORT),
        cleanup=uploads.discard_upload,
    )
)
