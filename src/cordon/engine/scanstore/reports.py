"""What an ingest and a purge report back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an ingest did. ``rows_read == added + duplicates + sum(rejected.values())``.

    ``examples`` holds the first rejected rows as (row number in the input, reason), numbered as the module
    docstring says (CSV: the line number, the header being line 1). ``dates`` are the partitions that received
    new scans; ``already_ingested`` says the file's bytes were ingested before and it was not read again.
    """

    rows_read: int
    added: int
    duplicates: int
    rejected: dict[str, int]
    examples: list[tuple[int, str]]
    dates: list[dt.date]
    batch_id: str | None = None
    already_ingested: bool = False

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def describe(self) -> str:
        if self.already_ingested:
            return (
                f"This file was already ingested; nothing was read or added "
                f"({_plural(self.rows_read, 'row')} last time)."
            )
        text = f"Read {_plural(self.rows_read, 'row')}: {_plural(self.added, 'scan')} added"
        if self.dates:
            first, last = self.dates[0].isoformat(), self.dates[-1].isoformat()
            span = f"on {first}" if first == last else f"on {len(self.dates)} dates from {first} to {last}"
            text += f" {span}"
        text += f"; {self.duplicates:,} {'was' if self.duplicates == 1 else 'were'} already in the store "
        text += "or repeated within the batch"
        if self.rejected:
            reasons = ", ".join(f"{reason} {n:,}" for reason, n in self.rejected.items())
            rows = ", ".join(f"{row} ({reason})" for row, reason in self.examples[:5])
            text += f"; {_plural(self.rejected_total, 'row')} rejected ({reasons}), first at rows {rows}"
        return text + "."


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """The date partitions a purge removed (all dates before ``kept_from``) and the scans they held."""

    kept_from: dt.date
    dates: list[dt.date]
    rows: int

    @property
    def partitions(self) -> int:
        return len(self.dates)

    def describe(self) -> str:
        if not self.dates:
            return f"Nothing to purge: the store holds no scans before {self.kept_from.isoformat()}."
        return (
            f"Removed {_plural(self.partitions, 'date partition')} ({self.dates[0].isoformat()} to "
            f"{self.dates[-1].isoformat()}) holding {_plural(self.rows, 'scan')}; "
            f"scans from {self.kept_from.isoformat()} on are kept."
        )
