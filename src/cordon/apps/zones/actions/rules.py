"""The zone rules' actions: the default rule sets stored once, a new version put in force (rules are data,
editable by the city)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo import selectors as geo_selectors
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none
from cordon.core.scoping import require_may_change
from cordon.engine import zones as engine

from .. import selectors
from ..models import ZoneRuleSet


@action
def load_default_rules(*, actor: Actor | None = None, source: str = "system") -> int:
    """Store the default rule sets, the 9th edition in force, where none was ever stored (installation, a
    flushed database); returns how many were stored."""
    if selectors.rules_ever_set():
        return 0
    for rules in engine.DEFAULT_RULE_SETS:
        name, name_zh = engine.RULE_NAMES[rules.code]
        audit.create(
            actor, ZoneRuleSet, source=source, code=rules.code, version=1, name=name, name_zh=name_zh,
            definition=engine.rules_to_json(rules), in_force=rules is engine.NINTH_EDITION, note="default",
        )  # fmt: skip
    return len(engine.DEFAULT_RULE_SETS)


def _rules() -> ZoneRuleSet:
    """The rule set in force; the defaults are stored first where none was ever stored."""
    if not selectors.rules_ever_set():
        load_default_rules()
    return selectors.rules_in_force()


@action
def put_rules_in_force(
    *, actor: Actor | None, code: str, definition: Any, name: str, note: str = "", source: str = "web"
) -> ZoneRuleSet:
    """A new version of rule set ``code`` (or a new rule set), put in force; the one in force before leaves
    it. The definition is checked by the engine first: a rule that cannot be read changes nothing."""
    city = geo_selectors.city_root()
    if city is not None:
        require_may_change(actor, city)  # the rules are the city's
    code = (code or "").strip()
    if not code:
        raise ValidationError({"code": _("A code is required.")})
    try:
        engine.parse_rules(code, definition)
    except engine.RuleError as exc:
        raise ValidationError({"definition": _("The rule cannot be used: %(why)s.") % {"why": exc}}) from None
    current = ZoneRuleSet.objects.filter(in_force=True).first()
    if current is not None:
        audit.change(actor, current, source=source, in_force=False)
    last = ZoneRuleSet.objects.filter(code=code).order_by("-version").first()
    return audit.create(
        actor,
        ZoneRuleSet,
        source=source,
        code=code,
        version=(last.version + 1) if last else 1,
        name=(name or "").strip()[:200] or (last.name if last else code),
        name_zh=last.name_zh if last else "",
        definition=engine.rules_to_json(engine.parse_rules(code, definition)),
        in_force=True,
        note=(note or "").strip()[:300],
        created_by=user_or_none(actor),
    )
