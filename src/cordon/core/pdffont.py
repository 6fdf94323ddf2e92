"""The CJK font every bilingual PDF embeds (fpdf2 embeds a subset of it): ``CORDON_PDF_FONT``, or the first one
found among the usual system fonts (Debian: fonts-noto-cjk). Control's orders and certificates and the zones'
notice use it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)


class PdfUnavailable(Exception):
    """No font with Chinese characters: PDFs cannot be made."""


@cache
def font_path() -> str:
    configured = str(settings.CORDON_PDF_FONT or "")
    if configured:
        if not Path(configured).is_file():
            raise PdfUnavailable(f"CORDON_PDF_FONT names a file that does not exist: {configured}")
        return configured
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    raise PdfUnavailable(
        "No font with Chinese characters was found. Install one (Debian: apt-get install fonts-noto-cjk) "
        "or set CORDON_PDF_FONT to a TrueType/OpenType file."
    )
