"""``cordon serve`` (migrate, then serve the web app and the API with waitress) and ``cordon migrate``."""

from __future__ import annotations

import argparse
from typing import Any

from . import _django

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("serve", help="migrate and serve the web app and API (waitress)")
    p.add_argument("--host", default=DEFAULT_HOST)
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--threads", type=int, default=8)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="create or upgrade the database schema")
    p.set_defaults(func=cmd_migrate)


def serve(host: str, port: int, threads: int = 8) -> None:
    from waitress import serve as waitress_serve

    from cordon.site.wsgi import application

    print(f"Cordon is serving on http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    waitress_serve(application, host=host, port=port, threads=threads, ident="cordon")


def cmd_serve(args: argparse.Namespace) -> int:
    _django.setup()
    _django.migrate()
    serve(args.host, args.port, args.threads)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _django.setup()
    _django.migrate(verbosity=1)
    return 0
