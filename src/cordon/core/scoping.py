"""The one place that turns a user into what they may see.

Every scoped selector starts from ``Scope.of(user)``. A record outside the scope is reported exactly like a
missing one: selectors raise ``NotFound`` for both, and pages and the API turn it into the same 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .actors import Actor, HasPath
from .roles import Cap, caps_for


class NotFound(Exception):
    """The record does not exist or is outside the caller's scope (deliberately indistinguishable)."""

    message = _("Not found.")


class NotYours(PermissionDenied):
    """The caller may see the record but not change it: it belongs to a level above theirs or to another
    district (pages and the API answer 403 with the message)."""


def may_change(user: Actor | Any | None, owner: HasPath) -> bool:
    """Whether ``user`` may change a record owned by the jurisdiction ``owner``: only that level or a level
    above it (a user whose territory holds the owner). ``None`` is the system, which may."""
    if user is None:
        return True
    path = Scope.of(user).path
    return path is not None and owner.path.startswith(path)


def require_may_change(actor: Actor | None, owner: HasPath, *, named: Any = None) -> None:
    """Refuse (``NotYours``) unless ``may_change(actor, owner)``: the one ownership check every action that
    changes a record owned by a level makes, whatever page, API route or command called it. The message names
    ``named`` (e.g. the owner's district) when given, else the owner."""
    if may_change(actor, owner):
        return
    shown = named if named is not None else owner
    display = getattr(shown, "display_name", None)
    name = display(translation.get_language()) if callable(display) else str(shown)
    raise NotYours(
        gettext("This belongs to %(owner)s: only %(owner)s or a level above it may change it.")
        % {"owner": name}
    )


@dataclass(frozen=True, slots=True)
class Scope:
    user_id: int | None
    role: str
    caps: frozenset[Cap]
    path: str | None  # materialized path of the user's jurisdiction; None sees nothing
    sector_id: int | None

    @classmethod
    def of(cls, user: Actor | Any | None) -> Scope:
        """The scope of a user; an anonymous user (or ``None``) sees nothing."""
        if user is None or not getattr(user, "is_authenticated", False):
            return cls(None, "", frozenset(), None, None)
        jurisdiction = user.jurisdiction
        return cls(
            user_id=user.pk,
            role=user.role,
            caps=caps_for(user.role),
            path=jurisdiction.path if jurisdiction is not None else None,
            sector_id=user.sector_id,
        )

    def can(self, cap: Cap) -> bool:
        return cap in self.caps

    def require(self, cap: Cap) -> None:
        if cap not in self.caps:
            raise PermissionDenied(_("Your role does not allow this."))

    def territory(self, field: str = "jurisdiction") -> Q:
        """A filter keeping rows whose ``field`` jurisdiction lies in the user's subtree."""
        if self.path is None:
            return Q(pk__in=[])
        if (
            self.path == "/"
        ):  # the whole tree (a recount's reader): any row with a jurisdiction, without a join
            return Q(**{f"{field}__isnull": False})
        return Q(**{f"{field}__path__startswith": self.path})

    def filter(
        self, qs: QuerySet[Any], *, territory: str = "jurisdiction", sector: str | None = None
    ) -> QuerySet[Any]:
        qs = qs.filter(self.territory(territory))
        if sector is not None and self.sector_id is not None:
            qs = qs.filter(**{sector: self.sector_id})
        return qs
