"""The CJK font parsed once per process (``core/pdffont.py``): a PDF made with the kept font is the PDF fpdf2's
own ``add_font`` makes (the same bytes, so the same text read back with pypdf), for the quarantine orders, the
release certificate and the daily report, in both languages; documents made one after another in one process
each embed the glyphs they draw (the Chinese text reads back), and the kept parse is not changed by them."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone, translation
from pypdf import PdfReader

from cordon.core import pdffont

pytestmark = pytest.mark.django_db

pytest.importorskip("fpdf")
try:
    pdffont.font_path()
except pdffont.PdfUnavailable:  # pragma: no cover - a machine without a CJK font
    pytest.skip("no CJK font on this machine", allow_module_level=True)

WHEN = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def _text(content: bytes) -> str:
    # pypdf reads fpdf2's two-byte ToUnicode entries with a NUL before each character (poppler does not).
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).replace("\x00", "")


def _font_streams(content: bytes) -> set[bytes]:
    """The embedded font programs of a PDF (the subsets; every page names the same one)."""
    out = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            desc = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            stream = desc.get("/FontFile3") or desc.get("/FontFile2")
            out.add(stream.get_object().get_data())
    return out


@pytest.fixture
def fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every FPDF made in the test has the same creation date, so two runs can be compared byte for byte."""
    from fpdf import FPDF

    made = FPDF.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        made(self, *args, **kwargs)
        self.set_creation_date(WHEN)

    monkeypatch.setattr(FPDF, "__init__", init)


@pytest.fixture
def both(
    monkeypatch: pytest.MonkeyPatch, fixed_date: None
) -> Iterator[Callable[[Callable[[], bytes]], bytes]]:
    """``both(make)``: the PDF made with the kept font, after checking it is the one a fresh parse makes."""

    def run(make: Callable[[], bytes]) -> bytes:
        monkeypatch.setattr(pdffont, "REUSE", False)
        fresh = make()
        monkeypatch.setattr(pdffont, "REUSE", True)
        kept = make()
        again = make()  # the second document of the process, after the kept font served one
        assert _text(kept) == _text(fresh) == _text(again)
        assert kept == fresh == again
        return kept

    yield run


def _orders(city: Any) -> list[Any]:
    from test_control import _judged

    return _judged(city, [city.ft_person2, city.cp_person])


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_order_pdfs_with_the_kept_font_are_those_of_a_fresh_parse(
    city: Any, both: Any, language: str
) -> None:
    from cordon.apps.control import pdf

    orders = _orders(city)
    with translation.override(language):
        batch = both(lambda: pdf.quarantine_orders(orders, full_id=False))
        one = both(lambda: pdf.quarantine_orders(orders[:1], full_id=True))
    text = _text(batch)
    assert "隔离医学观察通知书" in text and "Notice of Quarantine" in text
    assert orders[0].person.name in text and orders[1].person.name in text
    assert orders[0].person.name in _text(one)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_daily_report_with_the_kept_font_is_that_of_a_fresh_parse(
    city: Any, both: Any, language: str
) -> None:
    from cordon.apps.command import pdf, selectors
    from cordon.core.actors import CityReader

    _orders(city)  # a case and its contacts to count
    area = city.city
    with translation.override(language):
        figures = selectors.daily_figures(CityReader(area), area, timezone.localdate())
        report = both(lambda: pdf.daily_report_pdf(figures))
    assert f"{area.name}疫情防控日报" in _text(report)


def test_documents_made_one_after_another_each_embed_the_glyphs_they_draw(
    city: Any, fixed_date: None
) -> None:
    """An order, then a daily report, then the same order again: each reads back its Chinese text,
    embeds a font program holding only its own glyphs (a different subset per document, the same one for the
    same document), and the kept parse still maps every character."""
    from cordon.apps.command import pdf as command_pdf
    from cordon.apps.command import selectors
    from cordon.apps.control import pdf as control_pdf
    from cordon.core.actors import CityReader

    orders = _orders(city)
    area = city.city
    figures = selectors.daily_figures(CityReader(area), area, timezone.localdate())
    kept_before = _sizes()
    assert not kept_before or kept_before[0] > 20_000  # Noto CJK maps 44,000 characters
    first = control_pdf.quarantine_orders(orders[:1], full_id=False)
    report = command_pdf.daily_report_pdf(figures)
    last = control_pdf.quarantine_orders(orders[:1], full_id=False)
    assert first == last
    for content, expected in [
        (first, [orders[0].person.name, "隔离医学观察通知书", "密切接触者"]),
        (report, [f"{area.name}疫情防控日报", "数据截至"]),
    ]:
        text = _text(content)
        assert all(words in text for words in expected), (expected, text[:300])
    (order_font,) = _font_streams(first)
    (report_font,) = _font_streams(report)
    assert order_font != report_font
    # A subset: a few kilobytes per document, not the 15 MB of the face's outlines.
    assert len(order_font) < 200_000 and len(report_font) < 200_000
    assert _sizes() == kept_before  # the documents changed nothing in the kept parse


def _sizes() -> list[int]:
    """The number of entries of every table the documents share (empty when the font is parsed per document)."""
    parsed = pdffont._parsed_font(pdffont.font_path())
    if parsed is None:  # a font the copies cannot reproduce is parsed per document instead
        return []
    sizes = [len(parsed.template.cmap), len(parsed.template.glyph_ids)]
    for table in parsed.tables.values():
        if hasattr(table, "tables"):
            sizes += [len(sub.uvsDict if sub.format in (14, 15) else sub.cmap) for sub in table.tables]
        else:
            sizes.append(len(table.metrics))
    return sizes


def test_every_document_adds_the_font_through_pdffont() -> None:
    """``FPDF.add_font`` with the font's path would parse it again for each document: every PDF module calls
    ``pdffont.add_font(pdf)`` instead."""
    import re
    from pathlib import Path

    import cordon

    root = Path(cordon.__file__).parent
    direct = [
        f"{path.relative_to(root)}: {line.strip()}"
        for path in root.rglob("*.py")
        if path != root / "core" / "pdffont.py"
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"\.add_font\(", line)
    ]
    assert direct == []
    callers = [p for p in root.rglob("pdf.py") if "add_font(pdf)" in p.read_text(encoding="utf-8")]
    assert len(callers) >= 3  # control, zones, command


def test_a_font_collection_embeds_its_simplified_chinese_face(city: Any) -> None:
    """Noto Sans CJK's collection starts with its Japanese face, whose glyph shapes are not the forms printed in
    mainland China: the documents embed the Simplified Chinese face (``pdffont.font_face``)."""
    from cordon.apps.control import pdf

    if not pdffont.font_path().lower().endswith(".ttc"):
        pytest.skip("the font found is not a collection")
    content = pdf.quarantine_orders(_orders(city)[:1], full_id=False)
    names = {
        str(font.get_object()["/BaseFont"])
        for page in PdfReader(io.BytesIO(content)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert names and all(("SC" in n or "GB" in n or "Hans" in n) for n in names), names


def test_documents_written_at_once_in_two_threads_each_keep_their_own_font() -> None:
    """fpdf2 writes the font descriptor's object id and font file into it while it outputs a document: each
    document has its own descriptor, so documents written at the same time in two threads stay whole."""
    import threading

    from fpdf import FPDF

    documents: list[tuple[str, bytes]] = []
    barrier = threading.Barrier(2)

    def make(words: str) -> None:
        barrier.wait()
        for _ in range(4):
            doc = FPDF()
            pdffont.add_font(doc)
            doc.add_page()
            doc.set_font("cjk", size=14)
            doc.multi_cell(0, 10, text=words * 20)
            documents.append((words, bytes(doc.output())))

    threads = [threading.Thread(target=make, args=(w,)) for w in ("隔离医学观察通知书", "封控区解封不解防")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(documents) == 8
    for words, content in documents:
        assert words in _text(content).replace("\n", "")
    one, other = FPDF(), FPDF()
    pdffont.add_font(one)
    pdffont.add_font(other)
    parsed = pdffont._parsed_font(pdffont.font_path())
    assert parsed is not None and one.fonts["cjk"].desc is not parsed.template.desc
    assert one.fonts["cjk"].desc is not other.fonts["cjk"].desc
