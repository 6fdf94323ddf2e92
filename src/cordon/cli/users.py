"""``cordon createuser`` (a user with a role and a jurisdiction scope) and ``cordon token`` (an API token)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import _django


def add_parsers(sub: Any) -> None:
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


def cmd_createuser(args: argparse.Namespace) -> int:
    _django.setup()
    from django.core.exceptions import ValidationError

    from cordon.apps.accounts import actions

    if not args.password:
        import getpass

        if not sys.stdin.isatty():
            return _django.fail("give --password, or run in a terminal to be asked for it")
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
        return _django.fail("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()))
    print(f"created {user.username} ({user.role})")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    _django.setup()
    from cordon.apps.accounts import actions

    user = _django.user(args.username)
    key = actions.issue_api_token(actor=None, user=user, name=args.name, source="cli")
    print(key)
    print("Keep this token safe: it is shown only once.", file=sys.stderr)
    return 0
