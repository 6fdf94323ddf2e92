"""Both languages are complete: every translatable string in the code has a Chinese translation."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SRC = Path(__file__).resolve().parent.parent / "src"


def test_chinese_catalogue_has_no_untranslated_or_fuzzy_entries() -> None:
    po = polib.pofile(str(LOCALE))
    missing = [e.msgid for e in po.untranslated_entries()] + [e.msgid for e in po.fuzzy_entries()]
    assert not missing, f"untranslated: {missing[:20]}"


@pytest.mark.skipif(
    shutil.which("xgettext") is None and not os.environ.get("CI"),
    reason="needs gettext's xgettext (.ci/run installs it; in CI this test never skips)",
)
def test_catalogue_covers_every_string_in_the_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """makemessages on the current code, into a scratch copy, finds nothing new and nothing untranslated."""
    scratch = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    scratch.mkdir(parents=True)
    shutil.copy(LOCALE, scratch / "django.po")
    monkeypatch.chdir(SRC)
    with override_settings(LOCALE_PATHS=[str(tmp_path / "locale")]):
        call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, no_location=True, verbosity=0)
    fresh = polib.pofile(str(scratch / "django.po"))
    untranslated = [e.msgid for e in fresh.untranslated_entries()] + [e.msgid for e in fresh.fuzzy_entries()]
    assert not untranslated, (
        "strings without a Chinese translation (run: cd src && ../.venv/bin/cordon manage makemessages -l zh_Hans "
        f"--no-obsolete --no-location, then translate): {untranslated[:20]}"
    )
