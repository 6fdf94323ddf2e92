"""Key industries: how often the workers of a sector are screened (the overdue list reads these rules)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import IndustrySector
from cordon.core.actions import action
from cordon.core.actors import Actor

from ..models import FrequencyRule


@action
def save_rule(
    *, actor: Actor | None, sector: IndustrySector, every_days: int, source: str = "web"
) -> FrequencyRule:
    if not 1 <= every_days <= 60:
        raise ValidationError({"every_days": _("Screen every 1 to 60 days.")})
    rule = FrequencyRule.objects.filter(sector=sector).first()
    if rule is None:
        return audit.create(actor, FrequencyRule, source=source, sector=sector, every_days=every_days)
    audit.change(actor, rule, source=source, every_days=every_days)
    return rule
