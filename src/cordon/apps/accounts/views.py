"""The failed sign-ins page of the audit area (auditors; administrators also unlock). The failures are written
by django-axes at sign-in (``accounts.signin``); unlocking is the audited action ``unlock_sign_in``."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.core.access import AuthedRequest, page
from cordon.core.roles import Cap, caps_for
from cordon.core.scoping import NotFound

from . import actions, selectors

PAGE_SIZE = 50


@page(Cap.VIEW_AUDIT)
def sign_ins(request: AuthedRequest) -> HttpResponse:
    counts = selectors.sign_in_counts(request.user)
    page_obj = Paginator(selectors.sign_in_failures(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    cooloff = settings.AXES_COOLOFF_TIME
    context = {
        "counts": counts,
        "page_obj": page_obj,
        "may_unlock": Cap.ADMIN in caps_for(request.user.role),
        "limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": max(1, round(cooloff.total_seconds() / 60)) if cooloff else 0,
    }
    return render(request, "accounts/sign_ins.html", context)


@require_POST
@page(Cap.ADMIN)
def sign_ins_unlock(request: AuthedRequest) -> HttpResponse:
    try:
        counts = selectors.counts_against(
            request.user,
            username=request.POST.get("username", ""),
            ip_address=request.POST.get("ip_address", ""),
        )
    except NotFound:  # the lock ended (cool-off, a successful sign-in) or another administrator unlocked it
        messages.info(request, _("Nothing is counted against it any more."))
    else:
        actions.unlock_sign_in(actor=request.user, counts=counts)
        messages.success(request, _("Unlocked: the failed sign-ins counted against it are forgotten."))
    return redirect("sign-ins")
