"""Merging what a trace found into a case's contacts: new candidates are inserted with the bulk writer, known
ones are refreshed (the strongest finding kept, the evidence renewed), and no decision is ever changed by
tracing. Every contact written has its audit row: one per new contact, one per known contact whose values
changed (inserted in bulk, in the same transaction)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from django.db import connection
from django.db.models import Count, Max, Sum
from django.utils import timezone

from cordon.apps.audit import actions as audit
from cordon.apps.audit.models import AuditEntry
from cordon.core.actors import Actor
from cordon.core.bulk import insert_rows

from ..models import Case, Contact, ContactType, Decision
from .evidence import EvidenceVenues, evidence_json

_TYPE_RANK: dict[str, int] = {
    ContactType.HOUSEHOLD: 0,
    ContactType.WORK_UNIT: 1,
    ContactType.VENUE: 2,
    ContactType.TRAJECTORY: 3,
    ContactType.SECONDARY_HOUSEHOLD: 4,
    ContactType.SECONDARY_WORK_UNIT: 5,
    ContactType.RISK_VENUE: 6,
}
_DEGREE_RANK = {1: 0, 2: 1, 0: 2}

_CONTACT_COLUMNS = (
    "case_id", "person_id", "degree", "contact_type", "via_id", "score", "overlap_minutes", "shared_stays",
    "evidence", "jurisdiction_id", "district_id", "status", "note", "found_at", "updated_at",
)  # fmt: skip

# One contact found by the trace: person, degree, type, via (a close contact), score, overlap minutes,
# shared stays, residence (jurisdiction id).
_Finding = tuple[int, int, str, int | None, float, int, int, int]


def _findings(case: Case, pairs: pa.Table, residence: dict[int, int]) -> Iterator[_Finding]:
    """The case's pairs as findings, leaving out persons no longer in the register (not in ``residence``)."""
    names = ("contact_id", "degree", "contact_type", "via_id", "score", "total_overlap_minutes",
             "overlap_minutes", "shared_stays")  # fmt: skip
    cols = {n: pairs.column(n).to_pylist() for n in names if n in pairs.column_names}
    contact_ids = [int(p) for p in cols["contact_id"]]
    here = {p: residence[p] for p in contact_ids if p in residence}  # this case's contacts in the register
    overlap_col = cols.get("total_overlap_minutes") or cols.get("overlap_minutes") or []
    for i, pid in enumerate(contact_ids):
        if pid not in here or pid == case.person_id:
            continue  # scans of persons no longer in the register
        via = cols["via_id"][i]
        yield (
            pid,
            int(cols["degree"][i]),
            str(cols["contact_type"][i]),
            int(via) if via is not None and via >= 0 and int(via) in here else None,
            float(cols["score"][i]),
            int(overlap_col[i] or 0) if overlap_col else 0,
            int(cols["shared_stays"][i] or 0) if "shared_stays" in cols else 0,
            here[pid],
        )


@dataclass
class MergePlan:
    """What merging one case's findings into its contacts will write, worked out from its contacts as they
    were read (``plan_merge``, before the write transaction: reading and comparing thousands of known contacts
    takes most of a trace's write time, and on SQLite the write transaction holds the database's one write
    lock). ``seen`` is what the write checks again inside its transaction: the contacts' number, highest id
    and sum of versions (every write of a contact adds one to its version, ids are never reused: any change
    since moves one of them)."""

    findings: list[_Finding]
    evidence_of: dict[int, str]
    districts: dict[int, int]
    seen: tuple[int, int, int]
    existing: int
    new: list[_Finding]
    found_again: int
    rows: list[tuple[Any, ...]]  # the new values of the known contacts that changed (``_update_contacts``)
    entries: list[tuple[int, str, dict[str, list[Any]]]]  # their audit rows (old -> new)


def plan_merge(
    case: Case,
    pairs: pa.Table,
    evidence: pa.Table,
    venues: EvidenceVenues,
    residence: dict[int, int],
    districts: dict[int, int],
) -> MergePlan | None:
    """Work out what merging one case's pairs writes (no writes; outside any transaction): ``None`` when the
    trace found nobody. ``residence``: the jurisdiction of every contact still in the register (the others are
    skipped), ``districts``: the district of those jurisdictions."""
    if pairs.num_rows == 0:
        return None
    findings = list(_findings(case, pairs, residence))
    return _plan(case, findings, evidence_json(evidence, venues), districts)


def _plan(
    case: Case, findings: list[_Finding], evidence_of: dict[int, str], districts: dict[int, int]
) -> MergePlan:
    contacts = list(Contact.objects.filter(case=case))
    existing = {c.person_id: c for c in contacts}
    new: list[_Finding] = []
    known: list[tuple[Contact, dict[str, Any]]] = []  # each known contact found again, with its new values
    for finding in findings:
        old = existing.get(finding[0])
        if old is None:
            new.append(finding)
        else:
            known.append((old, _refreshed(old, finding, evidence_of)))
    rows, entries = _changes(known, evidence_of)
    seen = (len(contacts), max((c.pk for c in contacts), default=0), sum(c.version for c in contacts))
    return MergePlan(findings, evidence_of, districts, seen, len(existing), new, len(known), rows, entries)


def _seen_now(case: Case) -> tuple[int, int, int]:
    """The case's contacts' number, highest id and sum of versions, as the database has them now."""
    found = Contact.objects.filter(case=case).aggregate(n=Count("pk"), top=Max("pk"), versions=Sum("version"))
    return int(found["n"] or 0), int(found["top"] or 0), int(found["versions"] or 0)


def write_merge(
    actor: Actor | None, case: Case, plan: MergePlan | None, *, source: str
) -> tuple[int, int, int]:
    """Write a ``plan_merge`` inside the caller's transaction: (added, refreshed, total). When the case's
    contacts changed since the plan was made (a judgment, another trace of the case), the plan is made again
    here, from the contacts as they are now, so the result is what merging inside the transaction writes."""
    if plan is None:
        return 0, 0, Contact.objects.filter(case=case).count()
    if _seen_now(case) != plan.seen:
        plan = _plan(case, plan.findings, plan.evidence_of, plan.districts)
    _insert_new(actor, case, plan.new, plan.evidence_of, plan.districts, source=source)
    if plan.rows:
        _update_contacts(plan.rows)
        audit.record_rows(actor, Contact, plan.entries, verb=AuditEntry.Verb.UPDATE, source=source)
    return len(plan.new), plan.found_again, plan.existing + len(plan.new)


def _refreshed(old: Contact, finding: _Finding, evidence_of: dict[int, str]) -> dict[str, Any]:
    """What a known contact takes from a new finding: its degree, type and figures when the finding is at
    least as strong (degree first, then type), its new evidence; never its decision."""
    pid, degree, ctype, via_id, score, overlap, shared, _j = finding
    out: dict[str, Any] = {}
    if (_DEGREE_RANK[degree], _TYPE_RANK[ctype]) <= (_DEGREE_RANK[old.degree], _TYPE_RANK[old.contact_type]):
        out.update(
            degree=degree,
            contact_type=ctype,
            via_id=via_id,
            score=score,
            overlap_minutes=overlap,
            shared_stays=shared,
        )
    if pid in evidence_of:
        out["evidence"] = json.loads(evidence_of[pid])
    return out


_REFRESHED = ("degree", "contact_type", "via_id", "score", "overlap_minutes", "shared_stays", "evidence")


def _changes(
    known: list[tuple[Contact, dict[str, Any]]], evidence_of: dict[int, str]
) -> tuple[list[tuple[Any, ...]], list[tuple[int, str, dict[str, list[Any]]]]]:
    """The new values of the known contacts whose values changed (rows for ``_update_contacts``), each with its
    audit row (old -> new, as ``audit.change_each`` writes them). A re-trace finds thousands of known contacts
    again, most of them unchanged.

    Not ``bulk_update``: its ``CASE WHEN`` per row and field costs far more than the values (a re-trace of
    30,000 contacts took over three minutes on PostgreSQL); see ``_update_contacts``. ``updated_at`` is left
    as it is (as before)."""
    rows: list[tuple[Any, ...]] = []
    entries: list[tuple[int, str, dict[str, list[Any]]]] = []
    for contact, values in known:
        changes = {f: [getattr(contact, f), v] for f, v in values.items() if getattr(contact, f) != v}
        if not changes:
            continue
        for field, value in values.items():
            setattr(contact, field, value)
        text = evidence_of.get(contact.person_id) if "evidence" in values else None
        rows.append(
            (
                *(getattr(contact, f) for f in _REFRESHED[:-1]),
                text or json.dumps(contact.evidence),
                contact.pk,
            )
        )
        entries.append((contact.pk, str(contact), changes))
    return rows, entries


def _update_contacts(rows: list[tuple[Any, ...]]) -> None:
    """Set the refreshed columns (values in the order of ``_REFRESHED``, ``evidence`` as JSON text, then the
    contact's id) of many contacts, each one's ``version`` up by one (a judge's form read before the re-trace is
    then stale): on PostgreSQL one ``UPDATE ... FROM unnest(<arrays>)``, elsewhere one
    ``UPDATE`` per row with ``executemany``."""
    q = connection.ops.quote_name
    table = q(Contact._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = ("smallint", "text", "bigint", "float8", "integer", "integer", "text", "bigint")
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            columns = ", ".join(f"{q(c)} = v.{q(c)}" for c in _REFRESHED[:-1])
            cursor.execute(
                f"UPDATE {table} AS c SET {columns}, {q('evidence')} = v.{q('evidence')}::jsonb, "
                f"{q('version')} = c.{q('version')} + 1 "
                f"FROM unnest({arrays}) AS v({', '.join(q(c) for c in (*_REFRESHED, 'id'))}) "
                f"WHERE c.{q('id')} = v.{q('id')}",
                [list(column) for column in zip(*rows, strict=True)],
            )
        else:
            columns = ", ".join(f"{q(c)} = %s" for c in _REFRESHED)
            bump = f"{q('version')} = {q('version')} + 1"
            cursor.executemany(f"UPDATE {table} SET {columns}, {bump} WHERE {q('id')} = %s", rows)


def _insert_new(
    actor: Actor | None,
    case: Case,
    new: list[_Finding],
    evidence_of: dict[int, str],
    districts: dict[int, int],
    *,
    source: str,
) -> None:
    """Insert the new candidates with the bulk writer (values, not model instances: a dense case has tens of
    thousands; ``evidence`` goes in as the JSON text already made), then one audit row per contact with the
    values it was created with, as ``audit.record_create`` would write them."""
    if not new:
        return
    now = timezone.now()
    stamp = Contact._meta.get_field("found_at").get_db_prep_save(now, connection)
    candidate = str(Decision.CANDIDATE.value)
    insert_rows(
        Contact,
        _CONTACT_COLUMNS,
        (
            (case.pk, pid, degree, ctype, via, score, overlap, shared, evidence_of.get(pid, "[]"), j,
             districts[j], candidate, "", stamp, stamp)
            for pid, degree, ctype, via, score, overlap, shared, j in new
        ),
    )  # fmt: skip
    ids = dict(Contact.objects.filter(case=case).values_list("person_id", "pk"))
    found = now.isoformat()

    def rows() -> Iterator[tuple[int, str, dict[str, Any]]]:
        for pid, degree, ctype, via, score, overlap, shared, j in new:
            text = evidence_of.get(pid, "[]")
            changes: dict[str, Any] = {
                "case_id": [None, case.pk],
                "person_id": [None, pid],
                "degree": [None, degree],
                "contact_type": [None, ctype],
            }
            if via is not None:
                changes["via_id"] = [None, via]
            changes |= {
                "score": [None, score],
                "overlap_minutes": [None, overlap],
                "shared_stays": [None, shared],
            }
            if text != "[]":
                changes["evidence"] = [None, json.loads(text)]
            changes |= {
                "jurisdiction_id": [None, j],
                "district_id": [None, districts[j]],
                "status": [None, candidate],
                "found_at": [None, found],
            }
            yield ids[pid], f"{case.pk}:{pid}", changes

    audit.record_rows(actor, Contact, rows(), source=source)
