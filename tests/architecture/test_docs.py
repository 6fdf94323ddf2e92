"""docs/architecture.md is read back against the code (as Datasette tests its documentation): every app, page
module and ``cordon`` sub-command it names exists, every existing one is named, and every source path it names
exists."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from django.apps import apps

from cordon.apps.accounts.models import User
from cordon.cli import build_parser
from cordon.core.actors import Actor

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "cordon"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
CODE = re.findall(r"`([^`\n]+)`", DOC)
PATHS = {c.rstrip("/") for c in CODE if re.fullmatch(r"(apps|core|engine|site|cli)/[\w./]+", c)}


def _apps_in_code() -> set[str]:
    return {c.name.rsplit(".", 1)[1] for c in apps.get_app_configs() if c.name.startswith("cordon.apps.")}


def _page_modules_in_code() -> set[str]:
    out = set()
    for app in _apps_in_code():
        base = SRC / "apps" / app
        if (base / "views.py").exists():
            out.add(f"apps/{app}/views.py")
        elif (base / "views").is_dir():
            out.add(f"apps/{app}/views")
    return out


def _subcommands_in_code() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_every_source_path_named_exists() -> None:
    missing = sorted(p for p in PATHS if not (SRC / p).exists())
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_app_is_named_and_every_named_app_exists() -> None:
    named = {p.split("/")[1] for p in PATHS if p.startswith("apps/")}
    assert named == _apps_in_code(), (
        f"apps in the code but not in the doc: {_apps_in_code() - named}; in the doc only: {named - _apps_in_code()}"
    )


def test_every_page_module_is_named() -> None:
    named = {p for p in PATHS if re.fullmatch(r"apps/\w+/views(\.py)?", p)}
    code = _page_modules_in_code()
    assert named == code, f"page modules not named: {code - named}; named but absent: {named - code}"


def test_every_subcommand_is_named_and_every_named_one_exists() -> None:
    named = set(re.findall(r"`cordon ([a-z]+)", DOC))
    code = _subcommands_in_code()
    assert named == code, f"sub-commands not in the doc: {code - named}; in the doc only: {named - code}"


def test_every_cli_module_is_named() -> None:
    modules = {f"cli/{p.name}" for p in (SRC / "cli").glob("*.py") if p.name != "__main__.py"}
    assert modules <= PATHS, f"CLI modules the doc does not name: {sorted(modules - PATHS)}"


def test_every_core_module_is_named() -> None:
    modules = {f"core/{p.name}" for p in (SRC / "core").glob("*.py") if p.name != "__init__.py"}
    assert modules <= PATHS, f"core modules the doc does not name: {sorted(modules - PATHS)}"


def test_the_user_model_is_an_actor() -> None:
    """Actions and selectors are typed with the structural ``Actor``; the user model must stay one."""
    user = User(username="someone", role="investigator")
    assert isinstance(user, Actor)
