"""The audit trail: personal data masked in its values as on the record itself, and its tamper-evident hash
chains (``cordon audit verify``)."""

from __future__ import annotations

import io
import itertools
import threading
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from cordon import cli
from cordon.apps.accounts.models import User
from cordon.apps.audit import actions as audit
from cordon.apps.audit import chain, guards
from cordon.apps.audit.models import AccessLog, AuditEntry
from cordon.apps.dataio import selectors as dataio
from cordon.apps.people import actions as people
from cordon.engine import identity


def _edit_phone(city: Any, make_user: Any) -> None:
    worker = make_user("grid_worker", city.zhangguozhuang)
    people.update_person(actor=worker, person=city.ft_person, changes={"phone": "13611112222"})


def test_auditors_see_personal_data_in_the_trail_masked(city: Any, make_user: Any, client_for: Any) -> None:
    """An auditor (no ``view_pii``) reads a person's history with the national ID and phone masked by the
    person's own rule, on the page and in the API; a role that sees them in full (an administrator) still
    does."""
    p = city.ft_person
    national_id, phone = p.national_id, p.phone
    _edit_phone(city, make_user)
    auditor = client_for(make_user("auditor", city.city))
    history = auditor.get(f"/api/audit/person/{p.pk}").json()
    assert [h["verb"] for h in history] == ["update", "create"]
    assert history[0]["changes"]["phone"] == [identity.mask_phone(phone), "136****2222"]
    assert history[1]["changes"]["national_id"] == [None, identity.mask(national_id)]
    assert history[1]["changes"]["name"] == [None, p.name]  # other values as they are
    page = auditor.get(f"/audit/person/{p.pk}/").content.decode()
    recent = auditor.get("/audit/").content.decode()
    for text in (str(history), page, recent):
        assert not [v for v in (national_id, phone, "13611112222") if v in text]
    assert identity.mask(national_id) in page and "136****2222" in page

    admin = client_for(make_user("administrator", city.city))
    full = admin.get(f"/api/audit/person/{p.pk}").json()
    assert full[0]["changes"]["phone"] == [phone, "13611112222"]
    assert full[1]["changes"]["national_id"] == [None, national_id]
    page = admin.get(f"/audit/person/{p.pk}/").content.decode()
    assert national_id in page and "13611112222" in page


# --- The hash chains --------------------------------------------------------------------------------------


def _verify(capsys: Any) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(["audit", "verify"])
    return code, capsys.readouterr().out


def _written(city: Any, make_user: Any, client_for: Any) -> None:
    """Entries of every path: single ones (an edit), bulk ones (a batch of persons through the bulk writer,
    one ``record_batch`` row) and access-log rows (a page opened, an unmasked export)."""
    _edit_phone(city, make_user)
    people.bulk_create_persons(
        actor=None,
        rows=[{"name": f"批量{i}", "jurisdiction": city.zgz_grid} for i in range(30)],
        source="import",
    )
    audit.record_batch(
        None,
        model="screening.binding",
        key="k",
        description="3 samples",
        changes={"count": [None, 3]},
        source="station",
    )
    officer = make_user("street_officer", city.beigong)
    client_for(officer).get(f"/persons/{city.ft_person.pk}/")
    dataio.write_export(officer, "persons", "csv", io.BytesIO())  # what an export job writes


def _raw(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _unguarded(table: str) -> None:
    """Behind the application's back: the trigger that refuses the change disabled (PostgreSQL: what a
    superuser can do) or dropped (SQLite). Undone with the test's transaction."""
    if connection.vendor == "postgresql":
        _raw("SET CONSTRAINTS ALL IMMEDIATE", [])  # no deferred checks pending: the table can be altered
        _raw(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only", [])
    else:
        _raw(f"DROP TRIGGER {table}_append_only", [])


def test_every_audit_row_is_a_link_and_the_trail_verifies(
    city: Any, make_user: Any, client_for: Any, capsys: Any
) -> None:
    _written(city, make_user, client_for)
    assert not AuditEntry.objects.filter(Q(chain=None) | Q(seq=None) | Q(digest="")).exists()
    export = AccessLog.objects.get(via="export")  # one row for the whole export, naming every person in it
    assert export.count == len(export.person_ids()) > 1
    assert not AccessLog.objects.filter(Q(chain=None) | Q(seq=None) | Q(digest="")).exists()
    for model in (AuditEntry, AccessLog):
        links = list(model.objects.order_by("chain", "seq").values_list("chain", "seq"))
        per_chain: dict[int, list[int]] = {}
        for c, s in links:
            per_chain.setdefault(c, []).append(s)
        assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in per_chain.values())
    code, out = _verify(capsys)
    assert code == 0, out
    assert f"audit.auditentry: {AuditEntry.objects.count()} entries" in out and out.count(": OK") == 2


def test_a_row_edited_behind_the_apps_back_fails_verify_at_that_entry(
    city: Any, make_user: Any, client_for: Any, capsys: Any
) -> None:
    _written(city, make_user, client_for)
    entry = AuditEntry.objects.filter(model="people.person", verb="update").get()
    _unguarded("audit_auditentry")
    _raw("UPDATE audit_auditentry SET actor_name = %s WHERE id = %s", ["someone else", entry.pk])
    code, out = _verify(capsys)
    assert code == 1
    assert (
        f"entry #{entry.pk} (chain {entry.chain}, link {entry.seq}): its values do not match its digest"
        in out
    )
    assert "audit.accesslog" in out and "audit.accesslog: " in out and out.count(": OK") == 1


def test_an_access_row_edited_and_its_digest_recomputed_breaks_the_next_link(
    city: Any, make_user: Any, client_for: Any, capsys: Any
) -> None:
    """Whoever also recomputes the digest of the row they changed breaks the next link instead."""
    _written(city, make_user, client_for)
    rows = list(AccessLog.objects.order_by("chain", "seq"))
    first, second = next(
        (a, b) for a, b in itertools.pairwise(rows) if (a.chain, a.seq + 1) == (b.chain, b.seq)
    )
    _unguarded("audit_accesslog")
    values = {n: getattr(first, n) for n in chain.covered(AccessLog)} | {"person_id": city.cp_person.pk}
    previous = AccessLog.objects.filter(chain=first.chain, seq=first.seq - 1).values_list("digest", flat=True)
    forged = chain.link(previous.first() or "", chain.canonical(first.chain, first.seq, values))
    _raw(
        "UPDATE audit_accesslog SET person_id = %s, digest = %s WHERE id = %s",
        [city.cp_person.pk, forged, first.pk],
    )
    code, out = _verify(capsys)
    assert code == 1
    assert f"entry #{second.pk} (chain {second.chain}, link {second.seq}): its values do not match" in out


def test_a_row_deleted_in_the_middle_or_at_the_end_breaks_its_chain(
    city: Any, make_user: Any, client_for: Any, capsys: Any
) -> None:
    _written(city, make_user, client_for)
    rows = list(AuditEntry.objects.filter(model="people.person", verb="create").order_by("chain", "seq"))
    middle = next(r for r in rows[1:-1] if AuditEntry.objects.filter(chain=r.chain, seq=r.seq + 1).exists())
    after = AuditEntry.objects.get(chain=middle.chain, seq=middle.seq + 1)
    _unguarded("audit_auditentry")
    _raw("DELETE FROM audit_auditentry WHERE id = %s", [middle.pk])
    code, out = _verify(capsys)
    assert code == 1
    assert (
        f"entry #{after.pk} (chain {after.chain}, link {after.seq}): link {middle.seq} missing before it"
        in out
    )

    last = AccessLog.objects.order_by("-chain", "-seq").first()
    assert last is not None
    _unguarded("audit_accesslog")
    _raw("DELETE FROM audit_accesslog WHERE id = %s", [last.pk])
    code, out = _verify(capsys)
    assert (
        f"chain end (chain {last.chain}, link {last.seq}): links {last.seq} to {last.seq} missing at the end"
        in out
    )


def test_the_database_refuses_to_rewrite_the_trail(city: Any, make_user: Any, client_for: Any) -> None:
    """UPDATE is refused on both databases; DELETE and TRUNCATE on PostgreSQL (SQLite empties tables with
    DELETE: a deleted row shows in ``verify`` instead)."""
    _written(city, make_user, client_for)
    entry = AuditEntry.objects.first()
    access = AccessLog.objects.first()
    assert entry is not None and access is not None
    refused = [
        ("UPDATE audit_auditentry SET changes = %s WHERE id = %s", ["{}", entry.pk]),
        ("UPDATE audit_accesslog SET via = %s WHERE id = %s", ["web", access.pk]),
        ("UPDATE audit_chainhead SET seq = seq - 1 WHERE seq > 0", []),
    ]
    if connection.vendor == "postgresql":
        refused += [
            ("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk]),
            ("DELETE FROM audit_accesslog WHERE id = %s", [access.pk]),
            ("DELETE FROM audit_chainhead", []),
            ("SET CONSTRAINTS ALL IMMEDIATE; RESET cordon.audit_reset; TRUNCATE audit_auditentry", []),
            ("SET CONSTRAINTS ALL IMMEDIATE; RESET cordon.audit_reset; TRUNCATE audit_accesslog", []),
        ]
    for sql, params in refused:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw(sql, params)
    assert AuditEntry.objects.get(pk=entry.pk).changes == entry.changes
    assert guards.missing(connection) == []
    # Deleting a user who has acted is refused by the application too (deactivate them instead).
    worker = User.objects.get(pk=AuditEntry.objects.get(model="people.person", verb="update").actor_id)
    with pytest.raises(ProtectedError):
        worker.delete()


def test_verify_reports_a_missing_trigger(city: Any, capsys: Any) -> None:
    _unguarded("audit_auditentry")
    code, out = _verify(capsys)
    assert code == 1 and "audit_auditentry_append_only" in out


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_append_to_different_chains(city: Any, capsys: Any) -> None:
    """While one transaction holds a chain (until it commits), another writer takes a free one instead of
    waiting (PostgreSQL; SQLite has one writer at a time)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL")
    got: dict[str, Any] = {}

    def other() -> None:
        try:
            with transaction.atomic():
                audit.record_batch(None, model="x.y", key="b", description="b", changes={}, source="cli")
                got["chain"] = AuditEntry.objects.get(object_pk="b").chain
        except Exception as exc:  # reported below
            got["error"] = exc
        finally:
            connections.close_all()

    with transaction.atomic():
        audit.record_batch(None, model="x.y", key="a", description="a", changes={}, source="cli")
        mine = AuditEntry.objects.get(object_pk="a").chain
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(60)  # a writer waiting for this transaction's chain would wait for ever: fail, not hang
        assert not thread.is_alive(), "the other writer waited for a chain this transaction holds"
    assert "error" not in got, got
    assert got["chain"] != mine
    assert _verify(capsys)[0] == 0


def test_values_read_back_differently_still_verify(city: Any, make_user: Any, capsys: Any) -> None:
    """JSON as PostgreSQL's ``jsonb`` gives it back (keys reordered, ``1e+16`` written out, small numbers without
    an exponent), text outside ASCII, keys of several types: the links still verify."""
    audit.record_batch(
        None,
        model="screening.binding",
        key="odd",
        description="样本 ✓",
        changes={"n": [None, 1e16], "m": [None, 2.5e-9], "z": {"b": 1, "a": [1.0, "é"]}, 3: "three"},
        source="station",
    )
    assert AuditEntry.objects.get(object_pk="odd").changes["3"] == "three"
    assert _verify(capsys)[0] == 0


def test_a_deleted_persons_access_rows_stay_and_still_verify(
    city: Any, make_user: Any, client_for: Any, capsys: Any
) -> None:
    """Nothing cascades into the access log: deleting a person keeps the record of who opened them."""
    client_for(make_user("investigator", city.changping)).get(f"/persons/{city.courier.pk}/")
    pk = city.courier.pk
    people.delete_person(actor=None, person=city.courier, source="cli")
    assert AccessLog.objects.filter(person_id=pk, via="web").count() == 1
    assert _verify(capsys)[0] == 0


def test_a_row_inserted_past_the_application_is_reported(city: Any, capsys: Any) -> None:
    _raw(
        "INSERT INTO audit_accesslog (at, actor_name, person_id, via, detail, query, count, persons, digest) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [timezone.now(), "nobody", city.ft_person.pk, "web", "", "", 1, "", ""],
    )
    forged = AccessLog.objects.get(actor_name="nobody")
    code, out = _verify(capsys)
    assert code == 1 and f"entry #{forged.pk}: not in any chain" in out
