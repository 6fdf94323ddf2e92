"""The `cordon` command. Every data path (import, export) runs as a named user through the same scoped
selectors and actions as the web app."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    import django

    django.setup()


def _fail(message: str, code: int = 2) -> int:
    print(f"cordon: {message}", file=sys.stderr)
    return code


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    try:
        return (
            get_user_model()
            .objects.select_related("jurisdiction", "sector")
            .get(username=username, is_active=True)
        )
    except get_user_model().DoesNotExist:
        raise SystemExit(_fail(f"no active user named {username!r}")) from None


def serve(host: str, port: int, threads: int = 8) -> None:
    from waitress import serve as waitress_serve

    from cordon.site.wsgi import application

    print(f"Cordon is serving on http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    waitress_serve(application, host=host, port=port, threads=threads, ident="cordon")


# --- commands -------------------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    _setup_django()
    from cordon.apps.demo import fixture

    print("==> Migrating the database", flush=True)
    _migrate()
    summary = fixture.load(reset=args.reset, progress=True)
    print(summary.describe())
    fixture.print_logins()
    if args.no_serve:
        return 0
    serve(args.host, args.port)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _setup_django()
    _migrate()
    serve(args.host, args.port, args.threads)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup_django()
    _migrate(verbosity=1)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    _setup_django()
    from cordon.apps.dataio import services

    user = _user(args.user)
    path = Path(args.file)
    if not path.is_file():
        return _fail(f"no such file: {path}")
    from django.core.exceptions import PermissionDenied

    try:
        result = services.import_path(user, args.kind, path, progress=True)
    except PermissionDenied:
        return _fail(f"user {args.user} may not import (role: {user.role})")
    print(result.describe())
    return 0 if result.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    _setup_django()
    from cordon.apps.dataio import services

    user = _user(args.user)
    out = Path(args.out) if args.out else None
    fmt = args.format or (out.suffix.lstrip(".").lower() if out and out.suffix else "csv")
    try:
        count = services.export_to(user, args.kind, fmt, out, progress=out is not None)
    except services.ExportError as exc:
        return _fail(str(exc))
    if out is not None:
        print(f"{count} rows written to {out}", file=sys.stderr)
    return 0


def cmd_createcity(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.exceptions import ValidationError

    from cordon.apps.geo import actions
    from cordon.apps.geo.models import Level

    try:
        node = actions.create_jurisdiction(
            actor=None, code=args.code, name=args.name, name_en=args.name_en, level=Level.CITY, source="cli"
        )
    except ValidationError as exc:
        return _fail("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()))
    print(f"created city {node.code} {node.name}")
    return 0


def cmd_createuser(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.exceptions import ValidationError

    from cordon.apps.accounts import actions

    if not args.password:
        import getpass

        if not sys.stdin.isatty():
            return _fail("give --password, or run in a terminal to be asked for it")
        args.password = getpass.getpass(f"Password for {args.username}: ")
    try:
        user = actions.create_user(
            actor=None,
            username=args.username,
            password=args.password,
            role=args.role,
            jurisdiction_code=args.jurisdiction,
            sector_code=args.sector,
            display_name=args.display_name or "",
            is_staff=args.role == "administrator",
            source="cli",
        )
    except ValidationError as exc:
        return _fail("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()))
    print(f"created {user.username} ({user.role})")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    _setup_django()
    from cordon.apps.accounts import actions

    user = _user(args.username)
    key = actions.issue_api_token(actor=None, user=user, name=args.name, source="cli")
    print(key)
    print("Keep this token safe: it is shown only once.", file=sys.stderr)
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cordon manage", *args.rest])
    return 0


KINDS = ("jurisdictions", "buildings", "households", "persons", "venues")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cordon",
        description="Cordon: outbreak-response command platform. Configuration comes from the environment "
        "(DATABASE_URL, CORDON_*; see docs/operations.md).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("demo", help="migrate, load the demo city, create the demo logins and serve")
    p.add_argument("--host", default=DEFAULT_HOST)
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--reset", action="store_true", help="delete the demo data and load it again")
    p.add_argument("--no-serve", action="store_true", help="load and print the logins, then exit")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="migrate and serve the web app and API (waitress)")
    p.add_argument("--host", default=DEFAULT_HOST)
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--threads", type=int, default=8)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="create or upgrade the database schema")
    p.set_defaults(func=cmd_migrate)

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

    p = sub.add_parser(
        "createcity", help="create the root of the jurisdiction tree (first step on an empty database)"
    )
    p.add_argument("code", help="e.g. the administrative code 110000")
    p.add_argument("name")
    p.add_argument("--name-en", default="")
    p.set_defaults(func=cmd_createcity)

    p = sub.add_parser("createuser", help="create a user with a role and a jurisdiction scope")
    p.add_argument("username")
    p.add_argument("--role", required=True)
    p.add_argument("--jurisdiction", required=True, help="jurisdiction code the user is scoped to")
    p.add_argument("--sector", help="industry sector code (optional second scope)")
    p.add_argument("--password", help="asked for in the terminal when not given")
    p.add_argument("--display-name")
    p.set_defaults(func=cmd_createuser)

    p = sub.add_parser("token", help="issue an API token for a user (printed once)")
    p.add_argument("username")
    p.add_argument("--name", default="cli")
    p.set_defaults(func=cmd_token)

    from cordon import sim_cli

    sim_cli.add_parser(sub)

    from cordon import trace_cli

    trace_cli.add_parsers(sub)

    p = sub.add_parser("manage", help="run a Django management command (advanced)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
