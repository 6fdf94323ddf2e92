"""``cordon serve`` (migrate, then serve the web app and the API with waitress, with a job worker beside it),
``cordon worker`` (run background jobs alone) and ``cordon migrate``."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from typing import Any

from . import _django

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("serve", help="migrate and serve the web app and API (waitress), with a job worker")
    p.add_argument("--host", default=DEFAULT_HOST)
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument(
        "--no-worker",
        action="store_true",
        help="do not start a job worker beside the server (run `cordon worker` separately, e.g. several)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run background jobs (tracing, imports, the demo's next day, ...)")
    p.add_argument(
        "--interval", type=float, default=1.0, help="seconds between looks at the queue when it is empty"
    )
    p.add_argument("--batch", action="store_true", help="run the jobs queued now, then exit")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("migrate", help="create or upgrade the database schema")
    p.set_defaults(func=cmd_migrate)


def start_worker() -> subprocess.Popen[bytes]:
    """A ``cordon worker`` process beside this one, on the same database (the environment is inherited)."""
    # A session of its own: Ctrl+C at the terminal reaches the server only, which then asks the worker once to
    # finish the step it is on (a second signal would make it exit at once).
    # It watches this process too (``watch_parent``): a server killed outright (SIGKILL) leaves no worker behind.
    env = {**os.environ, PARENT_ENV: str(os.getpid())}
    return subprocess.Popen([sys.executable, "-m", "cordon.cli", "worker"], env=env, start_new_session=True)


PARENT_ENV = "CORDON_WORKER_PARENT"


def watch_parent(parent: int, every: float = 1.0) -> threading.Thread:
    """A worker started by a server stops (as on Ctrl+C: it finishes the step it is on) once that server is
    gone, however it ended: its parent process is then another."""

    def run() -> None:
        while os.getppid() == parent:
            threading.Event().wait(every)
        print("The server this worker ran beside has gone; stopping.", flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=run, name="parent-watch", daemon=True)
    thread.start()
    return thread


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    """Ask the worker to stop (it finishes the step it is on), then make sure it has."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


class Supervisor(threading.Thread):
    """Keeps one worker running beside the server: a worker that exits (killed, out of memory) is started again,
    and its job is failed by the new worker's reaper once it has been silent long enough."""

    def __init__(self, every: float = 5.0) -> None:
        super().__init__(name="worker-supervisor", daemon=True)
        self.every = every
        self.stopped = threading.Event()
        self.proc = start_worker()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            if self.proc.poll() is not None:
                print(f"The job worker stopped (exit {self.proc.returncode}); starting another.", flush=True)
                self.proc = start_worker()

    def stop(self) -> None:
        self.stopped.set()
        stop_worker(self.proc)


def serve(host: str, port: int, threads: int = 8, worker: bool = True) -> None:
    from waitress import serve as waitress_serve

    from cordon.site.wsgi import application

    supervisor = Supervisor() if worker else None
    if supervisor is not None:
        supervisor.start()
        print(f"A job worker runs beside the server (process {supervisor.proc.pid}).", flush=True)
    print(f"Cordon is serving on http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    # SIGTERM (systemd's stop, ``kill``, a process group's end) stops the server as Ctrl+C does, so the worker
    # beside it is stopped too (by default Python would end at once, leaving the worker running).
    signal.signal(signal.SIGTERM, _stop_on_term)
    try:
        waitress_serve(application, host=host, port=port, threads=threads, ident="cordon")
    finally:
        if supervisor is not None:
            supervisor.stop()


def _stop_on_term(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def cmd_serve(args: argparse.Namespace) -> int:
    _django.setup()
    _django.migrate()
    serve(args.host, args.port, args.threads, worker=not args.no_worker)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    _django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # A job takes the CPU pages need only when they don't (bench/bench_jobs.py: with the worker at nice 10 no
    # request waited over 1 s while the demo's largest case re-traced, on SQLite and PostgreSQL).
    if settings.CORDON_WORKER_NICE:
        os.nice(settings.CORDON_WORKER_NICE)

    _django.migrate()
    if os.environ.get(PARENT_ENV, "").isdigit():
        watch_parent(int(os.environ[PARENT_ENV]))
    print(f"A job worker is waiting for jobs (process {os.getpid()}; Ctrl+C to stop).", flush=True)
    call_command(
        "jobs_worker",
        interval=args.interval,
        batch=args.batch,
        reload=False,
        startup_delay=not args.batch,
        verbosity=1,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _django.setup()
    _django.migrate(verbosity=1)
    return 0
