"""The printable zone notice (封控区/管控区/防范区通告), bilingual: the zone's kind, name and code, its boundary as an
outline plot (the drawn polygon, or the outline of its buildings' points), the rules of its kind from the rule
set in force, its start, responsible commander and issuing jurisdiction. fpdf2 embeds (a subset of) the CJK font
``core/pdffont.py`` finds, as for ``control.pdf``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from cordon.core.pdffont import PdfUnavailable as PdfUnavailable
from cordon.core.pdffont import add_font
from cordon.core.pdffont import font_path as font_path
from cordon.engine import zones as engine

from .models import Zone

KIND_WORDS = {  # kind -> (Chinese, English)
    engine.SEALED: ("封控区", "Sealed zone"),
    engine.CONTROLLED: ("管控区", "Controlled zone"),
    engine.PREVENTION: ("防范区", "Prevention zone"),
}
KIND_RULES = {  # what applies inside a zone of each kind: (Chinese, English)
    engine.SEALED: ("足不出户，上门服务。", "Stay at home; services come to the door."),
    engine.CONTROLLED: ("人不出区，严禁聚集。", "Do not leave the zone; no gatherings."),
    engine.PREVENTION: ("强化社会面管控，严格限制人员聚集。", "Strict social controls; gatherings limited."),
}
STATE_WORDS = {
    engine.PROPOSED: ("拟划定", "Proposed"),
    engine.IN_FORCE: ("生效中", "In force"),
    engine.GUARDED: ("已解封，仍防范", "Lifted, still guarded"),
    engine.CLOSED: ("已结束", "Closed"),
}


def _day(value: dt.date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "—"


def _row(pdf: Any, zh: str, en: str, value: str) -> None:
    pdf.set_font("cjk", size=10)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(52, 7, f"{zh} {en}")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=11)
    pdf.multi_cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")


def _rings(zone: Zone) -> list[list[tuple[float, float]]]:
    """The outer rings of the zone's drawn or imported boundary (none: only its buildings' points are drawn)."""
    if zone.boundary:
        try:
            return [list(poly[0]) for poly in engine.polygons_of(zone.boundary)]
        except engine.GeometryError:
            pass
    return []


def _plot(
    pdf: Any, zone: Zone, points: Sequence[tuple[float, float]], x: float, y: float, size: float
) -> None:
    """The boundary (or the buildings' points) scaled into a ``size`` square at (x, y), north up."""
    rings = _rings(zone)
    xs = [p[0] for r in rings for p in r] + [p[0] for p in points]
    ys = [p[1] for r in rings for p in r] + [p[1] for p in points]
    pdf.set_draw_color(150, 150, 150)
    pdf.rect(x, y, size, size)
    if not xs:
        return
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    span = max(x1 - x0, y1 - y0, 1e-5) * 1.1
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

    def at(lon: float, lat: float) -> tuple[float, float]:
        return x + size / 2 + (lon - cx) / span * size, y + size / 2 - (lat - cy) / span * size

    pdf.set_draw_color(*((200, 30, 30) if zone.kind == engine.SEALED else (220, 120, 0)))
    pdf.set_line_width(0.6)
    for ring in rings:
        pdf.polygon([at(lon, lat) for lon, lat in ring], style="D")
    pdf.set_line_width(0.2)
    pdf.set_fill_color(11, 92, 173)
    for lon, lat in points:
        px, py = at(lon, lat)
        pdf.circle(x=px, y=py, radius=0.6, style="F")
    pdf.set_draw_color(0, 0, 0)


def _rules_text(zone: Zone, rules: Any) -> list[tuple[str, str]]:
    zh, en = KIND_RULES.get(zone.kind, ("", ""))
    out = [(zh, en)]
    if rules is None:
        return out
    try:
        rs = rules.rules
    except (engine.RuleError, KeyError, TypeError, ValueError):
        return out
    rule = rs.kinds.get(zone.kind)
    if rule is not None:
        then = KIND_WORDS.get(rule.then or "", ("", ""))
        end_zh = f"转为{then[0]}" if rule.then else "解除"
        end_en = f"becomes a {then[1].lower()}" if rule.then else "is lifted"
        if rule.round_day is not None:
            out.append(
                (
                    f"连续{rule.clean_days}天无新增感染者且第{rule.round_day}天区域核酸筛查全部阴性，{end_zh}。",
                    f"After {rule.clean_days} days without a new case and an all-negative area screening on "
                    f"day {rule.round_day}, the zone {end_en}.",
                )
            )
        else:
            out.append(
                (
                    f"连续{rule.clean_days}天无新增感染者，{end_zh}。",
                    f"After {rule.clean_days} days without a new case, the zone {end_en}.",
                )
            )
    out.append(
        (
            f"解封后继续防范{rs.guard_days}天。",
            f"Once lifted, the zone stays guarded for {rs.guard_days} days.",
        )
    )
    names = engine.RULE_NAMES.get(rs.code)
    out.append((f"依据：{names[1] if names else rs.code}", f"Under: {names[0] if names else rs.code}"))
    return out


def zone_notice(zone: Zone, facts: dict[str, Any], issued: dt.date | None = None) -> bytes:
    from fpdf import FPDF

    issued = issued or timezone.localdate()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    add_font(pdf)
    pdf.set_creator("Cordon")
    pdf.set_title(f"{zone.code} {zone.name}")
    pdf.set_subject(zone.code)
    pdf.add_page()
    kind_zh, kind_en = KIND_WORDS.get(zone.kind, (zone.kind, zone.kind))
    pdf.set_font("cjk", size=20)
    pdf.cell(0, 12, f"关于划定{kind_zh}的通告", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 7, f"Notice of a {kind_en.lower()}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(0, 6, zone.code, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    owner = zone.owner
    state = STATE_WORDS.get(zone.state, (zone.state, zone.state))
    commander = zone.commander
    _row(pdf, "名称", "Name", zone.name)
    _row(pdf, "类别", "Kind", f"{kind_zh} {kind_en}")
    _row(pdf, "状态", "State", f"{state[0]} {state[1]}")
    _row(pdf, "起始日期", "Starts", _day(zone.in_force_on or zone.starts_on))
    _row(pdf, "楼栋 / 人口", "Buildings / residents", f"{facts['buildings']} / {facts['population']}")
    _row(
        pdf, "责任指挥", "Responsible commander",
        (commander.get_full_name() or commander.get_username()) if commander else "—",
    )  # fmt: skip
    _row(pdf, "发布单位", "Issued by", f"{owner.name} {owner.name_en or ''}".strip())
    pdf.ln(2)
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, "范围 Boundary", new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y()
    _plot(pdf, zone, facts["points"], pdf.l_margin, top, 90)
    pdf.set_y(top + 93)
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, "管控措施 Rules", new_x="LMARGIN", new_y="NEXT")
    for zh, en in _rules_text(zone, facts["rules"]):
        pdf.set_font("cjk", size=11)
        pdf.multi_cell(0, 6, zh, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9)
        pdf.multi_cell(0, 5, en, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, f"{owner.name}疫情防控指挥部  {owner.name_en or owner.name} Epidemic Prevention and Control HQ",
             align="R", new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.cell(0, 7, _day(issued), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
