"""The cordon command: a fresh installation's first steps, and clear failures."""

from __future__ import annotations

from typing import Any

import pytest

from cordon import cli
from cordon.apps.accounts.models import User
from cordon.apps.geo.models import Jurisdiction

pytestmark = pytest.mark.django_db


def test_fresh_installation_first_steps(capsys: Any) -> None:
    assert cli.main(["createcity", "310000", "上海市", "--name-en", "Shanghai"]) == 0
    assert Jurisdiction.objects.get(code="310000").path == "/310000/"
    assert cli.main(["createcity", "310000", "again"]) == 2
    assert "code: 该编码已被使用" in capsys.readouterr().err  # the command speaks the default language
    args = [
        "createuser",
        "admin",
        "--role",
        "administrator",
        "--jurisdiction",
        "310000",
        "--password",
        "pw-x-12345",
    ]
    assert cli.main(args) == 0
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.check_password("pw-x-12345")
    assert cli.main(["token", "admin", "--name", "etl"]) == 0
    assert len(capsys.readouterr().out.strip()) >= 32


def test_createuser_with_unknown_jurisdiction_fails_clearly(capsys: Any) -> None:
    args = ["createuser", "x", "--role", "auditor", "--jurisdiction", "999", "--password", "pw-x-12345"]
    assert cli.main(args) == 2
    assert "jurisdiction" in capsys.readouterr().err


def test_help_lists_every_command(capsys: Any) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in (
        "demo",
        "serve",
        "migrate",
        "import",
        "export",
        "createcity",
        "createuser",
        "token",
        "manage",
    ):
        assert command in out
