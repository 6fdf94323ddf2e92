"""Production settings: `cordon manage check --deploy` is clean apart from the two checks docs/operations.md hands
to the proxy (HSTS and the HTTP-to-HTTPS redirect), silenced only behind the HTTPS proxy; the security variables
reach the settings; rotating the secret key with a fallback keeps people signed in."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.test import Client

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


def test_the_security_settings_come_from_the_environment(tmp_path: Path) -> None:
    """The variables docs/operations.md lists for signing in and key rotation reach Django's settings."""
    show = (
        "from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME, s.AXES_LOCKOUT_PARAMETERS, s.CORDON_CLIENT_IP_HEADER, "
        "s.SECRET_KEY_FALLBACKS, s.SESSION_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CORDON_", "DJANGO_"))},
        "CORDON_VAR": str(tmp_path),
        "CORDON_SECRET_KEY": "new-key-" + "x" * 50,
        "CORDON_SECRET_KEY_FALLBACKS": "old-key-1, old-key-2",
        "CORDON_HTTPS": "1",
        "CORDON_LOGIN_FAILURE_LIMIT": "8",
        "CORDON_LOGIN_COOLOFF_MINUTES": "0",
        "CORDON_LOGIN_LOCKOUT": "username+ip_address,ip_address",
        "CORDON_CLIENT_IP_HEADER": "X-Real-IP",
    }
    command = [sys.executable, "-m", "cordon.cli", "manage", "shell", "-c", show]
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.strip().splitlines()[-1] == (
        "8 None [['username', 'ip_address'], 'ip_address'] X-Real-IP ['old-key-1', 'old-key-2'] True "
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def test_a_session_signed_with_the_old_key_survives_a_rotation(
    settings: Any, city: Any, make_user: Any
) -> None:
    """While the old key is among SECRET_KEY_FALLBACKS, a signed-in user stays signed in and their session is
    re-signed with the new key; a session not used during that time is gone once the old key is dropped."""
    old, new = "old-key-" + "o" * 50, "new-key-" + "n" * 50
    settings.SECRET_KEY = old
    active, away = Client(), Client()
    active.force_login(make_user("auditor", city.city))
    away.force_login(make_user("auditor", city.city))
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = new, [old]
    assert active.get("/").status_code == 200
    settings.SECRET_KEY_FALLBACKS = []
    assert active.get("/").status_code == 200
    assert away.get("/").status_code == 302
