"""Bilingual PDF documents of control: the quarantine order (隔离医学观察通知书), singly or many in one file,
and the release certificate (解除隔离医学观察证明). fpdf2 embeds (a subset of) the CJK font ``core/pdffont.py``
finds: ``CORDON_PDF_FONT``, or the first one among the usual system fonts (Debian: fonts-noto-cjk)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.utils import timezone

from cordon.core.pdffont import PdfUnavailable as PdfUnavailable
from cordon.core.pdffont import add_font
from cordon.core.pdffont import font_path as font_path
from cordon.engine.identity import mask

from .models import ControlOrder, PlacementMode


def _doc() -> Any:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    add_font(pdf)
    pdf.set_creator("Cordon")
    return pdf


def _day(value: dt.date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "—"


def _row(pdf: Any, zh: str, en: str, value: str) -> None:
    pdf.set_font("cjk", size=10)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(48, 7, f"{zh} {en}")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=11)
    pdf.multi_cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")


def _title(pdf: Any, zh: str, en: str, number: str) -> None:
    pdf.set_font("cjk", size=18)
    pdf.cell(0, 11, zh, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 7, en, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(0, 6, number, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(3)


def _place(order: ControlOrder) -> str:
    placement = order.placements.select_related("site", "room", "building").order_by("-reserved_at").first()
    if placement is None:
        return "—"
    if placement.mode == PlacementMode.HOME:
        return f"居家 At home: {placement.building.address if placement.building else ''}"
    room = placement.room.number if placement.room else ""
    site = placement.site
    return f"{site.name if site else ''} {site.name_en if site and site.name_en else ''} {room}".strip()


def _footer(pdf: Any, order: ControlOrder, issued: dt.date) -> None:
    pdf.ln(6)
    pdf.set_font("cjk", size=11)
    district = order.district.name
    district_en = order.district.name_en or ""
    pdf.cell(0, 7, f"{district}疫情防控指挥部  {district_en} Epidemic Prevention and Control HQ", align="R",
             new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.cell(0, 7, _day(issued), align="R", new_x="LMARGIN", new_y="NEXT")


def _identity(order: ControlOrder, full_id: bool) -> str:
    nid = order.person.national_id or ""
    return nid if full_id else mask(nid) if nid else "—"


def quarantine_orders(
    orders: Sequence[ControlOrder], *, full_id: bool, progress: Callable[[int, int], None] | None = None
) -> bytes:
    """One page per order: who, why, where, from and until when, and the test days. ``progress(done, total)``
    is told before each page (a batch's job)."""
    pdf = _doc()
    today = timezone.localdate()
    for done, order in enumerate(orders):
        if progress is not None:
            progress(done, len(orders))
        pdf.add_page()
        _title(pdf, "隔离医学观察通知书", "Notice of Quarantine (Medical Observation)", order.code)
        sched = order.schedule()
        plan = order.plan
        _row(pdf, "姓名", "Name", order.person.name)
        _row(pdf, "身份证号", "National ID", _identity(order, full_id))
        building = order.person.home_building
        _row(pdf, "住址", "Address", building.address if building else "—")
        _row(pdf, "原因", "Reason",
             f"{'密切接触者' if order.degree == 1 else '密接的密接'} / "
             f"{'close contact' if order.degree == 1 else 'secondary contact'}  ({order.case.code})")  # fmt: skip
        _row(pdf, "方案", "Plan", f"{plan.name_zh or plan.name}\n{plan.name}  (v{plan.version})")
        _row(pdf, "地点", "Place", _place(order))
        if sched is not None:
            _row(pdf, "期限", "Period", f"{_day(sched.start)} — {_day(sched.last_day)}")
            _row(pdf, "核酸检测", "PCR tests", ", ".join(_day(t.on) for t in sched.tests))
        else:
            _row(pdf, "期限", "Period", f"{plan.plan.total_days} 天 days")
        pdf.ln(3)
        pdf.set_font("cjk", size=10)
        pdf.multi_cell(
            0,
            6,
            "根据《中华人民共和国传染病防治法》，请您配合隔离医学观察，期间不得外出，每日报告体温和症状，按时接受核酸检测。\n"
            "Under the Law on the Prevention and Treatment of Infectious Diseases, please stay in quarantine for the "
            "period above, report your temperature and symptoms every day and take the scheduled PCR tests.",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        _footer(pdf, order, today)
    if progress is not None:
        progress(len(orders), len(orders))
    return bytes(pdf.output())


def release_certificate(order: ControlOrder, *, full_id: bool) -> bytes:
    pdf = _doc()
    pdf.add_page()
    _title(pdf, "解除隔离医学观察证明", "Certificate of Release from Quarantine", order.certificate_no)
    sched = order.schedule()
    tests = list(order.sample_tasks.filter(status="negative").order_by("due_on"))
    released = timezone.localtime(order.closed_at).date() if order.closed_at else None
    _row(pdf, "姓名", "Name", order.person.name)
    _row(pdf, "身份证号", "National ID", _identity(order, full_id))
    _row(
        pdf,
        "方案",
        "Plan",
        f"{order.plan.name_zh or order.plan.name}\n{order.plan.name}  (v{order.plan.version})",
    )
    if sched is not None:
        _row(pdf, "期限", "Period", f"{_day(sched.start)} — {_day(sched.last_day)}")
    _row(pdf, "核酸阴性", "Negative PCR", ", ".join(_day(t.due_on) for t in tests) or "—")
    _row(pdf, "解除日期", "Released on", _day(released))
    pdf.ln(3)
    pdf.set_font("cjk", size=10)
    pdf.multi_cell(
        0,
        6,
        "该人员已完成隔离医学观察，核酸检测结果均为阴性，予以解除。\n"
        "This person has completed quarantine with every PCR test negative and is released.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    _footer(pdf, order, released or timezone.localdate())
    return bytes(pdf.output())
