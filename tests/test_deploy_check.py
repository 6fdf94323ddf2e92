"""`cordon manage check --deploy` with production settings is clean, apart from the two checks docs/operations.md
hands to the proxy (HSTS and the HTTP-to-HTTPS redirect), and those are silenced only behind the HTTPS proxy."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
HANDED_TO_THE_PROXY = {"security.W004", "security.W008"}


def _deploy_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CORDON_", "DJANGO_"))}
    base.update(
        {
            "CORDON_VAR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
            "CORDON_SECRET_KEY": secrets.token_urlsafe(60),
            "CORDON_ALLOWED_HOSTS": "cordon.example.org",
            "CORDON_CSRF_TRUSTED_ORIGINS": "https://cordon.example.org",
            **env,
        }
    )
    command = [sys.executable, "-m", "cordon.cli", "manage", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(command, env=base, capture_output=True, text=True, timeout=120)


def _silenced() -> set[str]:
    """The checks docs/operations.md says are silenced, named in its security section."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Security") :]
    return set(re.findall(r"`(security\.W\d{3})`", section))


def test_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    result = _deploy_check(tmp_path, CORDON_HTTPS="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"no issues ({len(HANDED_TO_THE_PROXY)} silenced)" in result.stdout
    assert _silenced() == HANDED_TO_THE_PROXY


def test_without_the_https_proxy_the_deploy_check_complains(tmp_path: Path) -> None:
    result = _deploy_check(tmp_path)
    assert result.returncode != 0
    found = set(re.findall(r"\(security\.W\d{3}\)", result.stdout + result.stderr))
    # Nothing is silenced then: insecure cookies, and HSTS and the redirect, are all reported.
    assert {f"({c})" for c in {"security.W012", "security.W016", *HANDED_TO_THE_PROXY}} <= found


def test_debug_in_production_is_reported(tmp_path: Path) -> None:
    result = _deploy_check(tmp_path, CORDON_HTTPS="1", CORDON_DEBUG="1")
    assert result.returncode != 0 and "security.W018" in result.stdout + result.stderr
