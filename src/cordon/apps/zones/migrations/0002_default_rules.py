"""Seed the zone rule sets: the national 9th-edition rule in force, and a second rule set (7 days sealed, then
7 days of home monitoring) to show a change of rule is data (administrators put another version in force)."""

from django.db import migrations

from cordon.engine import zones

NAMES = zones.RULE_NAMES


def load(apps, schema_editor):
    ZoneRuleSet = apps.get_model("zones", "ZoneRuleSet")
    if ZoneRuleSet.objects.exists():
        return
    for rules in zones.DEFAULT_RULE_SETS:
        name, name_zh = NAMES[rules.code]
        ZoneRuleSet.objects.create(
            code=rules.code,
            version=1,
            name=name,
            name_zh=name_zh,
            definition=zones.rules_to_json(rules),
            in_force=rules is zones.NINTH_EDITION,
            note="default",
        )


class Migration(migrations.Migration):
    dependencies = [("zones", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
