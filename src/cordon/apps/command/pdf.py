"""The daily situation report (疫情日报) as a PDF, bilingual: every label in Chinese and English on one line, as a
headquarters prints one sheet for its own staff and for the liaison officers beside them. It is drawn from the
report's stored figures only (``DailyReport.figures``), so the PDF of a past day made again shows what it showed
then; the page shows the same rows (``rows``). The epidemic curve is a small bar chart drawn with fpdf2's own
lines and rectangles (no chart service, no image). fpdf2 embeds (a subset of) the CJK font ``core/pdffont.py``
finds, as for ``control.pdf`` and ``zones.pdf``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from cordon.core.pdffont import PdfUnavailable as PdfUnavailable
from cordon.core.pdffont import add_font
from cordon.core.pdffont import font_path as font_path

NONE = "—"


@dataclass(frozen=True)
class Row:
    key: str  # stable, for the page's markup and the tests
    zh: str
    en: str
    value: str


@dataclass(frozen=True)
class Section:
    key: str
    zh: str
    en: str
    rows: list[Row]
    note_zh: str = ""
    note_en: str = ""


def _int(v: Any) -> str:
    return NONE if v is None else str(int(v))


def _num(v: Any, digits: int = 2) -> str:
    return NONE if v is None else f"{float(v):.{digits}f}"


def _rt(rt: Mapping[str, Any]) -> str:
    if rt.get("mean") is None:
        return NONE
    return f"{_num(rt['mean'])} ({_num(rt.get('lower'))}–{_num(rt.get('upper'))})"


def _rate(g: Mapping[str, Any]) -> str:
    if g.get("rate") is None:
        return NONE
    return f"{float(g['rate']) * 100:+.1f} %/d"


def _days(v: Any) -> str:
    return NONE if v is None else f"{float(v):.1f} d"


def sections(f: Mapping[str, Any]) -> list[Section]:
    """The report's figures as labelled rows, in print order: the PDF prints them, the page shows them."""
    return [*_case_sections(f), *_state_sections(f), *_work_sections(f)]


def _case_sections(f: Mapping[str, Any]) -> list[Section]:
    """The headline and the contacts pending."""
    h = f["headline"]
    out = [
        Section(
            "headline",
            "新增病例",
            "New cases",
            [
                Row("new", "当日新增", "New today", _int(h["new"])),
                Row("community", "其中社会面发现", "of which found in the community", _int(h["community"])),
                Row("control", "其中管控中发现", "of which found under control", _int(h["control"])),
                Row("yesterday", "前一日新增", "New the day before", _int(h["yesterday"])),
                Row("cumulative", "累计病例", "Cumulative cases", _int(h["cumulative"])),
            ],
        )
    ]
    pending = f.get("pending")
    p = pending or {}
    out.append(
        Section(
            "pending",
            "密接待处置",
            "Contacts pending",
            [
                Row(
                    "to_judge",
                    "待研判",
                    "To judge",
                    _int(p.get("to_judge", {}).get("open")) if pending else NONE,
                ),
                Row(
                    "waiting",
                    "待转运隔离",
                    "To transfer and isolate",
                    _int(p.get("waiting", {}).get("open")) if pending else NONE,
                ),
                Row(
                    "transfers",
                    "转运途中",
                    "In transfer",
                    _int(p.get("transfers", {}).get("open")) if pending else NONE,
                ),
            ],
            *(
                ("", "")
                if pending is not None
                else (
                    "补做的往日报告不含当时待办数。",
                    "Not kept for a past day: this report was made later.",
                )
            ),
        )
    )
    return out


def _state_sections(f: Mapping[str, Any]) -> list[Section]:
    """People under control and zones."""
    out = []
    u = f["under_control"]
    out.append(
        Section(
            "under_control",
            "在管人员",
            "People under control",
            [
                Row("controlled", "管控中", "Under control", _int(u["total"])),
                Row("centralized", "集中隔离", "Centralised isolation", _int(u["centralized"])),
                Row("home", "居家隔离或监测", "Home quarantine or monitoring", _int(u["home"])),
            ],
        )
    )
    z = f["zones"]
    out.append(
        Section(
            "zones",
            "风险区域",
            "Zones",
            [
                Row("sealed", "封控区", "Sealed zones", _int(z["sealed"])),
                Row("controlled_zones", "管控区", "Controlled zones", _int(z["controlled"])),
                Row("prevention", "防范区", "Prevention zones", _int(z["prevention"])),
                Row("guarded", "解封仍防范", "Lifted, still guarded", _int(z["guarded"])),
            ],
        )
    )
    return out


def _work_sections(f: Mapping[str, Any]) -> list[Section]:
    """Screening and the open items overdue; Rt and growth."""
    out = []
    items = f.get("open_items")
    overdue = sum(int(v["overdue"]) for v in items.values()) if items is not None else None
    out.append(
        Section(
            "work",
            "筛查与清零",
            "Screening and daily zero",
            [
                Row("sampled", "当日采样", "Samples taken", _int(f["sampled"])),
                Row("overdue", "逾期未清零事项", "Open items overdue", _int(overdue)),
                *(
                    Row(
                        f"overdue_{k}",
                        f"　{v['zh']}",
                        f"  {v['en']}",
                        f"{_int(v['overdue'])} / {_int(v['open'])}",
                    )
                    for k, v in (items or {}).items()
                    if int(v["open"])
                ),
            ],
        )
    )
    rt = f["rt"]
    growth = {int(g["days"]): g for g in f["growth"]}
    g7, g14 = growth.get(7, {}), growth.get(14, {})
    out.append(
        Section(
            "trend",
            "传播趋势",
            "Trend",
            [
                Row("rt", "实时再生数 Rt (95%区间)", "Rt (95% interval)", _rt(rt)),
                Row("growth_7", "近7日增长率", "Growth, last 7 days", _rate(g7)),
                Row("doubling_7", "倍增时间", "Doubling time", _days(g7.get("doubling"))),
                Row("growth_14", "近14日增长率", "Growth, last 14 days", _rate(g14)),
            ],
            *(
                ("Rt 估计不确定（变异系数过高）。", "Rt is uncertain (its coefficient of variation is high).")
                if rt.get("warning")
                else ("", "")
            ),
        )
    )
    return out


def clusters(f: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(f.get("clusters") or [])


def _area_name(f: Mapping[str, Any]) -> tuple[str, str]:
    a = f["area"]
    return a["name"], a.get("name_en") or a["name"]


def _local(iso: str) -> str:
    try:
        return timezone.localtime(dt.datetime.fromisoformat(iso)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def _curve(pdf: Any, curve: Mapping[str, Sequence[Any]], x: float, y: float, w: float, h: float) -> None:
    """The last weeks' new cases per report day as stacked bars: found in the community (red) under found under
    control (blue), with the largest day's count on the axis."""
    dates = list(curve["dates"])
    community = [int(v) for v in curve["community"]]
    controlled = [int(v) for v in curve["control"]]
    top = max([a + b for a, b in zip(community, controlled, strict=True)] or [0]) or 1
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    pdf.line(x, y + h, x + w, y + h)
    pdf.line(x, y, x, y + h)
    pdf.set_font("cjk", size=7)
    pdf.set_text_color(90, 90, 90)
    pdf.text(x - 8, y + 2, str(top))
    pdf.text(x - 3, y + h, "0")
    n = max(len(dates), 1)
    step = w / n
    for i, (a, b) in enumerate(zip(community, controlled, strict=True)):
        bx = x + i * step + step * 0.15
        bw = step * 0.7
        ha, hb = h * a / top, h * b / top
        if hb:
            pdf.set_fill_color(11, 92, 173)
            pdf.rect(bx, y + h - hb, bw, hb, style="F")
        if ha:
            pdf.set_fill_color(200, 30, 30)
            pdf.rect(bx, y + h - hb - ha, bw, ha, style="F")
    if dates:
        pdf.text(x, y + h + 4, dates[0][5:])
        pdf.text(x + w - 8, y + h + 4, dates[-1][5:])
    pdf.set_fill_color(200, 30, 30)
    pdf.rect(x + w - 70, y - 5, 3, 3, style="F")
    pdf.text(x + w - 66, y - 2.5, "社会面 community")
    pdf.set_fill_color(11, 92, 173)
    pdf.rect(x + w - 36, y - 5, 3, 3, style="F")
    pdf.text(x + w - 32, y - 2.5, "管控中 under control")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)


def _section(pdf: Any, s: Section) -> None:
    pdf.set_font("cjk", size=11)
    pdf.set_fill_color(235, 240, 247)
    pdf.cell(0, 7, f"{s.zh}  {s.en}", fill=True, new_x="LMARGIN", new_y="NEXT")
    for r in s.rows:
        pdf.set_font("cjk", size=9.5)
        pdf.cell(60, 5.6, r.zh)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(80, 5.6, r.en)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("cjk", size=10)
        pdf.cell(0, 5.6, r.value, align="R", new_x="LMARGIN", new_y="NEXT")
    if s.note_zh:
        pdf.set_font("cjk", size=8)
        pdf.set_text_color(150, 60, 0)
        pdf.cell(0, 5, f"{s.note_zh} {s.note_en}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(1.5)


def daily_report_pdf(f: Mapping[str, Any], made_by: str = "") -> bytes:
    """The PDF of one report's stored figures."""
    from fpdf import FPDF

    zh_name, en_name = _area_name(f)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.set_margins(16, 12, 16)
    add_font(pdf)
    pdf.set_creator("Cordon")
    pdf.set_title(f"{zh_name} {f['day']}")
    pdf.add_page()
    pdf.set_font("cjk", size=17)
    pdf.cell(0, 9, f"{zh_name}疫情防控日报", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 6, f"{en_name}: daily situation report", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(
        0,
        5,
        f"{f['day']}  数据截至 Figures as of {_local(f['as_of'])}",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if f.get("reconstructed"):
        pdf.set_text_color(150, 60, 0)
        pdf.cell(
            0, 5, "事后补做：按当日记录重算 Made after the day, from the records as of its end", align="C",
            new_x="LMARGIN", new_y="NEXT",
        )  # fmt: skip
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    for s in sections(f):
        _section(pdf, s)
    pdf.set_font("cjk", size=11)
    pdf.set_fill_color(235, 240, 247)
    pdf.cell(
        0,
        7,
        "流行曲线（按报告日）  Epidemic curve (by report date)",
        fill=True,
        new_x="LMARGIN",
        new_y="NEXT",
    )
    top = pdf.get_y() + 8
    if top + 40 > pdf.h - 30:
        pdf.add_page()
        top = pdf.get_y() + 8
    _curve(pdf, f["curve"], pdf.l_margin + 8, top, pdf.w - pdf.l_margin - pdf.r_margin - 10, 30)
    pdf.set_y(top + 37)
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, "增长最快的聚集性疫情  Clusters growing fastest", fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    found = clusters(f)
    if not found:
        pdf.cell(0, 5.6, "近7日无 None in the last 7 days", new_x="LMARGIN", new_y="NEXT")
    for c in found:
        pdf.cell(100, 5.6, f"{c['code']} {c['name']}")
        pdf.cell(
            0, 5.6, f"近7日 last 7 d {c['last_7']}  前7日 previous 7 d {c['previous_7']}  累计 total {c['cases']}",
            align="R", new_x="LMARGIN", new_y="NEXT",
        )  # fmt: skip
    pdf.ln(3)
    pdf.set_font("cjk", size=8)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(
        0, 5, f"生成 Made {_local(f['computed_at'])}  {made_by}", align="R", new_x="LMARGIN", new_y="NEXT"
    )
    return bytes(pdf.output())
