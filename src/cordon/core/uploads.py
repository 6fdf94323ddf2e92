"""Uploaded files kept for the background job that reads them (an import, a batch of scans).

A page saves the upload with ``keep`` in the uploads storage under a random name: never the name the browser
sent, which is kept only to be shown and to tell a format by its suffix. The job gets the stored name in its
parameters (``PARAM``); its runner reads the file with ``read`` or ``local_copy`` (or ``kept``, the file's path,
where the storage has paths). A job kind that carries an upload names ``discard_upload`` as its ``cleanup``,
which the jobs app calls once the job is over: at once when it is done or its file was refused; after a cancel,
an unexpected error or a lost worker, only when it has been run again (the new job takes the file over) or
``CORDON_UPLOAD_KEEP_HOURS`` have passed (``cordon.core.jobs``).

The uploads storage is Django's named storage ``STORAGES["uploads"]`` (``STORAGE``): by default a folder on
this machine (``CORDON_UPLOAD_DIR``, ``var/uploads``); a deployment whose workers run on other machines than
its web servers points it at storage they all reach (``CORDON_UPLOAD_STORAGE``: an object store through
django-storages, or a shared mount; docs/operations.md).
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext

PARAM = "path"  # the job parameter holding the stored name
STORAGE = "uploads"  # the name of the storage in ``settings.STORAGES``
_NAME = re.compile(r"[0-9a-f]{32}(\.[a-z0-9]{1,10})?")
_SUFFIX = re.compile(r"\.[a-z0-9]{1,10}")
_SPOOL = 1024 * 1024  # bytes of an upload held in memory on its way to the storage


def storage() -> Storage:
    """The uploads storage (``STORAGES["uploads"]``)."""
    return storages[STORAGE]


def folder() -> Path:
    """The uploads folder of the default, file-system storage (``CORDON_UPLOAD_DIR``); another storage has none
    of its own here."""
    return Path(settings.CORDON_UPLOAD_DIR)


def _new_name(suffix: str) -> str:
    suffix = suffix.lower()
    return secrets.token_hex(16) + (suffix if _SUFFIX.fullmatch(suffix) else "")


def _save(chunks: Iterable[bytes], suffix: str, limit: int | None) -> str:
    """Store ``chunks`` under a new random name (stopping ``limit + 1`` bytes in) and return the name."""
    left = None if limit is None else limit + 1
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool:
        for chunk in chunks:
            if left is not None:
                chunk = chunk[:left]
                left -= len(chunk)
            spool.write(chunk)
            if left == 0:
                break
        spool.seek(0)
        store = storage()
        name = _new_name(suffix)
        while store.exists(name):  # 128 random bits: never, but never overwrite another job's file
            name = _new_name(suffix)
        saved = store.save(name, File(spool, name=name))
    if saved != name:  # a storage that renames would break the link to the job's parameters
        store.delete(saved)
        raise RuntimeError(f"the uploads storage stored {name!r} as {saved!r}")
    return name


def keep(upload: UploadedFile, limit: int | None = None) -> str:
    """Save ``upload`` under a new random name (with the suffix of the browser's name when it is a plain one)
    and return that name. Stops after ``limit + 1`` bytes, so that the reader can still say the file was too
    large without the storage holding more than that."""
    return _save(upload.chunks(), Path(upload.name or "").suffix, limit)


def keep_file(content: IO[bytes], suffix: str = "") -> str:
    """Save a file a job made (read from ``content``'s current position) under a new random name with
    ``suffix`` (".csv"; dropped unless plain), and return that name; ``open_kept`` reads it, ``discard`` deletes it."""
    return _save(iter(lambda: content.read(64 * 1024), b""), suffix, None)


def too_large(upload: UploadedFile) -> str | None:
    """The refusal of an upload over ``CORDON_MAX_UPLOAD_BYTES`` (the request size limit's own words), or
    ``None``: a page that keeps an upload whole asks before ``keep`` (the limit on requests,
    ``RequestSizeLimitMiddleware``, is asked first; this holds where a body arrives without its length)."""
    limit = int(settings.CORDON_MAX_UPLOAD_BYTES)
    if (upload.size or 0) <= limit:
        return None
    return gettext("The upload is too large (%(size)s MB); the limit is %(limit)s MB.") % {
        "size": f"{(upload.size or 0) / 1048576:.1f}",
        "limit": f"{limit / 1048576:.0f}",
    }


def _checked(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not the name of an uploaded file: {name!r}")
    return name


def path(name: str) -> Path:
    """The stored file of ``name`` on this machine; ``ValueError`` for anything that is not a name ``keep``
    gives, ``NotImplementedError`` from a storage other than a folder (``FileSystemStorage``; for an object
    store use ``open_kept`` or ``local_copy``)."""
    store = storage()
    if not isinstance(store, FileSystemStorage):  # (an in-memory storage answers with a path to nothing)
        raise NotImplementedError(
            f"the uploads storage ({type(store).__name__}) keeps no files on this machine"
        )
    return Path(store.path(_checked(name)))


def exists(name: str) -> bool:
    """Whether the file ``name`` is still kept (``False`` for anything that is not a name ``keep`` gives)."""
    return bool(_NAME.fullmatch(name)) and storage().exists(name)


def open_kept(name: str) -> File:
    """The stored file ``name``, opened for reading (binary); ``FileNotFoundError`` once it is gone."""
    return storage().open(_checked(name), "rb")


def _name_of(params: Mapping[str, Any]) -> str:
    """The stored name a job's parameters hold, or the refusal a person can act on once it is gone (deleted
    when its job was done, refused or swept, so a job run again has no file to read)."""
    name = params.get(PARAM)
    if not isinstance(name, str) or not exists(name):
        raise ValidationError(
            gettext("The uploaded file is no longer kept (it is deleted when its job ends): upload it again.")
        )
    return name


def kept(params: Mapping[str, Any]) -> Path:
    """The stored file a job's parameters name, as a path on this machine (the default storage; see ``path``),
    for its runner; a refusal a person can act on once it is gone. A runner that may run on another machine than
    the web server reads it with ``read`` or ``local_copy`` instead."""
    return path(_name_of(params))


def read(params: Mapping[str, Any]) -> bytes:
    """The content of the stored file a job's parameters name (from any storage); refused as ``kept``."""
    with open_kept(_name_of(params)) as found:
        return bytes(found.read())


@contextlib.contextmanager
def local_copy(params: Mapping[str, Any]) -> Iterator[Path]:
    """A path on this machine to the stored file a job's parameters name, for a reader that needs one (DuckDB,
    Arrow): the file itself where the storage has paths, else a temporary copy deleted afterwards. Refused as
    ``kept``."""
    name = _name_of(params)
    try:
        here: Path | None = path(name)
    except NotImplementedError:
        here = None
    if here is not None:
        yield here
        return
    with tempfile.TemporaryDirectory(prefix="cordon-upload-") as tmp:
        copy = Path(tmp) / name
        with open_kept(name) as source, copy.open("wb") as out:
            shutil.copyfileobj(source, out)
        yield copy


def discard(name: str) -> None:
    """Delete a stored upload (nothing when it is already gone)."""
    storage().delete(_checked(name))


def discard_upload(params: Mapping[str, Any]) -> None:
    """A job kind's ``cleanup``: delete the upload its parameters name."""
    name = params.get(PARAM)
    if isinstance(name, str) and _NAME.fullmatch(name):
        discard(name)
