"""Template filters of the tracing pages: the scan store's reasons for skipping a row, in the user's language."""

from __future__ import annotations

import re

from django import template
from django.utils.translation import gettext, gettext_lazy

from cordon.engine import scanstore

register = template.Library()

# The engine's reasons (plain English, also the keys a ScanBatch keeps) as the pages show them.
_REASONS = {
    scanstore.MISSING_PERSON: gettext_lazy("missing person"),
    scanstore.UNKNOWN_PERSON: gettext_lazy("person not in the register"),
    scanstore.MISSING_VENUE: gettext_lazy("missing venue"),
    scanstore.UNKNOWN_VENUE: gettext_lazy("venue not in the register"),
    scanstore.BAD_TIME: gettext_lazy("time not readable"),
    scanstore.TIME_OUT_BEFORE_IN: gettext_lazy("time out before time in"),
    scanstore.BAD_SUBAREA: gettext_lazy("sub-area out of range"),
}
_LONG_STAY = re.compile(re.escape(scanstore.LONG_STAY).replace(re.escape("{hours}"), r"(\d+)"))


@register.filter
def scan_reason(reason: str) -> str:
    """``{{ reason|scan_reason }}``: why an ingest skipped a row, translated (an unknown reason as it is)."""
    long_stay = _LONG_STAY.fullmatch(reason)
    if long_stay:
        return gettext(
            "stay longer than %(hours)s hours, the longest the scan store keeps (split longer stays)"
        ) % {"hours": long_stay.group(1)}
    return str(_REASONS.get(reason, reason))
