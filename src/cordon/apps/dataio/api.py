"""Import and export over the JSON API (token or session): each starts a background job and answers 202 with
its id and ``/api/jobs/{id}`` (the jobs app's API), which says how far it got and, once it has ended, its result
or error (an export's file is downloaded from ``/api/jobs/{id}/file`` by the caller alone).

No ``from __future__ import annotations`` here: ninja reads the operations' annotations through the access
decorator's wrapper, whose module does not know these names."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from cordon.apps.jobs import actions as jobs
from cordon.core import uploads
from cordon.core.access import AuthedRequest, api
from cordon.core.inputs import NO_NUL
from cordon.core.jobs import JobStarted
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound

from .hooks import EXPORT, IMPORT
from .kinds import FORMATS, KINDS

router = Router(tags=["import and export"])


@router.post(
    "/import/{kind}",
    response={202: JobStarted},
    summary="Import a CSV or XLSX file (all or nothing), as a background job",
    description=(
        "Send the file as multipart field `file`, or as the raw request body with a `filename` query parameter "
        "(its extension tells CSV from XLSX). 202 with the job that imports it: `GET /api/jobs/{id}` until it "
        "is done (its summary says how many were created) or failed (its error lists the row-level problems: "
        "row, column, reason; then nothing was written). 422 at once when no file was sent."
    ),
)
@api(Cap.IMPORT)
def import_file(request: AuthedRequest, kind: str) -> Status[JobStarted]:
    if kind not in KINDS:
        raise NotFound
    upload: UploadedFile | None = request.FILES.get("file")
    if upload is None:
        if request.content_type in (
            "multipart/form-data",
            "application/json",
            "application/x-www-form-urlencoded",
        ):
            raise ValidationError({"file": _("send the file as the multipart field 'file'.")})
        upload = SimpleUploadedFile(Path(request.GET.get("filename", "")).name, request.body)
    stored = uploads.keep(upload, settings.CORDON_MAX_UPLOAD_BYTES)
    params = {"kind": kind, uploads.PARAM: stored, "filename": Path(upload.name or "").name[:200]}
    try:
        job = jobs.start(actor=request.user, kind=IMPORT, params=params, source="api")
    except PermissionDenied:
        uploads.discard(stored)
        raise
    return Status(202, JobStarted.of(job.pk))


@router.post(
    "/export/{kind}",
    response={202: JobStarted},
    summary="Export records in your scope as CSV or XLSX, as a background job",
    description=(
        "`format` is csv (default) or xlsx. National IDs and phones are masked unless your role sees them. "
        "202 with the job that writes the file: `GET /api/jobs/{id}` shows the rows written of the total; once "
        "it is done, its `file` (`/api/jobs/{id}/file`) is yours alone to download, for some hours "
        "(CORDON_JOB_FILE_HOURS). The persons exported are access-logged as read by you; past the volume limit "
        "the call is refused with 429."
    ),
)
@api(Cap.EXPORT)
@personal_data(via="export")  # reads no one here: the volume limit's refusal before a job is started
def export_file(
    request: AuthedRequest, kind: str, format: str = Query("csv", max_length=4, pattern=NO_NUL)
) -> Status[JobStarted]:
    if kind not in KINDS or format not in FORMATS:
        raise NotFound
    job = jobs.start(actor=request.user, kind=EXPORT, params={"kind": kind, "format": format}, source="api")
    return Status(202, JobStarted.of(job.pk))
