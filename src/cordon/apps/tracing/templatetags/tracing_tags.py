"""Template filters of the tracing pages: the scan store's reasons for skipping a row, in the user's language."""

from __future__ import annotations

from django import template

from .. import scanwords

register = template.Library()


@register.filter
def scan_reason(reason: str) -> str:
    """``{{ reason|scan_reason }}``: why an ingest skipped a row, translated (an unknown reason as it is)."""
    return scanwords.scan_reason(reason)
