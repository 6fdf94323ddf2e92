"""Every write of mass screening: rounds and sites, tubes, sample bindings (single and in batches), lab
manifests and results, the follow-up of positives (temporary control, re-sample tasks, confirmation, cases),
key-industry frequency rules.

Each public function is one transaction that checks its input and refuses with ``ValidationError({field:
message})`` and changes nothing when something is wrong. Two paths take many rows at once and answer per row
instead: ``bind_samples`` (a scanner's batch: each row bound or refused with its reason, the bound rows written
with one ``COPY`` on PostgreSQL and one audit row for the batch) and ``record_results`` (a lab's list or file).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import Building, IndustrySector, Jurisdiction, Level
from cordon.apps.people.models import Person
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Case, Classification, Control, FoundBy
from cordon.engine import identity, pooling

from .models import (
    OPEN_TASK,
    TUBE_SIZES,
    Binding,
    FrequencyRule,
    Lab,
    ResampleTask,
    Result,
    RoundCount,
    RoundStatus,
    RoundTarget,
    SamplingSite,
    ScreeningRound,
    TaskStatus,
    TemporaryControl,
    Tube,
    TubeStatus,
)

MAX_BATCH = 10_000
MAX_TUBES_PER_ISSUE = 20_000
PASS_PREFIX = "P"  # a pass code carries the person's register key: "P" + id (signed passes come later)


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _resample_hours() -> float:
    return float(getattr(settings, "CORDON_RESAMPLE_HOURS", 6))


# --- Rounds and sites --------------------------------------------------------------------------------------


@dataclass
class RoundData:
    code: str
    name: str
    owner: Jurisdiction | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    design: str = "10-in-1"
    jurisdictions: Sequence[Jurisdiction] = ()
    buildings: Sequence[Building] = ()
    sectors: Sequence[IndustrySector] = ()
    key_industry: bool = False


def tube_size_of(design: str) -> int:
    """Samples per station tube for a design label (``10-in-1``, ``individual``); ValueError otherwise."""
    d = pooling.parse_design(design.strip())
    if d.tube_size not in TUBE_SIZES:
        raise ValueError(design)
    return int(d.tube_size)


def clean_round(data: RoundData) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.code.strip():
        errors["code"] = _("A code is required.")
    elif ScreeningRound.objects.filter(code=data.code.strip()).exists():
        errors["code"] = _("This code is already used.")
    if not data.name.strip():
        errors["name"] = _("A name is required.")
    if data.owner is None:
        errors["owner"] = _("Say which jurisdiction organises the round.")
    if data.starts_at is None or data.ends_at is None:
        errors["ends_at"] = _("The time window is required.")
    elif data.ends_at <= data.starts_at:
        errors["ends_at"] = _("The round must end after it starts.")
    try:
        tube_size_of(data.design)
    except ValueError:
        errors["design"] = _("Use a validated design: individual, 5-in-1, 10-in-1 or 20-in-1.")
    if not (data.jurisdictions or data.buildings or data.sectors):
        errors["jurisdictions"] = _("Choose at least one area, building or industry sector.")
    if data.owner is not None:
        outside = [j.code for j in data.jurisdictions if not data.owner.contains(j)]
        outside += [b.code for b in data.buildings if not data.owner.contains(b.jurisdiction)]
        if outside:
            errors["jurisdictions"] = _("Outside the organising jurisdiction: %(codes)s.") % {
                "codes": ", ".join(outside)
            }
    return errors


@transaction.atomic
def create_round(*, actor: Any, data: RoundData, source: str = "web") -> ScreeningRound:
    errors = clean_round(data)
    if errors:
        raise ValidationError(errors)
    assert data.owner is not None and data.starts_at is not None and data.ends_at is not None
    row = ScreeningRound.objects.create(
        code=data.code.strip(),
        name=data.name.strip(),
        owner=data.owner,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        design=pooling.parse_design(data.design.strip()).label,
        tube_size=tube_size_of(data.design),
        key_industry=data.key_industry or (bool(data.sectors) and not data.jurisdictions),
        status=RoundStatus.OPEN,
        created_by=_user(actor),
    )
    row.jurisdictions.set(data.jurisdictions)
    row.buildings.set(data.buildings)
    row.sectors.set(data.sectors)
    audit.record_create(actor, row, source=source)
    _count_target(row)
    return row


def _count_target(round: ScreeningRound) -> int:
    from .selectors import target_filter

    RoundTarget.objects.filter(round=round).delete()
    rows = (
        Person.objects.filter(target_filter(round))
        .values("jurisdiction_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    made = RoundTarget.objects.bulk_create(
        [RoundTarget(round=round, jurisdiction_id=r["jurisdiction_id"], persons=r["n"]) for r in rows],
        batch_size=2000,
    )
    round.counted_at = timezone.now()
    round.save(update_fields=["counted_at"])
    return sum(t.persons for t in made)


@transaction.atomic
def recount_target(*, actor: Any, round: ScreeningRound, source: str = "web") -> int:
    """Count the round's target population from the register again (after moves or new registrations)."""
    before = audit.snapshot(round)
    total = _count_target(round)
    audit.record_update(actor, round, before, source=source)
    return total


@transaction.atomic
def close_round(*, actor: Any, round: ScreeningRound, source: str = "web") -> ScreeningRound:
    if round.status == RoundStatus.CLOSED:
        raise ValidationError({"status": _("The round is already closed.")})
    before = audit.snapshot(round)
    round.status = RoundStatus.CLOSED
    round.save(update_fields=["status"])
    Tube.objects.filter(round=round, status=TubeStatus.OPEN).update(status=TubeStatus.CLOSED)
    audit.record_update(actor, round, before, source=source)
    return round


@dataclass
class SiteData:
    code: str
    name: str
    jurisdiction: Jurisdiction | None
    opens: dt.time = dt.time(7, 0)
    closes: dt.time = dt.time(21, 0)
    staff: int = 2


@transaction.atomic
def add_site(*, actor: Any, round: ScreeningRound, data: SiteData, source: str = "web") -> SamplingSite:
    errors: dict[str, str] = {}
    if not data.code.strip():
        errors["code"] = _("A code is required.")
    elif SamplingSite.objects.filter(round=round, code=data.code.strip()).exists():
        errors["code"] = _("This code is already used.")
    if not data.name.strip():
        errors["name"] = _("A name is required.")
    if data.jurisdiction is None:
        errors["jurisdiction"] = _("Unknown jurisdiction.")
    if data.closes <= data.opens:
        errors["closes"] = _("The site must close after it opens.")
    if data.staff < 1:
        errors["staff"] = _("A site needs at least one sampler.")
    if errors:
        raise ValidationError(errors)
    assert data.jurisdiction is not None
    site = SamplingSite.objects.create(
        round=round,
        code=data.code.strip(),
        name=data.name.strip(),
        jurisdiction=data.jurisdiction,
        opens=data.opens,
        closes=data.closes,
        staff=data.staff,
    )
    audit.record_create(actor, site, source=source)
    return site


@transaction.atomic
def report_queue(*, actor: Any, site: SamplingSite, persons: int, source: str = "web") -> SamplingSite:
    if persons < 0:
        raise ValidationError({"queue_length": _("The queue cannot be negative.")})
    before = audit.snapshot(site)
    site.queue_length = persons
    site.queue_at = timezone.now()
    site.save(update_fields=["queue_length", "queue_at"])
    audit.record_update(actor, site, before, source=source)
    return site


def _barcodes(spec: str) -> list[str]:
    """``A0001-A0100`` (a range with the same prefix), or barcodes separated by commas, spaces or lines."""
    out: list[str] = []
    for part in spec.replace(",", " ").split():
        if "-" in part:
            lo, _sep, hi = part.partition("-")
            head = lo.rstrip("0123456789")
            if not hi.startswith(head) or not lo[len(head) :].isdigit() or not hi[len(head) :].isdigit():
                raise ValidationError({"barcodes": _("Cannot read the range %(r)s.") % {"r": part}})
            width = len(lo) - len(head)
            a, b = int(lo[len(head) :]), int(hi[len(head) :])
            if b < a or b - a >= MAX_TUBES_PER_ISSUE:
                raise ValidationError({"barcodes": _("Cannot read the range %(r)s.") % {"r": part}})
            out.extend(f"{head}{n:0{width}d}" for n in range(a, b + 1))
        else:
            out.append(part)
    return out


@transaction.atomic
def issue_tubes(
    *, actor: Any, site: SamplingSite, barcodes: str | Sequence[str], size: int | None = None,
    source: str = "web",
) -> int:  # fmt: skip
    """Register tubes for a site (pooled tubes of the round's size, or single tubes for re-sampling)."""
    codes = _barcodes(barcodes) if isinstance(barcodes, str) else [b.strip() for b in barcodes if b.strip()]
    size = site.round.tube_size if size is None else size
    if size not in TUBE_SIZES:
        raise ValidationError({"size": _("A tube holds 1, 5, 10 or 20 samples.")})
    if not codes:
        raise ValidationError({"barcodes": _("Give at least one barcode.")})
    if len(codes) > MAX_TUBES_PER_ISSUE:
        raise ValidationError({"barcodes": _("Too many tubes at once.")})
    if len(set(codes)) != len(codes) or any(len(c) > 40 for c in codes):
        raise ValidationError({"barcodes": _("A barcode is repeated or too long.")})
    taken = list(Tube.objects.filter(barcode__in=codes).values_list("barcode", flat=True)[:5])
    if taken:
        raise ValidationError({"barcodes": _("Already issued: %(codes)s.") % {"codes": ", ".join(taken)}})
    Tube.objects.bulk_create(
        [Tube(barcode=c, round=site.round, site=site, size=size) for c in codes], batch_size=2000
    )
    audit.record_batch(
        actor,
        model="screening.tube",
        key=f"{site.pk}:{codes[0]}",
        description=f"{len(codes)} tubes for {site.code}",
        changes={"site": [None, site.pk], "size": [None, size], "first": [None, codes[0]],
                 "last": [None, codes[-1]], "count": [None, len(codes)]},
        source=source,
    )  # fmt: skip
    return len(codes)


# --- Binding samples ---------------------------------------------------------------------------------------


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


def _district_ids() -> dict[str, int]:
    return dict(Jurisdiction.objects.filter(level=Level.DISTRICT).values_list("code", "id"))


def _district_of_path(path: str, districts: dict[str, int], fallback: int) -> int:
    codes = [c for c in path.split("/") if c]
    return districts.get(codes[1], fallback) if len(codes) > 1 else fallback


def round_scope(round: ScreeningRound) -> tuple[list[str], set[int], set[int]]:
    """The round's scope as plain values: area paths, building ids, sector ids."""
    return (
        list(round.jurisdictions.values_list("path", flat=True)),
        set(round.buildings.values_list("id", flat=True)),
        set(round.sectors.values_list("id", flat=True)),
    )


def _copy_bindings(rows: list[tuple[Any, ...]]) -> None:
    cols = (
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
    if connection.vendor == "postgresql":
        with connection.cursor() as cur, connection.wrap_database_errors:  # psycopg's errors as Django's
            sql = f"COPY {Binding._meta.db_table} ({', '.join(cols)}) FROM STDIN"
            with cur.cursor.copy(sql) as copy:
                for r in rows:
                    copy.write_row(r)
        return
    Binding.objects.bulk_create([Binding(**dict(zip(cols, r, strict=True))) for r in rows], batch_size=500)


_PERSON_FIELDS = (
    "id",
    "national_id",
    "jurisdiction_id",
    "jurisdiction__path",
    "home_building_id",
    "sector_id",
)


def _persons(nids: set[str], pks: set[int]) -> list[dict[str, Any]]:
    """The register rows a batch names, by national ID or pass (one query; ``= ANY`` on PostgreSQL, where
    thousands of ``IN`` placeholders cost more to build than to run)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT p.id, p.national_id, p.jurisdiction_id, j.path, p.home_building_id, p.sector_id "
                f"FROM {Person._meta.db_table} p JOIN {Jurisdiction._meta.db_table} j ON j.id = p.jurisdiction_id "
                "WHERE p.national_id = ANY(%s) OR p.id = ANY(%s)",
                [list(nids), list(pks)],
            )
            return [dict(zip(_PERSON_FIELDS, r, strict=True)) for r in cur.fetchall()]
    out = list(Person.objects.filter(national_id__in=nids).values(*_PERSON_FIELDS)) if nids else []
    out += list(Person.objects.filter(pk__in=pks).values(*_PERSON_FIELDS)) if pks else []
    return out


def _sampled(round_id: int, person_ids: set[int]) -> set[int]:
    """Who of these persons already has a (first) sample in the round."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT person_id FROM {Binding._meta.db_table} WHERE round_id = %s AND resample_id IS NULL "
                "AND person_id = ANY(%s)",
                [round_id, list(person_ids)],
            )
            return {r[0] for r in cur.fetchall()}
    return set(
        Binding.objects.filter(
            round_id=round_id, person_id__in=person_ids, resample__isnull=True
        ).values_list("person_id", flat=True)
    )


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


@transaction.atomic
def bind_samples(
    *, actor: Any, site: SamplingSite, rows: Sequence[BindingIn], source: str = "api",
    now: dt.datetime | None = None,
) -> BatchResult:  # fmt: skip
    """Bind persons to tubes at a site. Each row is bound or refused with its reason; nothing of a refused
    row is written. Validation is set-based (a handful of queries per batch, whatever its size), the tubes of
    the batch are locked so two stations cannot overfill one tube, and the bound rows go in with one ``COPY``.
    The batch is acknowledged only once the transaction has committed."""
    now = now or timezone.now()
    if len(rows) > MAX_BATCH:
        raise ValidationError({"bindings": _("At most %(n)d samples per batch.") % {"n": MAX_BATCH}})
    rnd = site.round
    if not rnd.accepting(now):
        msg = (
            _("The round is closed.") if rnd.status == RoundStatus.CLOSED else _("The round is not open now.")
        )
        return BatchResult(refused=[(i, "round_closed", msg) for i in range(len(rows))])
    # Two stations binding the same person at the same moment both find them unsampled; the unique (person,
    # round) index makes the second wait for the first and fail. Check the batch again then (the first has
    # committed, so the person is now refused as already sampled) instead of failing the whole batch.
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _bind(actor, site, rnd, rows, source, now)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _bind(
    actor: Any,
    site: SamplingSite,
    rnd: ScreeningRound,
    rows: Sequence[BindingIn],
    source: str,
    now: dt.datetime,
) -> BatchResult:
    out = BatchResult()
    barcodes = {r.tube.strip() for r in rows}
    tubes = {
        t.barcode: t
        for t in Tube.objects.select_for_update(of=("self",))
        .filter(barcode__in=barcodes)
        .order_by("id")
        .only("id", "barcode", "round_id", "site_id", "size", "bound", "status")
    }
    nids, pks = _person_keys(r.person for r in rows)
    persons: dict[str, dict[str, Any]] = {}
    for found in _persons(nids, pks):
        persons[found["national_id"]] = found
        persons[f"{PASS_PREFIX}{found['id']}"] = found
    person_ids = {x["id"] for x in persons.values()}
    sampled = _sampled(rnd.pk, person_ids)
    due = ResampleTask.objects.filter(round=rnd, status=TaskStatus.DUE)
    tasks = dict(due.filter(person_id__in=person_ids).values_list("person_id", "id")) if due.exists() else {}
    paths, building_ids, sector_ids = round_scope(rnd)
    districts = _district_ids()
    actor_id = getattr(_user(actor), "pk", None)
    copy_rows: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    touched: dict[int, Tube] = {}
    tasks_taken: list[int] = []
    for i, r in enumerate(rows):
        tube = tubes.get(r.tube.strip())
        token = r.person.strip().upper()
        key = token if token.startswith(PASS_PREFIX) and token[1:].isdigit() else identity.normalize(token)
        p = persons.get(key)
        if tube is None or tube.round_id != rnd.pk:
            out.refused.append((i, "unknown_tube", _("Unknown tube %(t)s.") % {"t": r.tube}))
            continue
        if tube.site_id != site.pk:
            out.refused.append((i, "other_site", _("Tube %(t)s belongs to another site.") % {"t": r.tube}))
            continue
        if tube.bound >= tube.size:
            out.refused.append(
                (i, "tube_full", _("Tube %(t)s is full (%(n)d samples).") % {"t": r.tube, "n": tube.size})
            )
            continue
        if tube.status not in (TubeStatus.ISSUED, TubeStatus.OPEN):
            out.refused.append((i, "tube_closed", _("Tube %(t)s is sealed.") % {"t": r.tube}))
            continue
        if p is None:
            out.refused.append((i, "unknown_person", _("Nobody in the register with this pass or ID.")))
            continue
        pid = p["id"]
        task = tasks.get(pid)
        if pid in seen or (pid in sampled and task is None):
            out.refused.append((i, "already_sampled", _("This person was already sampled in this round.")))
            continue
        if task is not None and tube.size != 1:
            out.refused.append(
                (i, "needs_single_tube", _("This person must be re-sampled in a single tube."))
            )
            continue
        if task is not None and tube.bound:
            out.refused.append(
                (i, "tube_full", _("Tube %(t)s is full (%(n)d samples).") % {"t": r.tube, "n": 1})
            )
            continue
        path = p["jurisdiction__path"]
        in_scope = (
            any(path.startswith(a) for a in paths)
            or p["home_building_id"] in building_ids
            or p["sector_id"] in sector_ids
        )
        seen.add(pid)
        tube.bound += 1
        if tube.bound >= tube.size:
            tube.status = TubeStatus.CLOSED
        elif tube.status == TubeStatus.ISSUED:
            tube.status = TubeStatus.OPEN
        touched[tube.pk] = tube
        if task is not None:
            tasks_taken.append(task)
        at = r.at if r.at is not None and r.at <= now + dt.timedelta(minutes=5) else now
        copy_rows.append(
            (rnd.pk, tube.pk, pid, site.pk, p["jurisdiction_id"],
             _district_of_path(path, districts, p["jurisdiction_id"]), task, not in_scope, at, actor_id)
        )  # fmt: skip
        out.bound.append(i)
        if not in_scope:
            out.flagged.append(i)
    if copy_rows:
        _copy_bindings(copy_rows)
        _add_counts(rnd.pk, copy_rows)
        _update_tubes(list(touched.values()))
        if tasks_taken:
            ResampleTask.objects.filter(pk__in=tasks_taken).update(status=TaskStatus.SAMPLED)
        audit.record_batch(
            actor,
            model="screening.binding",
            key=f"{site.pk}:{now:%Y%m%d%H%M%S%f}",
            description=f"{len(copy_rows)} samples at {site.code}",
            changes={"site": [None, site.pk], "count": [None, len(copy_rows)],
                     "tubes": [None, sorted(t.barcode for t in touched.values())],
                     "refused": [None, len(out.refused)], "flagged": [None, len(out.flagged)]},
            source=source,
        )  # fmt: skip
    out.tubes = {t.barcode: t.bound for t in touched.values()}
    return out


@transaction.atomic
def seal_tube(*, actor: Any, tube: Tube, source: str = "web") -> Tube:
    if tube.status != TubeStatus.OPEN:
        raise ValidationError({"tube": _("Only a tube in use can be sealed.")})
    before = audit.snapshot(tube)
    tube.status = TubeStatus.CLOSED
    tube.save(update_fields=["status"])
    audit.record_update(actor, tube, before, source=source)
    return tube


# --- Labs --------------------------------------------------------------------------------------------------


@transaction.atomic
def create_lab(
    *, actor: Any, code: str, name: str, jurisdiction: Jurisdiction | None, source: str = "web"
) -> Lab:
    errors: dict[str, str] = {}
    if not code.strip():
        errors["code"] = _("A code is required.")
    elif Lab.objects.filter(code=code.strip()).exists():
        errors["code"] = _("This code is already used.")
    if not name.strip():
        errors["name"] = _("A name is required.")
    if jurisdiction is None:
        errors["jurisdiction"] = _("Unknown jurisdiction.")
    if errors:
        raise ValidationError(errors)
    assert jurisdiction is not None
    lab = Lab.objects.create(code=code.strip(), name=name.strip(), jurisdiction=jurisdiction)
    audit.record_create(actor, lab, source=source)
    return lab


@dataclass
class RowReport:
    done: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, message)
    positive_pools: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)


@transaction.atomic
def receive_tubes(*, actor: Any, lab: Lab, barcodes: Sequence[str], source: str = "web") -> RowReport:
    """A manifest: the tubes arriving at a lab. Unknown, empty or already received tubes are reported per row."""
    report = RowReport()
    codes = [b.strip() for b in barcodes if b.strip()]
    tubes = {t.barcode: t for t in Tube.objects.select_for_update().filter(barcode__in=codes)}
    now = timezone.now()
    ok: list[Tube] = []
    for n, code in enumerate(codes, start=1):
        t = tubes.get(code)
        if t is None:
            report.errors.append((n, _("Unknown tube %(t)s.") % {"t": code}))
        elif t.bound == 0:
            report.errors.append((n, _("Tube %(t)s holds no sample.") % {"t": code}))
        elif t.lab_id == lab.pk and t.status != TubeStatus.OPEN:
            report.unchanged += 1
        elif t.status in (TubeStatus.RECEIVED, TubeStatus.RESULTED):
            report.errors.append((n, _("Tube %(t)s was already received by another lab.") % {"t": code}))
        else:
            t.status, t.lab, t.received_at = TubeStatus.RECEIVED, lab, now
            ok.append(t)
    Tube.objects.bulk_update(ok, ["status", "lab", "received_at"], batch_size=1000)
    report.done = len(ok)
    if ok:
        audit.record_batch(
            actor, model="screening.tube", key=f"manifest:{lab.pk}:{now:%Y%m%d%H%M%S}",
            description=f"{len(ok)} tubes received by {lab.code}",
            changes={"lab": [None, lab.pk], "tubes": [None, [t.barcode for t in ok]]}, source=source,
        )  # fmt: skip
    return report


@dataclass(frozen=True)
class ResultIn:
    tube: str
    result: str
    ct: dict[str, float] = field(default_factory=dict)


RESULT_COLUMNS = ("barcode", "result", "ct_orf1ab", "ct_n")


def parse_results_file(data: bytes) -> tuple[list[ResultIn], list[tuple[int, str]]]:
    """A CSV with the columns ``barcode,result,ct_orf1ab,ct_n`` (Ct values optional). Rows that cannot be
    read are returned as (line, message); the others are returned to record."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [(0, _("The file is not UTF-8 text."))]
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"barcode", "result"} <= {f.strip() for f in reader.fieldnames}:
        return [], [(1, _("The file needs the columns barcode and result."))]
    rows: list[ResultIn] = []
    errors: list[tuple[int, str]] = []
    for line, raw in enumerate(reader, start=2):
        rec = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        ct: dict[str, float] = {}
        bad = False
        for col, gene in (("ct_orf1ab", "ORF1ab"), ("ct_n", "N")):
            if rec.get(col):
                try:
                    ct[gene] = float(rec[col])
                except ValueError:
                    errors.append((line, _("Ct value %(v)s is not a number.") % {"v": rec[col]}))
                    bad = True
        if not bad:
            rows.append(ResultIn(rec.get("barcode", ""), rec.get("result", "").lower(), ct))
    return rows, errors


def _case_for(actor: Any, binding: Binding, control: TemporaryControl | None, source: str) -> Case | None:
    """The confirmed single positive becomes a case through the tracing app (found by screening, under
    control since the temporary control started)."""
    existing = Case.objects.filter(person_id=binding.person_id).first()
    if existing is not None:
        return existing
    return tracing.report_case(
        actor=actor,
        data=tracing.CaseData(
            person=binding.person,
            sampled_at=min(binding.bound_at, timezone.now()),
            found_by=FoundBy.KEY_INDUSTRY_SCREENING if binding.round.key_industry else FoundBy.AREA_SCREENING,
            classification=Classification.ASYMPTOMATIC,
            control=Control.QUARANTINE if control is not None else Control.COMMUNITY,
            isolated_at=control.started_at if control is not None else None,
        ),
        source=source,
    )


@transaction.atomic
def record_results(
    *, actor: Any, rows: Sequence[ResultIn], lab: Lab | None = None, source: str = "web",
    first_line: int = 1,
) -> RowReport:  # fmt: skip
    """Record lab results, each row on its own (a bad row is reported and the others are recorded; recording
    the same result twice changes nothing). A positive pool puts its persons under temporary control and opens
    their re-sample tasks at once; a positive single tube waits for its confirmation re-test (a second result
    for the same tube) before it becomes a case; a negative re-test lifts the temporary control."""
    report = RowReport()
    now = timezone.now()
    codes = [r.tube.strip() for r in rows]
    tubes = {
        t.barcode: t
        for t in Tube.objects.select_for_update().select_related("round").filter(barcode__in=codes)
    }
    seen: set[str] = set()
    for n, r in enumerate(rows, start=first_line):
        t = tubes.get(r.tube.strip())
        result = r.result.strip().lower()
        if t is None:
            report.errors.append((n, _("Unknown tube %(t)s.") % {"t": r.tube}))
            continue
        if result not in (Result.NEGATIVE, Result.POSITIVE, Result.INVALID):
            report.errors.append((n, _("Result must be negative, positive or invalid.")))
            continue
        if lab is not None and t.lab_id not in (None, lab.pk):
            report.errors.append((n, _("Tube %(t)s was received by another lab.") % {"t": t.barcode}))
            continue
        if t.bound == 0:
            report.errors.append((n, _("Tube %(t)s holds no sample.") % {"t": t.barcode}))
            continue
        if any(not 0 < v < 50 for v in r.ct.values()):
            report.errors.append((n, _("Ct values lie between 0 and 50.")))
            continue
        if t.barcode in seen:  # twice in one list: a confirmation is a re-test, never the same report
            report.errors.append((n, _("Tube %(t)s is listed twice.") % {"t": t.barcode}))
            continue
        seen.add(t.barcode)
        before = audit.snapshot(t)
        if t.awaiting_confirmation:
            if result == Result.INVALID:
                report.errors.append((n, _("A confirmation re-test is negative or positive.")))
                continue
            t.confirmation, t.confirmed_at = result, now
            t.save(update_fields=["confirmation", "confirmed_at"])
            audit.record_update(actor, t, before, source=source)
            report.done += 1
            _confirmed(actor, t, result == Result.POSITIVE, now, report, source)
            continue
        if t.result:
            if t.result == result:
                report.unchanged += 1
            else:
                report.errors.append((n, _("Tube %(t)s already has a result.") % {"t": t.barcode}))
            continue
        t.result, t.ct_values, t.result_at, t.status = result, r.ct, now, TubeStatus.RESULTED
        if lab is not None:
            t.lab = lab
            t.received_at = t.received_at or now
        t.save(update_fields=["result", "ct_values", "result_at", "status", "lab", "received_at"])
        audit.record_update(actor, t, before, source=source)
        report.done += 1
        _follow_up(actor, t, result, now, report, source)
    return report


def _bindings(tube: Tube) -> list[Binding]:
    return list(
        Binding.objects.filter(tube=tube).select_related("person", "round", "resample").order_by("id")
    )


def _open_tasks(tube: Tube, bindings: list[Binding], now: dt.datetime) -> list[ResampleTask]:
    have = set(
        ResampleTask.objects.filter(
            round=tube.round, person_id__in=[b.person_id for b in bindings], status__in=OPEN_TASK
        ).values_list("person_id", flat=True)
    )
    due = now + dt.timedelta(hours=_resample_hours())
    made = ResampleTask.objects.bulk_create(
        [
            ResampleTask(round=tube.round, person_id=b.person_id, source_tube=tube,
                         jurisdiction_id=b.jurisdiction_id, district_id=b.district_id, due_at=due)
            for b in bindings
            if b.person_id not in have
        ]
    )  # fmt: skip
    return made


def _hold(tube: Tube, bindings: list[Binding], now: dt.datetime) -> list[TemporaryControl]:
    held = set(
        TemporaryControl.objects.filter(
            person_id__in=[b.person_id for b in bindings], lifted_at__isnull=True
        ).values_list("person_id", flat=True)
    )
    return TemporaryControl.objects.bulk_create(
        [
            TemporaryControl(person_id=b.person_id, building_id=b.person.home_building_id,
                             jurisdiction_id=b.jurisdiction_id, district_id=b.district_id, round=tube.round,
                             tube=tube, reason="positive_pool" if tube.size > 1 else "positive_single",
                             started_at=now)
            for b in bindings
            if b.person_id not in held
        ]
    )  # fmt: skip


def _lift(person_ids: Iterable[int], now: dt.datetime) -> int:
    """Lift the temporary control of persons with no open re-sample task and no single tube awaiting its
    confirmation."""
    ids = set(person_ids)
    still = set(
        ResampleTask.objects.filter(person_id__in=ids, status__in=OPEN_TASK).values_list(
            "person_id", flat=True
        )
    )
    return TemporaryControl.objects.filter(
        person_id__in=ids - still, lifted_at__isnull=True, case__isnull=True
    ).update(lifted_at=now)


def _follow_up(actor: Any, tube: Tube, result: str, now: dt.datetime, report: RowReport, source: str) -> None:
    bindings = _bindings(tube)
    tasks = [b.resample for b in bindings if b.resample is not None]
    if tube.size > 1:
        if result == Result.POSITIVE:
            holds = _hold(tube, bindings, now)
            made = _open_tasks(tube, bindings, now)
            report.positive_pools.append(tube.barcode)
            audit.record_batch(
                actor, model="screening.tube", key=f"positive:{tube.pk}",
                description=f"positive pool {tube.barcode}: {len(holds)} under temporary control",
                changes={"temporary_controls": [None, [h.person_id for h in holds]],
                         "resample_tasks": [None, [m.pk for m in made]]}, source=source,
            )  # fmt: skip
        elif result == Result.INVALID:
            _open_tasks(tube, bindings, now)
        return
    # A single tube: a re-sample or a person sampled alone.
    if result == Result.POSITIVE:
        _hold(tube, bindings, now)  # already held after a positive pool; held now after a single positive
        return  # waits for the confirmation re-test
    if result == Result.NEGATIVE:
        ResampleTask.objects.filter(pk__in=[t.pk for t in tasks]).update(
            status=TaskStatus.NEGATIVE, done_at=now
        )
        _lift([b.person_id for b in bindings], now)
    else:  # invalid: sample the person again
        ResampleTask.objects.filter(pk__in=[t.pk for t in tasks]).update(
            status=TaskStatus.CANCELLED, done_at=now
        )
        _open_tasks(tube, bindings, now)


def _confirmed(
    actor: Any, tube: Tube, positive: bool, now: dt.datetime, report: RowReport, source: str
) -> None:
    bindings = _bindings(tube)
    task_ids = [b.resample_id for b in bindings if b.resample_id is not None]
    if not positive:  # a false positive: no case, the control is lifted
        ResampleTask.objects.filter(pk__in=task_ids).update(status=TaskStatus.NEGATIVE, done_at=now)
        _lift([b.person_id for b in bindings], now)
        return
    ResampleTask.objects.filter(pk__in=task_ids).update(status=TaskStatus.POSITIVE, done_at=now)
    for b in bindings:
        control = TemporaryControl.objects.filter(person_id=b.person_id, lifted_at__isnull=True).first()
        first = Binding.objects.filter(person_id=b.person_id, round=b.round).order_by("bound_at").first() or b
        case = _case_for(actor, first, control, source)
        if case is not None:
            report.cases.append(case.code)
            if control is not None:
                TemporaryControl.objects.filter(pk=control.pk).update(case=case)


# --- Key-industry rules ------------------------------------------------------------------------------------


@transaction.atomic
def save_rule(*, actor: Any, sector: IndustrySector, every_days: int, source: str = "web") -> FrequencyRule:
    if not 1 <= every_days <= 60:
        raise ValidationError({"every_days": _("Screen every 1 to 60 days.")})
    rule = FrequencyRule.objects.filter(sector=sector).first()
    if rule is None:
        rule = FrequencyRule.objects.create(sector=sector, every_days=every_days)
        audit.record_create(actor, rule, source=source)
        return rule
    before = audit.snapshot(rule)
    rule.every_days = every_days
    rule.save(update_fields=["every_days"])
    audit.record_update(actor, rule, before, source=source)
    return rule
