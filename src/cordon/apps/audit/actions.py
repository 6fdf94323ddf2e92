"""Writing the audit trail and the access log: the one way every other app's actions record what they change.

The write helpers change a record *and* audit it, so an action never saves without an audit row:

- ``create(actor, Model, source=..., **fields)``: insert one record, audit its values;
- ``change(actor, instance, source=..., **fields)``: set the fields, save exactly those fields (and the
  record's ``auto_now`` timestamps) with ``update_fields``, audit old -> new; nothing is saved or audited when no
  value changes;
- ``change_many(actor, instances, source=..., **fields)``: the same for many records with one ``bulk_update``
  and one audit row per changed record, inserted in bulk;
- every write of a ``Versioned`` record (``cordon.core.versions``) adds one to its ``version``; ``change`` takes
  the version the editor saw (``expected_version``) and refuses a stale edit with ``versions.Conflict``;
- ``delete(actor, instance, source=...)`` / ``delete_many``: audit the values, then delete.

Lower-level recorders (``record_create``, ``record_update``, ``record_bulk_create``, ...) remain for rows the
action writes itself (``bulk_create`` of new records, the bulk writer of ``cordon.core.bulk``); ``record_batch``
writes one row for a whole batch on the few hot paths documented in docs/architecture.md.
All of them run inside the calling action's transaction.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

from django.db import connection, models, transaction
from django.utils import timezone

from cordon.core import versions
from cordon.core.actors import Actor, actor_name, user_or_none
from cordon.core.bulk import insert_rows

from . import chain
from .models import AccessLog, AuditEntry, ChainHead, ReadAlert

M = TypeVar("M", bound=models.Model)


# Fields whose values never go into the trail (credentials; the request data django-axes keeps of a failed
# sign-in, CSRF tokens included, which an unlock deletes): a change shows as a different short fingerprint.
SECRET_FIELDS = frozenset({"password", "key_hash", "get_data", "post_data"})


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime):
        # One instant, one text: aware datetimes in UTC, so a value read back in another time zone is no change.
        return (value.astimezone(dt.UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def snapshot(instance: models.Model) -> dict[str, Any]:
    """Field values of a model instance as plain JSON values (foreign keys as ids). Derived fields (not
    editable: materialized paths, search keys) and timestamps are left out."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.primary_key or not field.editable:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        value = getattr(instance, field.attname)
        if field.attname in SECRET_FIELDS and value:
            value = "hidden:" + hashlib.sha256(str(value).encode()).hexdigest()[:8]
        data[field.attname] = _plain(value)
    return data


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _one(
    actor: Actor | None, verb: str, instance: models.Model, changes: Mapping[str, Any], source: str
) -> None:
    """Write one audit entry for ``instance``."""
    _insert(actor, source, [_of(verb, instance, changes)])


def _values(instance: models.Model) -> dict[str, Any]:
    """The record's non-empty values (what a create or a delete records)."""
    return {k: v for k, v in snapshot(instance).items() if v not in (None, "", [], {})}


def _created(instance: models.Model) -> dict[str, Any]:
    return {k: [None, v] for k, v in _values(instance).items()}


def created_changes(values: Mapping[str, Any]) -> dict[str, Any]:
    """What a create records for a row written as plain values (``{attname: value}`` of its editable fields,
    no model instance): the same as for the record's instance, its non-empty values as JSON values. For the
    bulk writers' ``record_rows``."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        plain = _plain(v)
        if plain not in (None, "", [], {}):
            out[k] = [None, plain]
    return out


def _deleted(instance: models.Model) -> dict[str, Any]:
    return {k: [v, None] for k, v in _values(instance).items()}


def _timestamps(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]


# --- Write and audit --------------------------------------------------------------------------------------


def create(actor: Actor | None, model: type[M], *, source: str, **fields: Any) -> M:
    """Insert one ``model`` record with ``fields`` and audit it."""
    instance = model._default_manager.create(**fields)
    record_create(actor, instance, source=source)
    return instance


def save_new(actor: Actor | None, instance: M, *, source: str) -> M:
    """Insert a record built by the caller (``instance.pk`` unset) and audit it."""
    if instance.pk is not None and not instance._state.adding:
        raise ValueError("save_new is for new records; use change() for existing ones.")
    instance.save(force_insert=True)
    record_create(actor, instance, source=source)
    return instance


def change(
    actor: Actor | None,
    instance: models.Model,
    *,
    source: str,
    expected_version: int | None = None,
    **fields: Any,
) -> bool:
    """Set ``fields`` on ``instance``, save only those fields when a value changed, audit old -> new.
    Returns whether anything changed.

    A ``Versioned`` record's version goes up by one with the write; with ``expected_version`` (the version the
    editor saw) the write is made only ``WHERE version = expected_version``, and a stale one raises
    ``versions.Conflict`` (even when it would change nothing: the editor saw another state)."""
    if expected_version is not None and not versions.is_versioned(instance):
        raise TypeError(f"{instance._meta.label} has no version to check")
    versions.check(instance, expected_version)
    before = snapshot(instance)
    for name, value in fields.items():
        setattr(instance, name, value)
    changes = diff(before, snapshot(instance))
    if not changes and not _touches_derived(instance, fields):
        return False
    if versions.is_versioned(instance):
        _save_versioned(instance, list(fields), expected_version)
    else:
        instance.save(update_fields=[*fields, *_timestamps(type(instance))])
    if changes:
        _one(actor, AuditEntry.Verb.UPDATE, instance, changes, source)
    return True


def _save_versioned(instance: models.Model, names: list[str], expected: int | None) -> None:
    """First ``UPDATE ... SET version = version + 1 WHERE id = pk [AND version = expected]``, which takes the
    row's lock: a write that lost the race to another (committed first, or holding the row) matches no row and
    is refused; then the fields are saved as for any record (``save(update_fields=...)``, in the same
    transaction, so the model's own ``save`` and ``auto_now`` stamps apply)."""
    model = type(instance)
    rows = model._default_manager.filter(pk=instance.pk)
    if expected is not None:
        rows = rows.filter(version=expected)
    if not rows.update(version=models.F("version") + 1):
        current = model._default_manager.filter(pk=instance.pk).values_list("version", flat=True).first()
        raise versions.Conflict(model._meta.label_lower, {instance.pk: current or 0})
    instance.save(update_fields=[*names, *_timestamps(model)])
    record = cast(versions.Versioned, instance)
    record.version = (expected or record.version) + 1


def _touches_derived(instance: models.Model, fields: Mapping[str, Any]) -> bool:
    """Whether ``fields`` names a field the snapshot leaves out (derived or not editable): those are saved
    even though the audit row, which records only editable values, has nothing to say."""
    opts = instance._meta
    for name in fields:
        field = opts.get_field(name)
        if not getattr(field, "editable", True):
            return True
    return False


def change_many(
    actor: Actor | None, instances: Sequence[M], *, source: str, batch: int = 1000, **fields: Any
) -> list[M]:
    """Set the same ``fields`` on every instance; one ``UPDATE ... WHERE id IN (...)`` per batch of the changed
    ones, one audit row per changed record (inserted in bulk). Returns the changed instances."""
    changed, entries = _apply(instances, lambda _obj: fields)
    if changed:
        model = type(changed[0])
        stamps = dict.fromkeys(_timestamps(model), timezone.now())
        for obj in changed:
            for name, value in stamps.items():
                setattr(obj, name, value)
        bump = versions.bump(changed)
        for i in range(0, len(changed), batch):
            chunk = [obj.pk for obj in changed[i : i + batch]]
            model._default_manager.filter(pk__in=chunk).update(**fields, **stamps, **bump)
        _insert(actor, source, entries)
    return changed


def change_each(
    actor: Actor | None,
    instances: Sequence[M],
    values: Any,
    *,
    source: str,
    batch: int = 1000,
) -> list[M]:
    """Like ``change_many`` with values per record: ``values(instance) -> {field: value}`` (one
    ``bulk_update``). All records must be of one model; the fields written are the union of the fields named."""
    changed, entries = _apply(instances, values)
    if changed:
        names: dict[str, None] = {}
        for obj in changed:
            names.update(dict.fromkeys(values(obj)))
        model = type(changed[0])
        model._default_manager.bulk_update(changed, [*names, *_timestamps(model)], batch_size=batch)
        bump = versions.bump(changed)
        if bump:
            for i in range(0, len(changed), batch):
                chunk = [obj.pk for obj in changed[i : i + batch]]
                model._default_manager.filter(pk__in=chunk).update(**bump)
        _insert(actor, source, entries)
    return changed


def _apply(
    instances: Sequence[M], values: Any
) -> tuple[list[M], list[tuple[str, str, Any, str, Mapping[str, Any]]]]:
    """Set each record's values; the records that changed and their audit entries."""
    changed: list[M] = []
    entries = []
    for obj in instances:
        before = snapshot(obj)
        for name, value in values(obj).items():
            setattr(obj, name, value)
        changes = diff(before, snapshot(obj))
        if changes:
            changed.append(obj)
            entries.append(_of(AuditEntry.Verb.UPDATE, obj, changes))
    return changed, entries


def delete(actor: Actor | None, instance: models.Model, *, source: str) -> None:
    record_delete(actor, instance, source=source)
    instance.delete()


def delete_many(actor: Actor | None, instances: Iterable[M], *, source: str) -> int:
    """Audit and delete the records (one audit row each, inserted in bulk; one DELETE)."""
    items = list(instances)
    if not items:
        return 0
    _insert(actor, source, (_of(AuditEntry.Verb.DELETE, obj, _deleted(obj)) for obj in items))
    model = type(items[0])
    model._default_manager.filter(pk__in=[obj.pk for obj in items]).delete()
    return len(items)


# --- Recorders for rows the action wrote itself ------------------------------------------------------------


def record_create(actor: Actor | None, instance: models.Model, *, source: str = "web") -> None:
    _one(actor, AuditEntry.Verb.CREATE, instance, _created(instance), source)


def record_update(
    actor: Actor | None, instance: models.Model, before: Mapping[str, Any], *, source: str = "web"
) -> bool:
    """Record the fields that changed since ``before`` (a ``snapshot``); returns False when nothing changed."""
    changes = diff(before, snapshot(instance))
    if not changes:
        return False
    _one(actor, AuditEntry.Verb.UPDATE, instance, changes, source)
    return True


def record_delete(actor: Actor | None, instance: models.Model, *, source: str = "web") -> None:
    _one(actor, AuditEntry.Verb.DELETE, instance, _deleted(instance), source)


def record_bulk_create(actor: Actor | None, instances: Iterable[models.Model], *, source: str) -> int:
    return _insert(actor, source, (_of(AuditEntry.Verb.CREATE, obj, _created(obj)) for obj in instances))


def record_bulk_update(
    actor: Actor | None, changes: Iterable[tuple[models.Model, Mapping[str, Any]]], *, source: str
) -> int:
    """One update entry per (instance, snapshot before) pair whose fields changed, in one insert."""
    entries = []
    for obj, before in changes:
        diffs = diff(before, snapshot(obj))
        if diffs:
            entries.append(_of(AuditEntry.Verb.UPDATE, obj, diffs))
    return _insert(actor, source, entries)


def record_rows(
    actor: Actor | None,
    model: type[models.Model],
    rows: Iterable[tuple[Any, str, Mapping[str, Any]]],
    *,
    verb: str = AuditEntry.Verb.CREATE,
    source: str,
) -> int:
    """One entry per row written without model instances (the bulk writer): ``(pk, description, changes)``."""
    label = model._meta.label_lower
    return _insert(
        actor, source, ((verb, label, pk, description, changes) for pk, description, changes in rows)
    )


_ROW_COLUMNS = (
    "at",
    "actor_id",
    "actor_name",
    "verb",
    "model",
    "object_pk",
    "object_repr",
    "changes",
    "source",
)


def _insert(
    actor: Actor | None, source: str, entries: Iterable[tuple[str, str, Any, str, Mapping[str, Any]]]
) -> int:
    """Write audit entries ``(verb, model label, pk, description, changes)`` with the bulk writer (``COPY`` on
    PostgreSQL), as values rather than ``AuditEntry`` instances: bulk paths audit tens of thousands of records
    at once (a trace's contacts, a transfer's sample tasks), and ``bulk_create`` of that many instances cost more
    than the writes it audits. One ``at`` for the whole call; each entry becomes the next link of a hash chain
    (``append_chained``)."""
    user = user_or_none(actor)
    at = timezone.now()
    uid, name = (user.pk if user is not None else None), actor_name(actor)
    return append_chained(
        AuditEntry,
        _ROW_COLUMNS,
        (
            (at, uid, name, str(verb), label, str(pk), description[:200], dict(changes), source)
            for verb, label, pk, description, changes in entries
        ),
    )


def _of(
    verb: str, instance: models.Model, changes: Mapping[str, Any]
) -> tuple[str, str, Any, str, Mapping[str, Any]]:
    return (verb, instance._meta.label_lower, instance.pk, str(instance), changes)


def record_batch(
    actor: Actor | None, *, model: str, key: str, description: str, changes: dict[str, Any], source: str
) -> None:
    """One entry for a whole batch of rows written together (thousands of screening samples at a station):
    what was written is in ``changes`` (counts, ids or ranges), so the trail stays one row per request. Only for
    the hot paths listed in docs/architecture.md; every other write is audited per record."""
    _insert(actor, source, [(AuditEntry.Verb.CREATE, model, key[:40], description, changes)])


_ACCESS_COLUMNS = ("at", "actor_id", "actor_name", "person_id", "via", "detail", "query", "count", "persons")


def log_person_access(actor: Actor | None, person: models.Model, *, via: str, detail: str = "") -> None:
    """One opening of a person's full record outside a request that logs itself (the admin)."""
    log_read(actor, [person.pk], via=via, route=detail, opened=person.pk)


def log_read(
    actor: Actor | None,
    person_ids: Sequence[int],
    *,
    via: str,
    route: str = "",
    query: str = "",
    opened: int | None = None,
) -> None:
    """One access-log row for one request that returned personal data: the route, the query asked, the ids of
    the persons returned (and the record opened, when the request opened one). Inserted as the next link of a
    hash chain (``append_chained``), never changed."""
    user = user_or_none(actor)
    persons = "," + ",".join(str(int(p)) for p in person_ids) + "," if person_ids else ""
    row = (timezone.now(), user.pk if user is not None else None, actor_name(actor), opened, via[:20],
           route[:200], query[:500], len(person_ids), persons)  # fmt: skip
    append_chained(AccessLog, _ACCESS_COLUMNS, [row])


def raise_read_alert(
    actor: Actor | None, *, window_start: dt.datetime, count: int, limit: int, route: str
) -> ReadAlert:
    """An alert for the auditors: ``actor`` read ``count`` persons since ``window_start``, over ``limit``."""
    return ReadAlert.objects.create(
        actor=user_or_none(actor),
        actor_name=actor_name(actor),
        window_start=window_start,
        count=count,
        limit=limit,
        route=route[:200],
    )


# --- Hash chains (chain.py): every audit and access-log row is the next link of one ---------------------


def _preparers(model: type[models.Model], columns: Sequence[str]) -> list[tuple[int, Callable[[Any], Any]]]:
    """Per time column, how a value becomes what the bulk writer sends (prepared once per distinct value: a
    call writes one ``at`` for all its rows). JSON columns are sent as their ``chain.json_text``."""
    out: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(columns):
        f = model._meta.get_field(name)  # a name or an attname (``actor_id``)
        if isinstance(f, models.DateTimeField):
            out.append((i, _time_preparer(f)))
    return out


def _time_preparer(f: models.DateTimeField) -> Callable[[Any], Any]:
    last: list[Any] = [None, None]

    def prepare(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, f.get_db_prep_save(value, connection)
        return last[1]

    return prepare


def append_chained(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (Python values in the order of ``columns``, which include every chained field) into the
    chained table ``model`` as the next links of one of its chains; returns the row count. Runs in the
    caller's transaction (or its own) and holds the chain until that commits."""
    names = chain.covered(model)
    where = [columns.index(n) for n in names]
    texts = [i for i, name in enumerate(columns) if name in chain.json_fields(model)]
    preparers = _preparers(model, columns)
    with transaction.atomic():
        number, seq, digest = _claim(model)
        state: list[Any] = [seq, digest]

        def sealed() -> Iterator[list[Any]]:
            seq: int = state[0]
            previous: str = state[1]
            for row in rows:
                seq += 1
                out = list(row)
                for i in texts:  # the JSON as stored is the JSON the link covers: encoded once
                    out[i] = chain.json_text(out[i])
                values = {n: out[i] for n, i in zip(names, where, strict=True)}
                previous = chain.link(previous, chain.canonical(number, seq, values))
                state[0], state[1] = seq, previous
                for i, prepare in preparers:
                    out[i] = prepare(out[i])
                out += (number, seq, previous)
                yield out

        n = insert_rows(model, [*columns, *chain.LINK_COLUMNS], sealed())
        if n:
            ChainHead.objects.filter(log=model._meta.label_lower, chain=number).update(
                seq=state[0], digest=state[1]
            )
    return n


def _claim(model: type[models.Model]) -> tuple[int, int, str]:
    """Lock the head of one chain of ``model`` for the current transaction: ``(chain, seq, digest)`` of its
    last link. On PostgreSQL a head another transaction holds is skipped (the connection's own chain first);
    only when every head is held does the writer wait, for its own."""
    log = model._meta.label_lower
    table = connection.ops.quote_name(ChainHead._meta.db_table)
    mine = getattr(connection, "cordon_audit_chain", None)
    if mine is None:
        mine = random.randrange(chain.CHAINS)
    select = f"SELECT chain, seq, digest FROM {table} WHERE log = %s AND chain = %s"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT chain, seq, digest FROM {table} WHERE log = %s AND chain < %s "
                "ORDER BY chain = %s DESC, random() LIMIT 1 FOR UPDATE SKIP LOCKED",
                [log, chain.CHAINS, mine],
            )
            select += " FOR UPDATE"
        else:
            cursor.execute(select, [log, mine])
        row = cursor.fetchone()
        if row is None:  # no heads yet (a new or flushed database), or every one held by another writer
            _create_heads(model)
            cursor.execute(select, [log, mine])
            row = cursor.fetchone()
    setattr(connection, "cordon_audit_chain", row[0])  # noqa: B010 (the connection's chain, for next time)
    return int(row[0]), int(row[1]), str(row[2])


def _create_heads(model: type[models.Model]) -> None:
    """Heads for the chains of ``model`` that have none, each at its chain's last link in the table."""
    log = model._meta.label_lower
    have = set(ChainHead.objects.filter(log=log).values_list("chain", flat=True))
    heads = []
    for number in sorted(set(range(chain.CHAINS)) - have):
        last = (
            model._default_manager.filter(chain=number).order_by("-seq").values_list("seq", "digest").first()
        )
        seq, digest = last if last is not None else (0, "")
        heads.append(ChainHead(log=log, chain=number, seq=seq, digest=digest))
    ChainHead.objects.bulk_create(heads, ignore_conflicts=True)
