"""Lists that update in place: a page region that asks for itself while it is open.

A view computes a cheap *version* of what the region shows (a selector: one aggregate query, e.g. how many rows,
the newest id, how many overdue, plus a time bucket where countdowns move), answers ``nothing_new`` with 204
when an htmx poll already shows that version, and otherwise renders the page as usual. The template marks the
region with ``{% live_region "id" version %}`` (``web/templatetags/live_tags.py``): every
``CORDON_LIVE_SECONDS`` htmx asks for the page with the version it shows, and swaps the region in place when the
answer is new. While a box in the region is ticked it does not ask, so a selection is never swept away.
"""

from __future__ import annotations

import datetime as dt
import time

from django.http import HttpRequest, HttpResponse


def time_bucket(seconds: int = 300) -> int:
    """A number that changes every ``seconds``: part of a version where countdowns or "overdue" move with time."""
    return int(time.time()) // seconds


def version(*figures: int | dt.datetime | None) -> str:
    """A region's version from the figures that sum up what it shows (counts, newest ids and times; ``None``
    as 0), and the five-minute time bucket, so that countdowns move even when nothing else does."""
    parts = [int(f.timestamp()) if isinstance(f, dt.datetime) else (f or 0) for f in figures]
    return "-".join(str(p) for p in [*parts, time_bucket()])


def nothing_new(request: HttpRequest, version: str) -> HttpResponse | None:
    """A 204 for an htmx poll that already shows ``version`` (htmx then leaves the page alone); else ``None``."""
    if getattr(request, "htmx", False) and request.GET.get("v") == version:
        return HttpResponse(status=204)
    return None


def poll_url(request: HttpRequest, version: str) -> str:
    """The page's own URL (its query kept, but for ``v``) asking with ``version``."""
    query = request.GET.copy()
    query.pop("v", None)
    query["v"] = version
    return f"{request.path}?{query.urlencode()}"
