from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from cordon.site.access import SIGNED_IN, api

router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    jurisdiction: str | None
    sector: str | None
    capabilities: list[str]


@router.get("/me", response=MeOut, summary="The signed-in user, their scope and capabilities")
@api(SIGNED_IN)
def me(request: HttpRequest) -> Any:
    user: Any = request.user
    return {
        "username": user.username,
        "display_name": str(user),
        "role": user.role,
        "jurisdiction": user.jurisdiction.code if user.jurisdiction else None,
        "sector": user.sector.code if user.sector else None,
        "capabilities": sorted(c.value for c in user.caps),
    }
