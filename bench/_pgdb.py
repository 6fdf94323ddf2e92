"""A throwaway PostgreSQL database for one benchmark run."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def throwaway_database(admin_url: str, prefix: str, *, keep: bool = False) -> Iterator[str]:
    """Create a database next to ``admin_url``'s, point ``DATABASE_URL`` at it while the block runs, then close
    Django's connections and drop it (unless ``keep``: its name is printed). Yields the database's name."""
    import psycopg

    name = f"{prefix}_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{admin_url.rsplit('/', 1)[0]}/{name}"
    try:
        yield name
    finally:
        from django.db import connections

        connections.close_all()
        if keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
