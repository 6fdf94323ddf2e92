"""Key-industry frequency rules get an owner: the rules so far were city-wide, so they become the city's (the
root of the jurisdiction tree); a district may then add a stricter rule of its own."""

import django.db.models.deletion
from django.db import migrations, models


def rules_to_the_city(apps, schema_editor):  # type: ignore[no-untyped-def]
    FrequencyRule = apps.get_model("screening", "FrequencyRule")
    Jurisdiction = apps.get_model("geo", "Jurisdiction")
    if not FrequencyRule.objects.exists():
        return
    root = Jurisdiction.objects.filter(parent__isnull=True).order_by("path").first()
    if root is None:  # rules without a city cannot be owned by anyone: they applied to nobody
        FrequencyRule.objects.all().delete()
        return
    FrequencyRule.objects.update(jurisdiction=root)


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0002_rolluptally"),
        ("screening", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="frequencyrule",
            name="jurisdiction",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.jurisdiction",
                verbose_name="set by",
            ),
        ),
        migrations.RunPython(rules_to_the_city, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="frequencyrule",
            name="jurisdiction",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.jurisdiction",
                verbose_name="set by",
            ),
        ),
        migrations.AlterField(
            model_name="frequencyrule",
            name="sector",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.industrysector",
                verbose_name="industry sector",
            ),
        ),
        migrations.AlterModelOptions(
            name="frequencyrule",
            options={
                "ordering": ["sector__code", "jurisdiction__path"],
                "verbose_name": "screening frequency rule",
                "verbose_name_plural": "screening frequency rules",
            },
        ),
        migrations.AddConstraint(
            model_name="frequencyrule",
            constraint=models.UniqueConstraint(
                fields=("sector", "jurisdiction"), name="frequency_rule_once_per_node"
            ),
        ),
    ]
