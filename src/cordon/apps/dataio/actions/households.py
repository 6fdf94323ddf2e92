"""Importing households: a code in a building of the importer's area, with a unit; written with
``people.actions.bulk_create_households``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from cordon.apps.geo import selectors as geo
from cordon.apps.people import actions as people_actions
from cordon.apps.people.models import Household
from cordon.core.actors import Actor

from .rows import Batch, already_used, chunked_lookup, duplicates_in_file, not_in_area, progress_bar


def check(actor: Actor, batch: Batch, progress: bool) -> list[dict[str, Any]]:
    """The values of every row, ready for ``bulk_create_households``; problems go to the batch."""
    duplicates_in_file(batch, "code")
    already_used(batch, Household, "code")
    buildings = chunked_lookup(geo.buildings_visible_to(actor), "code", batch.codes("building"))
    out: list[dict[str, Any]] = []
    for row in progress_bar(batch, progress, _("Checking households")):
        v = row.values
        building = buildings.get(v.get("building", ""))
        if v.get("building") and building is None:
            batch.problem(row, "building", not_in_area(_("building"), v["building"]))
        if len(v.get("code", "")) > 40:
            batch.problem(row, "code", _("at most %(n)d characters.") % {"n": 40})
        out.append({"code": v.get("code", ""), "building": building, "unit": v.get("unit", "")[:60]})
    return out


def write(actor: Actor, rows: list[dict[str, Any]], source: str) -> list[Any]:
    return people_actions.bulk_create_households(actor=actor, rows=rows, source=source)
