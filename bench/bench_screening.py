"""Mass screening on PostgreSQL: sample-binding ingestion through the batch API with the server killed mid-run,
and a district's coverage page over a round of 1M residents (issue targets: at least 5,000 bindings/s sustained;
every acknowledged binding survives a SIGKILL of the server; the coverage page under 500 ms).

Builds a throwaway PostgreSQL database (created and dropped by the script) with one district of 10 streets x 10
communities x 5 grids, 5,000 buildings and ``--residents`` persons with national IDs (COPY).

1. **Ingestion.** A round over the district (10-in-1) with one sampling site and enough tubes; a screening-staff
   user with an API token. The real server (``cordon serve``: waitress) runs as a child process; ``--clients``
   client threads post batches of ``--batch`` bindings (national ID + tube barcode, ten per tube) to
   ``POST /api/screening/bindings`` for ``--seconds`` seconds (the sustained rate is measured over that time),
   then the server is SIGKILLed while batches are in flight, restarted, and the clients go on for a few more
   seconds. Every binding the server acknowledged (a 200 answer) must be in the database afterwards, and each
   tube's counter must equal its bindings.
2. **Coverage.** A second round over the district with 70% of its residents sampled (bindings written with one
   ``INSERT ... SELECT``), ``VACUUM ANALYZE``; then the district commander's coverage page
   (``/screening/rounds/<code>/coverage/``: counts per street, first page of the not-yet-sampled list) and a
   street's page, through the Django test client, timed over ``--repeat`` runs after one warm-up.

    .venv/bin/python bench/bench_screening.py                              # 1M residents
    .venv/bin/python bench/bench_screening.py --residents 200000 --seconds 10
    .venv/bin/python bench/bench_screening.py --pg postgres://postgres@127.0.0.1:5432/postgres

Prints a markdown block for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from _pgdb import throwaway_database


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="server threads")
    parser.add_argument("--seconds", type=float, default=30.0, help="sustained phase before the kill")
    parser.add_argument("--after-kill", type=float, default=5.0, help="seconds of posting after the restart")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/postgres", help="admin connection"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    args = parser.parse_args()
    if args.residents < 20_000:
        parser.error("at least 20,000 residents")

    os.environ["CORDON_VAR"] = tempfile.mkdtemp(prefix="cordon-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    with throwaway_database(args.pg, "cordon_scr_bench", keep=args.keep):
        return run(args)


# --- Seeding -------------------------------------------------------------------------------------------------


def seed(residents: int) -> dict[str, Any]:
    from django.db import connection

    from cordon.apps.geo import actions as geo
    from cordon.apps.geo.models import Building, Level
    from cordon.engine import identity

    city = geo.create_jurisdiction(actor=None, code="110000", name="基准城市", level=Level.CITY)
    district = geo.create_jurisdiction(
        actor=None, code="110101", name="基准区", level=Level.DISTRICT, parent=city
    )
    streets, grids = [], []
    for s in range(10):
        st = geo.create_jurisdiction(
            actor=None, code=f"110101{s:03d}", name=f"第{s}街道", level=Level.STREET, parent=district
        )
        streets.append(st)
        for c in range(10):
            com = geo.create_jurisdiction(
                actor=None, code=f"{st.code}{c:03d}", name=f"社区{c}", level=Level.COMMUNITY, parent=st
            )
            grids += [
                geo.create_jurisdiction(
                    actor=None, code=f"{com.code}-{g:02d}", name=f"网格{g}", level=Level.GRID, parent=com
                )
                for g in range(5)
            ]
    buildings = Building.objects.bulk_create(
        [
            Building(code=f"B{i:05d}", address=f"楼 {i}", jurisdiction=grids[i % len(grids)])
            for i in range(5000)
        ]
    )
    t = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    start = dt.date(1950, 1, 1)
    ids: list[str] = []
    with connection.cursor() as cur:
        cols = (
            "national_id, name, sex, phone, jurisdiction_id, home_building_id, workplace_name, work_unit, "
            "occupation, tags, national_id_rev, phone_rev, created_at, updated_at"
        )
        with cur.cursor.copy(f"COPY people_person ({cols}) FROM STDIN") as copy:
            for i in range(residents):
                nid = identity.make("110101", start + dt.timedelta(days=i % 20000), i // 20000)
                ids.append(nid)
                b = buildings[i % len(buildings)]
                copy.write_row(
                    (
                        nid,
                        f"居民{i}",
                        "U",
                        "",
                        b.jurisdiction_id,
                        b.pk,
                        "",
                        "",
                        "",
                        "[]",
                        nid[::-1],
                        "",
                        now,
                        now,
                    )
                )
        cur.execute("VACUUM ANALYZE people_person")
    return {
        "city": city,
        "district": district,
        "streets": streets,
        "grids": grids,
        "national_ids": ids,
        "seed_s": time.perf_counter() - t,
    }


def make_round(code: str, district: Any, grid: Any, hours: int = 24) -> tuple[Any, Any]:
    from django.utils import timezone

    from cordon.apps.screening import actions

    now = timezone.now()
    r = actions.create_round(
        actor=None,
        data=actions.RoundData(
            code=code, name=code, owner=district, starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=hours), design="10-in-1", jurisdictions=[district],
        ),
    )  # fmt: skip
    site = actions.add_site(actor=None, round=r, data=actions.SiteData(f"{code}-S", f"{code} 采样点", grid))
    return r, site


# --- Ingestion with a kill -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(port: int, threads: int) -> subprocess.Popen[bytes]:
    cordon = os.path.join(os.path.dirname(sys.executable), "cordon")
    proc = subprocess.Popen(
        [cordon, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


class Client(threading.Thread):
    def __init__(self, port: int, token: str, site: int, rows: list[tuple[str, str]], batch: int) -> None:
        super().__init__(daemon=True)
        self.port, self.token, self.site, self.rows, self.batch = port, token, site, rows, batch
        self.acked: list[tuple[str, str]] = []
        self.in_doubt: list[tuple[str, str]] = []
        self.stored_unacked: list[tuple[str, str]] = []
        self.refused = 0
        self.errors = 0
        self.stop = threading.Event()
        self.log: list[tuple[float, int]] = []  # (time, rows acknowledged)

    def run(self) -> None:
        """Post batch after batch; a batch without an answer (the server was killed) is sent again until it is
        answered, as a scanner would: rows then refused as already sampled were stored before the kill."""
        conn: http.client.HTTPConnection | None = None
        pos = 0
        retrying = False
        while not self.stop.is_set() and pos < len(self.rows):
            chunk = self.rows[pos : pos + self.batch]
            body = json.dumps(
                {"site": self.site, "bindings": [{"tube": t, "person": p} for t, p in chunk]}
            ).encode()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request(
                    "POST", "/api/screening/bindings", body=body,
                    headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
                )  # fmt: skip
                resp = conn.getresponse()
                data = resp.read()
                if resp.status != 200:
                    raise OSError(f"HTTP {resp.status}: {data[:200]!r}")
            except (OSError, http.client.HTTPException):
                self.errors += 1
                if not retrying:
                    self.in_doubt += chunk
                retrying = True
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.2)
                continue
            out = json.loads(data)
            refused = {r["index"]: r["code"] for r in out["refused"]}
            self.refused += sum(1 for c in refused.values() if c != "already_sampled")
            self.stored_unacked += [row for i, row in enumerate(chunk) if refused.get(i) == "already_sampled"]
            ok = [row for i, row in enumerate(chunk) if i not in refused]
            self.acked += ok
            self.log.append((time.perf_counter(), len(ok)))
            pos += self.batch
            retrying = False


def ingest(args: argparse.Namespace, world: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection

    from cordon.apps.accounts import actions as accounts
    from cordon.apps.screening import actions
    from cordon.apps.screening.models import Binding, Tube

    rnd, site = make_round("R-INGEST", world["district"], world["grids"][0])
    # Enough tubes for every resident the clients may bind, ten per tube.
    n_tubes = len(world["national_ids"]) // 10
    with (
        connection.cursor() as cur,
        cur.cursor.copy(
            "COPY screening_tube (barcode, round_id, site_id, size, status, bound, result, ct_values, "
            "confirmation) FROM STDIN"
        ) as copy,
    ):
        for i in range(n_tubes):
            copy.write_row((f"T{i:07d}", rnd.pk, site.pk, 10, "issued", 0, "", "{}", ""))
    user = accounts.create_user(
        actor=None, username="bench.staff", password="bench-pw-1", role="screening_staff",
        jurisdiction_code=world["district"].code,
    )  # fmt: skip
    token = accounts.issue_api_token(actor=None, user=user, name="scanner")
    rows = [(f"T{i // 10:07d}", nid) for i, nid in enumerate(world["national_ids"][: n_tubes * 10])]
    share = len(rows) // args.clients
    connection.close()

    port = _free_port()
    server = _start_server(port, args.threads)
    clients = [
        Client(port, token, site.pk, rows[k * share : (k + 1) * share], args.batch)
        for k in range(args.clients)
    ]
    t0 = time.perf_counter()
    for c in clients:
        c.start()
    time.sleep(args.seconds)
    t_kill = time.perf_counter()
    acked_before = sum(len(c.acked) for c in clients)
    server.send_signal(signal.SIGKILL)
    server.wait()
    killed_at = time.perf_counter()
    time.sleep(1.0)
    server = _start_server(port, args.threads)
    restarted = time.perf_counter()
    time.sleep(args.after_kill)
    for c in clients:
        c.stop.set()
    for c in clients:
        c.join()
    server.send_signal(signal.SIGTERM)
    server.wait()

    acked = {p for c in clients for _t, p in c.acked}
    in_doubt = {p for c in clients for _t, p in c.in_doubt}
    stored_unacked = {p for c in clients for _t, p in c.stored_unacked}
    from cordon.apps.people.models import Person

    stored = set(
        Person.objects.filter(pk__in=Binding.objects.filter(round=rnd).values("person_id")).values_list(
            "national_id", flat=True
        )
    )
    lost = acked - stored
    from cordon.apps.screening.models import RoundCount

    counted = sum(RoundCount.objects.filter(round=rnd).values_list("sampled", flat=True))
    counters_ok = (
        counted == len(stored)
        and not Tube.objects.raw(
            "SELECT t.id FROM screening_tube t LEFT JOIN (SELECT tube_id, count(*) n FROM screening_binding "
            "GROUP BY tube_id) b ON b.tube_id = t.id WHERE t.round_id = %s AND t.bound <> coalesce(b.n, 0) LIMIT 1",
            [rnd.pk],
        )[:1]
        and not actions.reconcile_counts()  # samples per round and jurisdiction, per site and day
    )
    first = min(t for c in clients for t, _n in c.log) if any(c.log for c in clients) else t0
    sustained = acked_before / (t_kill - t0)
    # The steady rate: between the first and the last acknowledgement before the kill.
    steady = [(t, n) for c in clients for t, n in c.log if t <= t_kill]
    steady_rate = (
        sum(n for _t, n in steady) / (max(t for t, _n in steady) - first) if len(steady) > 1 else 0.0
    )
    return {
        "rows_total": len(rows),
        "acked_before_kill": acked_before,
        "sustained": sustained,
        "steady": steady_rate,
        "seconds": t_kill - t0,
        "acked": len(acked),
        "stored": len(stored),
        "lost": len(lost),
        "in_doubt": len(in_doubt),
        "in_doubt_stored": len(in_doubt & stored),
        "stored_unacked": len(stored_unacked),
        "refused": sum(c.refused for c in clients),
        "errors": sum(c.errors for c in clients),
        "restart_s": restarted - killed_at,
        "counters_ok": counters_ok,
        "durable": not lost,
    }


# --- Coverage -------------------------------------------------------------------------------------------------


def coverage(args: argparse.Namespace, world: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client as TestClient

    from cordon.apps.accounts import actions as accounts

    rnd, site = make_round("R-COV", world["district"], world["grids"][0])
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO screening_tube (barcode, round_id, site_id, size, status, bound, result, ct_values, "
            "confirmation) SELECT 'C' || lpad(g::text, 7, '0'), %s, %s, 10, 'closed', 10, '', '{}', '' "
            "FROM generate_series(0, %s) g",
            [rnd.pk, site.pk, len(world["national_ids"]) // 10 + 1],
        )
        cur.execute("SELECT min(id) FROM screening_tube WHERE round_id = %s", [rnd.pk])
        (t0,) = cur.fetchone()
        cur.execute(
            "INSERT INTO screening_binding (round_id, tube_id, person_id, site_id, jurisdiction_id, district_id, "
            "out_of_scope, bound_at) SELECT %s, %s + (rn / 10), id, %s, jurisdiction_id, %s, false, now() "
            "FROM (SELECT id, jurisdiction_id, row_number() OVER (ORDER BY id) - 1 rn FROM people_person "
            "WHERE abs(hashint4(id::int4)) %% 10 < 7) p",
            [rnd.pk, t0, site.pk, world["district"].pk],
        )
        sampled = cur.rowcount
        cur.execute(
            "INSERT INTO screening_roundcount (round_id, jurisdiction_id, sampled, outside) SELECT round_id, "
            "jurisdiction_id, count(*), 0 FROM screening_binding WHERE round_id = %s GROUP BY 1, 2",
            [rnd.pk],
        )
        cur.execute("VACUUM ANALYZE screening_binding")
        cur.execute("VACUUM ANALYZE screening_tube")
    seed_s = time.perf_counter() - t
    commander = accounts.create_user(
        actor=None, username="bench.cmd", password="bench-pw-1", role="district_commander",
        jurisdiction_code=world["district"].code,
    )  # fmt: skip
    client = TestClient()
    client.force_login(commander)

    def timed(url: str) -> list[float]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        out = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            r = client.get(url)
            out.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200
        return out

    page = timed(f"/screening/rounds/{rnd.code}/coverage/")
    street = timed(f"/screening/rounds/{rnd.code}/coverage/?node={world['streets'][3].code}")
    api = timed(f"/api/screening/rounds/{rnd.code}/coverage?limit=50")
    body = client.get(f"/api/screening/rounds/{rnd.code}/coverage?limit=50").json()
    return {
        "sampled": sampled,
        "seed_s": seed_s,
        "page_ms": statistics.median(page),
        "page_max_ms": max(page),
        "street_ms": statistics.median(street),
        "api_ms": statistics.median(api),
        "target": body["node"]["target"],
        "covered": body["node"]["sampled"],
    }


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    world = seed(args.residents)
    ing = ingest(args, world)
    cov = coverage(args, world)
    cmd = (
        f"`bench/bench_screening.py --residents {args.residents} --batch {args.batch} --clients {args.clients} "
        f"--seconds {args.seconds:g}`"
    )
    lines = [
        "",
        f"### Mass screening on PostgreSQL ({dt.date.today():%Y-%m-%d})",
        "",
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {cmd};",
        f"server `cordon serve` (waitress, {args.threads} threads) as a child process, clients in the same script.",
        "",
        "| Ingestion through `POST /api/screening/bindings` | |",
        "|---|---|",
        f"| bindings acknowledged in the first {ing['seconds']:.1f} s | {ing['acked_before_kill']:,} |",
        f"| sustained rate (acknowledged / wall time) | **{ing['sustained']:,.0f} bindings/s** |",
        f"| steady rate (first to last acknowledgement) | {ing['steady']:,.0f} bindings/s |",
        f"| server SIGKILLed, restarted and answering again after | {ing['restart_s']:.1f} s |",
        f"| acknowledged in all | {ing['acked']:,} |",
        f"| acknowledged but missing after the kill | **{ing['lost']}** |",
        f"| in flight at the kill (no answer; sent again, then stored) | {ing['in_doubt']:,} / "
        f"{ing['in_doubt_stored']:,} |",
        f"| refused as already sampled when sent again (committed, answer lost) | {ing['stored_unacked']:,} |",
        f"| tube, coverage and site-day counters equal to the bindings | {'yes' if ing['counters_ok'] else 'NO'} |",
        "",
        f"| Coverage, {args.residents:,} residents ({cov['covered']:,} sampled of {cov['target']:,}) "
        f"| median of {args.repeat} |",
        "|---|---|",
        f"| district coverage page (per street, first 50 not sampled) | **{cov['page_ms']:.0f} ms** "
        f"(max {cov['page_max_ms']:.0f} ms) |",
        f"| a street's page | {cov['street_ms']:.0f} ms |",
        f"| `GET /api/screening/rounds/<code>/coverage` | {cov['api_ms']:.0f} ms |",
        "",
        f"Seeding: {args.residents:,} residents by COPY in {world['seed_s']:.1f} s, {cov['sampled']:,} samples by "
        f"INSERT ... SELECT in {cov['seed_s']:.1f} s.",
    ]
    print("\n".join(lines))
    ok = ing["durable"] and ing["counters_ok"] and ing["sustained"] >= 5000 and cov["page_ms"] < 500
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
