"""``cordon demo``: migrate, load the demo city (the demo app's loader), print the demo logins and serve; or play
the next day of the demo outbreak (``--next-day``, the same action as the administrator's demo page)."""

from __future__ import annotations

import argparse
from typing import Any

from . import _django
from .serve import DEFAULT_HOST, DEFAULT_PORT, serve


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("demo", help="migrate, load the demo city, create the demo logins and serve")
    p.add_argument("--host", default=DEFAULT_HOST)
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument(
        "--reset",
        action="store_true",
        help="discard the demo database (refused when it holds anything but the demo) and load it again",
    )
    p.add_argument("--no-serve", action="store_true", help="load and print the logins, then exit")
    p.add_argument(
        "--next-day",
        action="store_true",
        help="play the next day of the demo outbreak (new cases reported and traced, scans ingested), then exit",
    )
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    _django.setup()
    from cordon.apps.demo import actions, selectors

    print("==> Migrating the database", flush=True)
    _django.migrate()
    if args.next_day:
        return _next_day()
    if args.reset:
        if selectors.data_outside_demo():
            return _django.fail(
                "this database holds data besides the demo city; --reset discards the whole database and is "
                "only for the demo's own (point DATABASE_URL at another database, or remove the data first)"
            )
        print("==> Discarding the demo database", flush=True)
        _django.flush()
    summary = actions.load(progress=True)
    print(summary.describe())
    selectors.print_logins()
    if args.no_serve:
        return 0
    serve(args.host, args.port)
    return 0


def _next_day() -> int:
    from django.core.exceptions import ValidationError

    from cordon.apps.demo import actions

    try:
        played = actions.play_next_day(actor=None, progress=True)
    except ValidationError as exc:
        return _django.fail(" ".join(exc.messages))
    print(played.describe())
    return 0
