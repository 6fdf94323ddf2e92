# The commander's home figures of each jurisdiction per day (yesterday's, to compare today's with).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("command", "0001_initial"),
        ("geo", "0003_rolluptally_autovacuum"),
    ]

    operations = [
        migrations.CreateModel(
            name="DayFigures",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="day")),
                ("figures", models.JSONField(default=dict, verbose_name="figures")),
                ("taken_at", models.DateTimeField(verbose_name="taken at")),
                (
                    "jurisdiction",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="geo.jurisdiction"
                    ),
                ),
            ],
            options={
                "verbose_name": "day's figures",
                "verbose_name_plural": "days' figures",
                "constraints": [
                    models.UniqueConstraint(fields=("day", "jurisdiction"), name="day_figures_once")
                ],
            },
        ),
    ]
