"""Importing jurisdictions: levels in words or numbers, parents in the importer's area or earlier in the file,
checked by geo's rules; written with ``geo.actions.bulk_create_jurisdictions``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from cordon.apps.geo import actions as geo_actions
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction, Level
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import Scope

from ..kinds import norm
from .rows import (
    Batch,
    Row,
    already_used,
    chunked_lookup,
    duplicates_in_file,
    labels,
    not_in_area,
    progress_bar,
)

_LEVEL_WORDS = {
    "city": 1, "市": 1, "district": 2, "county": 2, "区": 2, "县": 2, "street": 3, "township": 3, "town": 3,
    "街道": 3, "乡镇": 3, "镇": 3, "乡": 3, "community": 4, "village": 4, "社区": 4, "村": 4, "grid": 5, "网格": 5,
}  # fmt: skip


def _level(text: str) -> int | None:
    key = norm(text)
    if key.isdigit() and int(key) in Level.values:
        return int(key)
    return _LEVEL_WORDS.get(key) or labels(Level).get(key)  # type: ignore[return-value]


def check(actor: Actor, batch: Batch, progress: bool) -> list[dict[str, Any]]:
    """The values of every row, ready for ``bulk_create_jurisdictions``; problems go to the batch."""
    duplicates_in_file(batch, "code")
    already_used(batch, Jurisdiction, "code")
    visible = chunked_lookup(geo.jurisdictions_visible_to(actor), "code", batch.codes("parent"))
    levels = {r.values["code"]: _level(r.values.get("level", "")) for r in batch.rows if r.values.get("code")}
    may_create_city = Scope.of(actor).can(Cap.ADMIN)
    out: list[dict[str, Any]] = []
    for row in progress_bar(batch, progress, _("Checking jurisdictions")):
        v = row.values
        level = _level(v.get("level", ""))
        if v.get("level") and level is None:
            batch.problem(row, "level", _("unknown level “%(level)s”.") % {"level": v["level"]})
            continue
        found = _parent(batch, row, visible, levels)
        if found is None:
            continue
        parent, parent_level = found
        if level is None:
            continue
        if level == Level.CITY and not may_create_city:
            batch.problem(row, "level", _("only an administrator may add a city."))
            continue
        probe = Jurisdiction(level=parent_level) if parent_level is not None else None
        errors = geo_actions.check_jurisdiction(
            code=v.get("code", ""), name=v.get("name", ""), level=level, parent=probe
        )
        for field_name, reason in errors.items():
            if not (field_name in ("code", "name") and not v.get(field_name)):  # already reported as required
                batch.problem(row, "level" if field_name == "level" else field_name, reason)
        out.append(
            {
                "code": v["code"],
                "name": v["name"],
                "name_en": v.get("name_en", ""),
                "level": level,
                "parent": parent,
            }
        )
    return out


def _parent(
    batch: Batch, row: Row, visible: dict[str, Jurisdiction], levels: dict[str, int | None]
) -> tuple[Jurisdiction | str | None, int | None] | None:
    """The row's parent (a node in the importer's area, or the code of another row of the file) and its level;
    ``None`` when the row cannot be checked further (its problem is reported here or on the parent's row)."""
    code = row.values.get("parent", "")
    if not code:
        return None, None
    if code in visible:
        return visible[code], visible[code].level
    if code in levels and code != row.values.get("code"):
        level = levels[code]
        return None if level is None else (code, level)  # the parent's own row reports its level
    batch.problem(row, "parent", not_in_area(_("jurisdiction"), code))
    return None


def write(actor: Actor, rows: list[dict[str, Any]], source: str) -> list[Any]:
    return geo_actions.bulk_create_jurisdictions(actor=actor, rows=rows, source=source)
