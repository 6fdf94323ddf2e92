"""Quarantine plans: a new version put in force by an administrator, the profile's defaults put in force by
the system where no plan was ever set."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo import selectors as geo
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none
from cordon.core.scoping import require_may_change
from cordon.engine import quarantine as engine

from .. import selectors
from ..models import AppliesTo, QuarantinePlan


def _next_version(profile: str, code: str) -> int:
    return (
        QuarantinePlan.objects.filter(profile=profile, code=code).aggregate(v=Max("version"))["v"] or 0
    ) + 1


@action
def save_plan_version(
    *, actor: Actor | None, applies_to: str, definition: dict[str, Any], note: str, profile: str | None = None,
    source: str = "web",
) -> QuarantinePlan:  # fmt: skip
    """A new version of the plan for ``applies_to``, put in force (the previous one stays for the placements
    made under it). A plan holds for the whole city: only the city's level changes it, not an administrator
    of a district."""
    city = geo.city_root()
    if city is not None:
        require_may_change(actor, city)
    profile = profile or selectors.profile_id()
    if applies_to not in AppliesTo.values:
        raise ValidationError({"applies_to": _("Unknown kind of contact.")})
    definition = {**definition, "applies_to": applies_to}
    try:
        plan = engine.parse_plan(definition)
    except engine.PlanError as exc:
        raise ValidationError({"definition": "; ".join(exc.problems)}) from None
    if not note.strip():
        raise ValidationError({"note": _("Say why the plan changes.")})
    current = (
        QuarantinePlan.objects.select_for_update(of=("self",))
        .filter(profile=profile, applies_to=applies_to, in_force=True)
        .first()
    )
    if current is not None and current.definition == plan.to_dict():
        raise ValidationError({"definition": _("Nothing changed.")})
    version = _next_version(profile, plan.code)
    if current is not None:
        audit.change(actor, current, in_force=False, source=source)
    return audit.create(
        actor,
        QuarantinePlan,
        source=source,
        profile=profile,
        code=plan.code,
        version=version,
        applies_to=applies_to,
        name=plan.name,
        name_zh=plan.name_zh,
        definition=plan.to_dict(),
        in_force=True,
        note=note.strip()[:300],
        created_by=user_or_none(actor),
    )


@action
def load_default_plans(
    *,
    actor: Actor | None = None,
    profile: str | None = None,
    applies_to: Iterable[str] | None = None,
    source: str = "system",
) -> int:
    """Put the profile's default plans (of the kinds ``applies_to``, default all) in force where no plan is
    (installation, tests, the demo, and a judgment where no plan was ever set). Returns how many were put in
    force."""
    profile = profile or selectors.profile_id()
    kinds = set(applies_to) if applies_to is not None else None
    made = 0
    for plan in engine.default_plans(profile):
        if kinds is not None and plan.applies_to not in kinds:
            continue
        if QuarantinePlan.objects.filter(profile=profile, applies_to=plan.applies_to, in_force=True).exists():
            continue
        audit.create(
            actor,
            QuarantinePlan,
            source=source,
            profile=profile,
            code=plan.code,
            version=_next_version(profile, plan.code),
            applies_to=plan.applies_to,
            name=plan.name,
            name_zh=plan.name_zh,
            definition=plan.to_dict(),
            note="profile default",
        )
        made += 1
    return made


def _plans_in_force(kinds: Iterable[str]) -> dict[str, QuarantinePlan]:
    """The plan in force for each kind of contact. Where no plan was ever set for a kind under the profile (a
    database flushed or restored without the installation's data), the system puts the profile's default in
    force first; a kind whose plan an administrator has withdrawn stays without one, and is refused with the
    reason."""
    profile = selectors.profile_id()
    wanted = sorted(set(kinds))
    never = [a for a in wanted if not selectors.plan_ever_set(a, profile)]
    if never:
        load_default_plans(actor=None, profile=profile, applies_to=never)
    return {a: selectors.plan_in_force(a, profile) for a in wanted}
