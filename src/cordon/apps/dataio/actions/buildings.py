"""Importing buildings: codes, addresses, coordinates and footprint polygons, checked by geo's rules; written with
``geo.actions.bulk_create_buildings``."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from cordon.apps.geo import actions as geo_actions
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Building
from cordon.core.actors import Actor

from .rows import (
    Batch,
    Row,
    already_used,
    chunked_lookup,
    duplicates_in_file,
    not_in_area,
    number,
    progress_bar,
)


def check(actor: Actor, batch: Batch, progress: bool) -> list[dict[str, Any]]:
    """The values of every row, ready for ``bulk_create_buildings``; problems go to the batch."""
    duplicates_in_file(batch, "code")
    already_used(batch, Building, "code")
    visible = chunked_lookup(geo.jurisdictions_visible_to(actor), "code", batch.codes("jurisdiction"))
    out: list[dict[str, Any]] = []
    for row in progress_bar(batch, progress, _("Checking buildings")):
        v = row.values
        jurisdiction = visible.get(v.get("jurisdiction", ""))
        if v.get("jurisdiction") and jurisdiction is None:
            batch.problem(row, "jurisdiction", not_in_area(_("jurisdiction"), v["jurisdiction"]))
        lat, lon = number(batch, row, "latitude"), number(batch, row, "longitude")
        footprint = _footprint(batch, row)
        errors = geo_actions.check_building(
            code=v.get("code", ""), address=v.get("address", ""), latitude=lat, longitude=lon
        )
        for field_name, reason in errors.items():
            if v.get(field_name) or field_name in ("latitude", "longitude"):
                batch.problem(row, field_name, reason)
        out.append(
            {
                "code": v.get("code", ""),
                "address": v.get("address", ""),
                "jurisdiction": jurisdiction,
                "latitude": lat,
                "longitude": lon,
                "footprint": footprint,
            }
        )
    return out


def _footprint(batch: Batch, row: Row) -> list[list[float]] | None:
    text = row.values.get("footprint", "")
    if not text:
        return None
    try:
        points = json.loads(text)
        ok = (
            isinstance(points, list)
            and len(points) >= 3
            and all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, int | float) for x in p)
                for p in points
            )
            and all(-180 <= p[0] <= 180 and -90 <= p[1] <= 90 for p in points)
        )
    except ValueError:
        ok = False
    if not ok:
        batch.problem(
            row,
            "footprint",
            _("write the polygon as JSON: [[longitude, latitude], ...] with 3 or more points."),
        )
        return None
    return [[float(x), float(y)] for x, y in points]


def write(actor: Actor, rows: list[dict[str, Any]], source: str) -> list[Any]:
    return geo_actions.bulk_create_buildings(actor=actor, rows=rows, source=source)
