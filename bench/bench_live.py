"""Live updates for 1,000 open browsers on one server: htmx polling, measured against a real ``cordon serve``.

Every open page asks ``/live/badges/`` for the menu's counts every ``CORDON_LIVE_SECONDS`` (15 s), and an open
linkage inbox asks for itself as often. This script builds a city of 10 districts (2,000 residents each, through
the register import), 10 cases in the first district and a confirmed contact handed over to every other
district's inbox for each resident there (18,000 pending handovers), starts ``cordon serve --no-worker`` in a
process of its own (waitress, 8 threads), signs in one investigator per district and then:

1. **open loop**: ``--browsers`` browsers, each polling the badges every ``--interval`` seconds at its own phase,
   for ``--seconds``: the load 1,000 open pages put on the server; latency percentiles, and how late requests
   started (a server that keeps up starts them on time);
2. **closed loop**: 16 clients asking as fast as they can for 10 s, for the badges and for a district's linkage
   inbox page (50 rows): the most one server answers, hence how many open browsers it can serve.

    .venv/bin/python bench/bench_live.py                      # SQLite under a temporary folder
    .venv/bin/python bench/bench_live.py --pg postgres://postgres@127.0.0.1:5432/postgres

Prints a markdown block for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import http.client
import io
import os
import platform
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from _pgdb import throwaway_database

DISTRICTS = 10
PER_DISTRICT = 2000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build() -> list[str]:
    """The city, its register, the handovers; one signed-in session per district (session cookies)."""
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from cordon.apps.accounts import actions as accounts
    from cordon.apps.dataio import actions as dataio
    from cordon.apps.geo import actions as geo
    from cordon.apps.geo.models import Building, Level
    from cordon.apps.people.models import Person
    from cordon.apps.tracing import actions as tracing
    from cordon.apps.tracing.models import Contact, Linkage
    from cordon.engine import identity

    call_command("migrate", verbosity=0)
    city = geo.create_jurisdiction(actor=None, code="110000", name="基准城市", level=Level.CITY)
    grids, districts = [], []
    for d in range(DISTRICTS):
        code = f"1101{d:02d}"
        district = geo.create_jurisdiction(
            actor=None, code=code, name=f"第{d}区", level=Level.DISTRICT, parent=city
        )
        street = geo.create_jurisdiction(
            actor=None, code=f"{code}001", name="街道", level=Level.STREET, parent=district
        )
        community = geo.create_jurisdiction(
            actor=None, code=f"{code}001001", name="社区", level=Level.COMMUNITY, parent=street
        )
        grid = geo.create_jurisdiction(
            actor=None, code=f"{code}001001-01", name="网格", level=Level.GRID, parent=community
        )
        Building.objects.bulk_create(
            [Building(code=f"B{d:02d}{b:03d}", address=f"地址 {d}-{b}", jurisdiction=grid) for b in range(50)]
        )
        districts.append(district)
        grids.append(grid)
    admin = accounts.create_user(
        actor=None, username="admin", password="bench-pw-1", role="administrator", jurisdiction_code="110000"
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名", "身份证号", "手机号", "居住楼栋编码", "特殊人群"])
    seen: set[str] = set()
    for d in range(DISTRICTS):
        for i in range(PER_DISTRICT):
            birth = dt.date(1950, 1, 1) + dt.timedelta(days=(i * 7 + d) % 25000)
            nid = identity.make(f"1101{d:02d}", birth, i % 1000)
            if nid in seen:
                continue
            seen.add(nid)
            writer.writerow([f"居民{d}-{i}", nid, f"13{d}{i:08d}", f"B{d:02d}{i % 50:03d}", ""])
    result = dataio.import_file(
        actor=admin, kind="persons", data=buffer.getvalue().encode(), filename="p.csv"
    )
    assert result.ok, result.describe()
    first = list(Person.objects.filter(jurisdiction=grids[0])[:10])
    cases = [
        tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=p,
                onset_date=timezone.localdate() - dt.timedelta(days=1),
                sampled_at=timezone.now(),
                found_by="fever_clinic",
            ),
        )
        for p in first
    ]
    others = list(Person.objects.exclude(jurisdiction=grids[0]).values_list("pk", "jurisdiction_id"))
    district_of = {g.pk: dist for g, dist in zip(grids, districts, strict=True)}
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                case=cases[i % len(cases)],
                person_id=pk,
                degree=1,
                contact_type="venue",
                jurisdiction_id=grid,
                district=district_of[grid],
                status="confirmed",
            )
            for i, (pk, grid) in enumerate(others)
        ],
        batch_size=2000,
    )
    Linkage.objects.bulk_create(
        [Linkage(contact=c, from_district=districts[0], to_district=c.district) for c in contacts],
        batch_size=2000,
    )
    cookies = []
    for d, district in enumerate(districts):
        user = accounts.create_user(
            actor=None,
            username=f"inv{d}",
            password="bench-pw-1",
            role="investigator",
            jurisdiction_code=district.code,
        )
        client = Client()
        client.force_login(user)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")
    print(f"built: {len(seen)} residents, {len(contacts)} pending handovers", flush=True)
    return cookies


class Conn(threading.local):
    conn: http.client.HTTPConnection | None = None


def _get(local: Conn, port: int, path: str, cookie: str) -> float:
    if local.conn is None:
        local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.perf_counter()
    try:
        local.conn.request("GET", path, headers={"Cookie": cookie, "HX-Request": "true"})
        response = local.conn.getresponse()
        response.read()
    except (OSError, http.client.HTTPException):
        local.conn.close()
        local.conn = None
        raise
    if response.status not in (200, 204):
        raise RuntimeError(f"{path}: HTTP {response.status}")
    return time.perf_counter() - t0


def open_loop(
    port: int, cookies: list[str], browsers: int, interval: float, seconds: float
) -> dict[str, Any]:
    """Each browser polls at its own phase; 64 client threads send the requests when they are due."""
    due: queue.Queue[tuple[float, str] | None] = queue.Queue()
    start = time.perf_counter() + 1.0
    schedule = sorted(
        (start + (b / browsers) * interval + k * interval, cookies[b % len(cookies)])
        for b in range(browsers)
        for k in range(int(seconds / interval))
    )
    for item in schedule:
        due.put(item)
    latencies: list[float] = []
    lateness: list[float] = []
    errors = [0]
    lock = threading.Lock()
    local = Conn()

    def client() -> None:
        while True:
            try:
                item = due.get_nowait()
            except queue.Empty:
                return
            if item is None:
                return
            at, cookie = item
            wait = at - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            late = time.perf_counter() - at
            try:
                took = _get(local, port, "/live/badges/", cookie)
            except (OSError, RuntimeError, http.client.HTTPException):
                with lock:
                    errors[0] += 1
                continue
            with lock:
                latencies.append(took)
                lateness.append(late)

    threads = [threading.Thread(target=client) for _ in range(64)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0 - 1.0
    return {"requests": len(latencies), "errors": errors[0], "rate": len(latencies) / wall, **_pct(latencies),
            "late_p95": _q(lateness, 0.95), "late_max": max(lateness)}  # fmt: skip


def _inbox_poll(port: int, cookie: str) -> str:
    """The request an open inbox makes: its path with the version it shows (answered 204 while nothing changed);
    returned as "path|cookie" for ``closed_loop``."""
    import re

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/tracing/linkage/", headers={"Cookie": cookie})
    html = conn.getresponse().read().decode()
    conn.close()
    found = re.search(r'id="linkage-live"[^>]*hx-get="([^"]+)"', html)
    assert found, "the inbox does not poll"
    return found.group(1).replace("&amp;", "&") + "|" + cookie


def closed_loop(
    port: int, path: str, cookies: list[str], seconds: float = 10, clients: int = 16
) -> dict[str, Any]:
    """``clients`` threads asking as fast as they can; with ``path`` empty each cookie is "path|cookie"."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    local = Conn()

    def client(i: int) -> None:
        while time.perf_counter() < stop:
            target, cookie = path, cookies[i % len(cookies)]
            if not path:
                target, cookie = cookie.split("|", 1)
            took = _get(local, port, target, cookie)
            with lock:
                latencies.append(took)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"rate": len(latencies) / (time.perf_counter() - t0), **_pct(latencies)}


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _pct(values: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(values), "p95": _q(values, 0.95), "p99": _q(values, 0.99)}


def measure(
    args: argparse.Namespace,
) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Build the city, serve it, and run the open and closed loops; the database's name and the results."""
    import django

    django.setup()
    from django.db import connection, connections

    db = f"PostgreSQL {connection.pg_version // 10000}" if connection.vendor == "postgresql" else "SQLite"
    server = None
    try:
        cookies = build()
        connections.close_all()
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "cordon.cli", "serve", "--no-worker", "--port", str(port), "--threads",
             str(args.threads)],
            env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(600):
            try:
                _get(Conn(), port, "/healthz", "")
                break
            except (OSError, http.client.HTTPException, RuntimeError):
                time.sleep(0.1)
        warm = Conn()
        for cookie in cookies:  # one unmeasured request per session
            _get(warm, port, "/live/badges/", cookie)
            _get(warm, port, "/tracing/linkage/", cookie)
        live = open_loop(port, cookies, args.browsers, args.interval, args.seconds)
        badges = closed_loop(port, "/live/badges/", cookies)
        inbox = closed_loop(port, "/tracing/linkage/", cookies[1:])
        polls = [_inbox_poll(port, cookie) for cookie in cookies[1:]]
        inbox_poll = closed_loop(port, "", polls)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    return db, live, badges, inbox, inbox_poll


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--browsers", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=15.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--pg", default="", help="PostgreSQL admin URL: run on a throwaway database there")
    args = parser.parse_args()

    os.environ["CORDON_VAR"] = tempfile.mkdtemp(prefix="cordon-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    with throwaway_database(args.pg, "cordon_bench_live") if args.pg else contextlib.nullcontext():
        db, live, badges, inbox, inbox_poll = measure(args)
    ms = lambda s: f"{1000 * s:.0f}"  # noqa: E731
    print(f"\n{dt.date.today()}, {platform.machine()} x{os.cpu_count()}, {db}, waitress {args.threads} threads, "
          f"{DISTRICTS} districts, {DISTRICTS * PER_DISTRICT:,} residents, 18,000 pending handovers\n")  # fmt: skip
    print("| load | requests/s | p50 ms | p95 ms | p99 ms | notes |")
    print("|---|---:|---:|---:|---:|---|")
    offered = args.browsers / args.interval
    print(f"| {args.browsers:,} browsers polling the badges every {args.interval:.0f} s ({offered:.0f}/s offered), "
          f"{args.seconds:.0f} s | {live['rate']:.0f} | {ms(live['p50'])} | {ms(live['p95'])} | {ms(live['p99'])} | "
          f"{live['requests']:,} answered, {live['errors']} errors; started late p95 {ms(live['late_p95'])} ms, "
          f"max {ms(live['late_max'])} ms |")  # fmt: skip
    for label, r in (
        ("badges, 16 clients flat out", badges),
        ("a district's linkage inbox page (first load, 50 rows), 16 clients", inbox),
        ("an open inbox asking with its version (nothing new: 204), 16 clients", inbox_poll),
    ):
        print(f"| {label} | {r['rate']:.0f} | {ms(r['p50'])} | {ms(r['p95'])} | {ms(r['p99'])} | "
              f"{r['rate'] * args.interval:,.0f} open pages at one poll per {args.interval:.0f} s |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
