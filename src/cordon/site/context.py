from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from cordon.core.roles import Cap


def cordon(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    caps = user.caps if user is not None and user.is_authenticated else frozenset()
    return {
        "caps": {c.value: (c in caps) for c in Cap},
        "city_name": settings.CORDON_CITY_NAME,
        "live_seconds": settings.CORDON_LIVE_SECONDS,
    }
