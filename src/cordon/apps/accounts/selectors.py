"""Reads of users, API tokens and failed sign-ins."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope

from .models import ApiToken, User


def active_token(key: str) -> ApiToken | None:
    """The API token with this key (compared by hash), if it is not revoked and its user is active, with its
    user loaded; ``None`` otherwise. Unscoped: this is how an API caller becomes a user."""
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash(key), revoked=False, user__is_active=True)
        .first()
    )


# --- Failed sign-ins (django-axes' tables), for auditors ---------------------------------------------------


def _sees_every_name(user: Actor) -> bool:
    """Auditors of the whole city (a jurisdiction without a parent) see failures against every user name,
    unknown ones included; others only those against the users of their territory."""
    jurisdiction = getattr(user, "jurisdiction", None)
    return jurisdiction is not None and jurisdiction.parent_id is None


def _names_in_scope(scope: Scope) -> QuerySet[User]:
    return User.objects.filter(scope.territory("jurisdiction"))


def _attempts(user: Actor) -> QuerySet[AccessAttempt]:
    scope = Scope.of(user)
    scope.require(Cap.VIEW_AUDIT)
    qs = AccessAttempt.objects.all()
    if scope.path is None:
        return qs.none()
    return qs if _sees_every_name(user) else qs.filter(username__in=_names_in_scope(scope).values("username"))


@dataclass(frozen=True)
class SignInCount:
    """The failed sign-ins counted against one user name from one address (django-axes counts them per pair,
    over all the browsers used), and whether that pair is locked out now."""

    username: str | None
    ip_address: str | None
    failures: int
    last: dt.datetime
    locked: bool


def is_locked(failures: int, last: dt.datetime, now: dt.datetime | None = None) -> bool:
    """Whether a pair with ``failures`` failures, the last at ``last``, is refused now (the limit reached and,
    with a cool-off time, not yet over)."""
    if failures < settings.AXES_FAILURE_LIMIT:
        return False
    cooloff = settings.AXES_COOLOFF_TIME
    return cooloff is None or last > (now or timezone.now()) - cooloff


def sign_in_counts(user: Actor, now: dt.datetime | None = None) -> list[SignInCount]:
    """The failed sign-ins being counted, per user name and address, the latest first (at most a few hundred
    rows: counts end with the cool-off time, a successful sign-in or an unlock)."""
    rows = (
        _attempts(user)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .order_by("-last", "username")
    )
    return [
        SignInCount(
            r["username"], r["ip_address"], r["failures"], r["last"], is_locked(r["failures"], r["last"], now)
        )
        for r in rows
    ]


def counts_against(user: Actor, *, username: str, ip_address: str) -> list[AccessAttempt]:
    """The counts an unlock forgets: all those against ``username`` (from every address), or, for failures
    without a user name, those from ``ip_address``. ``NotFound`` when there are none in the caller's view."""
    qs = _attempts(user)
    qs = qs.filter(username=username) if username else qs.filter(username__isnull=True, ip_address=ip_address)
    rows = list(qs.order_by("pk"))
    if not rows:
        raise NotFound
    return rows


def sign_in_failures(user: Actor) -> QuerySet[AccessFailureLog]:
    """Every failed sign-in kept in the failure log, the latest first."""
    scope = Scope.of(user)
    scope.require(Cap.VIEW_AUDIT)
    qs = AccessFailureLog.objects.order_by("-attempt_time", "-pk")
    if scope.path is None:
        return qs.none()
    return qs if _sees_every_name(user) else qs.filter(username__in=_names_in_scope(scope).values("username"))
