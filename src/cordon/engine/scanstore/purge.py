"""Purging: the date partitions before a cut-off taken away whole."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil

import pyarrow.parquet as pq

from .layout import Layout
from .reports import PurgeReport


def purge(store: Layout, *, keep_days: int, today: dt.date) -> PurgeReport:
    """Removes the date partitions before ``today - keep_days`` (that date and later are kept)."""
    if keep_days < 1:
        raise ValueError(f"keep_days must be at least 1, not {keep_days}")
    kept_from = today - dt.timedelta(days=keep_days)
    removed, rows = [], 0
    for day, files in store._partitions(end=kept_from - dt.timedelta(days=1)):
        rows += sum(pq.read_metadata(f).num_rows for f in files)
        folder = store.folder(day)
        hidden = folder.with_name(f".purge-{folder.name}-{secrets.token_hex()}")
        os.replace(folder, hidden)  # the partition vanishes for readers at once
        shutil.rmtree(hidden)
        removed.append(day)
    return PurgeReport(kept_from, removed, rows)
