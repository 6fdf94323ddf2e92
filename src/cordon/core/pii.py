"""Personal data shown masked: which fields hold it and the one rule that masks them.

A model names its personal-data fields and how each is masked with a ``pii_masks`` class attribute
(``{"national_id": identity.mask, "phone": identity.mask_phone}`` on ``people.Person``). A role with
``view_pii`` sees the values in full; every other role sees them masked, wherever they appear: the record's own
pages, the API, exports, and the audit trail's old and new values (``masked_changes``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.apps import apps
from django.db import models

from .actors import Actor
from .roles import Cap
from .scoping import Scope

Mask = Callable[[str], str]


def sees_pii(user: Actor, *, listed: bool = False) -> bool:
    """Whether ``user``'s role sees national IDs and phone numbers in full: on one record, roles with
    ``view_pii``; in a list of records (``listed``), no role (docs/operations.md, "Personal data")."""
    return not listed and Scope.of(user).can(Cap.VIEW_PII)


def masks(model: type[models.Model] | str | None) -> Mapping[str, Mask]:
    """The personal-data fields of ``model`` (a class or a label such as ``people.person``) and their masks."""
    if isinstance(model, str):
        try:
            model = apps.get_model(model)
        except (LookupError, ValueError):
            return {}
    return getattr(model, "pii_masks", None) or {}


def shown(
    user: Actor, model: type[models.Model], field: str, value: str | None, *, listed: bool = False
) -> str:
    """``value`` of ``model.field`` as ``user`` may see it, on one record or in a list (``listed``); "" for no
    value."""
    if not value:
        return ""
    mask = masks(model).get(field)
    return value if mask is None or sees_pii(user, listed=listed) else mask(str(value))


def masked_changes(user: Actor, model: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """An audit entry's ``{field: [old, new]}`` for ``model`` (a label) as ``user`` may see it: the values of
    personal-data fields masked by the record's own rule unless the role sees them in full."""
    fields = masks(model)
    if not fields or sees_pii(user):
        return dict(changes)
    return {
        name: _masked(fields[name], value) if name in fields else value for name, value in changes.items()
    }


def _masked(mask: Mask, value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_masked(mask, v) for v in value]
    if value is None or value == "":
        return value
    return mask(str(value))
