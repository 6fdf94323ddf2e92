"""One writer at a time for work several workers may start at once (the kept counts' replace): a PostgreSQL
transaction-level advisory lock named by a string. SQLite serialises writers already, so there it does nothing.
Call it inside the transaction it guards."""

from __future__ import annotations

import zlib

from django.db import connection


def exclusive(name: str) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode())])
