"""``cordon import`` and ``cordon export``: the register as CSV or XLSX, run as a named user through the same
scoped selectors and actions as the web app."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import _django

KINDS = ("jurisdictions", "buildings", "households", "persons", "venues")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("import", help="import a CSV or XLSX file (all or nothing) as a user")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("file")
    p.add_argument("--user", required=True, help="import as this user (their scope and rights apply)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export data in a user's scope (masked as that user sees it)")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--user", required=True, help="export as this user (their scope and masking apply)")
    p.add_argument("--format", choices=("csv", "xlsx"))
    p.add_argument("--out", help="output file (default: CSV to standard output)")
    p.set_defaults(func=cmd_export)


def cmd_import(args: argparse.Namespace) -> int:
    _django.setup()
    from django.core.exceptions import PermissionDenied

    from cordon.apps.dataio import actions

    user = _django.user(args.user)
    path = Path(args.file)
    if not path.is_file():
        return _django.fail(f"no such file: {path}")
    try:
        result = actions.import_path(actor=user, kind=args.kind, path=path, progress=True)
    except PermissionDenied:
        return _django.fail(f"user {args.user} may not import (role: {user.role})")
    print(result.describe())
    return 0 if result.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    _django.setup()
    from cordon.apps.dataio import selectors

    user = _django.user(args.user)
    out = Path(args.out) if args.out else None
    fmt = args.format or (out.suffix.lstrip(".").lower() if out and out.suffix else "csv")
    try:
        count = selectors.export_to(user, args.kind, fmt, out, progress=out is not None)
    except selectors.ExportError as exc:
        return _django.fail(str(exc))
    if out is not None:
        print(f"{count} rows written to {out}", file=sys.stderr)
    return 0
