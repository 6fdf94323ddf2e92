"""Signing in under django-axes (settings: ``AXES_*``): whose address a failure is counted against, and what a
locked-out client is told. Failures are written by axes itself (its failure log and attempt counts); unlocking
is the audited action ``accounts.actions.unlock_sign_in``."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

LOCKED_STATUS = 429


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the last value of ``CORDON_CLIENT_IP_HEADER`` when set (the proxy's own addition
    to a list, never what the client sent before it) and a valid address, else the connection's."""
    header = settings.CORDON_CLIENT_IP_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        candidate = value.rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR")


def lockout_message() -> str:
    cooloff = settings.AXES_COOLOFF_TIME
    if cooloff:
        minutes = max(1, round(cooloff.total_seconds() / 60))
        return ngettext(
            "Too many failed sign-ins. Try again in %(minutes)d minute, or ask an administrator to unlock "
            "your user name.",
            "Too many failed sign-ins. Try again in %(minutes)d minutes, or ask an administrator to unlock "
            "your user name.",
            minutes,
        ) % {"minutes": minutes}
    return _("Too many failed sign-ins. Ask an administrator to unlock your user name.")


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The answer to any sign-in of a locked-out client, right password or not (``AXES_LOCKOUT_CALLABLE``)."""
    message = lockout_message()
    if request.path.startswith("/api/") or request.headers.get("x-requested-with") == "XMLHttpRequest":
        return JsonResponse({"detail": message}, status=LOCKED_STATUS)
    return render(request, "accounts/locked_out.html", {"message": message}, status=LOCKED_STATUS)
