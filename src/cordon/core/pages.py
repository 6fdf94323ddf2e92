"""Small helpers every app's pages share: a scoped lookup as a 404, refusals as text, form values as Python
values, the safe way back. Views stay thin: read through selectors, write through actions, render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from . import versions
from .scoping import NotFound

T = TypeVar("T")


def found(fetch: Callable[[], T]) -> T:
    """``fetch()``, with a record that is missing or out of scope (``NotFound``) answered as a 404 page."""
    try:
        return fetch()
    except NotFound:
        raise Http404 from None


def error_fields(exc: ValidationError) -> dict[str, str]:
    """A refusal's messages by field (``__all__`` for the form as a whole)."""
    d = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return {k: " ".join(str(m) for m in v) for k, v in d.items()}


def error_text(exc: ValidationError) -> str:
    """A refusal's messages as one sentence list, for a message banner."""
    return " ".join(error_fields(exc).values())


def local_datetime(value: str | None) -> dt.datetime | None:
    """A ``datetime-local`` form value (the city's local time) as an aware datetime; ``None`` when empty or
    unreadable."""
    parsed = parse_datetime((value or "").strip().replace(" ", "T")) if value else None
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def posted_ids(request: HttpRequest, name: str) -> list[str]:
    """The non-empty values of a multi-valued form field (ticked checkboxes)."""
    return [v for v in request.POST.getlist(name) if v.strip()]


def back(request: HttpRequest, default: str) -> HttpResponse:
    """Redirect to the form's ``next`` when it is a path on this site, else to ``default``."""
    nxt = request.POST.get("next", "")
    return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else default)


def posted_version(request: HttpRequest, name: str = "version") -> int:
    """The version of the record an edit form was rendered with (its hidden input). Pages require it: missing
    or unreadable it is 0, which no record has, so such a form is refused as stale (``versions.Conflict``)
    rather than written over whatever changed."""
    return versions.parse(request.POST.get(name)) or 0


def conflict_text() -> str:
    """What a page says when an edit was refused as stale (it then shows the record's current state)."""
    return str(versions.Conflict.message)


def pressed_enter(request: HttpRequest) -> bool:
    """Whether a bulk form came in by Enter (its first, hidden submit button ``implicit``, which browsers use for
    implicit submission) rather than by one of its action buttons: the view then changes nothing and says so.
    ``web/bulk.js`` stops Enter in such forms; this covers a browser without the script."""
    if request.POST.get("implicit") is None:
        return False
    messages.info(
        request,
        _(
            "Enter does not submit this form: tick the rows, then press one of its buttons. Nothing was changed."
        ),
    )
    return True
