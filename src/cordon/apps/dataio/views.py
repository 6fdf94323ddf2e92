"""Import and export pages: thin views over ``services``."""

from __future__ import annotations

import tempfile
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.accounts.roles import Cap
from cordon.apps.accounts.scoping import Scope
from cordon.site.access import SIGNED_IN, page

from . import services


def _kinds() -> list[services.Kind]:
    return list(services.KINDS.values())


@page(SIGNED_IN)
def index(request: HttpRequest) -> HttpResponse:
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
def upload(request: HttpRequest) -> HttpResponse:
    kind = request.POST.get("kind") or request.GET.get("kind") or "persons"
    if kind not in services.KINDS:
        kind = "persons"
    context: dict[str, Any] = {"kinds": _kinds(), "kind": services.KINDS[kind]}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["result"] = services.ImportResult(kind, error=_("choose a file to upload."))
        else:
            data = upload.read(services.settings.CORDON_MAX_UPLOAD_BYTES + 1)
            context["result"] = services.import_file(request.user, kind, data, upload.name or "")
            context["filename"] = upload.name
        status = 200 if context["result"].ok else 422
    return render(request, "dataio/upload.html", context, status=status)


@page(Cap.EXPORT)
def export(request: HttpRequest, kind: str, fmt: str) -> FileResponse:
    if kind not in services.KINDS or fmt not in services.FORMATS:
        raise Http404
    return export_response(request.user, kind, fmt)


def export_response(user: Any, kind: str, fmt: str) -> FileResponse:
    """Spool the export to a temporary file (on disk past 8 MB) and stream it."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (closed by FileResponse)
    services.write_export(user, kind, fmt, spool)  # type: ignore[arg-type]
    spool.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return FileResponse(
        spool, as_attachment=True, filename=f"cordon-{kind}-{stamp}.{fmt}", content_type=content_type
    )


@page(Cap.IMPORT)
def template(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in services.KINDS:
        raise Http404
    response = HttpResponse(services.template_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cordon-{kind}-template.csv"'
    return response
