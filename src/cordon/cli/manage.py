"""``cordon manage``: a Django management command (advanced)."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("manage", help="run a Django management command (advanced)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cordon manage", *args.rest])
    return 0
