"""The JSON API (django-ninja): one NinjaAPI, a router per app, the same error shapes everywhere.

OpenAPI schema at /api/openapi.json, interactive docs at /api/docs (assets served by the app, no CDN).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.security import HttpBearer, django_auth

from cordon.apps.accounts import actions as accounts
from cordon.apps.accounts import selectors as tokens
from cordon.core.scoping import NotFound, NotYours
from cordon.core.versions import Conflict


class TokenAuth(HttpBearer):
    """``Authorization: Bearer cdn_...``: a live token of an active user signs the request in as that user (its
    use is stamped, at most once a minute, in the audit trail)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        row = tokens.active_token(token)
        if row is None:
            return None
        accounts.stamp_token_use(actor=row.user, token=row, source="api")
        request.user = row.user
        return row.user


api = NinjaAPI(
    title="Cordon API",
    version="1",
    description="Outbreak-response command platform. Every route is scoped to the caller's jurisdiction and sector.",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
)


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return api.create_response(request, {"detail": str(NotFound.message)}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    """A missing capability, or a record the caller may see but not change (``NotYours``: its message)."""
    detail = str(exc) if isinstance(exc, NotYours) else _("Your role does not allow this.")
    return api.create_response(request, {"detail": detail}, status=403)


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    """A stale edit (``cordon.core.versions``): 409 with what changed and, when the operation said how to show
    it, the record's current state as the operation's own schema shows it to this caller."""
    current = exc.current
    if isinstance(current, list):
        current = [c.model_dump(mode="json") if hasattr(c, "model_dump") else c for c in current]
    elif hasattr(current, "model_dump"):
        current = current.model_dump(mode="json")
    body = {
        "detail": str(Conflict.message),
        "versions": {str(pk): v for pk, v in exc.stale.items()},
        "current": current,
    }
    return api.create_response(request, body, status=409)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    flat = {k: " ".join(str(m) for m in v) for k, v in errors.items()}
    return api.create_response(request, {"detail": _("The input is not valid."), "errors": flat}, status=422)


def _register() -> None:
    from cordon.apps.accounts.api import router as accounts
    from cordon.apps.audit.api import router as audit
    from cordon.apps.command.api import router as command
    from cordon.apps.control.api import router as control
    from cordon.apps.dataio.api import router as dataio
    from cordon.apps.geo.api import router as geo
    from cordon.apps.gridwork.api import router as gridwork
    from cordon.apps.jobs.api import router as jobs
    from cordon.apps.people.api import router as people
    from cordon.apps.screening.api import router as screening
    from cordon.apps.simulation.api import router as simulation
    from cordon.apps.tracing.api import router as tracing
    from cordon.apps.venues.api import router as venues
    from cordon.apps.zones.api import router as zones

    api.add_router("/", accounts)
    api.add_router("/", geo)
    api.add_router("/", people)
    api.add_router("/", venues)
    api.add_router("/", audit)
    api.add_router("/", dataio)
    api.add_router("/", tracing)
    api.add_router("/", control)
    api.add_router("/", screening)
    api.add_router("/", jobs)
    api.add_router("/", simulation)
    api.add_router("/", zones)
    api.add_router("/", gridwork)
    api.add_router("/", command)


_register()
