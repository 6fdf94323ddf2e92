"""What the import app contributes: importing an uploaded file (``dataio.import``) and exporting a table of the
register (``dataio.export``) as background jobs."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from cordon.apps.geo import actions as geo_actions
from cordon.core import jobs, reads, uploads
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import Scope

from . import actions, selectors
from .kinds import FORMATS, KINDS

IMPORT = "dataio.import"
EXPORT = "dataio.export"


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
    if kind == "buildings" and result.created:  # the maps' outlines follow the new buildings
        geo_actions.refresh_outlines()
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


def _export_job(progress: jobs.Progress, params: Mapping[str, Any], actor: Actor | None) -> dict[str, Any]:
    """Export a table of the register in the starter's scope, as they see it (masked unless their role sees
    national IDs and phones), to a file only they download from the job's page. The rows are written to a
    temporary file, counted as they go; the file is kept only once whole, so a stop leaves none. The persons
    written are access-logged as read by the starter, in one row, once the file is whole; past the volume limit
    the job fails before it reads anyone."""
    if actor is None:
        raise ValidationError(gettext("An export is started by a person."))
    kind, fmt = str(params.get("kind", "")), str(params.get("format", ""))
    if kind not in KINDS or fmt not in FORMATS:
        raise ValidationError(gettext("Unknown export: %(kind)s.%(fmt)s.") % {"kind": kind, "fmt": fmt})
    refusal = reads.refusal(actor, via="export", route=f"export:{kind}.{fmt}")
    if refusal is not None:
        raise ValidationError(refusal)
    note = gettext("Writing the rows of %(kind)s") % {"kind": KINDS[kind].label}

    def rows(done: int, total: int) -> None:
        progress(done, total, note)

    with tempfile.TemporaryFile() as out:
        count = selectors.write_export(actor, kind, fmt, out, report=rows)
        kept = jobs.result_file(out, selectors.export_filename(kind, fmt), selectors.CONTENT_TYPES[fmt])
    return {
        "summary": ngettext("%(n)d row of %(kind)s exported.", "%(n)d rows of %(kind)s exported.", count)
        % {"n": count, "kind": KINDS[kind].label},
        jobs.FILE: kept,
        "rows": count,
    }


jobs.register(
    jobs.JobKind(
        name=EXPORT,
        label=_("Export a table"),
        run=_export_job,
        may_start=lambda actor: Scope.of(actor).can(Cap.EXPORT),
    )
)
