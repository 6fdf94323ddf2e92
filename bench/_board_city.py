"""The Beijing-shaped city of ``bench_board.py``, built with bulk SQL (``INSERT ... SELECT`` over
``generate_series`` and ``COPY``) into an empty migrated database: see that script's docstring."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from collections.abc import Callable
from typing import Any

# Beijing's districts and their share of the 2020 census (21.89 million).
DISTRICTS = [
    ("110101", "东城区", 0.71), ("110102", "西城区", 1.10), ("110105", "朝阳区", 3.45),
    ("110106", "丰台区", 2.02), ("110107", "石景山区", 0.57), ("110108", "海淀区", 3.13),
    ("110109", "门头沟区", 0.39), ("110111", "房山区", 1.31), ("110112", "通州区", 1.84),
    ("110113", "顺义区", 1.32), ("110114", "昌平区", 2.27), ("110115", "大兴区", 1.99),
    ("110116", "怀柔区", 0.44), ("110117", "平谷区", 0.46), ("110118", "密云区", 0.53),
    ("110119", "延庆区", 0.35),
]  # fmt: skip
STREETS = 336
COMMUNITIES_PER_STREET = 21
GRIDS_PER_COMMUNITY = 3
SITES_PER_DISTRICT = 10
ROOMS_PER_SITE = 500
TRANSFER_GROUP = 20


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- Building the city -------------------------------------------------------------------------------------


class Steps:
    def __init__(self) -> None:
        self.times: list[tuple[str, int, float]] = []

    def __call__(self, table: str, fn: Callable[[], int]) -> int:
        t = time.perf_counter()
        n = fn()
        self.times.append((table, n, time.perf_counter() - t))
        say(f"  {table}: {n:,} rows in {self.times[-1][2]:.1f} s")
        return n


def _sql(sql: str, params: Any = None) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params or [])  # always with parameters: "%%" is a literal "%"
        return int(cur.rowcount)


def _copy(table: str, columns: str, rows: Any) -> int:
    from django.db import connection

    n = 0
    with connection.cursor() as cur, cur.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def _without_indexes(table: str, fill: Callable[[], int]) -> int:
    """Fill a big table with its secondary indexes dropped, then build them again (faster than keeping them up
    to date row by row); constraint indexes stay."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)",
            [table],
        )
        defs = cur.fetchall()
        for name, _ in defs:
            cur.execute(f'DROP INDEX "{name}"')
    n = fill()
    with connection.cursor() as cur:
        for _, sql in defs:
            cur.execute(sql)
    return n


def _reset_sequences() -> None:
    from django.core.management.color import no_style
    from django.db import connection

    from cordon.apps.control.models import IsolationSite, Room
    from cordon.apps.geo.models import Building, Jurisdiction

    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(
            no_style(), [Jurisdiction, Building, IsolationSite, Room]
        ):
            cur.execute(sql)


def tree() -> tuple[list[tuple[Any, ...]], list[tuple[int, int]]]:
    """Rows of the jurisdiction tree (explicit ids) and (grid id, district id) pairs."""
    rows: list[tuple[Any, ...]] = [(1, "110000", "北京市", "Beijing", 1, "/110000/", None)]
    grids: list[tuple[int, int]] = []
    total = sum(s for _, _, s in DISTRICTS)
    next_id = 2
    district_ids = []
    for code, name, _ in DISTRICTS:
        rows.append((next_id, code, name, "", 2, f"/110000/{code}/", 1))
        district_ids.append(next_id)
        next_id += 1
    for (dcode, _, share), did in zip(DISTRICTS, district_ids, strict=True):
        dpath = f"/110000/{dcode}/"
        for s in range(max(4, round(STREETS * share / total))):
            scode = f"{dcode}{s:03d}"
            sid, next_id = next_id, next_id + 1
            rows.append((sid, scode, f"街道{scode}", "", 3, f"{dpath}{scode}/", did))
            for c in range(COMMUNITIES_PER_STREET):
                ccode = f"{scode}{c:03d}"
                cid, next_id = next_id, next_id + 1
                rows.append((cid, ccode, f"社区{ccode}", "", 4, f"{dpath}{scode}/{ccode}/", sid))
                for g in range(GRIDS_PER_COMMUNITY):
                    gcode = f"{ccode}-{g:02d}"
                    rows.append(
                        (next_id, gcode, f"网格{gcode}", "", 5, f"{dpath}{scode}/{ccode}/{gcode}/", cid)
                    )
                    grids.append((next_id, did))
                    next_id += 1
    return rows, grids


def build(args: argparse.Namespace) -> tuple[Steps, dict[str, Any]]:  # One piece: the build, table by table
    from django.db import connection

    step = Steps()
    rows, grids = tree()
    step(
        "geo_jurisdiction",
        lambda: _copy("geo_jurisdiction", "id, code, name, name_en, level, path, parent_id", rows),
    )
    _sql("CREATE UNLOGGED TABLE bench_grid (grid_id bigint PRIMARY KEY, district_id bigint NOT NULL)")
    _copy("bench_grid", "grid_id, district_id", grids)
    n_buildings = max(len(grids), args.persons // 100)
    step(
        "geo_building",
        lambda: _sql(
            "INSERT INTO geo_building (id, code, address, jurisdiction_id, latitude, longitude) "
            "SELECT b + 1, 'B' || lpad(b::text, 7, '0'), '楼 ' || b, g.grid_id, 39.6 + (b %% 997) / 1661.0, "
            "116.0 + (b %% 991) / 1238.0 FROM generate_series(0, %s - 1) b "
            "JOIN (SELECT grid_id, row_number() OVER (ORDER BY grid_id) - 1 AS k FROM bench_grid) g "
            "ON g.k = b %% %s",
            [n_buildings, len(grids)],
        ),
    )
    n = args.persons

    def persons() -> int:
        return _sql(
            "INSERT INTO people_person (name, sex, phone, workplace_name, occupation, tags, created_at, "
            "updated_at, home_building_id, jurisdiction_id, national_id_rev, phone_rev, work_unit) "
            "SELECT '居民' || g, 'U', '', '', '', '[]'::jsonb, now(), now(), b.id, b.jurisdiction_id, '', '', '' "
            "FROM generate_series(0, %s - 1) g JOIN geo_building b ON b.id = 1 + g %% %s",
            [n, n_buildings],
        )

    _sql("SET session_replication_role = replica")  # foreign keys hold by construction; checked below
    step("people_person", lambda: _without_indexes("people_person", persons))
    with connection.cursor() as cur:
        cur.execute("SELECT min(id) FROM people_person")
        p0 = cur.fetchone()[0]
    # A permutation of the residents: contacts, orders and temporary controls each get distinct persons.
    mult = next(m for m in (7919, 104723, 1299709) if math.gcd(m, n) == 1)
    perm = f"({p0} + ((g::bigint * {mult} + 11) %% {n}))"
    k = args.cases
    step(
        "tracing_case",
        lambda: _sql(
            "INSERT INTO tracing_case (code, classification, sampled_at, reported_at, found_by, control, "
            "traced_at, source, district_id, jurisdiction_id, person_id) "
            "SELECT 'BC' || lpad(g::text, 7, '0'), 'confirmed', r - interval '6 hours', r, 'fever_clinic', "
            "'community', CASE WHEN g %% 20 = 0 THEN NULL ELSE r + interval '2 hours' END, 'bench', "
            "d.district_id, p.jurisdiction_id, p.id "
            "FROM (SELECT g, now() - (g %% 14400) * interval '1 minute' AS r "
            "FROM generate_series(0, %s - 1) g) s "
            f"JOIN people_person p ON p.id = {p0} + ((g::bigint * 104729 + 7) %% {n}) "
            "JOIN bench_grid d ON d.grid_id = p.jurisdiction_id",
            [k],
        ),
    )
    with connection.cursor() as cur:
        cur.execute("SELECT min(id) FROM tracing_case")
        c0 = cur.fetchone()[0]
    ctrl, waiting = args.controlled, int(args.contacts * 0.3)
    n_contacts = args.controlled + args.contacts

    def contacts() -> int:
        return _sql(
            "INSERT INTO tracing_contact (degree, contact_type, score, overlap_minutes, shared_stays, evidence, "
            "status, decided_at, note, found_at, updated_at, case_id, district_id, jurisdiction_id, person_id) "
            "SELECT CASE WHEN g %% 4 = 0 THEN 2 ELSE 1 END, 'household', 1.0, 0, 0, '{}'::jsonb, "
            f"CASE WHEN g < {ctrl + waiting} THEN 'confirmed' ELSE 'candidate' END, "
            f"CASE WHEN g < {ctrl + waiting} THEN c.reported_at + interval '4 hours' END, '', "
            "c.reported_at + interval '1 hour', now(), c.id, d.district_id, p.jurisdiction_id, p.id "
            f"FROM generate_series(0, %s - 1) g JOIN people_person p ON p.id = {perm} "
            "JOIN bench_grid d ON d.grid_id = p.jurisdiction_id "
            f"JOIN tracing_case c ON c.id = {c0} + g %% {k}",
            [n_contacts],
        )

    step("tracing_contact", lambda: _without_indexes("tracing_contact", contacts))
    d0 = 2  # district ids are 2..17 (the tree's explicit ids)
    step(
        "control_isolationsite",
        lambda: _copy(
            "control_isolationsite",
            "id, code, name, name_en, kind, address, phone, takes_children, takes_special_needs, active, note, "
            "district_id, jurisdiction_id",
            (
                (i * SITES_PER_DISTRICT + s + 1, f"S{code}{s:02d}", f"隔离酒店{code}-{s}", "", "hotel", "", "",
                 True, True, True, "", d0 + i, d0 + i)
                for i, (code, _, _) in enumerate(DISTRICTS)
                for s in range(SITES_PER_DISTRICT)
            ),
        ),
    )  # fmt: skip
    n_sites = len(DISTRICTS) * SITES_PER_DISTRICT
    step(
        "control_room",
        lambda: _sql(
            "INSERT INTO control_room (id, number, beds, accessible, status, site_id) "
            f"SELECT r + 1, (1000 + r %% {ROOMS_PER_SITE})::text, 2, r %% 10 = 0, 'available', "
            f"r / {ROOMS_PER_SITE} + 1 FROM generate_series(0, %s - 1) r",
            [n_sites * ROOMS_PER_SITE],
        ),
    )
    _reset_sequences()
    # Orders: the first `controlled` confirmed contacts are under control (even ids isolated at a site of their
    # district, odd at home); the next `waiting` are not yet (in transfer, room reserved, waiting).
    in_transfer, allocated = min(20_000, waiting // 5), min(10_000, waiting // 10)
    site = f"(ct.district_id - {d0}) * {SITES_PER_DISTRICT} + ct.id %% {SITES_PER_DISTRICT} + 1"
    status = (
        f"CASE WHEN ct.k < {ctrl} THEN (CASE WHEN ct.id %% 2 = 0 THEN 'isolated' ELSE 'home' END) "
        f"WHEN ct.k < {ctrl + in_transfer} THEN 'in_transfer' "
        f"WHEN ct.k < {ctrl + in_transfer + allocated} THEN 'allocated' ELSE 'waiting' END"
    )

    def orders() -> int:
        return _sql(
            "INSERT INTO control_controlorder (code, degree, centralized, status, opened_at, due_at, "
            "controlled_at, start_date, extension_days, certificate_no, note, case_id, contact_id, district_id, "
            "jurisdiction_id, person_id, site_id, plan_id) "
            "SELECT 'BO' || ct.id, ct.degree, ct.st <> 'home', ct.st, ct.decided_at, "
            "ct.decided_at + interval '12 hours', "
            "CASE WHEN ct.st IN ('isolated', 'home') THEN ct.decided_at + interval '10 hours' END, "
            f"CASE WHEN ct.st IN ('isolated', 'home') THEN current_date - (ct.id %% 16)::int END, 0, '', '', "
            f"ct.case_id, ct.id, ct.district_id, ct.jurisdiction_id, ct.person_id, "
            f"CASE WHEN ct.st <> 'home' AND ct.st <> 'waiting' THEN {site} END, "
            "CASE WHEN ct.degree = 1 THEN %s ELSE %s END "
            f"FROM (SELECT ct.*, {status} AS st FROM (SELECT ct.*, row_number() OVER (ORDER BY ct.id) - 1 AS k "
            "FROM tracing_contact ct WHERE ct.status = 'confirmed') ct) ct",
            [plans["close"], plans["secondary"]],
        )

    plans = _plans()
    step("control_controlorder", lambda: _without_indexes("control_controlorder", orders))
    room = f"(o.site_id - 1) * {ROOMS_PER_SITE} + (o.id / 7) %% {ROOMS_PER_SITE} + 1"
    step(
        "control_placement",
        lambda: _sql(
            "INSERT INTO control_placement (mode, status, reserved_at, started_at, end_reason, order_id, "
            "person_id, site_id, plan_id, room_id, building_id) "
            "SELECT CASE WHEN o.status = 'home' THEN 'home' ELSE 'centralized' END, "
            "CASE WHEN o.status IN ('isolated', 'home') THEN 'active' ELSE 'reserved' END, o.opened_at, "
            f"o.controlled_at, '', o.id, o.person_id, o.site_id, o.plan_id, CASE WHEN o.site_id IS NOT NULL "
            f"THEN {room} END, CASE WHEN o.status = 'home' THEN p.home_building_id END "
            "FROM control_controlorder o JOIN people_person p ON p.id = o.person_id "
            "WHERE o.status IN ('isolated', 'home', 'in_transfer', 'allocated')"
        ),
    )
    _sql(
        "UPDATE control_room r SET status = 'occupied' FROM control_placement pl "
        "WHERE pl.room_id = r.id AND pl.status = 'active'"
    )
    step(
        "control_transfertask",
        lambda: _sql(
            "INSERT INTO control_transfertask (code, vehicle, team, pickup_at, status, created_at, district_id, "
            "site_id) SELECT 'BT' || g, '京A' || lpad(g::text, 5, '0'), '转运组' || (g %% 40), "
            "now() - (g %% 8) * interval '30 minutes', CASE WHEN g %% 2 = 0 THEN 'assigned' ELSE 'en_route' END, "
            f"now() - interval '5 hours', {d0} + (g %% {len(DISTRICTS)}), "
            f"(g %% {len(DISTRICTS)}) * {SITES_PER_DISTRICT} + (g / {len(DISTRICTS)}) %% {SITES_PER_DISTRICT} + 1 "
            "FROM generate_series(0, %s - 1) g",
            [max(1, in_transfer // TRANSFER_GROUP)],
        ),
    )
    step(
        "control_transfermember",
        lambda: _sql(
            "INSERT INTO control_transfermember (status, failure_reason, note, updated_at, order_id, "
            "placement_id, task_id) "
            "SELECT 'assigned', '', '', now(), o.id, pl.id, t.id FROM "
            "(SELECT o.*, row_number() OVER (ORDER BY o.id) - 1 AS k FROM control_controlorder o "
            "WHERE o.status = 'in_transfer') o JOIN control_placement pl ON pl.order_id = o.id "
            "JOIN (SELECT t.*, row_number() OVER (ORDER BY t.id) - 1 AS k FROM control_transfertask t) t "
            f"ON t.k = o.k / {TRANSFER_GROUP}"
        ),
    )
    step(
        "control_sampletask",
        lambda: _sql(
            "INSERT INTO control_sampletask (key, stage, day, due_on, status, order_id) "
            "SELECT 'c' || x.day, 0, x.day, o.start_date + x.day - 1, "
            "CASE WHEN x.day = 1 AND o.id %% 3 = 0 THEN 'due' WHEN o.start_date + x.day - 1 < current_date "
            "THEN 'negative' ELSE 'due' END, o.id "
            "FROM control_controlorder o CROSS JOIN (VALUES (1), (7)) x(day) "
            "WHERE o.status IN ('isolated', 'home')"
        ),
    )
    step(
        "control_healthrecord",
        lambda: _sql(
            "INSERT INTO control_healthrecord (day, temperature, symptoms, note, alert, handling, recorded_at, "
            "order_id) SELECT current_date, 37.8, '[\"fever\"]'::jsonb, '', true, '', now(), o.id "
            "FROM control_controlorder o WHERE o.status IN ('isolated', 'home') AND o.id %% 50 = 0"
        ),
    )
    step(
        "tracing_linkage",
        lambda: _sql(
            "INSERT INTO tracing_linkage (created_at, acknowledged_at, contact_id, from_district_id, "
            "to_district_id) SELECT ct.found_at, CASE WHEN ct.id %% 2 = 0 THEN ct.found_at + interval '1 hour' "
            "END, ct.id, c.district_id, ct.district_id FROM tracing_contact ct "
            "JOIN tracing_case c ON c.id = ct.case_id WHERE ct.district_id <> c.district_id AND ct.id %% 10 = 0"
        ),
    )
    _sql("SET session_replication_role = DEFAULT")
    rnd, scr_site = _round()
    n_tubes = 2000
    step(
        "screening_tube",
        lambda: _sql(
            "INSERT INTO screening_tube (barcode, size, status, bound, result, ct_values, confirmation, "
            "round_id, site_id) SELECT 'BT' || lpad(g::text, 7, '0'), 10, 'issued', 0, '', '{}'::jsonb, '', "
            "%s, %s FROM generate_series(0, %s - 1) g",
            [rnd.pk, scr_site.pk, n_tubes],
        ),
    )
    with connection.cursor() as cur:
        cur.execute("SELECT min(id) FROM screening_tube")
        tube0 = cur.fetchone()[0]
    n_temp = max(1000, args.contacts // 50)
    temp_people = (
        f"FROM generate_series({n_contacts}, {n_contacts + n_temp} - 1) g "
        f"JOIN people_person p ON p.id = {perm} JOIN bench_grid d ON d.grid_id = p.jurisdiction_id"
    )
    step(
        "screening_temporarycontrol",
        lambda: _sql(
            "INSERT INTO screening_temporarycontrol (reason, started_at, building_id, district_id, "
            "jurisdiction_id, person_id, round_id, tube_id) SELECT 'positive_pool', now() - interval '3 hours', "
            f"p.home_building_id, d.district_id, p.jurisdiction_id, p.id, %s, {tube0} + g %% {n_tubes} "
            + temp_people,
            [rnd.pk],
        ),
    )
    step(
        "screening_resampletask",
        lambda: _sql(
            "INSERT INTO screening_resampletask (status, created_at, due_at, district_id, jurisdiction_id, "
            "person_id, round_id, source_tube_id) SELECT 'due', now() - interval '8 hours', "
            "now() - (g %% 4 - 1) * interval '2 hours', d.district_id, p.jurisdiction_id, p.id, %s, "
            f"{tube0} + g %% {n_tubes} " + temp_people + " WHERE g %% 4 = 0",
            [rnd.pk],
        ),
    )
    t = time.perf_counter()
    _check_integrity()
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_grid")
        cur.execute("VACUUM ANALYZE")
    step.times.append(("foreign-key check, VACUUM ANALYZE", 0, time.perf_counter() - t))
    return step, {"grids": len(grids), "buildings": n_buildings}


def _plans() -> dict[str, int]:
    from cordon.apps.control.models import QuarantinePlan

    out = {}
    for p in QuarantinePlan.objects.filter(in_force=True).order_by("pk"):
        out.setdefault(p.applies_to, p.pk)
    return out


def _round() -> tuple[Any, Any]:
    from django.utils import timezone

    from cordon.apps.geo.models import Jurisdiction
    from cordon.apps.screening import actions

    now = timezone.now()
    city = Jurisdiction.objects.get(code="110000")
    grid = Jurisdiction.objects.filter(level=5).order_by("pk").first()
    r = actions.create_round(
        actor=None,
        data=actions.RoundData(
            code="R1", name="全员核酸", owner=city, starts_at=now - dt.timedelta(hours=12),
            ends_at=now + dt.timedelta(hours=12), design="10-in-1", jurisdictions=[city],
        ),
    )  # fmt: skip
    site = actions.add_site(actor=None, round=r, data=actions.SiteData("R1-S", "采样点", grid))
    return r, site


def _check_integrity() -> None:
    """The foreign keys written with their triggers off hold (each checked with one anti-join)."""
    from django.db import connection

    checks = [
        ("people_person", "jurisdiction_id", "geo_jurisdiction"),
        ("people_person", "home_building_id", "geo_building"),
        ("tracing_contact", "person_id", "people_person"),
        ("tracing_contact", "case_id", "tracing_case"),
        ("control_controlorder", "person_id", "people_person"),
        ("control_placement", "room_id", "control_room"),
        ("control_transfermember", "placement_id", "control_placement"),
        ("control_sampletask", "order_id", "control_controlorder"),
    ]
    with connection.cursor() as cur:
        for table, column, target in checks:
            cur.execute(
                f"SELECT count(*) FROM {table} x LEFT JOIN {target} y ON y.id = x.{column} "
                f"WHERE x.{column} IS NOT NULL AND y.id IS NULL"
            )
            broken = cur.fetchone()[0]
            if broken:
                raise SystemExit(f"{broken} rows of {table}.{column} point nowhere")
