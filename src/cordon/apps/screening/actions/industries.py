"""Key industries: how often the workers of a sector are screened (the overdue list reads these rules).

A rule is owned by a jurisdiction: the city's holds for the whole city, a district may add its own for itself.
Only the owner's level or a level above changes a rule (``require_may_change``), and a rule may tighten a rule
of a level above it but never loosen it: where several rules hold, the stricter does."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import IndustrySector, Jurisdiction
from cordon.core.actions import action
from cordon.core.actors import Actor
from cordon.core.scoping import require_may_change

from ..models import FrequencyRule
from ..selectors import ancestor_paths


def _own_node(actor: Actor | None) -> Jurisdiction | None:
    """The actor's own jurisdiction (the system's: the city, the root of the tree)."""
    if actor is None:
        return geo.city_root()
    node = actor.jurisdiction
    return node if isinstance(node, Jurisdiction) else None


@action
def save_rule(
    *, actor: Actor | None, sector: IndustrySector, every_days: int, jurisdiction: Jurisdiction | None = None,
    source: str = "web",
) -> FrequencyRule:  # fmt: skip
    """Set how often ``sector`` is screened in ``jurisdiction`` (by default the actor's own: the city for the
    city, a district for itself). Refused (403) for a jurisdiction above the actor's or of another district;
    refused (422) when looser than a rule of a level above it."""
    if not 1 <= every_days <= 60:
        raise ValidationError({"every_days": _("Screen every 1 to 60 days.")})
    node = jurisdiction if jurisdiction is not None else _own_node(actor)
    if node is None:
        raise ValidationError({"jurisdiction": _("Unknown jurisdiction.")})
    require_may_change(actor, node)
    above = (
        FrequencyRule.objects.filter(sector=sector, jurisdiction__path__in=ancestor_paths(node.path))
        .select_related("jurisdiction")
        .order_by("every_days")
        .first()
    )
    if above is not None and every_days > above.every_days:
        raise ValidationError(
            {
                "every_days": _(
                    "%(owner)s screens this sector every %(n)d days: a rule here may be as strict or stricter, "
                    "not looser."
                )
                % {
                    "owner": above.jurisdiction.display_name(translation.get_language()),
                    "n": above.every_days,
                }
            }
        )
    rule = FrequencyRule.objects.filter(sector=sector, jurisdiction=node).first()
    if rule is None:
        return audit.create(
            actor, FrequencyRule, source=source, sector=sector, jurisdiction=node, every_days=every_days
        )
    audit.change(actor, rule, source=source, every_days=every_days)
    return rule
