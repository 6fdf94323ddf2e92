"""The scan store's refusal of a whole file in the page's language (``scan_error``; the reasons single rows
were skipped are the ``scan_reason`` filter of ``tracing_tags``)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from cordon.engine.scanstore import InputError

register = template.Library()


def scan_error(exc: ValueError) -> str:
    """Why a file was refused as a whole, in the page's language."""
    if not isinstance(exc, InputError):
        return _("The file could not be read: %(detail)s") % {"detail": str(exc)}
    messages = {
        "file_type": _(
            "Cannot tell the format of %(file)s from its name: use a file ending in %(suffixes)s."
        ),
        "unreadable": _(
            "The file %(file)s could not be read (is it a CSV file in UTF-8 with a header?): %(detail)s"
        ),
        "not_json": _("Line %(line)s of %(file)s is not a JSON object (one object per line is expected)."),
        "two_columns": _("The file has two %(column)s columns."),
        "missing_columns": _("The file lacks required columns: %(missing)s (its columns: %(columns)s)."),
        "time_zone": _("%(column)s carries a time zone; scans are local times without a zone."),
    }
    template_text = messages.get(exc.code)
    return template_text % exc.params if template_text else str(exc)
