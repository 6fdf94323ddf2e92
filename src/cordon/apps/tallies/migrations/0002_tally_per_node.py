# The kept counts per jurisdiction node (every level, rolled up), not per district only: derived rows, so the
# table is made again (the next refresh fills it).

import django.db.models.deletion
from django.db import migrations, models

UNLOGGED = ["tallies_openitemtally"]


def unlogged(apps, schema_editor):
    """Derived rows, replaced whole every few seconds: on PostgreSQL the table skips the write-ahead log (after a
    crash it comes back empty, and the board counts live until the next refresh)."""
    if schema_editor.connection.vendor == "postgresql":
        for table in UNLOGGED:
            schema_editor.execute(f"ALTER TABLE {table} SET UNLOGGED")


def logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in UNLOGGED:
            schema_editor.execute(f"ALTER TABLE {table} SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0001_initial"),
        ("tallies", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="OpenItemTally"),
        migrations.CreateModel(
            name="OpenItemTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=40, verbose_name="kind")),
                ("open", models.IntegerField(verbose_name="open")),
                ("overdue", models.IntegerField(verbose_name="overdue")),
                ("counted_at", models.DateTimeField(verbose_name="counted at")),
                (
                    "jurisdiction",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="geo.jurisdiction",
                    ),
                ),
                (
                    "district",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="geo.jurisdiction",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("jurisdiction", "kind", "district"), name="tally_node_kind_district"
                    )
                ],
            },
        ),
        migrations.RunPython(unlogged, logged),
    ]
