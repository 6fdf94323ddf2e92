"""Seal the trail written before the hash chains: existing rows become the first links of chain 0 (in the
order they were written), then the database starts refusing to rewrite the audit tables (``audit.guards``)."""

from typing import Any

from django.db import migrations

from cordon.apps.audit import chain, guards

# The fields each table's links cover, as the models name them (``chained_fields``) when this ran.
COVERED = {
    "auditentry": (
        "at",
        "actor_id",
        "actor_name",
        "verb",
        "model",
        "object_pk",
        "object_repr",
        "changes",
        "source",
    ),
    "accesslog": ("at", "actor_id", "actor_name", "person_id", "via", "detail", "query", "count", "persons"),
}


def seal(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    heads = apps.get_model("audit", "ChainHead")
    for name, names in COVERED.items():
        model = apps.get_model("audit", name)
        table = connection.ops.quote_name(model._meta.db_table)
        rows = model.objects.filter(chain__isnull=True).order_by("id").values_list("id", *names)
        seq, digest, batch = 0, "", []
        with connection.cursor() as cursor:
            texts = chain.json_fields(model) & set(names)
            for pk, *values in rows.iterator(chunk_size=5000):
                seq += 1
                covered = dict(zip(names, values, strict=True))
                for name in texts:
                    covered[name] = chain.json_text(covered[name])
                digest = chain.link(digest, chain.canonical(0, seq, covered))
                batch.append((0, seq, digest, pk))
                if len(batch) >= 5000:
                    cursor.executemany(
                        f"UPDATE {table} SET chain = %s, seq = %s, digest = %s WHERE id = %s", batch
                    )
                    batch = []
            if batch:
                cursor.executemany(
                    f"UPDATE {table} SET chain = %s, seq = %s, digest = %s WHERE id = %s", batch
                )
        if seq:
            heads.objects.create(log=f"audit.{name}", chain=0, seq=seq, digest=digest)


def install(apps: Any, schema_editor: Any) -> None:
    guards.install(schema_editor.connection)


def uninstall(apps: Any, schema_editor: Any) -> None:
    guards.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain")]

    operations = [
        migrations.RunPython(seal, migrations.RunPython.noop),
        migrations.RunPython(install, uninstall),
    ]
