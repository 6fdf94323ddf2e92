"""Requests while a re-trace runs: logins and page reads during a trace job, against the same trace run in a
plain process, on the demo city (issue target: no request waits on a job; logins and page reads under 1 s).

On a fresh database (SQLite in a temporary ``CORDON_VAR`` by default; ``--pg ADMIN_URL`` creates and drops a
throwaway PostgreSQL database) the script loads the demo (the demo app's loader: 20,000 residents, the
outbreak's cases traced), picks the case with the most contacts, starts ``cordon serve --no-worker`` and one
``cordon worker`` beside it (what ``cordon serve`` starts itself; started here so that it reports when each
trace's write transaction runs), and signs in readers over HTTP. Then, each phase with the same stream of
requests running (readers cycling through the home page, the case list, the case's page and the linkage inbox
with a pause between requests; a stream of fresh logins: GET the form, POST the credentials, follow the
redirect to the home page), ``--repeat`` rounds of each:

1. **idle**: nothing else runs, for ``--idle-seconds`` (once);
2. **during job**: the demo investigator presses "Trace contacts" on the case's page (POST, answered at once
   with the job page), then polls the job page's status fragment every second, as the browser does, until the
   job ends; with ``--nice N`` also the same with the worker's CPU priority lowered to N;
3. **during synchronous trace**: ``tracing.actions.trace_case`` on the same case called directly in another
   process (what a request did before jobs, minus holding a waitress thread), until it returns;
4. **during synchronous trace, one transaction** (unless ``--no-atomic``): the same call inside one
   ``transaction.atomic()``, as tracing wrote before its reads and engine run were moved out of the transaction;
5. **one core busy, no database**: the control, a process burning one core as long as the job took.

    .venv/bin/python bench/bench_jobs.py --nice 10                                              # SQLite
    .venv/bin/python bench/bench_jobs.py --nice 10 --pg postgres://postgres@127.0.0.1:5432/postgres

Prints markdown tables for docs/benchmarks.md; exits 1 when a request during the job took over 1 s or failed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _browser import Browser, Sample, Stream
from _pgdb import throwaway_database

TARGET = 1.0  # seconds
HERE = Path(__file__).resolve()


# --- The server ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``cordon serve --no-worker`` and one ``cordon worker`` beside it (what ``cordon serve`` starts itself),
    here through this script so that the worker reports its traces' timings (``--worker``)."""

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log, self.timings = work / "serve.log", work / "worker-timings.jsonl"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cordon.cli", "serve", "--no-worker", "--port", str(self.port)],
                env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
            self.worker = subprocess.Popen(
                [sys.executable, str(HERE), "--worker", str(self.timings)], env=dict(os.environ),
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        for _ in range(1200):
            with contextlib.suppress(OSError):
                if Browser(self.base).get("/healthz")[0] == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def renice(self, nice: int) -> None:
        """Set the worker's CPU priority, every thread of it (lowering it back needs the right to, e.g. root)."""
        for tid in os.listdir(f"/proc/{self.worker.pid}/task"):
            with contextlib.suppress(ProcessLookupError):
                os.setpriority(os.PRIO_PROCESS, int(tid), nice)

    def traces(self) -> list[dict[str, Any]]:
        """The worker's traces so far: their timings and write transactions (``instrument``)."""
        if not self.timings.exists():
            return []
        return [json.loads(line) for line in self.timings.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        for proc, sig in ((self.worker, signal.SIGTERM), (self.proc, signal.SIGINT)):
            if proc.poll() is None:
                proc.send_signal(sig)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def instrument(report: Any) -> None:
    """Time the trace's parts in this process: the engine run (``_find``: the register reads and the engine; no
    writes), the write transaction (``_write``) and when it ran (epoch seconds), and all of a case's recording
    (``_record``: working out what to write, outside the transaction, then ``_write``); ``report(dict)`` gets
    each trace's figures. Patches the module's functions, not their behaviour."""
    from cordon.apps.tracing.actions import tracing as module

    find, record, write = module._find, module._record, module._write  # type: ignore[attr-defined]
    spent: dict[str, Any] = {}

    def timed_find(*a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return find(*a, **kw)
        finally:
            spent["find"] = time.perf_counter() - t

    def timed_write(*a: Any, **kw: Any) -> Any:
        t, began = time.perf_counter(), time.time()
        try:
            return write(*a, **kw)
        finally:
            spent.update({"record": time.perf_counter() - t, "write": [began, time.time()]})

    def timed_record(*a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return record(*a, **kw)
        finally:
            report({**spent, "merge": time.perf_counter() - t})

    module._find, module._record, module._write = timed_find, timed_record, timed_write  # type: ignore[attr-defined]


def run_worker(timings: str) -> int:
    """``cordon worker``, instrumented: each trace's figures as a JSON line in ``timings``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    import django

    django.setup()
    from cordon.cli import main as cordon

    def report(figures: dict[str, Any]) -> None:
        with open(timings, "a", encoding="utf-8") as out:
            out.write(json.dumps(figures) + "\n")

    instrument(report)
    return cordon(["worker"])


# --- The demo and who signs in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    case_pk: int
    case_code: str
    contacts: dict[int, int]  # degree -> count
    trace_user: str
    readers: list[str]
    logins: list[str]
    password: str
    load_seconds: float


def load_demo() -> Setup:
    """Migrate, load the demo (timed, not part of the phases), pick the case with the most contacts and the
    logins: the demo investigator traces; readers are the investigator, the case district's commander and the
    city commander; logins rotate through the district commanders and street officers."""
    from django.core.management import call_command
    from django.db.models import Count

    from cordon.apps.demo import actions as demo
    from cordon.apps.demo import scenario
    from cordon.apps.tracing.models import Case, Contact
    from cordon.core.roles import Role

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    demo.load(progress=True)
    load_seconds = time.perf_counter() - t0
    top = Contact.objects.values("case").annotate(n=Count("id")).order_by("-n", "case")[0]
    case = Case.objects.select_related("district").get(pk=top["case"])
    counts = dict(
        Contact.objects.filter(case=case).values_list("degree").annotate(n=Count("id")).order_by("degree")
    )
    commanders = [l for l in scenario.LOGINS if l.role == Role.DISTRICT_COMMANDER]  # noqa: E741
    own = next(l.username for l in commanders if l.jurisdiction == case.district.code)  # noqa: E741
    streets = [l.username for l in scenario.LOGINS if l.role == Role.STREET_OFFICER]  # noqa: E741
    return Setup(
        case_pk=case.pk,
        case_code=case.code,
        contacts={int(d): n for d, n in counts.items()},
        trace_user="investigator",
        readers=["investigator", own, "city"],
        logins=[l.username for l in commanders] + streets[:10],  # noqa: E741
        password=scenario.PASSWORD,
        load_seconds=load_seconds,
    )


def sign_in_readers(base: str, setup: Setup) -> list[tuple[Browser, list[str]]]:
    """One signed-in browser per reader, with the pages it may open (each opened once, unmeasured: a page the
    role may not see is left out)."""
    pages = [
        ("home page", "/"),
        ("case list", "/tracing/cases/"),
        ("case page", f"/tracing/cases/{setup.case_pk}/"),
        ("linkage inbox", "/tracing/linkage/"),
    ]
    readers = []
    for username in setup.readers:
        browser = Browser(base)
        if not browser.login(username, setup.password):
            raise RuntimeError(f"{username} could not sign in")
        allowed = [f"{kind}|{path}" for kind, path in pages if browser.get(path)[0] == 200]
        readers.append((browser, allowed))
    return readers


# --- The phases ---------------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    samples: list[Sample]
    rounds: list[dict[str, float]] = field(default_factory=list)  # per round: wall, find, record, queued (s)
    load: float = field(default_factory=lambda: os.getloadavg()[0])
    writes: list[tuple[float, float]] = field(default_factory=list)  # the trace's write transaction (epoch)


def idle_phase(stream: Stream, seconds: float) -> Phase:
    stream.start()
    time.sleep(seconds)
    return Phase("idle", stream.stop())


def job_phase(stream: Stream, server: Server, setup: Setup, nice: int = 0) -> Phase:
    """Press "Trace contacts"; poll the job page's status fragment every second (as the page does) until the
    job has ended. The trace's time is the job's own (started to finished, as the worker recorded it). The
    worker runs at CPU priority ``nice`` meanwhile."""
    from django.db import connections

    from cordon.apps.jobs.models import Job

    tracer = Browser(server.base)
    assert tracer.login(setup.trace_user, setup.password)
    tracer.get(f"/tracing/cases/{setup.case_pk}/")
    before = len(server.traces())
    server.renice(nice)
    stream.start()
    t0 = time.perf_counter()
    status, path, _ = tracer.post(f"/tracing/cases/{setup.case_pk}/trace/", {})
    stream.record("start trace (POST + job page)", t0, "" if status == 200 else f"HTTP {status}")
    found = re.fullmatch(r"/jobs/(\d+)/", path)
    if not found:
        stream.stop()
        raise RuntimeError(f"the trace did not start a job: HTTP {status} at {path}")
    state = "queued"
    while state not in ("done", "failed", "cancelled"):
        time.sleep(1.0)
        t1 = time.perf_counter()
        status, _, html = tracer.get(path, htmx=True)
        stream.record("job status poll", t1, "" if status == 200 else f"HTTP {status}")
        m = re.search(r'data-status="(\w+)"', html)
        state = m.group(1) if m else state
    samples = stream.stop()
    job = Job.objects.get(pk=int(found.group(1)))
    connections.close_all()
    assert job.started_at and job.finished_at
    wall = (job.finished_at - job.started_at).total_seconds()
    queued = (job.started_at - job.created_at).total_seconds()
    print(f"job {job.pk} {state}: {job.result.get('summary', '') or job.error}", file=sys.stderr, flush=True)
    if state != "done":
        raise RuntimeError(f"the trace job ended {state}: {job.error}")
    traced = server.traces()[before:]
    name = "during job" + (f", worker at nice {nice}" if nice else "")
    figures = {"wall": wall, "queued": queued, "find": traced[0]["find"], "record": traced[0]["record"],
               "plan": traced[0]["merge"] - traced[0]["record"]}  # fmt: skip
    return Phase(name, samples, [figures], writes=[tuple(t["write"]) for t in traced])


def sync_phase(stream: Stream, setup: Setup, atomic: bool) -> Phase:
    """``trace_case`` called directly in another process (this script with ``--sync-trace``); the stream runs
    from when that process is ready to trace until it has returned."""
    cmd = [sys.executable, str(HERE), "--sync-trace", str(setup.case_pk), "--as", setup.trace_user]
    proc = subprocess.Popen(
        cmd + (["--atomic"] if atomic else []), env=dict(os.environ), stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "READY":
        proc.wait()
        raise RuntimeError(f"the trace process did not start: {line!r}")
    stream.start()
    out = proc.stdout.read()
    proc.wait()
    samples = stream.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"the synchronous trace failed ({proc.returncode}): {out[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    name = "during synchronous trace" + (", one transaction" if atomic else "")
    write = result["held"] if atomic else result["write"]
    figures = {k: result[k] for k in ("wall", "find", "record")} | {
        "plan": result["merge"] - result["record"]
    }
    return Phase(name, samples, [figures], writes=[tuple(write)])


def sync_trace(case_pk: int, username: str, atomic: bool) -> int:
    """The child process of ``sync_phase``: trace the case as the user (timed by ``instrument``); one JSON line
    out. With ``atomic``, inside one transaction, which holds what it has written from its start (on SQLite,
    whose transactions here begin IMMEDIATE: the database's write lock)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    import django

    django.setup()
    from contextlib import nullcontext

    from django.db import transaction

    from cordon.apps.accounts.models import User
    from cordon.apps.tracing import actions, selectors

    user = User.objects.select_related("jurisdiction").get(username=username)
    case = selectors.get_case_for(user, case_pk)
    figures: dict[str, Any] = {}
    instrument(figures.update)
    print("READY", flush=True)
    t0, began = time.perf_counter(), time.time()
    with transaction.atomic() if atomic else nullcontext():
        actions.trace_case(actor=user, case=case)
    figures.update(wall=time.perf_counter() - t0, held=[began, time.time()])
    print(json.dumps(figures), flush=True)
    return 0


def cpu_phase(stream: Stream, seconds: float) -> Phase:
    """The control: one core kept busy for as long as the job took, by a process that touches no database (the
    machine has 2 cores: this is what the trace's CPU alone costs the requests)."""
    burn = f"import time\nend = time.perf_counter() + {seconds}\nwhile time.perf_counter() < end:\n    pass\n"
    stream.start()
    subprocess.run([sys.executable, "-c", burn], check=True)
    return Phase("one core busy, no database", stream.stop(), [{"wall": seconds}])


# --- The table ----------------------------------------------------------------------------------------------


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


KINDS = [  # logins and page reads first
    "login (POST + home)",
    "login form (GET)",
    "home page",
    "case list",
    "case page",
    "linkage inbox",
    "start trace (POST + job page)",
    "job status poll",
]


def cell(got: list[Sample]) -> str:
    """p50 / p95 / max ms (count, over 1 s, errors) of some requests."""
    if not got:
        return ""
    ok = [s.seconds for s in got if not s.error] or [0.0]
    slow = sum(1 for s in got if s.seconds > TARGET)
    errors = [s.error for s in got if s.error]
    ms = lambda s: f"{1000 * s:,.0f}"  # noqa: E731
    out = f"{ms(statistics.median(ok))} / {ms(_q(ok, 0.95))} / {ms(max(s.seconds for s in got))}"
    return out + f" ({len(got)}, {slow}, {len(errors)}{': ' + errors[0] if errors else ''})"


def slow(got: list[Sample]) -> str:
    return f"{sum(1 for s in got if s.seconds > TARGET or s.error)} / {len(got)}"


def spans(phase: Phase, key: str, digits: int = 1) -> str:
    return ", ".join(f"{r[key]:.{digits}f}" for r in phase.rounds if key in r) or "-"


def report(args: argparse.Namespace, setup: Setup, phases: list[Phase], db: str) -> int:
    load = os.getloadavg()
    machine = f"{platform.machine()} x{os.cpu_count()}"
    print(f"\n{dt.datetime.now(dt.UTC).date()} (UTC), {machine}, {db}, waitress 8 threads + 1 worker; load average "
          f"at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)\n")  # fmt: skip
    print(f"Demo loaded in {setup.load_seconds:.0f} s (not timed below). Case {setup.case_code}: "
          f"{setup.contacts.get(1, 0):,} close, {setup.contacts.get(2, 0):,} secondary, "
          f"{setup.contacts.get(0, 0):,} risk-venue visitors. {len(setup.readers)} readers "
          f"({', '.join(setup.readers)}) with {args.think:.1f} s between requests, one login stream with "
          f"{args.login_pause:.1f} s between logins; {args.repeat} rounds.\n")  # fmt: skip
    print("| phase | trace (s), per round | its write transaction (s) | worked out before it (s) | queued (s) "
          "| logins and page reads over 1 s | of those, overlapping the write transaction "
          "| highest load (1 min) |")  # fmt: skip
    print("|---|---|---|---|---|---:|---:|---:|")
    for p in phases:
        reads = [s for s in p.samples if s.kind in KINDS[:6]]
        during = [s for s in reads if any(s.at < b and s.at + s.seconds > a for a, b in p.writes)]
        over = slow(during) if p.writes else "-"
        print(f"| {p.name} | {spans(p, 'wall')} | {spans(p, 'record', 2)} | {spans(p, 'plan', 2)} "
              f"| {spans(p, 'queued')} | {slow(reads)} | {over} | {p.load:.1f} |")  # fmt: skip
    kinds = [k for k in KINDS if any(s.kind == k for p in phases for s in p.samples)]
    print("\np50 / p95 / max ms (requests, over 1 s, errors):\n")
    print("| phase | " + " | ".join(kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for p in phases:
        print(
            f"| {p.name} | " + " | ".join(cell([s for s in p.samples if s.kind == k]) for k in kinds) + " |"
        )
    met = all(
        not s.error and s.seconds <= TARGET for p in phases if p.name == "during job" for s in p.samples
    )
    verdict = "met" if met else "NOT met"
    print(f"\nTarget (every login and page read under {TARGET:.0f} s while the job runs): {verdict}.")
    return 0 if met else 1


# --- Main ---------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, work: Path) -> int:
    import django

    django.setup()
    from django.db import connection, connections

    setup = load_demo()
    db = (
        f"PostgreSQL {getattr(connection, 'pg_version', 0) // 10000}"
        if connection.vendor == "postgresql"
        else "SQLite"
    )
    connections.close_all()
    print(f"case {setup.case_code} (pk {setup.case_pk}): {setup.contacts}", file=sys.stderr, flush=True)
    server = Server(work)
    runs: list[Phase] = []
    try:
        readers = sign_in_readers(server.base, setup)
        stream = Stream(server.base, readers, setup.logins, setup.password, args.think, args.login_pause)
        idle_phase(stream, 3)  # warm-up, not reported
        runs.append(idle_phase(stream, args.idle_seconds))
        busy = 5.0
        steps = ["job"] + (["nice"] if args.nice else []) + ["sync"] + ([] if args.no_atomic else ["atomic"])
        for k in range(args.repeat):
            for step in [*steps, "cpu"]:
                time.sleep(2)
                print(f"round {k + 1}: {step}", file=sys.stderr, flush=True)
                if step in ("job", "nice"):
                    runs.append(job_phase(stream, server, setup, args.nice if step == "nice" else 0))
                    busy = max(3.0, runs[-1].rounds[0]["wall"]) if step == "job" else busy
                elif step == "cpu":
                    runs.append(cpu_phase(stream, busy))
                else:
                    runs.append(sync_phase(stream, setup, atomic=step == "atomic"))
    finally:
        server.stop()
    return report(args, setup, merge(runs), db)


def merge(runs: list[Phase]) -> list[Phase]:
    """The rounds of each phase as one: samples and rounds pooled, the highest load."""
    out: dict[str, Phase] = {}
    for r in runs:
        if r.name not in out:
            out[r.name] = Phase(r.name, [], [], r.load, [])
        p = out[r.name]
        p.samples += r.samples
        p.rounds += r.rounds
        p.writes += r.writes
        p.load = max(p.load, r.load)
    return list(out.values())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default="", help="PostgreSQL admin URL: run on a throwaway database there")
    parser.add_argument("--think", type=float, default=0.5, help="seconds each reader waits between requests")
    parser.add_argument("--login-pause", type=float, default=0.5, help="seconds between two logins")
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=5, help="rounds of the phases (their samples pooled)")
    parser.add_argument("--no-atomic", action="store_true", help="skip the one-transaction baseline")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="also a job phase with the worker at this CPU priority, each round",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # the instrumented worker, its timings file
    parser.add_argument("--sync-trace", type=int, help=argparse.SUPPRESS)  # the child of sync_phase
    parser.add_argument("--as", dest="username", help=argparse.SUPPRESS)
    parser.add_argument("--atomic", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return run_worker(args.worker)
    if args.sync_trace is not None:
        return sync_trace(args.sync_trace, args.username, args.atomic)

    work = Path(tempfile.mkdtemp(prefix="cordon-bench-jobs-"))
    os.environ["CORDON_VAR"] = str(work / "var")
    os.environ.pop("CORDON_SCAN_DIR", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    if not args.pg:
        os.environ.pop("DATABASE_URL", None)
    try:
        with throwaway_database(args.pg, "cordon_bench_jobs") if args.pg else contextlib.nullcontext():
            return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
