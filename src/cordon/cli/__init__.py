"""The ``cordon`` command. Every data path (import, export, scans) runs as a named user through the same scoped
selectors and actions as the web app.

One module per command group adds its sub-commands (``add_parsers``) and runs them (``cmd_*``); ``_django``
holds what the commands that use the database share. Django and the apps are imported inside the commands, so
the parser builds without them and ``cordon sim`` (no database) never sets Django up.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from . import audit, data, demo, geo, manage, serve, sim, trace, users


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cordon",
        description="Cordon: outbreak-response command platform. Configuration comes from the environment "
        "(DATABASE_URL, CORDON_*; see docs/operations.md).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in (demo, serve, data, geo, users, audit, sim, trace, manage):
        group.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
