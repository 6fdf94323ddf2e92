"""The sampling station: a scanner's batch of person-to-tube bindings (the documented hot path: thousands of
samples per request, one audit row for the batch) and sealing a tube before it is full.

A batch is read with a handful of set-based queries whatever its size (``_read_batch``), each row is bound or
refused with its reason in one loop (``_bind``), and the bound rows are written at once (``_write``): the samples with
the one bulk writer (``COPY`` on PostgreSQL) and one ``record_batch`` row, the coverage counters with one
upsert, the tubes' counters with one ``UPDATE ... FROM (VALUES ...)`` and an audit row per tube touched (a
batch touches a tenth as many tubes as it binds samples), the re-sample tasks taken with an audit row each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.audit.models import AuditEntry
from cordon.core import bulk
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none
from cordon.engine import identity

from .. import selectors
from ..models import (
    Binding,
    ResampleTask,
    RoundCount,
    RoundStatus,
    SamplingSite,
    ScreeningRound,
    SiteDayCount,
    TaskStatus,
    Tube,
    TubeStatus,
)

MAX_BATCH = 10_000
PASS_PREFIX = "P"  # a pass code carries the person's register key: "P" + id (signed passes come later)

# The columns of a sample row as the bulk writer takes them (``_add_counts`` reads them by position).
BINDING_COLUMNS = (
    "round_id",
    "tube_id",
    "person_id",
    "site_id",
    "jurisdiction_id",
    "district_id",
    "resample_id",
    "out_of_scope",
    "bound_at",
    "bound_by_id",
)


@dataclass(frozen=True)
class BindingIn:
    tube: str
    person: str  # national ID or pass code
    at: dt.datetime | None = None


@dataclass
class BatchResult:
    bound: list[int] = field(default_factory=list)  # indexes of the rows bound
    flagged: list[int] = field(default_factory=list)  # bound, but outside the round's scope
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (index, code, message)
    tubes: dict[str, int] = field(default_factory=dict)  # barcode -> samples now in it


@action(atomic=False)
def bind_samples(
    *, actor: Actor | None, site: SamplingSite, rows: Sequence[BindingIn], source: str = "api",
    now: dt.datetime | None = None,
) -> BatchResult:  # fmt: skip
    """Bind persons to tubes at a site. Each row is bound or refused with its reason; nothing of a refused
    row is written. Validation is set-based (a handful of queries per batch, whatever its size), the tubes of
    the batch are locked so two stations cannot overfill one tube, and the bound rows go in with one ``COPY``.
    The batch is acknowledged only once the transaction has committed.

    Not one transaction but one per attempt (``atomic=False``): two stations binding the same person at the
    same moment both find them unsampled; the unique (person, round) index makes the second wait for the first
    and fail. The batch is then checked again in a fresh transaction (the first has committed, so the person
    is now refused as already sampled) instead of failing as a whole; each attempt is complete on its own."""
    now = now or timezone.now()
    if len(rows) > MAX_BATCH:
        raise ValidationError({"bindings": _("At most %(n)d samples per batch.") % {"n": MAX_BATCH}})
    rnd = site.round
    if not rnd.accepting(now):
        msg = (
            _("The round is closed.") if rnd.status == RoundStatus.CLOSED else _("The round is not open now.")
        )
        return BatchResult(refused=[(i, "round_closed", msg) for i in range(len(rows))])
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _bind(actor, site, rnd, rows, source, now)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@dataclass
class _Batch:
    """What a batch is checked against, read with a handful of queries (the tubes locked)."""

    tubes: dict[str, Tube]  # by barcode
    persons: dict[str, dict[str, Any]]  # register rows by national ID and by pass code
    sampled: set[int]  # persons already sampled in the round (first samples)
    tasks: dict[int, int]  # person id -> their due re-sample task in the round
    paths: list[str]  # the round's scope: area paths, building ids, sector ids
    buildings: set[int]
    sectors: set[int]
    districts: dict[str, int]  # district code -> id


def _person_keys(tokens: Iterable[str]) -> tuple[set[str], set[int]]:
    ids: set[str] = set()
    pks: set[int] = set()
    for t in tokens:
        t = t.strip().upper()
        if t.startswith(PASS_PREFIX) and t[1:].isdigit():
            pks.add(int(t[1:]))
        elif t:
            ids.add(identity.normalize(t))
    return ids, pks


def _read_batch(rnd: ScreeningRound, rows: Sequence[BindingIn]) -> _Batch:
    tubes = {
        t.barcode: t
        for t in Tube.objects.select_for_update(of=("self",))
        .filter(barcode__in={r.tube.strip() for r in rows})
        .order_by("id")
        .only("id", "barcode", "round_id", "site_id", "size", "bound", "status")
    }
    persons: dict[str, dict[str, Any]] = {}
    for found in selectors.batch_persons(*_person_keys(r.person for r in rows)):
        persons[found["national_id"]] = found
        persons[f"{PASS_PREFIX}{found['id']}"] = found
    person_ids = {x["id"] for x in persons.values()}
    paths, buildings, sectors = selectors.round_scope(rnd)
    return _Batch(
        tubes=tubes,
        persons=persons,
        sampled=selectors.sampled_in_round(rnd.pk, person_ids),
        tasks=selectors.due_resample_tasks(rnd, person_ids),
        paths=paths,
        buildings=buildings,
        sectors=sectors,
        districts=selectors.district_ids(),
    )


def _district_of_path(path: str, districts: dict[str, int], fallback: int) -> int:
    codes = [c for c in path.split("/") if c]
    return districts.get(codes[1], fallback) if len(codes) > 1 else fallback


def _refusal(code: str, r: BindingIn, tube: Tube | None) -> tuple[str, str]:
    """The message of a refused row (built only for the rows refused)."""
    if code == "unknown_tube":
        return code, _("Unknown tube %(t)s.") % {"t": r.tube}
    if code == "other_site":
        return code, _("Tube %(t)s belongs to another site.") % {"t": r.tube}
    if code == "tube_full":
        assert tube is not None
        return code, _("Tube %(t)s is full (%(n)d samples).") % {"t": r.tube, "n": tube.size}
    if code == "tube_closed":
        return code, _("Tube %(t)s is sealed.") % {"t": r.tube}
    if code == "unknown_person":
        return code, _("Nobody in the register with this pass or ID.")
    if code == "already_sampled":
        return code, _("This person was already sampled in this round.")
    return code, _("This person must be re-sampled in a single tube.")  # needs_single_tube


def _bind(
    actor: Actor | None, site: SamplingSite, rnd: ScreeningRound, rows: Sequence[BindingIn], source: str,
    now: dt.datetime,
) -> BatchResult:  # fmt: skip
    """Check every row of the batch against what ``_read_batch`` read and write the rows bound. The loop over
    the rows is the hot path: its checks are inline on local names, no call per row (``_refusal`` runs only
    for a refused row)."""
    out = BatchResult()
    b = _read_batch(rnd, rows)
    tubes, persons, sampled, tasks, districts = b.tubes, b.persons, b.sampled, b.tasks, b.districts
    paths, buildings, sectors = b.paths, b.buildings, b.sectors
    has_place = bool(paths or buildings)
    actor_id = getattr(user_or_none(actor), "pk", None)
    latest, db_time = now + dt.timedelta(minutes=5), connection.ops.adapt_datetimefield_value
    now_db = db_time(now)
    new_rows: list[tuple[Any, ...]] = []
    today = timezone.localdate(now)
    per_day: dict[dt.date, int] = {}  # the site's samples per local day (``SiteDayCount``)
    seen: set[int] = set()
    touched: dict[int, Tube] = {}
    before: dict[int, tuple[int, str]] = {}  # tube id -> (bound, status) before the batch
    tasks_taken: list[int] = []
    for i, r in enumerate(rows):
        tube = tubes.get(r.tube.strip())
        token = r.person.strip().upper()
        key = token if token.startswith(PASS_PREFIX) and token[1:].isdigit() else identity.normalize(token)
        p = persons.get(key)
        pid = p["id"] if p is not None else None
        task = tasks.get(pid) if pid is not None else None
        if tube is None or tube.round_id != rnd.pk:
            code = "unknown_tube"
        elif tube.site_id != site.pk:
            code = "other_site"
        elif tube.bound >= tube.size:  # a re-sample's single tube too, once it holds its one sample
            code = "tube_full"
        elif tube.status not in (TubeStatus.ISSUED, TubeStatus.OPEN):
            code = "tube_closed"
        elif p is None or pid is None:
            code = "unknown_person"
        elif pid in seen or (pid in sampled and task is None):
            code = "already_sampled"
        elif task is not None and tube.size != 1:
            code = "needs_single_tube"
        else:
            code = ""
        if code:
            out.refused.append((i, *_refusal(code, r, tube)))
            continue
        assert tube is not None and p is not None and pid is not None
        path = p["jurisdiction__path"]  # in scope: the rule of selectors.scope_filter, inline
        in_scope = any(path.startswith(a) for a in paths) or p["home_building_id"] in buildings
        if sectors:
            in_scope = p["sector_id"] in sectors and (in_scope or not has_place)
        seen.add(pid)
        if tube.pk not in touched:
            touched[tube.pk], before[tube.pk] = tube, (tube.bound, tube.status)
        tube.bound += 1
        if tube.bound >= tube.size:
            tube.status = TubeStatus.CLOSED
        elif tube.status == TubeStatus.ISSUED:
            tube.status = TubeStatus.OPEN
        if task is not None:
            tasks_taken.append(task)
        if r.at is not None and r.at <= latest:
            at, day = db_time(r.at), timezone.localdate(r.at)
        else:
            at, day = now_db, today
        per_day[day] = per_day.get(day, 0) + 1
        new_rows.append(
            (rnd.pk, tube.pk, pid, site.pk, p["jurisdiction_id"],
             _district_of_path(path, districts, p["jurisdiction_id"]), task, not in_scope, at, actor_id)
        )  # fmt: skip
        out.bound.append(i)
        if not in_scope:
            out.flagged.append(i)
    if new_rows:
        _write(actor, site, rnd, new_rows, list(touched.values()), before, tasks_taken, out, source, now)
        _add_site_days(site.pk, per_day)
    out.tubes = {t.barcode: t.bound for t in touched.values()}
    return out


def _write(
    actor: Actor | None,
    site: SamplingSite,
    rnd: ScreeningRound,
    new_rows: list[tuple[Any, ...]],
    tubes: list[Tube],
    before: dict[int, tuple[int, str]],
    tasks_taken: list[int],
    out: BatchResult,
    source: str,
    now: dt.datetime,
) -> None:
    bulk.insert_rows(Binding, BINDING_COLUMNS, new_rows)
    _add_counts(rnd.pk, new_rows)
    _update_tubes(tubes)
    audit.record_rows(
        actor,
        Tube,
        [(t.pk, t.barcode, _tube_changes(t, *before[t.pk])) for t in tubes],
        verb=AuditEntry.Verb.UPDATE,
        source=source,
    )
    if tasks_taken:
        taken = list(ResampleTask.objects.filter(pk__in=tasks_taken))
        audit.change_many(actor, taken, source=source, status=TaskStatus.SAMPLED)
    audit.record_batch(
        actor,
        model="screening.binding",
        key=f"{site.pk}:{now:%Y%m%d%H%M%S%f}",
        description=f"{len(new_rows)} samples at {site.code}",
        changes={"site": [None, site.pk], "count": [None, len(new_rows)],
                 "tubes": [None, sorted(t.barcode for t in tubes)],
                 "refused": [None, len(out.refused)], "flagged": [None, len(out.flagged)]},
        source=source,
    )  # fmt: skip


def _tube_changes(tube: Tube, bound: int, status: str) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {"bound": [bound, tube.bound]}
    if status != tube.status:
        changes["status"] = [status, tube.status]
    return changes


def _update_tubes(tubes: list[Tube]) -> None:
    """The tubes' counters and states in one statement (``UPDATE ... FROM (VALUES ...)`` on PostgreSQL)."""
    if connection.vendor != "postgresql":
        Tube.objects.bulk_update(tubes, ["bound", "status"], batch_size=500)
        return
    values = ", ".join(["(%s::bigint, %s::integer, %s::varchar)"] * len(tubes))
    params: list[Any] = []
    for t in sorted(tubes, key=lambda t: t.pk):
        params += [t.pk, t.bound, t.status]
    table = Tube._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} t SET bound = v.bound, status = v.status FROM (VALUES {values}) AS v(id, bound, status) "
            "WHERE t.id = v.id",
            params,
        )


def _add_counts(round_id: int, rows: list[tuple[Any, ...]]) -> None:
    """Add a batch's first samples to the round's counts per jurisdiction (one upsert, in jurisdiction order
    so concurrent batches lock the counter rows in the same order)."""
    counts: dict[int, list[int]] = {}
    for r in rows:
        if r[6] is not None:  # a re-sample
            continue
        c = counts.setdefault(r[4], [0, 0])
        c[1 if r[7] else 0] += 1
    if not counts:
        return
    table = RoundCount._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s)"] * len(counts))
    params: list[Any] = []
    for jid in sorted(counts):
        params += [round_id, jid, counts[jid][0], counts[jid][1]]
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (round_id, jurisdiction_id, sampled, outside) VALUES {values} "
            f"ON CONFLICT (round_id, jurisdiction_id) DO UPDATE SET sampled = {table}.sampled + "
            "excluded.sampled, outside = " + table + ".outside + excluded.outside",
            params,
        )


def _add_site_days(site_id: int, per_day: dict[dt.date, int]) -> None:
    """Add a batch's samples to the site's counts per day (one upsert, in day order)."""
    table = SiteDayCount._meta.db_table
    values = ", ".join(["(%s, %s, %s)"] * len(per_day))
    params: list[Any] = []
    for day in sorted(per_day):
        params += [site_id, day, per_day[day]]
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (site_id, day, sampled) VALUES {values} ON CONFLICT (site_id, day) "
            f"DO UPDATE SET sampled = {table}.sampled + excluded.sampled",
            params,
        )


@action
def seal_tube(*, actor: Actor | None, tube: Tube, source: str = "web") -> Tube:
    if tube.status != TubeStatus.OPEN:
        raise ValidationError({"tube": _("Only a tube in use can be sealed.")})
    audit.change(actor, tube, source=source, status=TubeStatus.CLOSED)
    return tube
