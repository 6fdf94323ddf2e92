"""``cordon createcity``: the root of the jurisdiction tree, the first step on an empty database."""

from __future__ import annotations

import argparse
from typing import Any

from . import _django


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "createcity", help="create the root of the jurisdiction tree (first step on an empty database)"
    )
    p.add_argument("code", help="e.g. the administrative code 110000")
    p.add_argument("name")
    p.add_argument("--name-en", default="")
    p.set_defaults(func=cmd_createcity)


def cmd_createcity(args: argparse.Namespace) -> int:
    _django.setup()
    from django.core.exceptions import ValidationError

    from cordon.apps.geo import actions
    from cordon.apps.geo.models import Level

    try:
        node = actions.create_jurisdiction(
            actor=None, code=args.code, name=args.name, name_en=args.name_en, level=Level.CITY, source="cli"
        )
    except ValidationError as exc:
        return _django.fail("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()))
    print(f"created city {node.code} {node.name}")
    return 0
