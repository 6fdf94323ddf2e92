"""Every write to users and API tokens goes through here (one ``@action`` each: one transaction, audited)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from axes.models import AccessAttempt
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import IndustrySector, Jurisdiction
from cordon.core.actions import action
from cordon.core.actors import Actor
from cordon.core.roles import Role

from .models import ApiToken, User

# A token's ``last_used_at`` is written (and audited) at most this often: token use shows in the audit trail
# without a row per request.
TOKEN_STAMP_EVERY = dt.timedelta(minutes=1)


@action
def create_user(
    *,
    actor: Actor | None,
    username: str,
    password: str,
    role: str,
    jurisdiction_code: str,
    sector_code: str | None = None,
    display_name: str = "",
    is_staff: bool = False,
    source: str = "web",
) -> User:
    errors: dict[str, Any] = {}
    if role not in Role.values:
        errors["role"] = _("Unknown role. Choose one of: %(roles)s.") % {"roles": ", ".join(Role.values)}
    jurisdiction: Jurisdiction | None = Jurisdiction.objects.filter(code=jurisdiction_code).first()
    if jurisdiction is None:
        errors["jurisdiction"] = _("Unknown jurisdiction code.")
    sector: IndustrySector | None = None
    if sector_code:
        sector = IndustrySector.objects.filter(code=sector_code).first()
        if sector is None:
            errors["sector"] = _("Unknown sector code.")
    if not username.strip():
        errors["username"] = _("A user name is required.")
    elif User.objects.filter(username=username).exists():
        errors["username"] = _("This user name is taken.")
    user = User(
        username=username.strip(),
        display_name=display_name,
        role=role,
        jurisdiction=jurisdiction,
        sector=sector,
        is_staff=is_staff,
        is_superuser=is_staff and role == Role.ADMINISTRATOR,
    )
    try:  # settings.AUTH_PASSWORD_VALIDATORS: length, likeness to the user name, common, all digits
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    return audit.save_new(actor, user, source=source)


@action
def issue_api_token(*, actor: Actor | None, user: User, name: str, source: str = "web") -> str:
    """Create a token and return its key; only its hash is stored."""
    key = ApiToken.generate()
    audit.create(
        actor, ApiToken, source=source, user=user, name=name, key_hash=ApiToken.hash(key), prefix=key[:8]
    )
    return key


@action
def stamp_token_use(
    *, actor: Actor | None, token: ApiToken, now: dt.datetime | None = None, source: str = "api"
) -> bool:
    """Note that ``token`` was used (``last_used_at``), at most once per ``TOKEN_STAMP_EVERY``; returns whether
    it wrote. The caller is the token's user."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < TOKEN_STAMP_EVERY:
        return False
    return audit.change(actor, token, source=source, last_used_at=now)


@action
def unlock_sign_in(*, actor: Actor | None, counts: Sequence[AccessAttempt], source: str = "web") -> int:
    """Forget failed sign-ins counted by django-axes (``accounts.selectors.counts_against``: every count against
    one user name), so a locked-out user may sign in again at once; returns how many counts were removed. The
    failure log keeps every failure; the audit trail keeps who unlocked what."""
    return audit.delete_many(actor, counts, source=source)
