"""The scan store: loading batches of venue check-in scans (each batch recorded) and purging old ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cordon.apps.audit import actions as audit
from cordon.core import inputs
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none
from cordon.engine.scanstore import IngestReport, PurgeReport

from ..models import ScanBatch
from ..store import register_resolver, scan_store


@action(atomic=False)
def ingest_scans(
    *, actor: Actor | None, source_file: Path | pa.Table, filename: str = "", fmt: str | None = None,
    source: str = "web", progress: Callable[[int, int], None] | None = None,
) -> IngestReport:  # fmt: skip
    """Load a batch of check-in scans into the scan store (persons and venues checked against the register,
        national IDs and place codes resolved) and record the batch with its counts.

        Not one transaction: the ingest reads the file and writes the store's files for as long as the file is
        large (minutes for a day of a city's scans), reading the register but writing no record; the batch is
        then recorded (and audited) in a transaction of its own. Scans dated outside the plausible days of an event
    (``core.inputs.event_bounds``) are rejected row by row. A file the store refuses (``ValueError``)
        records no batch."""
    report = scan_store().ingest(
        source_file, fmt=fmt, resolver=register_resolver(), progress=progress, plausible=inputs.event_bounds()
    )
    with transaction.atomic():
        # Built, then saved with save_new: the batch's own ``source`` field would clash with audit.create's.
        batch = ScanBatch(
            actor=user_or_none(actor),
            filename=(filename or (source_file.name if isinstance(source_file, Path) else ""))[:200],
            source=source,
            rows_read=report.rows_read,
            added=report.added,
            duplicates=report.duplicates,
            rejected=dict(report.rejected),
        )
        audit.save_new(actor, batch, source=source)
    return report


@action
def purge_scans(
    *, actor: Actor | None, keep_days: int | None = None, today: dt.date | None = None, source: str = "web"
) -> PurgeReport:
    """Remove the scan store's days older than the retention period (``CORDON_SCAN_RETENTION_DAYS``, or
    ``keep_days``). Writes the store's files only, no record of the database."""
    keep = settings.CORDON_SCAN_RETENTION_DAYS if keep_days is None else keep_days
    return scan_store().purge(keep_days=keep, today=today or timezone.localdate())
