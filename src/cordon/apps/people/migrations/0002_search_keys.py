# Reversed national ID and phone, indexed, for "last digits" search.

from django.db import migrations, models


def fill(apps, schema_editor):
    Person = apps.get_model("people", "Person")
    batch = []
    for person in Person.objects.only("id", "national_id", "phone").iterator(chunk_size=5000):
        person.national_id_rev = (person.national_id or "")[::-1]
        person.phone_rev = "".join(ch for ch in person.phone or "" if ch.isdigit())[::-1]
        batch.append(person)
        if len(batch) == 5000:
            Person.objects.bulk_update(batch, ["national_id_rev", "phone_rev"])
            batch = []
    if batch:
        Person.objects.bulk_update(batch, ["national_id_rev", "phone_rev"])


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="national_id_rev",
            field=models.CharField(blank=True, db_index=True, default="", editable=False, max_length=18),
        ),
        migrations.AddField(
            model_name="person",
            name="phone_rev",
            field=models.CharField(blank=True, db_index=True, default="", editable=False, max_length=20),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
