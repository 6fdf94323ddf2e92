"""Hash chains over the audit tables: each row is a link, so a row changed or removed behind the application's
back shows (``cordon audit verify``).

A chained table (``AuditEntry``, ``AccessLog``) names the fields a link covers in ``chained_fields``. Every row
is written by ``audit.actions.append_chained`` and gets its place, ``chain`` (one of ``CHAINS`` chains of its
table) and ``seq`` (1, 2, ... within the chain), and ``digest`` = SHA-256 of the previous link's digest and the
row's canonical text (``canonical``: the covered fields, chain and seq as JSON with sorted keys, times as UTC
instants, empty fields left out, so a nullable column added later can join the covered fields without breaking
older links).

Writers do not queue behind one lock: a transaction locks one chain's head row (``ChainHead``, ``SELECT ... FOR
UPDATE SKIP LOCKED`` on PostgreSQL, preferring the chain its connection used last), appends its rows after it,
moves the head on and keeps the lock until it commits; a concurrent transaction takes another chain. SQLite
runs one writer at a time anyway (``BEGIN IMMEDIATE``). Digests are computed in Python in the same pass that
streams the rows to the bulk writer (``core/bulk.py``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from .models import AccessLog, AuditEntry, ChainHead

CHAINS = 8  # chains per table: concurrent writers beyond this many wait for a head
LINK_COLUMNS = ("chain", "seq", "digest")
CHAINED: tuple[type[models.Model], ...] = (AuditEntry, AccessLog)


_last_instant: tuple[Any, str] = (None, "")


def _instant(value: dt.datetime) -> str:
    global _last_instant
    if value is not _last_instant[0]:  # a call writes one time for all its rows: format it once
        moment = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
        _last_instant = (value, moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    return _last_instant[1]


def _number(text: str) -> Any:
    """A JSON number as PostgreSQL's ``jsonb`` gives it back: an exponent (``1e+16``) written out in full."""
    return int(decimal.Decimal(text)) if "e+" in text.lower() else float(text)


_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def json_text(value: Any) -> str:
    """A JSON field's value as one text, the same for the value written and the value read back (SQLite's JSON
    text or PostgreSQL's ``jsonb``, which reorders keys and writes large numbers out): sorted keys, no spaces,
    exponents written out. The writer stores this very text, and the link covers it."""
    try:
        text = _dumps(value)
    except TypeError:  # keys of several types (ints and strings): as JSON gives them back, all strings
        text = _dumps(json.loads(json.dumps(value)))
    if "e+" in text or "E+" in text:
        text = _dumps(json.loads(text, parse_float=_number))
    return text


def json_fields(model: type[models.Model]) -> frozenset[str]:
    return frozenset(f.attname for f in model._meta.concrete_fields if isinstance(f, models.JSONField))


def canonical(chain: int, seq: int, values: Mapping[str, Any]) -> str:
    """The text a link's digest covers: the covered fields (JSON fields as their ``json_text``, times as UTC
    instants, empty ones left out), chain and seq, as JSON with sorted keys."""
    doc: dict[str, Any] = {"chain": chain, "seq": seq}
    for name, value in values.items():
        if value is not None:
            doc[name] = _instant(value) if isinstance(value, dt.datetime) else value
    return _dumps(doc)


def covered(model: type[models.Model]) -> tuple[str, ...]:
    """The fields a link of ``model`` covers (its ``chained_fields``)."""
    names = tuple(getattr(model, "chained_fields", ()))
    if not names:
        raise TypeError(f"{model._meta.label} is not a chained audit table")
    return names


def link(previous: str, text: str) -> str:
    return hashlib.sha256(f"{previous}\n{text}".encode()).hexdigest()


# --- Verifying --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    chain: int | None
    seq: int | None
    entry: int | None  # the row's id
    problem: str


@dataclass
class Verdict:
    log: str
    entries: int = 0
    chains: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify(model: type[models.Model]) -> Verdict:
    """Walk every chain of ``model`` in order and recompute each link; the first broken link of each chain
    (a row changed, rows missing in the middle or at the end, a row outside any chain)."""
    names = covered(model)
    texts = json_fields(model) & set(names)
    log = model._meta.label_lower
    verdict = Verdict(log)
    qs = model._default_manager.order_by()
    for pk in qs.filter(models.Q(chain__isnull=True) | models.Q(seq__isnull=True)).values_list(
        "pk", flat=True
    ):
        verdict.breaks.append(Break(None, None, pk, "not in any chain (written past the application)"))
        verdict.entries += 1
    rows = (
        qs.filter(chain__isnull=False, seq__isnull=False)
        .order_by("chain", "seq")
        .values_list("pk", "chain", "seq", "digest", *names)
        .iterator(chunk_size=5000)
    )
    ends: dict[int, tuple[int, str]] = {}
    broken: set[int] = set()
    chain, expected, previous = -1, 1, ""
    for pk, c, seq, digest, *values in rows:
        verdict.entries += 1
        if c != chain:
            chain, expected, previous = c, 1, ""
            verdict.chains += 1
        if chain not in broken:
            covered_values = dict(zip(names, values, strict=True))
            for name in texts:
                covered_values[name] = json_text(covered_values[name])
            problem = _problem(chain, seq, expected, previous, digest, covered_values)
            if problem:
                broken.add(chain)
                verdict.breaks.append(Break(chain, seq, pk, problem))
        expected, previous = seq + 1, digest
        ends[chain] = (seq, digest)
    for head in ChainHead.objects.filter(log=log).order_by("chain"):
        seq, digest = ends.get(head.chain, (0, ""))
        if head.chain not in broken and (head.seq, head.digest) != (seq, digest):
            if head.seq > seq:
                problem = f"links {seq + 1} to {head.seq} missing at the end of the chain (rows deleted)"
            else:
                problem = (
                    f"the chain goes on past its recorded end (link {seq}, written past the application)"
                )
            verdict.breaks.append(Break(head.chain, head.seq, None, problem))
    return verdict


def _problem(
    chain: int, seq: int, expected: int, previous: str, digest: str, values: dict[str, Any]
) -> str | None:
    if seq != expected:
        gap = f"link {expected}" if seq == expected + 1 else f"links {expected} to {seq - 1}"
        return f"{gap} missing before it (rows deleted)" if seq > expected else "link repeated"
    if link(previous, canonical(chain, seq, values)) != digest:
        return "its values do not match its digest (changed after it was written)"
    return None


def verify_all() -> list[Verdict]:
    return [verify(model) for model in CHAINED]
