"""Every write path is enumerated and watched.

- Every ``@action`` of the apps is listed in the ``COVERS`` set of one ``test_writes_<app>.py`` module beside
  this one, whose tests run it under the audit watch (``audit_watch.py``): an action that writes a record without
  its audit row fails there. A new action without a row here fails this test, as a new page without a row fails
  the authorization matrix.
- Admin edits are the other write path: ``test_admin_audit.py``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from django.apps import apps

from cordon.core import actions as registry

HERE = Path(__file__).parent


def _import_actions() -> None:
    for config in apps.get_app_configs():
        if config.name.startswith("cordon.apps."):
            try:
                importlib.import_module(f"{config.name}.actions")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.actions":
                    raise


def _covered() -> dict[str, str]:
    out: dict[str, str] = {}
    for path in sorted(HERE.glob("test_writes_*.py")):
        module = importlib.import_module(f"architecture.{path.stem}")
        for name in module.COVERS:
            out[name] = path.name
    return out


def test_every_action_has_a_write_path_test() -> None:
    _import_actions()
    actions = {name for name in registry.registered() if name.startswith("cordon.")}
    covered = _covered()
    missing = sorted(actions - set(covered))
    assert not missing, "actions with no write-path test (add them to a COVERS set):\n  " + "\n  ".join(
        missing
    )
    gone = sorted(set(covered) - actions)
    assert not gone, "COVERS names actions that do not exist:\n  " + "\n  ".join(gone)
