"""Import and export pages: thin views over ``actions`` (import) and ``selectors`` (export)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cordon.apps.jobs import actions as jobs
from cordon.core import uploads
from cordon.core.access import SIGNED_IN, AuthedRequest, page
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import Scope

from . import actions, selectors
from .hooks import IMPORT
from .kinds import FORMATS, KINDS, Kind


def _kinds() -> list[Kind]:
    return list(KINDS.values())


@page(SIGNED_IN)
def index(request: AuthedRequest) -> HttpResponse:
    """What the user may import and export. Needs either capability."""
    scope = Scope.of(request.user)
    if not (scope.can(Cap.IMPORT) or scope.can(Cap.EXPORT)):
        raise PermissionDenied
    return render(
        request,
        "dataio/index.html",
        {"kinds": _kinds(), "can_import": scope.can(Cap.IMPORT), "can_export": scope.can(Cap.EXPORT)},
    )


@page(Cap.IMPORT)
def upload(request: AuthedRequest) -> HttpResponse:
    """The import form. A posted file is kept in the uploads storage and imported by a background job
    (``dataio.import``); the page goes to that job, which shows its progress, then its result or the row
    problems."""
    kind = request.POST.get("kind") or request.GET.get("kind") or "persons"
    if kind not in KINDS:
        kind = "persons"
    context: dict[str, Any] = {"kinds": _kinds(), "kind": KINDS[kind]}
    if request.method != "POST":
        return render(request, "dataio/upload.html", context)
    upload = request.FILES.get("file")
    if upload is None:
        context["result"] = actions.ImportResult(kind, error=_("choose a file to upload."))
        return render(request, "dataio/upload.html", context, status=422)
    stored = uploads.keep(upload, settings.CORDON_MAX_UPLOAD_BYTES)
    params = {"kind": kind, uploads.PARAM: stored, "filename": Path(upload.name or "").name[:200]}
    try:
        job = jobs.start(actor=request.user, kind=IMPORT, params=params)
    except PermissionDenied:
        uploads.discard(stored)
        raise
    return redirect("jobs:detail", job_id=job.pk)


@page(Cap.EXPORT)
@personal_data(via="export")
def export(request: AuthedRequest, kind: str, fmt: str) -> FileResponse:
    if kind not in KINDS or fmt not in FORMATS:
        raise Http404
    found = selectors.export_file(request.user, kind, fmt)
    return FileResponse(
        found.file, as_attachment=True, filename=found.filename, content_type=found.content_type
    )


@page(Cap.IMPORT)
def template(request: AuthedRequest, kind: str) -> HttpResponse:
    if kind not in KINDS:
        raise Http404
    response = HttpResponse(selectors.template_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cordon-{kind}-template.csv"'
    return response
