"""Import and export over the JSON API (token or session)."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from cordon.core.access import AuthedRequest, api
from cordon.core.inputs import NO_NUL
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound

from . import actions, selectors
from .kinds import FORMATS, KINDS

router = Router(tags=["import and export"])


@router.post(
    "/import/{kind}",
    summary="Import a CSV or XLSX file (all or nothing)",
    description=(
        "Send the file as multipart field `file`, or as the raw request body with a `filename` query parameter "
        "(its extension tells CSV from XLSX). 200 with the number created, or 422 with the row-level problems "
        "(row, column, reason); on 422 nothing was written."
    ),
)
@api(Cap.IMPORT)
def import_file(request: AuthedRequest, kind: str) -> JsonResponse:
    if kind not in KINDS:
        raise NotFound
    upload = request.FILES.get("file")
    if upload is not None:
        data, name = upload.read(settings.CORDON_MAX_UPLOAD_BYTES + 1), upload.name or ""
    elif request.content_type in (
        "multipart/form-data",
        "application/json",
        "application/x-www-form-urlencoded",
    ):
        result = actions.ImportResult(kind, error=_("send the file as the multipart field 'file'."))
        return JsonResponse(result.as_dict(), status=422)
    else:
        data, name = request.body, request.GET.get("filename", "")
    result = actions.import_file(actor=request.user, kind=kind, data=data, filename=name)
    return JsonResponse(result.as_dict(), status=200 if result.ok else 422)


@router.get(
    "/export/{kind}",
    summary="Export records in your scope as CSV or XLSX",
    description="`format` is csv (default) or xlsx. National IDs and phones are masked unless your role sees them.",
)
@api(Cap.EXPORT)
@personal_data(via="export")
def export_file(
    request: AuthedRequest, kind: str, format: str = Query("csv", max_length=4, pattern=NO_NUL)
) -> FileResponse:
    if kind not in KINDS or format not in FORMATS:
        raise NotFound
    found = selectors.export_file(request.user, kind, format)
    return FileResponse(
        found.file, as_attachment=True, filename=found.filename, content_type=found.content_type
    )
