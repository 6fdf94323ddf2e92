"""Put the default quarantine plans of every built-in pathogen profile in force (versioned data; administrators
edit them as new versions afterwards)."""

from django.db import migrations

from cordon.engine.quarantine import default_plans
from cordon.engine.sim import available_profiles


def load(apps, schema_editor):
    QuarantinePlan = apps.get_model("control", "QuarantinePlan")
    for profile in available_profiles():
        for plan in default_plans(profile):
            if QuarantinePlan.objects.filter(
                profile=profile, applies_to=plan.applies_to, in_force=True
            ).exists():
                continue
            QuarantinePlan.objects.create(
                profile=profile,
                code=plan.code,
                version=1,
                applies_to=plan.applies_to,
                name=plan.name,
                name_zh=plan.name_zh,
                definition=plan.to_dict(),
                in_force=True,
                note="profile default",
            )


class Migration(migrations.Migration):
    dependencies = [("control", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
