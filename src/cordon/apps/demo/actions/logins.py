"""The demo logins: one per role and scope (see ``scenario.logins``), created through accounts' actions."""

from __future__ import annotations

from collections.abc import Sequence

from cordon.apps.accounts import actions as accounts
from cordon.core.actions import action
from cordon.core.actors import Actor
from cordon.core.roles import Role

from .. import selectors
from ..scenario import LOGINS, PASSWORD, SOURCE, Login


@action
def ensure_logins(*, actor: Actor | None, logins: Sequence[Login] = LOGINS, source: str = SOURCE) -> int:
    """Create the demo logins that do not exist yet (password ``PASSWORD``); returns how many were made."""
    existing = selectors.existing_logins(logins)
    made = 0
    for login in logins:
        if login.username in existing:
            continue
        accounts.create_user(
            actor=actor,
            username=login.username,
            password=PASSWORD,
            role=login.role,
            jurisdiction_code=login.jurisdiction,
            sector_code=login.sector,
            is_staff=login.role == Role.ADMINISTRATOR,
            source=source,
        )
        made += 1
    return made
