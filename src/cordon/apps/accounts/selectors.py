"""Reads of users and API tokens."""

from __future__ import annotations

from .models import ApiToken


def active_token(key: str) -> ApiToken | None:
    """The API token with this key (compared by hash), if it is not revoked and its user is active, with its
    user loaded; ``None`` otherwise. Unscoped: this is how an API caller becomes a user."""
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash(key), revoked=False, user__is_active=True)
        .first()
    )
