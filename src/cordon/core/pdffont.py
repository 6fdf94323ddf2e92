"""The CJK font every bilingual PDF embeds (fpdf2 embeds a subset of it): ``CORDON_PDF_FONT``, or the first one
found among the usual system fonts (Debian: fonts-noto-cjk). Control's orders and certificates and the zones'
notice and the commanders' daily report use it, through ``add_font(pdf)``, which parses it once per process
(below)."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

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


@cache
def font_face() -> int:
    """The face of a font collection (``.ttc``) to embed: the Simplified Chinese one (Noto Sans CJK's face 0 is
    the Japanese one, whose glyph shapes differ from the forms printed in mainland China), found by its name
    (``SC``, ``GB``, ``Hans``, ``Simplified``); 0 for a single font or a collection without one."""
    path = font_path()
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection

    try:
        faces = TTCollection(path, lazy=True).fonts
    except Exception:  # not a collection after all: fpdf2 reports what is wrong with it
        return 0
    for number, face in enumerate(faces):
        name = str(face["name"].getDebugName(4) or "")
        words = name.replace("-", " ").split()
        if any(w in ("SC", "GB", "Hans") for w in words) or "Simplified" in name:
            return number
    return 0


# The font parsed once per process -----------------------------------------------------------------------------
#
# ``FPDF.add_font`` parses the font file for every document (for Noto CJK: a cmap of 44,000 characters, the
# widths of 65,535 glyphs) and, at ``output``, fontTools subsets the font object in place (only the glyphs the
# document drew are embedded) and closes it: a parsed font cannot simply be handed to the next document. So a
# process parses the face once into a template (fpdf2's ``TTFFont``: cmap, widths, glyph ids, descriptor,
# which fpdf2 itself shares between copies, see ``TTFFont.__deepcopy__``) and keeps the decompiled tables the
# subsetter reads in full (``cmap``, ``hmtx``, ``vmtx``); each document gets a copy of the template with its own
# subset map and a fresh lazily opened fontTools font holding shallow copies of those tables (the subsetter
# replaces their dicts, never changes them). The CFF outlines are still read per document, only the used glyphs.
# The PDFs are byte for byte those ``add_font`` makes (``tests/test_pdffont.py``).

REUSE = True
"""False: every document parses the font file again, as ``FPDF.add_font`` does (the bench compares both)."""

_SHARED_TABLES = ("cmap", "hmtx", "vmtx")
_lock = threading.Lock()
_parsed: dict[str, _Parsed | None] = {}


@dataclass(frozen=True)
class _Parsed:
    template: Any  # fpdf.fonts.TTFFont, never output
    tables: dict[str, Any]  # tag -> decompiled fontTools table of the face


def _parse(path: str) -> _Parsed | None:
    """The template, or None for a font the copies could not reproduce exactly (a TrueType font without a
    ``.notdef`` glyph, which fpdf2 draws into the parsed font; a colour font): those are parsed per document."""
    from fpdf import FPDF

    scratch = FPDF()
    scratch.add_font("cjk", fname=path, collection_font_number=font_face())
    template: Any = scratch.fonts["cjk"]
    face = template.ttfont
    if template.color_font is not None or ("glyf" in face and ".notdef" not in face["glyf"]):
        return None
    tables = {}
    for tag in _SHARED_TABLES:
        if tag in face:
            table = face[tag]
            for sub in getattr(table, "tables", ()):  # cmap: every subtable, not only the one fpdf2 read
                sub.ensureDecompiled()
            tables[tag] = table
    return _Parsed(template, tables)


def _parsed_font(path: str) -> _Parsed | None:
    with _lock:
        if path not in _parsed:
            _parsed[path] = _parse(path)
        return _parsed[path]


def add_font(pdf: Any, family: str = "cjk") -> None:
    """``pdf.add_font(family, fname=font_path(), collection_font_number=font_face())``, with the font parsed once
    per process: the document can ``set_font(family)`` and embeds the subset of the glyphs it draws."""
    path = font_path()
    parsed = _parsed_font(path) if REUSE else None
    if parsed is None:
        pdf.add_font(family, fname=path, collection_font_number=font_face())
        return
    from fontTools.ttLib import TTFont
    from fpdf.fonts import SubsetMap, TTFFont

    fontkey = family.lower()
    if fontkey in pdf.fonts:
        return
    template = parsed.template
    font = TTFFont.__new__(TTFFont)
    for slot in TTFFont.__slots__:
        if hasattr(template, slot):
            setattr(font, slot, getattr(template, slot))
    # The descriptor is the one object fpdf2 changes while it writes a document (its object id, its font file
    # stream): each document gets its own, or two documents written at once in two threads would swap them.
    font.desc = copy.copy(template.desc)
    font.i = len(pdf.fonts) + 1
    font.fontkey = fontkey
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    face = TTFont(path, recalcTimestamp=False, fontNumber=template.collection_font_number, lazy=True)
    for tag, table in parsed.tables.items():
        mine = copy.copy(table)
        if hasattr(table, "tables"):
            mine.tables = [copy.copy(sub) for sub in table.tables]
        face.tables[tag] = mine
    font.ttfont = face
    font.subset = SubsetMap(font)
    pdf.fonts[fontkey] = font
    if font.is_cff and font.is_cid_keyed:
        pdf._set_min_pdf_version("1.6")
