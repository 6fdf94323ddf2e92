"""The one bulk writer: rows of plain values into a table, with ``COPY`` on PostgreSQL.

For hot paths that write thousands of rows at once (a case's new contacts, a station's batch of samples) and
would spend most of their time building model instances. ``insert_rows`` takes the column names (attnames:
``person_id``, not ``person``) and tuples of values already prepared for the database (JSON as text,
datetimes aware); on PostgreSQL it streams them with one ``COPY ... FROM STDIN`` (text format, escaped by
psycopg), elsewhere it runs ``executemany`` in batches. Database errors come out as Django's (an
``IntegrityError`` stays one). The caller audits what it wrote, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q

from . import locks

# Watchers of rows written past the ORM's cursor wrapper (the audit-coverage check in the tests): called with
# the table and the number of rows, after each insert.
row_watchers: list[Callable[[str, int], None]] = []


def uses_copy() -> bool:
    return connection.vendor == "postgresql"


def next_ids(model: type[models.Model], n: int) -> list[int]:
    """``n`` new primary keys for ``model``'s rows, drawn from its table's sequence in one query (PostgreSQL):
    for rows the bulk writer inserts with their ids, so the caller can audit them without reading them back."""
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, n]
        )
        return [int(row[0]) for row in cursor.fetchall()]


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], *, batch: int = 5000
) -> int:
    """Insert ``rows`` (values in the order of ``columns``) into ``model``'s table; returns the row count."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    n = 0
    if uses_copy():
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                n += 1
    else:
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        chunk: list[Sequence[Any]] = []
        with connection.cursor() as cursor:
            for row in rows:
                chunk.append(row)
                if len(chunk) >= batch:
                    cursor.executemany(sql, chunk)
                    n, chunk = n + len(chunk), []
            if chunk:
                cursor.executemany(sql, chunk)
                n += len(chunk)
        return n  # executemany passes through the cursor wrapper: watchers see it there
    for watch in list(row_watchers):
        watch(model._meta.db_table, n)
    return n


def replace_all(
    model: type[models.Model],
    instances: Sequence[models.Model],
    *,
    lock: str,
    batch: int = 2000,
    where: Q | None = None,
) -> int:
    """Replace every row of a derived table (kept counts) with ``instances``, in one short transaction (readers
    see the old rows or the new ones) and one replacer at a time (``core.locks``: several workers refresh on
    their own clocks). With ``where``, only the rows it matches are replaced (a part of the table recounted on
    its own clock). Build the rows before calling: nothing slow belongs inside. Returns the row count."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    rows = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] for obj in instances]
    return replace_rows(model, [f.attname for f in fields], rows, lock=lock, batch=batch, where=where)


def replace_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    lock: str,
    batch: int = 2000,
    where: Q | None = None,
) -> int:
    """``replace_all`` with rows of plain values prepared for the database, as ``insert_rows`` takes them (no
    model instances: the roll-ups of every node and figure are a hundred thousand rows and more, written with
    ``COPY`` on PostgreSQL)."""
    with transaction.atomic():
        locks.exclusive(lock)
        old = model._default_manager.all()
        (old if where is None else old.filter(where)).delete()
        return insert_rows(model, columns, rows, batch=batch)
