from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _


class RequestSizeLimitMiddleware:
    """Refuse request bodies over CORDON_MAX_UPLOAD_BYTES with a clear 413 before Django reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.CORDON_MAX_UPLOAD_BYTES
        if length > limit:
            message = _("The upload is too large (%(size)s MB); the limit is %(limit)s MB.") % {
                "size": f"{length / 1048576:.1f}",
                "limit": f"{limit / 1048576:.0f}",
            }
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            response = TemplateResponse(
                request, "error.html", {"status": 413, "message": message}, status=413
            )
            response.render()
            return response
        return self.get_response(request)
