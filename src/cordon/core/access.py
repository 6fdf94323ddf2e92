"""Access rules for pages and API routes.

Every view and API operation declares exactly one rule with ``@page(...)`` or ``@api(...)``: ``PUBLIC``
(anyone), ``SIGNED_IN`` (any signed-in user) or a capability from ``cordon.core.roles.Cap``. The
authorization-matrix test walks every route and fails on a route without a rule. Data scoping is not done
here but in the apps' selectors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import NoReverseMatch, resolve, reverse

from .actors import Actor
from .roles import Cap

PUBLIC = "public"
SIGNED_IN = "signed_in"

F = TypeVar("F", bound=Callable[..., Any])


class AuthedRequest(HttpRequest):
    """The request a view or API operation behind ``page(<capability>)``, ``page(SIGNED_IN)`` or ``api(...)``
    receives: the decorator has already turned anonymous callers away, so ``request.user`` is an ``Actor``."""

    user: Actor  # type: ignore[assignment]  # narrower than Django's AbstractBaseUser | AnonymousUser


def rule_of(func: Any) -> str | None:
    return getattr(func, "cordon_rule", None)


def allowed(user: Any, rule: str) -> bool:
    if rule == PUBLIC:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if rule == SIGNED_IN:
        return True
    return all(user.can(Cap(cap)) for cap in rule.split("+"))


def all_of(*caps: Cap) -> str:
    """A rule met by users whose role has every one of ``caps`` (a page showing what each of them guards)."""
    return "+".join(cap.value for cap in caps)


@functools.cache
def rule_of_url(name: str) -> str | None:
    """The rule declared by the view behind a URL name (one without arguments), or None when it has none."""
    try:
        return rule_of(resolve(reverse(name)).func)
    except NoReverseMatch:
        return None


def may_open(user: Any, name: str) -> bool:
    """Whether ``user`` may open the page named ``name``: the very rule its view's ``@page`` enforces, so a menu
    that shows a link only when this holds never leads to a 403. A route without a rule is never offered."""
    rule = rule_of_url(name)
    return rule is not None and allowed(user, rule)


def page(rule: str) -> Callable[[F], F]:
    """Decorate a Django view: anonymous users go to the login page, users without the capability get 403."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            if rule != PUBLIC and not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not allowed(request.user, rule):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.cordon_rule = rule  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def api(rule: str) -> Callable[[F], F]:
    """Decorate a django-ninja operation (under the router decorator). Authentication is done by ninja's
    ``auth=``; this checks the capability."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            if not allowed(request.user, rule):
                raise PermissionDenied
            return func(request, *args, **kwargs)

        wrapper.cordon_rule = rule  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
