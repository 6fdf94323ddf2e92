"""The database refuses to rewrite the audit trail: triggers on the audit tables.

PostgreSQL: UPDATE and DELETE of an audit entry or an access-log row are refused, and so is TRUNCATE unless the
session has set ``cordon.audit_reset`` to ``on`` (what discarding a whole demo database does, ``cli/_django.py``,
and the test suite's flush between tests); a chain head (``ChainHead``) only moves forward. SQLite (the demo):
UPDATE is refused and heads only move forward; a DELETE is not refused there (Django empties tables with DELETE)
but breaks the chain, which ``cordon audit verify`` reports. A superuser can still disable the triggers: the hash
chains are what shows a change then.

Installed by the migration ``audit.0003_seal``. SQLite drops a table's triggers when a migration rebuilds the
table: such a migration runs ``install`` again, and ``cordon audit verify`` reports triggers missing or
disabled (``missing``).
"""

from __future__ import annotations

from typing import Any

RESET_SETTING = "cordon.audit_reset"
TABLES = ("audit_auditentry", "audit_accesslog")
HEADS = "audit_chainhead"

_PG = f"""
CREATE OR REPLACE FUNCTION cordon_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('{RESET_SETTING}', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = '{HEADS}' THEN
        IF NEW.log = OLD.log AND NEW.chain = OLD.chain AND NEW.seq > OLD.seq THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END
$$;
"""


def _pg_triggers(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION cordon_audit_append_only()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION cordon_audit_append_only()",
    ]


def _sqlite_triggers(table: str) -> list[str]:
    refuse = f"SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE on {table} refused')"
    when = (
        " WHEN NOT (NEW.log = OLD.log AND NEW.chain = OLD.chain AND NEW.seq > OLD.seq)"
        if table == HEADS
        else ""
    )
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_append_only BEFORE UPDATE ON {table}{when} BEGIN {refuse}; END"
    ]


def statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [_PG, *(s for t in (*TABLES, HEADS) for s in _pg_triggers(t))]
    if vendor == "sqlite":
        return [s for t in (*TABLES, HEADS) for s in _sqlite_triggers(t)]
    return []


def install(connection: Any) -> None:
    """Create (or re-create) the triggers on ``connection``'s database; nothing when the tables are absent."""
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
        if not present.issuperset((*TABLES, HEADS)):
            return
        for sql in statements(connection.vendor):
            cursor.execute(sql)


def uninstall(connection: Any) -> None:
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for table in (*TABLES, HEADS):
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only{' ON ' + table if pg else ''}")
            if pg:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        if pg:
            cursor.execute("DROP FUNCTION IF EXISTS cordon_audit_append_only()")


def names(vendor: str) -> list[str]:
    """The triggers ``install`` creates."""
    kinds = ("append_only", "no_truncate") if vendor == "postgresql" else ("append_only",)
    return [f"{t}_{k}" for t in (*TABLES, HEADS) for k in kinds] if vendor in ("postgresql", "sqlite") else []


def missing(connection: Any) -> list[str]:
    """The triggers of ``install`` that are absent, or disabled (PostgreSQL), on ``connection``'s database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'")
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            return []
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in names(connection.vendor) if name not in present]
