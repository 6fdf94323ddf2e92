"""Uploaded files kept for the background job that reads them (an import, a batch of scans).

A page saves the upload with ``keep`` under the uploads folder (``CORDON_UPLOAD_DIR``, by default
``var/uploads``) under a random name: never the name the browser sent, which is kept only to be shown and to
tell a format by its suffix. The job gets the stored name in its parameters (``PARAM``); its runner finds the
file with ``kept``. A job kind that carries an upload names ``discard_upload`` as its ``cleanup``, which the
jobs app calls once the job has ended, whichever way (done, failed, cancelled while queued, or its worker
lost).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext

PARAM = "path"  # the job parameter holding the stored name
_NAME = re.compile(r"[0-9a-f]{32}(\.[a-z0-9]{1,10})?")
_SUFFIX = re.compile(r"\.[a-z0-9]{1,10}")


def folder() -> Path:
    return Path(settings.CORDON_UPLOAD_DIR)


def keep(upload: UploadedFile, limit: int | None = None) -> str:
    """Save ``upload`` under a new random name (with the suffix of the browser's name when it is a plain one)
    and return that name. Stops after ``limit + 1`` bytes, so that the reader can still say the file was too
    large without the folder holding more than that."""
    suffix = Path(upload.name or "").suffix.lower()
    name = secrets.token_hex(16) + (suffix if _SUFFIX.fullmatch(suffix) else "")
    target = folder()
    target.mkdir(mode=0o700, parents=True, exist_ok=True)  # personal data waits here: for Cordon's user only
    left = None if limit is None else limit + 1
    with (target / name).open("xb") as out:
        for chunk in upload.chunks():
            if left is not None:
                chunk = chunk[:left]
                left -= len(chunk)
            out.write(chunk)
            if left == 0:
                break
    return name


def path(name: str) -> Path:
    """The stored file of ``name``; ``ValueError`` for anything that is not a name ``keep`` gives."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"not the name of an uploaded file: {name!r}")
    return folder() / name


def kept(params: Mapping[str, Any]) -> Path:
    """The stored file a job's parameters name, for its runner; a refusal a person can act on once it is gone
    (it is deleted when its job ends, so a job run again has no file to read)."""
    name = params.get(PARAM)
    found = path(name) if isinstance(name, str) and _NAME.fullmatch(name) else None
    if found is None or not found.is_file():
        raise ValidationError(
            gettext("The uploaded file is no longer kept (it is deleted when its job ends): upload it again.")
        )
    return found


def discard(name: str) -> None:
    """Delete a stored upload (nothing when it is already gone)."""
    path(name).unlink(missing_ok=True)


def discard_upload(params: Mapping[str, Any]) -> None:
    """A job kind's ``cleanup``: delete the upload its parameters name."""
    name = params.get(PARAM)
    if isinstance(name, str) and _NAME.fullmatch(name):
        discard(name)
