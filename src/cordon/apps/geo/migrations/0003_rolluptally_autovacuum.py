"""The kept roll-ups are replaced whole by workers every minute (and their badge rows every few seconds): on
PostgreSQL, have autovacuum clear the dead rows after every replace instead of at a fifth of the table's size, so
the unique index does not fill with dead versions that every replace must step over."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def _tune(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE geo_rolluptally SET (autovacuum_vacuum_scale_factor = 0, "
            "autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_cost_delay = 0)"
        )


def _untune(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE geo_rolluptally RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, "
            "autovacuum_vacuum_cost_delay)"
        )


class Migration(migrations.Migration):
    dependencies = [("geo", "0002_rolluptally")]

    operations = [migrations.RunPython(_tune, _untune)]
