"""Watches every action the tests run and fails the action when it writes a record without an audit row.

Installed for every test by ``tests/conftest.py``. Around the outermost action call (``cordon.core.actions``
observers), every SQL statement is seen through ``connection.execute_wrapper`` (and rows written with the bulk
writer's ``COPY`` through ``cordon.core.bulk.row_watchers``); when the action returns, the rows it inserted,
updated and deleted per model are compared with the audit rows it wrote:

- a model with the default policy (``RECORD``) needs audit rows for at least as many distinct records as the
  action inserted (in all), deleted (in all), or updated in its largest single statement;
- a ``BATCH`` model needs at least one audit row naming it;
- a ``DERIVED`` model (counters, caches) and the audit tables themselves need none;
- a ``Versioned`` model (``cordon.core.versions``: records edited in place by several people) must have its
  ``version`` bumped for as many rows as the action updated in its largest single statement, so no write path
  (a bulk ``UPDATE``, a background job's refresh) leaves an editor's stale form looking fresh.

The names of the actions seen are kept in ``seen`` for the write-path tests.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Count, Max

from cordon.core import bulk
from cordon.core.actions import BATCH, DERIVED, audit_policy
from cordon.core.versions import Versioned

_STATEMENT = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z0-9_]+)"?', re.IGNORECASE)
# An UPDATE whose SET clause writes the version column (``"version" = ...`` or ``version = ...``).
_BUMPS = re.compile(r'\bSET\b(?:.*[\s,])?"?version"?\s*=', re.IGNORECASE | re.DOTALL)
UNWATCHED = {"audit.auditentry", "audit.accesslog"}


def _rows_sent(sql: str, params: Any, many: bool) -> int:
    """How many rows an INSERT sends: one per parameter set, or the parameters over the column count."""
    if many:
        return len(params)
    head = sql[: sql.upper().find(" VALUES")]
    columns = head[head.find("(") + 1 : head.rfind(")")].count(",") + 1 if "(" in head else 1
    return max(1, len(params or ()) // columns)


class AuditGap(AssertionError):
    pass


class AuditWatch:
    def __init__(self) -> None:
        self.depth = 0
        self.seen: Counter[str] = Counter()
        self._tables: dict[str, Any] = {}

    def _model(self, table: str) -> Any:
        if not self._tables:
            self._tables = {m._meta.db_table: m for m in apps.get_models(include_auto_created=True)}
        return self._tables.get(table)

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.seen[name] += 1
        if self.depth:
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
            return
        self.depth = 1
        audit_model = apps.get_model("audit", "AuditEntry")
        start = audit_model.objects.aggregate(m=Max("id"))["m"] or 0
        inserted: Counter[str] = Counter()
        deleted: Counter[str] = Counter()
        updated: dict[str, int] = defaultdict(int)
        bumped: dict[str, int] = defaultdict(int)

        def note(verb: str, table: str, n: int) -> None:
            model = self._model(table)
            if model is None or n <= 0:
                return
            label = model._meta.label_lower
            if verb.startswith("INSERT"):
                inserted[label] += n
            elif verb.startswith("DELETE"):
                deleted[label] += n
            else:
                updated[label] = max(updated[label], n)

        def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            result = execute(sql, params, many, context)
            m = _STATEMENT.match(sql)
            if m:
                verb = m.group(1).upper()
                n = context["cursor"].rowcount
                if n < 0 and verb.startswith("INSERT"):  # SQLite's INSERT ... RETURNING: count the rows sent
                    n = _rows_sent(sql, params, many)
                note(verb, m.group(2), n)
                model = self._model(m.group(2))
                if verb == "UPDATE" and model is not None and _BUMPS.search(sql.split(" WHERE ")[0]):
                    label = model._meta.label_lower
                    bumped[label] = max(bumped[label], n)
            return result

        def copied(table: str, n: int) -> None:
            note("INSERT", table, n)

        bulk.row_watchers.append(copied)
        try:
            with connection.execute_wrapper(wrapper):
                yield
        finally:
            bulk.row_watchers.remove(copied)
            self.depth = 0
        self._check(name, audit_model, start, inserted, deleted, updated)
        self._check_versions(name, updated, bumped)

    def _check_versions(self, name: str, updated: dict[str, int], bumped: dict[str, int]) -> None:
        gaps = [
            f"{label}: up to {n} updated in one statement, but the version bumped for {bumped.get(label, 0)}"
            for label, n in sorted(updated.items())
            if n > 0 and issubclass(apps.get_model(label), Versioned) and bumped.get(label, 0) < n
        ]
        if gaps:
            raise AuditGap(
                f"{name} changed versioned records without bumping their version:\n  " + "\n  ".join(gaps)
            )

    def _check(
        self,
        name: str,
        audit_model: Any,
        start: int,
        inserted: Counter[str],
        deleted: Counter[str],
        updated: dict[str, int],
    ) -> None:
        written = set(inserted) | set(deleted) | set(updated)
        if not written - UNWATCHED:
            return
        audited = {
            r["model"]: r["n"]
            for r in audit_model.objects.filter(pk__gt=start)
            .values("model")
            .annotate(n=Count("object_pk", distinct=True))
            .order_by()
        }
        gaps = []
        for label in sorted(written - UNWATCHED):
            policy = audit_policy(apps.get_model(label))
            if policy == DERIVED:
                continue
            have = audited.get(label, 0)
            if policy == BATCH:
                if not have:
                    gaps.append(f"{label}: written in a batch without its batch audit row")
                continue
            need = max(inserted[label], deleted[label], updated.get(label, 0))
            if have < need:
                gaps.append(
                    f"{label}: {inserted[label]} inserted, {deleted[label]} deleted, up to "
                    f"{updated.get(label, 0)} updated in one statement, but audit rows for {have} records"
                )
        if gaps:
            raise AuditGap(f"{name} wrote records without audit rows:\n  " + "\n  ".join(gaps))


WATCH = AuditWatch()  # the one watch every test runs under (installed by tests/conftest.py)
