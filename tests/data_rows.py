"""After the database was emptied (a transactional test's end flushes it, and so does a module fixture that
discards what it loaded): the rows data migrations create (the default quarantine plans and zone rules) put
back, and, on PostgreSQL, the test session's permission to empty the audit tables again."""

from __future__ import annotations


def restore_data_migration_rows() -> None:
    from cordon.apps.control.actions import load_default_plans
    from cordon.apps.zones.actions import load_default_rules

    load_default_plans()
    load_default_rules()


def after_flush() -> None:
    """``cordon.cli._django.flush`` (what ``cordon demo --reset`` runs) ends with ``RESET cordon.audit_reset``
    on the connection it used, which in the tests is the test session's own: the next transactional test's
    flush would then be refused (``tests/conftest.py`` sets it when the connection is made). Set it again, and
    put the data migrations' rows back."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET cordon.audit_reset = 'on'")
    restore_data_migration_rows()
