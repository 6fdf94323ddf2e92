"""What the commands that use the database share: Django's set-up, the schema migration, the ``--user`` lookup
and the error line. Imported by the command modules only; Django itself is imported when a command runs, so
``cordon --help`` and ``cordon sim`` never set it up."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cordon.apps.accounts.models import User


def setup() -> None:
    """Set Django up, speaking the installation's default language (``LANGUAGE_CODE``): a command's messages
    do not depend on what language the process last used."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


def fail(message: str, code: int = 2) -> int:
    """Print ``cordon: message`` on standard error; returns the exit status."""
    print(f"cordon: {message}", file=sys.stderr)
    return code


def migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def flush() -> None:
    """Empty every table (the schema stays), then put back the rows the data migrations made (the default
    quarantine plans). Not an action: the whole database, audit trail included, is discarded."""
    from django.core.management import call_command
    from django.db import connection

    from cordon.apps.control import actions as control

    # PostgreSQL refuses to empty the audit tables unless the session says so (audit/guards.py).
    reset = connection.vendor == "postgresql"
    if reset:
        with connection.cursor() as cursor:
            cursor.execute("SET cordon.audit_reset = 'on'")
    try:
        call_command("flush", interactive=False, verbosity=0)
    finally:
        if reset:
            with connection.cursor() as cursor:
                cursor.execute("RESET cordon.audit_reset")
    control.load_default_plans(actor=None, source="cli")


def user(username: str) -> User:
    """The active user a data command runs as (their role and scope apply); exits with status 2 when there is
    none."""
    from cordon.apps.accounts.models import User

    try:
        return User.objects.select_related("jurisdiction", "sector").get(username=username, is_active=True)
    except User.DoesNotExist:
        raise SystemExit(fail(f"no active user named {username!r}")) from None
