"""The words of zones for pages and documents: a rule's reason (a code with parameters from the engine) in the
reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.translation import gettext as _

from cordon.engine import zones as engine

from ..models import Kind

register = template.Library()


@register.filter
def reason_text(reason: Mapping[str, Any]) -> str:
    code = reason.get("code", "")
    p = dict(reason.get("params") or {})
    if code == engine.R_CLEAN_DAYS:
        return _("%(days)s days without a case") % {"days": p.get("days", "?")}
    if code == engine.R_ROUND_NEGATIVE:
        return _("round %(round)s all negative on day %(day)s") % {
            "round": p.get("round", ""),
            "day": p.get("day", "?"),
        }
    if code == engine.R_ROUND_PENDING:
        return _("round %(round)s (day %(day)s) still has results pending") % {
            "round": p.get("round", ""),
            "day": p.get("day", "?"),
        }
    if code == engine.R_ROUND_MISSING:
        return _("no all-negative area screening round from day %(day)s yet") % {"day": p.get("day", "?")}
    if code == engine.R_ROUND_POSITIVE:
        return _("round %(round)s found positives") % {"round": p.get("round", "")}
    if code == engine.R_GUARD_OVER:
        return _("guarded for %(days)s days since lifting") % {"days": p.get("days", "?")}
    if code == engine.R_CASE_IN_ZONE:
        return _("a case found in the zone on %(date)s") % {"date": p.get("date", "")}
    if code == engine.R_STRICTER:
        return _("the stricter kind applies: %(kind)s") % {"kind": Kind(p.get("kind", "sealed")).label}
    return str(code)


@register.filter
def reasons_text(reasons: list[Mapping[str, Any]]) -> str:
    return "; ".join(reason_text(r) for r in reasons or [])
