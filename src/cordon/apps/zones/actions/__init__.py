"""Every write to zones (one ``@action`` each: one transaction, audited).

A zone is created as a proposal (state ``proposed``, with a proposed ``put_in_force`` transition); every later
change of state or kind is a transition proposed by a person or by the daily evaluation and decided by a person
(``decide``), or proposed and confirmed at once by a commander (``transition``). Nothing lifts on its own.
Ownership: the zone's owner level and the levels above it change it (``require_may_change``)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import Building, Jurisdiction
from cordon.apps.screening import actions as screening
from cordon.apps.tracing.models import Case, Control
from cordon.core import bulk, locks
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none
from cordon.core.inputs import date_problem, text_problem
from cordon.core.scoping import require_may_change
from cordon.engine import zones as engine

from .. import selectors
from ..models import (
    Kind,
    Reason,
    State,
    TransitionStatus,
    Zone,
    ZoneAction,
    ZoneBuilding,
    ZoneCase,
    ZoneRuleSet,
    ZoneTransition,
)

# A zone's code names it in URLs (``/zones/<code>/``) and its rounds (``<code>-R<n>``, within a round's 40).
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,34}")
RESERVED_CODES = {"new", "map", "proposals", "evaluate", "rules", "transitions"}

# Proposals are recorded one writer at a time (the evaluation, a commander's proposal, a new case's reaction),
# each checking under the lock that the same step is not open already: no zone gets the same step twice.
PROPOSALS_LOCK = "zones.evaluate"


def geometry_error(code: str) -> str:
    messages = {
        "not_closed": _("The polygon does not close: its last point must be its first."),
        "too_few_points": _("A polygon needs at least three corners."),
        "not_polygon": _(
            "Give a GeoJSON Polygon or MultiPolygon (a geometry, Feature or FeatureCollection)."
        ),
        "bad_coordinates": _("The polygon's coordinates are not [longitude, latitude] pairs."),
        "too_many_points": _("The boundary has more than %(n)s corners: simplify it.")
        % {"n": f"{engine.MAX_POINTS:,}"},
        "bad_json": _("This is not valid GeoJSON."),
    }
    return messages.get(code, messages["bad_json"])


def parse_boundary(value: Any) -> tuple[Any, list[list[engine.Ring]]]:
    """A boundary given as GeoJSON text or an already parsed value: (the value, its polygons);
    ``ValidationError`` on ``boundary`` when it cannot be used."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError({"boundary": geometry_error("bad_json")}) from None
    try:
        return value, engine.polygons_of(value)
    except engine.GeometryError as exc:
        raise ValidationError({"boundary": geometry_error(exc.code)}) from None


@dataclass
class ZoneData:
    name: str
    kind: str
    owner: Jurisdiction | None
    starts_on: dt.date | None = None
    code: str = ""
    reason: str = Reason.CASES
    reason_note: str = ""
    commander: Any = None
    cases: Sequence[Case] = ()
    # How the buildings are chosen (any together): areas (communities, grids, streets), buildings, a boundary.
    areas: Sequence[Jurisdiction] = ()
    buildings: Sequence[Building] = ()
    boundary: Any = None  # GeoJSON (text or value): the buildings whose point lies inside are taken
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _next_code(today: dt.date) -> str:
    prefix = f"Z-{today:%Y%m%d}-"
    n = Zone.objects.filter(code__startswith=prefix).count() + 1
    while Zone.objects.filter(code=f"{prefix}{n:04d}").exists():
        n += 1
    return f"{prefix}{n:04d}"


def _building_ids(data: ZoneData, errors: dict[str, str]) -> tuple[list[int], Any]:
    assert data.owner is not None
    ids: dict[int, None] = {}
    boundary = None
    if data.boundary not in (None, ""):
        try:
            boundary, polygons = parse_boundary(data.boundary)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
        else:
            inside = selectors.buildings_in_polygons(data.owner, polygons)
            if not inside:
                errors["boundary"] = _("The polygon covers no building of %(owner)s.") % {"owner": data.owner}
            ids.update(dict.fromkeys(inside))
    outside = selectors.buildings_outside(data.owner, [b.pk for b in data.buildings])
    outside += [a.code for a in data.areas if not data.owner.contains(a)]
    if outside:
        errors["buildings"] = _("Outside %(owner)s: %(codes)s.") % {
            "owner": data.owner,
            "codes": ", ".join(outside),
        }
    ids.update(dict.fromkeys(b.pk for b in data.buildings))
    ids.update(dict.fromkeys(selectors.buildings_under(data.owner, list(data.areas))))
    return list(ids), boundary


@action
def create_zone(*, actor: Actor | None, data: ZoneData, source: str = "web") -> Zone:
    """A new zone, proposed (to be put in force by a commander): its buildings from the areas, buildings and
    boundary given, all inside the owner's territory. Refused whole, nothing written, on any problem."""
    errors: dict[str, str] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = _("A name is required.")
    if data.kind not in Kind.values:
        errors["kind"] = _("Choose sealed, controlled or prevention.")
    if data.reason not in Reason.values:
        errors["reason"] = _("Unknown reason.")
    if problem := text_problem(Zone, "name", name):
        errors["name"] = problem
    code = (data.code or "").strip()
    if code and (not CODE.fullmatch(code) or code.isdigit() or code.lower() in RESERVED_CODES):
        errors["code"] = _(
            "A code is up to 35 letters, digits, hyphens or underscores, starting with a letter or digit, not "
            "digits alone and not a word the zone pages use (new, map, proposals, evaluate, rules)."
        )
    elif code and Zone.objects.filter(code=code).exists():
        errors["code"] = _("This code is already used.")
    if data.starts_on is not None:
        if problem := date_problem(data.starts_on):
            errors["starts_on"] = problem
        elif data.starts_on > timezone.localdate():
            errors["starts_on"] = _("A zone starts today or on an earlier day.")
    if data.owner is None:
        errors["owner"] = _("Say which level owns the zone.")
        raise ValidationError(errors)
    require_may_change(actor, data.owner)
    ids, boundary = _building_ids(data, errors)
    if not ids and not errors:
        errors["buildings"] = _("Choose the zone's buildings: areas, buildings or a polygon.")
    if errors:
        raise ValidationError(errors)
    today = timezone.localdate()
    zone = audit.create(
        actor,
        Zone,
        source=source,
        code=code or _next_code(today),
        name=name,
        kind=data.kind,
        state=State.PROPOSED,
        reason=data.reason,
        reason_note=(data.reason_note or "").strip()[:300],
        owner=data.owner,
        commander=data.commander,
        starts_on=data.starts_on or today,
        boundary=boundary,
        created_by=user_or_none(actor),
    )
    members = ZoneBuilding.objects.bulk_create([ZoneBuilding(zone=zone, building_id=b) for b in ids])
    audit.record_bulk_create(actor, members, source=source)
    links = ZoneCase.objects.bulk_create([ZoneCase(zone=zone, case=c) for c in dict.fromkeys(data.cases)])
    audit.record_bulk_create(actor, links, source=source)
    last = max((timezone.localtime(c.sampled_at).date() for c in data.cases), default=None)
    if last is not None:
        audit.change(actor, zone, source=source, last_case_on=last)
    _propose(actor, zone, engine.PUT_IN_FORCE, zone.kind, note=data.note, source=source)
    return zone


def _propose(
    actor: Actor | None,
    zone: Zone,
    act: str,
    to_kind: str,
    *,
    note: str = "",
    reasons: Sequence[engine.Reason] = (),
    source: str,
    rules: ZoneRuleSet | None = None,
) -> ZoneTransition:
    return audit.create(
        actor,
        ZoneTransition,
        source=source,
        zone=zone,
        action=act,
        from_state=zone.state,
        to_state=engine.TARGET_STATE[act],
        from_kind=zone.kind,
        to_kind=to_kind,
        reasons=[r.to_json() for r in reasons],
        rule_set=rules,
        proposed_by=user_or_none(actor),
        proposed_on=timezone.localdate(),
        note=(note or "").strip()[:500],
    )


def _target_kind(zone: Zone, act: str, to_kind: str | None) -> str:
    if act in (engine.ESCALATE, engine.DOWNGRADE):
        if to_kind not in Kind.values:
            raise ValidationError({"kind": _("Choose the zone's new kind.")})
        assert to_kind is not None
        up = engine.STRICTNESS[to_kind] > engine.STRICTNESS[zone.kind]
        if (act == engine.ESCALATE) != up or to_kind == zone.kind:
            raise ValidationError(
                {"kind": _("Escalating makes a zone stricter; downgrading makes it less strict.")}
            )
        return to_kind
    return zone.kind


@action
def propose(
    *,
    actor: Actor | None,
    zone: Zone,
    act: str,
    to_kind: str | None = None,
    note: str = "",
    source: str = "web",
) -> ZoneTransition:
    """Propose a transition of ``zone`` for a commander to decide."""
    require_may_change(actor, zone.owner)
    if act not in ZoneAction.values or not engine.action_allowed(act, zone.state):
        raise ValidationError(
            {
                "action": _("This step is not possible for a zone that is %(state)s.")
                % {"state": State(zone.state).label}
            }
        )
    kind = _target_kind(zone, act, to_kind)
    locks.exclusive(PROPOSALS_LOCK)
    if selectors.open_proposal(zone, act) is not None:
        raise ValidationError({"action": _("This step is already proposed and waits for a decision.")})
    return _propose(actor, zone, act, kind, note=note, source=source)


def _apply(actor: Actor | None, zone: Zone, t: ZoneTransition, *, source: str, today: dt.date) -> None:
    """The zone's fields after a decided transition: as ``engine.applied`` moves a zone (the simulator moves its
    zones with it too), plus the guard's end of a lift and the day a zone is closed."""
    before = engine.ZoneFacts(
        zone.pk,
        zone.kind,
        zone.state,
        zone.in_force_on,
        None,
        guarded_on=zone.guarded_on,
        case_since_in_force=zone.case_flag,
    )
    after = engine.applied(before, t.action, t.to_kind, today)
    fields: dict[str, Any] = {
        "state": after.state,
        "kind": after.kind,
        "in_force_on": after.in_force_on,
        "guarded_on": after.guarded_on,
        "case_flag": after.case_since_in_force,
    }
    if t.action in (engine.PUT_IN_FORCE, engine.REINSTATE):
        fields["guarded_until"] = None
    elif t.action == engine.LIFT:
        fields["guarded_until"] = today + dt.timedelta(days=_rules().rules.guard_days)
    elif t.action in (engine.CLOSE, engine.WITHDRAW):
        fields["closed_on"] = today
    audit.change(actor, zone, source=source, **fields)  # only the fields that change are written and audited


@action
def decide(
    *,
    actor: Actor | None,
    transition: ZoneTransition,
    confirm: bool,
    note: str = "",
    source: str = "web",
    today: dt.date | None = None,
) -> ZoneTransition:
    """Confirm (the zone moves) or reject a proposed transition, saying why. A lift is refused while a
    screening round's result over the zone is still pending; a step the zone's state no longer allows is
    refused. Other open proposals of the zone that no longer apply are closed as superseded."""
    zone = Zone.objects.select_for_update().get(pk=transition.zone_id)
    transition.zone = zone
    require_may_change(actor, zone.owner)
    if transition.status != TransitionStatus.PROPOSED:
        raise ValidationError({"transition": _("This proposal was already decided.")})
    today = today or timezone.localdate()
    now = timezone.now()
    if confirm:
        if not engine.action_allowed(transition.action, zone.state) or transition.from_kind != zone.kind:
            raise ValidationError(
                {"transition": _("The zone changed since this was proposed: propose it again.")}
            )
        if transition.action == engine.LIFT:
            facts = selectors.zone_facts([zone.pk], today=today)
            pending = engine.pending_rounds(facts[0], today) if facts else []
            if pending:
                raise ValidationError(
                    {
                        "transition": _(
                            "Not lifted: the results of screening round %(rounds)s are still pending."
                        )
                        % {"rounds": ", ".join(pending)}
                    }
                )
        _apply(actor, zone, transition, source=source, today=today)
    audit.change(
        actor,
        transition,
        source=source,
        status=TransitionStatus.CONFIRMED if confirm else TransitionStatus.REJECTED,
        decided_by=user_or_none(actor),
        decided_at=now,
        decision_note=(note or "").strip()[:500],
    )
    if not confirm and transition.action == engine.ESCALATE:
        audit.change(actor, zone, source=source, case_flag=False)
    if confirm:
        for other in zone.transitions.filter(status=TransitionStatus.PROPOSED).exclude(pk=transition.pk):
            if not engine.action_allowed(other.action, zone.state) or other.from_kind != zone.kind:
                audit.change(
                    actor,
                    other,
                    source=source,
                    status=TransitionStatus.REJECTED,
                    decided_by=user_or_none(actor),
                    decided_at=now,
                    decision_note=_("Superseded by %(action)s.")
                    % {"action": ZoneAction(transition.action).label},
                )
    return transition


@action
def transition(
    *,
    actor: Actor | None,
    zone: Zone,
    act: str,
    to_kind: str | None = None,
    note: str = "",
    source: str = "web",
    on: dt.date | None = None,
) -> ZoneTransition:
    """A commander's step taken at once: proposed and confirmed by them in one audited action (the open
    proposal of the same step, if any, is the one confirmed). ``on``: the day a zone was put in force when the
    decision is recorded later (from the zone's start to today; today when not given); every other step takes
    effect today."""
    require_may_change(actor, zone.owner)
    today = timezone.localdate()
    if on is not None and on != today:
        if act != engine.PUT_IN_FORCE:
            raise ValidationError(
                {"on": _("Only putting a zone in force can be recorded for an earlier day.")}
            )
        if on > today or on < zone.starts_on:
            raise ValidationError(
                {
                    "on": _("A zone is put in force from its start (%(start)s) to today.")
                    % {"start": zone.starts_on.isoformat()}
                }
            )
    found = selectors.open_proposal(zone, act)
    if found is None or (to_kind and found.to_kind != to_kind):
        found = propose(actor=actor, zone=zone, act=act, to_kind=to_kind, note=note, source=source)
    return decide(actor=actor, transition=found, confirm=True, note=note, source=source, today=on or today)


@dataclass(frozen=True)
class Evaluation:
    zones: int
    proposed: int
    held: int


@action
def evaluate_zones(
    *, actor: Actor | None = None, today: dt.date | None = None, source: str = "job"
) -> Evaluation:
    """The daily evaluation: the rule set in force over every zone in force or guarded; each proposal not
    already open is recorded (proposed by the rules, decided by a person)."""
    today = today or timezone.localdate()
    locks.exclusive(PROPOSALS_LOCK)  # workers evaluating at once: one at a time, the second finds it done
    ruleset = _rules()
    facts = selectors.zone_facts(today=today, rules=ruleset.rules)
    findings = engine.evaluate(facts, ruleset.rules, today)
    rows = proposal_rows(facts, findings, ruleset, today)
    made = _insert_proposals(actor, rows, source=source)
    held = sum(1 for f in findings if f.hold)
    return Evaluation(zones=len(facts), proposed=made, held=held)


def proposal_rows(
    facts: Sequence[engine.ZoneFacts],
    findings: Sequence[engine.Finding],
    ruleset: ZoneRuleSet,
    today: dt.date,
) -> list[dict[str, Any]]:
    """The new proposals of the findings as plain values: not again while one is open, nor again the same day
    once decided (a rejection holds until tomorrow)."""
    open_ = set(
        ZoneTransition.objects.filter(Q(status=TransitionStatus.PROPOSED) | Q(proposed_on=today)).values_list(
            "zone_id", "action"
        )
    )
    states = {f.id: (f.state, f.kind) for f in facts}
    now = timezone.now()
    return [
        {
            "zone_id": f.zone_id,
            "action": f.action,
            "from_state": states[f.zone_id][0],
            "to_state": f.state,
            "from_kind": states[f.zone_id][1],
            "to_kind": f.kind,
            "reasons": [r.to_json() for r in f.reasons],
            "rule_set_id": ruleset.pk,
            "status": TransitionStatus.PROPOSED.value,
            "proposed_at": now,
            "proposed_on": today,
        }
        for f in findings
        if not f.hold and (f.zone_id, f.action) not in open_
    ]


_PROPOSAL_COLUMNS = (
    "zone_id", "action", "from_state", "to_state", "from_kind", "to_kind", "reasons", "rule_set_id", "status",
    "proposed_at", "proposed_on", "note", "decision_note",
)  # fmt: skip


def _insert_proposals(actor: Actor | None, rows: list[dict[str, Any]], *, source: str) -> int:
    """The day's new proposals written in bulk, each audited as its own created record (the same audit row
    ``audit.create`` would write: the record's non-empty values), the audit rows inserted in bulk as the next
    links of the trail's chain. On PostgreSQL the ids are drawn from the table's sequence in one query and the
    rows streamed with ``COPY`` (building 9,000 model instances and their snapshots cost more than the writes);
    elsewhere ``bulk_create``."""
    if not rows:
        return 0
    if bulk.uses_copy():
        ids = bulk.next_ids(ZoneTransition, len(rows))
        for pk, row in zip(ids, rows, strict=True):
            row["id"] = pk
        bulk.insert_rows(
            ZoneTransition,
            ("id", *_PROPOSAL_COLUMNS),
            (
                (r["id"], *(json.dumps(r[c]) if c == "reasons" else r.get(c, "") for c in _PROPOSAL_COLUMNS))
                for r in rows
            ),
        )
    else:
        made = ZoneTransition.objects.bulk_create(ZoneTransition(**r) for r in rows)
        for obj, row in zip(made, rows, strict=True):
            row["id"] = obj.pk
    audit.record_rows(
        actor,
        ZoneTransition,
        (
            (
                r["id"],
                f"{r['zone_id']} {r['action']} ({r['status']})",
                audit.created_changes({k: v for k, v in r.items() if k != "id"}),
            )
            for r in rows
        ),
        source=source,
    )
    return len(rows)


@action
def case_found(*, actor: Actor | None, case: Case, source: str = "web") -> list[Zone]:
    """A new case living in a zone in force or guarded: it is linked to the zone and resets its clock; in a
    zone whose kind escalates on a case (controlled -> sealed) escalation is proposed, a guarded zone is
    proposed to be put back in force. A case found inside a sealed or controlled zone in force counts as found
    under control."""
    building_id = getattr(case.person, "home_building_id", None)
    if building_id is None:
        return []
    zones = selectors.zones_of_building(building_id)
    if not zones:
        return []
    locks.exclusive(PROPOSALS_LOCK)
    day = timezone.localtime(case.sampled_at).date()
    rules = _rules()
    for zone in zones:
        if not ZoneCase.objects.filter(zone=zone, case=case).exists():
            audit.create(actor, ZoneCase, source=source, zone=zone, case=case)
        fields: dict[str, Any] = {}
        if zone.last_case_on is None or day > zone.last_case_on:
            fields["last_case_on"] = day
        escalates = zone.state == State.IN_FORCE and zone.kind in rules.rules.escalate_on_case
        if escalates:
            fields["case_flag"] = True
        if fields:
            audit.change(actor, zone, source=source, **fields)
        reasons = [engine.Reason(engine.R_CASE_IN_ZONE, {"date": day.isoformat(), "case": case.code})]
        if escalates and selectors.open_proposal(zone, engine.ESCALATE) is None:
            to = rules.rules.escalate_on_case[zone.kind]
            _propose(actor, zone, engine.ESCALATE, to, reasons=reasons, source=source, rules=rules)
        if zone.state == State.GUARDED and selectors.open_proposal(zone, engine.REINSTATE) is None:
            _propose(actor, zone, engine.REINSTATE, zone.kind, reasons=reasons, source=source, rules=rules)
    strict = {Kind.SEALED, Kind.CONTROLLED}
    if case.control == Control.COMMUNITY and any(
        z.state == State.IN_FORCE and z.kind in strict for z in zones
    ):
        audit.change(actor, case, source=source, control=Control.SEALED_AREA)
    return zones


from .rules import _rules, load_default_rules, put_rules_in_force  # noqa: E402,F401 (the rule sets')


@action
def screen_zone(
    *, actor: Actor | None, zone: Zone, hours: int = 12, design: str = "10-in-1", source: str = "web"
) -> Any:
    """An area screening round over the zone's buildings, organised by its owner and opening now (the round a
    lift waits for). The round is screening's, made through its action."""
    require_may_change(actor, zone.owner)
    if zone.state not in (State.IN_FORCE, State.GUARDED):
        raise ValidationError({"zone": _("Only a zone in force or guarded is screened.")})
    now = timezone.now()
    n = selectors.rounds_of_zone_count(zone) + 1
    return screening.create_round(
        actor=actor,
        data=screening.RoundData(
            code=f"{zone.code}-R{n}", name=_("Area screening of %(zone)s") % {"zone": zone.name},
            owner=zone.owner, starts_at=now, ends_at=now + dt.timedelta(hours=hours), design=design,
            buildings=list(selectors.zone_buildings(zone, limit=100_000)),
        ),
        source=source,
    )  # fmt: skip
