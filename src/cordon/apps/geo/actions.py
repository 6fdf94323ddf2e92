"""Every write to the jurisdiction tree, buildings and sectors goes through here (one ``@action`` each: one
transaction, audited)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.core import bulk, rollups
from cordon.core.actions import action
from cordon.core.actors import Actor

from . import selectors
from .models import Building, IndustrySector, Jurisdiction, Level, Outline, RollupTally


def check_jurisdiction(*, code: str, name: str, level: int, parent: Jurisdiction | None) -> dict[str, str]:
    """Field errors for a new jurisdiction node (empty when valid). Does not look at existing codes."""
    errors: dict[str, str] = {}
    if not code or not code.replace("-", "").replace("_", "").isalnum() or len(code) > 32:
        errors["code"] = _("A code is 1 to 32 letters, digits, '-' or '_'.")
    if not name.strip():
        errors["name"] = _("A name is required.")
    if level not in Level.values:
        errors["level"] = _("Unknown level.")
    elif level == Level.CITY and parent is not None:
        errors["parent"] = _("A city has no parent.")
    elif level != Level.CITY and parent is None:
        errors["parent"] = _("Only a city can be without a parent.")
    elif parent is not None and parent.level != level - 1:
        errors["parent"] = _("The parent of a %(level)s must be a %(parent)s.") % {
            "level": Level(level).label,
            "parent": Level(level - 1).label,
        }
    return errors


@action
def create_jurisdiction(
    *,
    actor: Actor | None,
    code: str,
    name: str,
    level: int,
    parent: Jurisdiction | None = None,
    name_en: str = "",
    source: str = "web",
) -> Jurisdiction:
    code, name = code.strip(), name.strip()
    errors = check_jurisdiction(code=code, name=name, level=level, parent=parent)
    if not errors and Jurisdiction.objects.filter(code=code).exists():
        errors["code"] = _("This code is already used.")
    if errors:
        raise ValidationError(errors)
    return audit.create(
        actor,
        Jurisdiction,
        source=source,
        code=code,
        name=name,
        name_en=name_en.strip(),
        level=level,
        parent=parent,
        path=(parent.path if parent else "/") + code + "/",
    )


@action
def rename_jurisdiction(
    *, actor: Actor | None, node: Jurisdiction, name: str, name_en: str = "", source: str = "web"
) -> None:
    if not name.strip():
        raise ValidationError({"name": _("A name is required.")})
    audit.change(actor, node, source=source, name=name.strip(), name_en=name_en.strip())


def check_building(
    *, code: str, address: str, latitude: float | None, longitude: float | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not code.strip():
        errors["code"] = _("A code is required.")
    if not address.strip():
        errors["address"] = _("An address is required.")
    if latitude is not None and not -90 <= latitude <= 90:
        errors["latitude"] = _("Latitude must be between -90 and 90.")
    if longitude is not None and not -180 <= longitude <= 180:
        errors["longitude"] = _("Longitude must be between -180 and 180.")
    if (latitude is None) != (longitude is None):
        errors["latitude"] = _("Give both latitude and longitude, or neither.")
    return errors


@action
def create_building(
    *,
    actor: Actor | None,
    code: str,
    address: str,
    jurisdiction: Jurisdiction,
    latitude: float | None = None,
    longitude: float | None = None,
    footprint: list[list[float]] | None = None,
    source: str = "web",
) -> Building:
    errors = check_building(code=code, address=address, latitude=latitude, longitude=longitude)
    if not errors and Building.objects.filter(code=code.strip()).exists():
        errors["code"] = _("This code is already used.")
    if errors:
        raise ValidationError(errors)
    return audit.create(
        actor,
        Building,
        source=source,
        code=code.strip(),
        address=address.strip(),
        jurisdiction=jurisdiction,
        latitude=latitude,
        longitude=longitude,
        footprint=footprint,
    )


@action
def create_sector(
    *,
    actor: Actor | None,
    code: str,
    name: str,
    name_en: str = "",
    key_industry: bool = False,
    source: str = "web",
) -> IndustrySector:
    if IndustrySector.objects.filter(code=code).exists():
        raise ValidationError({"code": _("This code is already used.")})
    return audit.create(
        actor, IndustrySector, source=source, code=code, name=name, name_en=name_en, key_industry=key_industry
    )


@action
def bulk_create_jurisdictions(
    *, actor: Actor | None, rows: Iterable[dict[str, Any]], source: str = "web"
) -> list[Jurisdiction]:
    """Insert already-checked nodes in bulk, one audit row each. A row's ``parent`` is either an existing
    ``Jurisdiction`` or the code of another row of the same batch (rows are inserted level by level, so a file
    may list children before their parents). An import holds the outer transaction (all or nothing per file)."""
    pending = sorted(rows, key=lambda r: r["level"])
    made: dict[str, Jurisdiction] = {}
    created: list[Jurisdiction] = []
    for level in sorted({r["level"] for r in pending}):
        batch = []
        for row in (r for r in pending if r["level"] == level):
            parent = row["parent"]
            if isinstance(parent, str):
                parent = made[parent]
            batch.append(
                Jurisdiction(
                    code=row["code"],
                    name=row["name"],
                    name_en=row.get("name_en", ""),
                    level=level,
                    parent=parent,
                    path=(parent.path if parent else "/") + row["code"] + "/",
                )
            )
        for node in Jurisdiction.objects.bulk_create(batch, batch_size=1000):
            made[node.code] = node
            created.append(node)
    audit.record_bulk_create(actor, created, source=source)
    return created


@action
def bulk_create_buildings(
    *, actor: Actor | None, rows: Iterable[dict[str, Any]], source: str = "web"
) -> list[Building]:
    """Insert already-checked building values in bulk, one audit row each (an import holds the outer
    transaction)."""
    buildings = Building.objects.bulk_create([Building(**values) for values in rows], batch_size=1000)
    audit.record_bulk_create(actor, buildings, source=source)
    return buildings


def _fast_keys() -> list[str]:
    return [k for g in rollups.groups() if g.fast for k in g.keys]


TALLY_COLUMNS = ("figure", "jurisdiction_id", "n", "counted_at")


def _replace(counts: dict[tuple[str, int], int], now: dt.datetime, where: Q | None = None) -> int:
    """Replace the kept roll-ups (those ``where`` matches) with ``counts``, as plain rows (``bulk.replace_rows``)."""
    at = connection.ops.adapt_datetimefield_value(now)
    rows = [(figure, node, n, at) for (figure, node), n in counts.items()]
    return bulk.replace_rows(RollupTally, TALLY_COLUMNS, rows, lock="geo.rollups", where=where)


@action(atomic=False)
def refresh_rollups(*, now: dt.datetime | None = None) -> int:
    """Recount the roll-up figures (and the groups kept with them) of every node (reads only, outside any
    transaction) and replace the kept ones in one short transaction (on PostgreSQL one replace at a time).
    Returns how many were written."""
    now = now or timezone.now()
    return _replace(selectors.rollup_recount(fast=False), now, ~Q(figure__in=_fast_keys()))


@action(atomic=False)
def refresh_fast_rollups(*, now: dt.datetime | None = None) -> int:
    """The same for the groups recounted every few seconds (``rollups.Group.fast``: the menu badges)."""
    now = now or timezone.now()
    return _replace(selectors.rollup_recount(fast=True), now, Q(figure__in=_fast_keys()))


@dataclass(frozen=True)
class Drift:
    figure: str
    jurisdiction_id: int
    kept: int
    actual: int


@action(atomic=False)
def reconcile_rollups(*, now: dt.datetime | None = None) -> list[Drift]:
    """Recount every figure and group, report every kept count that differs from the source tables (changed
    since its last refresh, or corrupted), and replace them all."""
    now = now or timezone.now()
    actual = selectors.rollup_recount()
    kept = selectors.rollup_stored()
    drift = [
        Drift(figure, node, kept.get((figure, node), 0), actual.get((figure, node), 0))
        for figure, node in sorted(set(actual) | set(kept))
        if kept.get((figure, node), 0) != actual.get((figure, node), 0)
    ]
    _replace(actual, now)
    return drift


OUTLINE_COLUMNS = (
    "jurisdiction_id", "level", "ring", "buildings", "west", "south", "east", "north", "x", "y", "computed_at",
)  # fmt: skip


@action(atomic=False)
def refresh_outlines(*, now: dt.datetime | None = None) -> int:
    """Recompute the outline of every district, street, community and grid from its buildings' points (reads
    only, outside any transaction: ``selectors.outline_recount``) and replace the kept ones in one short
    transaction (one replace at a time). Returns how many were written."""
    now = now or timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    rows = [
        (
            o["jurisdiction_id"], o["level"], json.dumps(o["ring"]), o["buildings"],
            o["west"], o["south"], o["east"], o["north"], o["x"], o["y"], at,
        )
        for o in selectors.outline_recount()
    ]  # fmt: skip
    return bulk.replace_rows(Outline, OUTLINE_COLUMNS, rows, lock="geo.outlines")
