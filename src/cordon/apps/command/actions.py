"""Writes of the command app: the day's figures of every jurisdiction the home compares with."""

from __future__ import annotations

import datetime as dt
import json

from django.db.models import Q
from django.utils import timezone

from cordon.core import bulk
from cordon.core.actions import action
from cordon.core.actors import CityReader

from . import figures
from .models import DayFigures

COLUMNS = ["day", "jurisdiction_id", "figures", "taken_at"]


@action(atomic=False)
def take_day_figures(*, now: dt.datetime | None = None) -> int:
    """Count the headline figures of every city and district as they are now (reads only, outside any
    transaction, as a reader of each node) and replace the figures stored for today in one transaction. Run by
    the workers all day (``hooks.py``): the last take of a day is its close, the "yesterday" of the next day.
    Returns how many jurisdictions were stored."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    rows = [
        (day, node.pk, json.dumps(figures.values(CityReader(node), day, now)), now)
        for node in figures.stored_nodes()
    ]
    bulk.replace_rows(DayFigures, COLUMNS, rows, lock="command.day_figures", where=Q(day=day))
    return len(rows)
