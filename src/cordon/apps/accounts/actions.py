"""Every write to users and API tokens goes through here (one transaction, audited)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import IndustrySector, Jurisdiction

from .models import ApiToken, User
from .roles import Role


@transaction.atomic
def create_user(
    *,
    actor: Any,
    username: str,
    password: str,
    role: str,
    jurisdiction_code: str,
    sector_code: str | None = None,
    display_name: str = "",
    is_staff: bool = False,
    source: str = "web",
) -> User:
    errors: dict[str, str] = {}
    if role not in Role.values:
        errors["role"] = _("Unknown role. Choose one of: %(roles)s.") % {"roles": ", ".join(Role.values)}
    jurisdiction = Jurisdiction.objects.filter(code=jurisdiction_code).first()
    if jurisdiction is None:
        errors["jurisdiction"] = _("Unknown jurisdiction code.")
    sector = None
    if sector_code:
        sector = IndustrySector.objects.filter(code=sector_code).first()
        if sector is None:
            errors["sector"] = _("Unknown sector code.")
    if not username.strip():
        errors["username"] = _("A user name is required.")
    elif User.objects.filter(username=username).exists():
        errors["username"] = _("This user name is taken.")
    if len(password) < 4:
        errors["password"] = _("A password has at least 4 characters.")
    if errors:
        raise ValidationError(errors)
    user = User(
        username=username.strip(),
        display_name=display_name,
        role=role,
        jurisdiction=jurisdiction,
        sector=sector,
        is_staff=is_staff,
        is_superuser=is_staff and role == Role.ADMINISTRATOR,
    )
    user.set_password(password)
    user.save()
    audit.record_create(actor, user, source=source)
    return user


@transaction.atomic
def issue_api_token(*, actor: Any, user: User, name: str, source: str = "web") -> str:
    """Create a token and return its key; only its hash is stored."""
    key = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name, key_hash=ApiToken.hash(key), prefix=key[:8])
    audit.record_create(actor, token, source=source)
    return key
