"""``cordon audit verify``: walk the audit trail's hash chains and report the first broken link."""

from __future__ import annotations

import argparse
from typing import Any

from . import _django


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("audit", help="check the audit trail")
    commands = p.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    v = commands.add_parser(
        "verify",
        help="recompute the hash chains of the audit trail and the access log; exit 1 at a broken link",
    )
    v.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    _django.setup()
    from cordon.apps.audit import selectors

    verdicts, unguarded = selectors.verify_trail()
    failed = False
    for verdict in verdicts:
        head = f"{verdict.log}: {verdict.entries} entries in {verdict.chains} chains"
        if verdict.ok:
            print(f"{head}: OK")
            continue
        failed = True
        print(f"{head}: BROKEN")
        for b in verdict.breaks:
            where = f"entry #{b.entry}" if b.entry is not None else "chain end"
            place = f" (chain {b.chain}, link {b.seq})" if b.chain is not None else ""
            print(f"  {where}{place}: {b.problem}")
    if unguarded:
        failed = True
        print(f"triggers that refuse to rewrite the trail missing or disabled: {', '.join(unguarded)}")
    return 1 if failed else 0
