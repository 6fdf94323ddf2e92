"""Reads of users, API tokens and failed sign-ins."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db.models import Q, QuerySet
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
    """The failed sign-ins counted against one user name from one address (over all the browsers used), and
    whether django-axes refuses that pair now."""

    username: str | None
    ip_address: str | None
    failures: int
    last: dt.datetime
    locked: bool


def _lockout_keys() -> list[tuple[str, ...]]:
    """What django-axes counts failures against (``AXES_LOCKOUT_PARAMETERS``): one tuple of fields per entry."""
    return [(p,) if isinstance(p, str) else tuple(p) for p in settings.AXES_LOCKOUT_PARAMETERS]


def _locked_groups(rows: list[dict[str, Any]], now: dt.datetime) -> set[tuple[Any, ...]]:
    """The (fields, values) groups at the failure limit, counting as django-axes does: failures within the
    cool-off time, summed over every entry that shares the group's values."""
    cooloff = settings.AXES_COOLOFF_TIME
    recent = [r for r in rows if cooloff is None or r["attempt_time"] >= now - cooloff]
    sums: dict[tuple[Any, ...], int] = defaultdict(int)
    for fields in _lockout_keys():
        for r in recent:
            sums[(fields, *(r[f] for f in fields))] += r["failures_since_start"]
    return {group for group, n in sums.items() if n >= settings.AXES_FAILURE_LIMIT}


def sign_in_counts(user: Actor, now: dt.datetime | None = None) -> list[SignInCount]:
    """The failed sign-ins being counted, per user name and address, the latest first. Whether a pair is locked
    is worked out over every count (an address locked by failures against many names shows so on each); the
    counts are few (they end with the cool-off, a successful sign-in or an unlock)."""
    now = now or timezone.now()
    fields = ("username", "ip_address", "user_agent", "failures_since_start", "attempt_time")
    everyone = list(AccessAttempt.objects.values(*fields))  # the caller's may see: checked by _attempts below
    locked = _locked_groups(everyone, now)
    pairs: dict[tuple[str | None, str | None], dict[str, Any]] = {}
    for r in _attempts(user).values(*fields):
        pair = pairs.setdefault((r["username"], r["ip_address"]), {"failures": 0, "last": r["attempt_time"]})
        pair["failures"] += r["failures_since_start"]
        pair["last"] = max(pair["last"], r["attempt_time"])
        held = any((keys, *(r[f] for f in keys)) in locked for keys in _lockout_keys())
        pair["locked"] = pair.get("locked", False) or held
    out = [SignInCount(name, ip, p["failures"], p["last"], p["locked"]) for (name, ip), p in pairs.items()]
    return sorted(out, key=lambda c: (-c.last.timestamp(), c.username or ""))


def counts_against(user: Actor, *, username: str, ip_address: str) -> list[AccessAttempt]:
    """The counts an unlock forgets: all those against ``username`` (from every address), and those from
    ``ip_address`` when failures are also counted against an address alone (or the failures had no user name).
    ``NotFound`` when there are none in the caller's view."""
    try:
        ip_address = str(ipaddress.ip_address(ip_address)) if ip_address else ""
    except ValueError:
        ip_address = ""
    wanted = Q(pk__in=[])
    if username:
        wanted |= Q(username=username)
    if ip_address and (not username or ("ip_address",) in _lockout_keys()):
        wanted |= Q(ip_address=ip_address) if username else Q(username__isnull=True, ip_address=ip_address)
    rows = list(_attempts(user).filter(wanted).order_by("pk"))
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
