# The command app's first migration holds no table: its models (the stored daily figures, the daily reports)
# come in the migrations after it.
from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations: list[migrations.operations.base.Operation] = []
