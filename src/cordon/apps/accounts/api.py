"""The accounts API: who the caller is."""

from ninja import Router, Schema

from cordon.core.access import SIGNED_IN, AuthedRequest, api

from .models import User

router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    jurisdiction: str | None
    sector: str | None
    capabilities: list[str]

    @classmethod
    def of(cls, user: User) -> "MeOut":
        return cls(
            username=user.username,
            display_name=str(user),
            role=user.role,
            jurisdiction=user.jurisdiction.code if user.jurisdiction is not None else None,
            sector=user.sector.code if user.sector is not None else None,
            capabilities=sorted(c.value for c in user.caps),
        )


@router.get("/me", response=MeOut, summary="The signed-in user, their scope and capabilities")
@api(SIGNED_IN)
def me(request: AuthedRequest) -> MeOut:
    user = request.user
    assert isinstance(user, User)  # the session and the token both authenticate a User
    return MeOut.of(user)
