"""The administrator's exercise page: how far the demo outbreak has been played, and a button that plays its next
day through the same audited action as ``cordon demo --next-day``. The play runs in the request (there is no
background job yet): 10-15 seconds at the demo's size."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cordon.core.access import AuthedRequest, page
from cordon.core.pages import error_text
from cordon.core.roles import Cap

from . import actions, selectors


@page(Cap.ADMIN)
def exercise(request: AuthedRequest) -> HttpResponse:
    return render(request, "demo/exercise.html", {"run": selectors.demo_run(), "today": timezone.localdate()})


@require_POST
@page(Cap.ADMIN)
def next_day(request: AuthedRequest) -> HttpResponse:
    try:
        played = actions.play_next_day(actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, played.describe())
    return redirect("demo:exercise")
