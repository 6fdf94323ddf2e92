"""The scan store's words in the user's language: why it refused a whole file (``scan_error``) and why it
skipped single rows (``scan_reason``; the ``scan_reason`` filter of ``tracing_tags``). The store says both in
English; the scans page and the scan-loading job say them in the page's, or the job starter's, language."""

from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_lazy

from cordon.engine import scanstore
from cordon.engine.scanstore import InputError

# The engine's reasons (plain English, also the keys a ScanBatch keeps) as the pages show them.
_REASONS = {
    scanstore.MISSING_PERSON: gettext_lazy("missing person"),
    scanstore.UNKNOWN_PERSON: gettext_lazy("person not in the register"),
    scanstore.MISSING_VENUE: gettext_lazy("missing venue"),
    scanstore.UNKNOWN_VENUE: gettext_lazy("venue not in the register"),
    scanstore.BAD_TIME: gettext_lazy("time not readable"),
    scanstore.IMPLAUSIBLE_TIME: gettext_lazy("date not plausible (too far in the past or the future)"),
    scanstore.TIME_OUT_BEFORE_IN: gettext_lazy("time out before time in"),
    scanstore.BAD_SUBAREA: gettext_lazy("sub-area out of range"),
}
_LONG_STAY = re.compile(re.escape(scanstore.LONG_STAY).replace(re.escape("{hours}"), r"(\d+)"))


def scan_reason(reason: str) -> str:
    """Why an ingest skipped a row, translated (an unknown reason as it is)."""
    long_stay = _LONG_STAY.fullmatch(reason)
    if long_stay:
        return gettext(
            "stay longer than %(hours)s hours, the longest the scan store keeps (split longer stays)"
        ) % {"hours": long_stay.group(1)}
    return str(_REASONS.get(reason, reason))


def unknown_format(filename: str) -> str:
    """The refusal of a file whose name tells no format the store reads (before it is kept or read)."""
    return scan_error(
        InputError("file_type", filename, file=filename, suffixes=", ".join(scanstore.SUFFIXES))
    )


def scan_error(exc: ValueError, filename: str = "") -> str:
    """Why a file was refused as a whole, in the current language; ``filename`` (the name it was uploaded
    under) stands for the file's own name, which for a kept upload is a random one."""
    if not isinstance(exc, InputError):
        return gettext("The file could not be read: %(detail)s") % {"detail": str(exc)}
    messages = {
        "file_type": gettext(
            "Cannot tell the format of %(file)s from its name: use a file ending in %(suffixes)s."
        ),
        "unreadable": gettext(
            "The file %(file)s could not be read (is it a CSV file in UTF-8 with a header?): %(detail)s"
        ),
        "not_json": gettext(
            "Line %(line)s of %(file)s is not a JSON object (one object per line is expected)."
        ),
        "two_columns": gettext("The file has two %(column)s columns."),
        "missing_columns": gettext(
            "The file lacks required columns: %(missing)s (its columns: %(columns)s)."
        ),
        "time_zone": gettext("%(column)s carries a time zone; scans are local times without a zone."),
    }
    params = dict(exc.params)
    if filename and "file" in params:
        params["file"] = filename
        if "detail" in params:
            params["detail"] = params["detail"].replace(exc.params["file"], filename)
    template_text = messages.get(exc.code)
    return template_text % params if template_text else str(exc)
