"""The scan store's words in the page's language: ``{{ reason|scan_reason }}`` for a reason rows were skipped
(the store reports them in English, ``stay longer than 24 hours``), and ``scan_error`` for a file refused as a
whole."""

from __future__ import annotations

import re

from django import template
from django.utils.translation import gettext as _

from cordon.engine.scanstore import (
    BAD_SUBAREA,
    BAD_TIME,
    MISSING_PERSON,
    MISSING_VENUE,
    TIME_OUT_BEFORE_IN,
    UNKNOWN_PERSON,
    UNKNOWN_VENUE,
    InputError,
)

register = template.Library()


@register.filter
def scan_reason(reason: str) -> str:
    known = {
        MISSING_PERSON: _("no person"), UNKNOWN_PERSON: _("person not in the register"),
        MISSING_VENUE: _("no venue"), UNKNOWN_VENUE: _("venue not in the register"), BAD_TIME: _("unreadable time"),
        TIME_OUT_BEFORE_IN: _("leaves before arriving"), BAD_SUBAREA: _("bad sub-area"),
    }  # fmt: skip
    if reason in known:
        return known[reason]
    if m := re.fullmatch(r"stay longer than (\d+) hours", reason):
        return _("stay longer than %(n)s hours") % {"n": m[1]}
    return reason


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
