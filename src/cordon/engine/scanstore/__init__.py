"""The scan store: venue check-in scans kept as a date-partitioned Parquet dataset, queried with DuckDB.

Layout of a store folder::

    root/date=2026-11-19/part-0.parquet                        (written by the simulator, read as is)
    root/date=2026-11-20/part-20261121T020000-3fa2b1c4.parquet (one file per ingested batch and date)
    root/_ingested.json                                        (manifest: one entry per ingested batch)

The partitions are hive style (``date=YYYY-MM-DD``), so DuckDB (``read_parquet('root/*/*.parquet',
hive_partitioning = true)``), Spark and Trino read the folder as it is. Every file holds the columns of
:data:`SCHEMA`: ``person_id`` and ``venue_id`` (int64), ``subarea`` (int16, an index into the venue's sub-area
list, null when unknown), ``time_in`` and ``time_out`` (timestamp[ms], local wall-clock times without a zone).
Files written by older tools with narrower integers (venue_id int32, subarea int8) are read and cast on read.

Rules:

* A scan belongs to the partition of the date of its ``time_in``; a stay lasts at most :data:`MAX_STAY_HOURS`
  (24; ingestion refuses longer ones, row by row), so the scans overlapping a window are in the partitions from
  the date of its start less that to the date of its end (:func:`days_holding`). Every reader (the platform's
  queries, the batch trace, ``cordon trace``) asks for its partitions so.
* Every file is sorted by (venue_id, time_in), so the row-group statistics let a venue lookup skip most of it.
* Files are written under a hidden temporary name in their partition folder and renamed into place: a reader
  never sees half a file. A batch is all or nothing: if it fails, the files it already renamed are removed, and
  the manifest is updated only once every file is in place.
* A scan is identified by (person_id, venue_id, time_in, time_out, subarea), an unknown sub-area counting as
  one value. Ingesting a scan the store already holds, or repeating one inside a batch, adds nothing; such rows
  are reported as duplicates. A file whose exact bytes were already ingested without any rejected row is not
  read again.
* Input rows with a problem are skipped and counted under one reason each (the first that applies, in the order
  of :data:`REASONS`), with the numbers of the first rows for the report: nothing is dropped silently. Rows are
  numbered as a person looking at the file would: the line number in a CSV file (the header is line 1) or a
  JSON-lines file (blank lines count), the 1-based row in a Parquet file or an Arrow table.
  A file that cannot be read at all (broken CSV, a line that is not a JSON object, missing columns) is refused
  as a whole with a ValueError before anything is written.
* The store has one writer at a time (ingest and purge); any number of readers may run alongside.

Parsing and checking run in DuckDB over Arrow record batches, so an ingest of tens of millions of rows is
bounded by DuckDB's memory limit (it spills to a scratch folder inside the store) and by one date at a time when
writing. Nothing here imports Django.

The modules: :mod:`.layout` (the file schema, partitions and their files, the manifest), :mod:`.source` (an
ingest's input read and checked row by row), :mod:`.ingest` (writing a batch), :mod:`.reading`, :mod:`.purge`,
:mod:`.reports` (what ingest and purge report) and :mod:`.store` (:class:`ScanStore`, which joins them).
"""

from __future__ import annotations

from .ingest import FORMATS, SUFFIXES
from .layout import BATCH_ROWS, MANIFEST, MAX_STAY, MAX_STAY_HOURS, MAX_STAY_MINUTES, SCHEMA, days_holding
from .reports import IngestReport, PurgeReport
from .source import (
    BAD_SUBAREA,
    BAD_TIME,
    IMPLAUSIBLE_TIME,
    INPUT_COLUMNS,
    LONG_STAY,
    MAX_EXAMPLES,
    MISSING_PERSON,
    MISSING_VENUE,
    REASONS,
    RESOLVE_CHUNK,
    SUBAREA_MAX,
    TIME_FORMATS,
    TIME_OUT_BEFORE_IN,
    UNKNOWN_PERSON,
    UNKNOWN_VENUE,
    InputError,
    Resolver,
)
from .store import ScanStore, partition_files

__all__ = [
    "BAD_SUBAREA",
    "BAD_TIME",
    "BATCH_ROWS",
    "FORMATS",
    "IMPLAUSIBLE_TIME",
    "INPUT_COLUMNS",
    "LONG_STAY",
    "MANIFEST",
    "MAX_EXAMPLES",
    "MAX_STAY",
    "MAX_STAY_HOURS",
    "MAX_STAY_MINUTES",
    "MISSING_PERSON",
    "MISSING_VENUE",
    "REASONS",
    "RESOLVE_CHUNK",
    "SCHEMA",
    "SUBAREA_MAX",
    "SUFFIXES",
    "TIME_FORMATS",
    "TIME_OUT_BEFORE_IN",
    "UNKNOWN_PERSON",
    "UNKNOWN_VENUE",
    "IngestReport",
    "InputError",
    "PurgeReport",
    "Resolver",
    "ScanStore",
    "days_holding",
    "partition_files",
]
