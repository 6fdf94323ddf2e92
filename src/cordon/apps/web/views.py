"""The shell of the site: the home page, signing in and out, the language switch, the health check and the
error pages. Each app serves its own pages (``people.views``, ``venues.views``, ``geo.views``, ``audit.views``,
...); this app keeps what they share: the base static files (``static/web/``) and shared templates
(``web/_pager.html``, ``web/_counts.html``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.i18n import set_language as django_set_language

from cordon.apps.audit import selectors as audit
from cordon.apps.geo import selectors as geo
from cordon.apps.people import selectors as people
from cordon.core import badges, homes
from cordon.core.access import PUBLIC, SIGNED_IN, AuthedRequest, page
from cordon.core.roles import Cap, Role
from cordon.core.scoping import NotFound, NotYours, Scope

# Roles that look after residents directly see the special groups of their area on their home page.
SPECIAL_GROUP_ROLES = {Role.GRID_WORKER, Role.STREET_OFFICER, Role.SERVICE_DISPATCHER}


# --- authentication and language ----------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


login = page(PUBLIC)(LoginView.as_view())
logout = page(PUBLIC)(auth_views.LogoutView.as_view())
set_language = page(PUBLIC)(django_set_language)


@page(PUBLIC)
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@page(SIGNED_IN)
def live_badges(request: AuthedRequest) -> HttpResponse:
    """The menu's live counts, polled by every page (``core/badges.py``): out-of-band swaps, one per badge."""
    shown = [(b.key, n, b.label % {"n": n}) for b, n in badges.for_actor(request.user)]
    response = render(request, "web/_badges.html", {"badges": shown})
    response["Cache-Control"] = "no-store"
    return response


# --- home -----------------------------------------------------------------------------------------------


@page(SIGNED_IN)
def home(request: AuthedRequest) -> HttpResponse:
    user = request.user
    own = homes.for_role(user.role)
    if own is not None:  # a role whose home another app serves (the commanders': ``apps/command``)
        response: HttpResponse = own(request)
        return response
    scope = Scope.of(user)
    root = geo.root_for(user)
    context: dict[str, Any] = {"root": root, "role_label": Role(user.role).label if user.role else ""}
    if root is not None and scope.can(Cap.VIEW_JURISDICTIONS):
        counts = geo.subtree_counts(user, root)
        context["totals"] = counts.get(root.pk, {})
        context["children"] = [(c, counts.get(c.pk, {})) for c in geo.children_of(user, root)]
    if user.role in SPECIAL_GROUP_ROLES and scope.can(Cap.VIEW_PERSONS):
        context["special_groups"] = people.special_group_counts(user)
    if scope.can(Cap.VIEW_AUDIT):
        context["recent_audit"] = audit.recent_audit(user)[:10]
    return render(request, "web/home.html", context)


# --- errors ---------------------------------------------------------------------------------------------


def _error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, _("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, NotYours):  # a record of a level above or of another district: say whose
        return _error(request, 403, str(exception))
    return _error(request, 403, _("Your role does not allow this."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, str(NotFound.message))


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, _("Something went wrong on our side. The error has been logged."))
