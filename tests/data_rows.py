"""The rows data migrations create (the default quarantine plans and zone rules), put back after the database was
emptied: a transactional test's end flushes it, and so does a module fixture that discards what it loaded."""

from __future__ import annotations


def restore_data_migration_rows() -> None:
    from cordon.apps.control.actions import load_default_plans
    from cordon.apps.zones.actions import load_default_rules

    load_default_plans()
    load_default_rules()
