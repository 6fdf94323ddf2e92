"""The zones API: zones, their transitions and the rules, read and written in the caller's scope (a zone is
changed only by its owner level or a level above it)."""

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from cordon.apps.accounts.models import User
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Building, Jurisdiction
from cordon.apps.tracing import selectors as tracing
from cordon.apps.tracing.models import Case
from cordon.core.access import AuthedRequest, api
from cordon.core.inputs import EventDate, text, words
from cordon.core.paging import Paging, page
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound

from . import actions, selectors
from .models import Zone, ZoneRuleSet, ZoneTransition

router = Router(tags=["zones"])

ZONES_CAP = 1000


class ZoneOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    state: str
    reason: str
    owner: str
    starts_on: dt.date
    in_force_on: dt.date | None
    last_case_on: dt.date | None
    guarded_until: dt.date | None
    commander: str | None
    version: int

    @classmethod
    def of(cls, z: Zone) -> "ZoneOut":
        return cls(
            id=z.pk, code=z.code, name=z.name, kind=z.kind, state=z.state, reason=z.reason, owner=z.owner.code,
            starts_on=z.starts_on, in_force_on=z.in_force_on, last_case_on=z.last_case_on,
            guarded_until=z.guarded_until, version=z.version,
            commander=z.commander.get_username() if z.commander else None,
        )  # fmt: skip


class OverlapOut(Schema):
    zone: str
    kind: str
    shared_buildings: int
    applies: str


class ZoneDetailOut(ZoneOut):
    buildings: int
    population: int
    days_since_case: int | None
    districts: list[str]
    rounds: list[dict[str, Any]]
    overlaps: list[OverlapOut]

    @classmethod
    def full(cls, z: Zone) -> "ZoneDetailOut":
        s = selectors.summary(z)
        return cls(
            **ZoneOut.of(z).model_dump(),
            buildings=s.buildings, population=s.population, days_since_case=s.days_since_case,
            districts=[d.code for d in s.districts],
            rounds=[{"code": r.code, "day": r.day.isoformat(), "outcome": r.outcome} for r in s.rounds],
            overlaps=[OverlapOut(zone=o.zone.code, kind=o.zone.kind, shared_buildings=o.shared, applies=o.applies)
                      for o in s.overlaps],
        )  # fmt: skip


class TransitionOut(Schema):
    id: int
    zone: str
    action: str
    status: str
    from_state: str
    to_state: str
    from_kind: str
    to_kind: str
    reasons: list[dict[str, Any]]
    proposed_by: str | None
    proposed_at: dt.datetime
    note: str
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str

    @classmethod
    def of(cls, t: ZoneTransition) -> "TransitionOut":
        return cls(
            id=t.pk, zone=t.zone.code, action=t.action, status=t.status, from_state=t.from_state,
            to_state=t.to_state, from_kind=t.from_kind, to_kind=t.to_kind, reasons=list(t.reasons),
            proposed_by=t.proposed_by.get_username() if t.proposed_by else None, proposed_at=t.proposed_at,
            note=t.note, decided_by=t.decided_by.get_username() if t.decided_by else None,
            decided_at=t.decided_at, decision_note=t.decision_note,
        )  # fmt: skip


class ZoneQuery(Paging):
    kind: Annotated[str, words()] = ""
    state: Annotated[str, words()] = ""
    q: Annotated[str, words()] = ""


class ZoneIn(Schema):
    name: Annotated[str, text(Zone, "name")]
    kind: Annotated[str, text(Zone, "kind")]
    owner: Annotated[str, text(Jurisdiction, "code")]
    code: Annotated[str, text(Zone, "code")] = ""
    starts_on: EventDate | None = None
    reason: Annotated[str, text(Zone, "reason")] = "cases"
    reason_note: Annotated[str, text(Zone, "reason_note")] = ""
    commander: Annotated[str, text(User, "username")] = ""  # the responsible commander's user name
    cases: list[Annotated[str, text(Case, "code")]] = []
    areas: list[Annotated[str, text(Jurisdiction, "code")]] = []
    buildings: list[Annotated[str, text(Building, "code")]] = []
    boundary: Any = None  # GeoJSON geometry, Feature or FeatureCollection (or its text)
    note: Annotated[str, text(ZoneTransition, "note")] = ""


class StepIn(Schema):
    action: Annotated[str, text(ZoneTransition, "action")]
    kind: Annotated[str, text(Zone, "kind")] | None = None
    note: Annotated[str, text(ZoneTransition, "note")] = ""
    confirm: bool = False  # propose only (False) or take the step at once (True)
    # the day a zone was put in force, when recorded later (a step taken at once only; today when not given)
    on: EventDate | None = None


class DecisionIn(Schema):
    confirm: bool
    note: Annotated[str, text(ZoneTransition, "decision_note")] = ""


class RulesOut(Schema):
    code: str
    version: int
    name: str
    in_force: bool
    definition: dict[str, Any]

    @classmethod
    def of(cls, r: ZoneRuleSet) -> "RulesOut":
        return cls(code=r.code, version=r.version, name=r.name, in_force=r.in_force, definition=r.definition)


class RulesIn(Schema):
    code: Annotated[str, text(ZoneRuleSet, "code")]
    name: Annotated[str, text(ZoneRuleSet, "name")] = ""
    definition: dict[str, Any]
    note: Annotated[str, text(ZoneRuleSet, "note")] = ""


def _ref(fetch: Any, code: str, field: str, message: str) -> Any:
    try:
        return fetch(code)
    except NotFound:
        raise ValidationError({field: message % {"c": code}}) from None


@router.get("/zones", response=list[ZoneOut], summary="Zones in your scope")
@api(Cap.VIEW_CONTROL)
def list_zones(request: AuthedRequest, filters: Query[ZoneQuery]) -> list[ZoneOut]:
    qs = selectors.list_zones(request.user, kind=filters.kind, state=filters.state, query=filters.q)
    zones: list[Zone] = page(qs.order_by("code"), filters, cap=ZONES_CAP)
    return [ZoneOut.of(z) for z in zones]


@router.post(
    "/zones", response={201: ZoneDetailOut}, summary="Propose a zone (areas, buildings or a boundary)"
)
@api(Cap.MANAGE_ZONES)
def create_zone(request: AuthedRequest, payload: ZoneIn) -> Status[ZoneDetailOut]:
    user = request.user
    owner: Jurisdiction | None
    try:
        owner = geo.get_jurisdiction_for(user, payload.owner)
    except NotFound:
        owner = None
    areas = [_ref(lambda c: geo.get_jurisdiction_for(user, c), c, "areas", _("Unknown jurisdiction %(c)s."))
             for c in payload.areas]  # fmt: skip
    buildings: list[Building] = [
        _ref(lambda c: geo.get_building_for(user, c), c, "buildings", _("Unknown building %(c)s."))
        for c in payload.buildings
    ]
    cases = [_ref(lambda c: tracing.get_case_for(user, c), c, "cases", _("Unknown case %(c)s."))
             for c in payload.cases]  # fmt: skip
    commander = (
        _ref(
            lambda c: selectors.commander_named(user, c),
            payload.commander,
            "commander",
            _("Unknown user %(c)s."),
        )
        if payload.commander
        else None
    )
    zone = actions.create_zone(
        actor=user,
        data=actions.ZoneData(
            name=payload.name, kind=payload.kind, owner=owner, code=payload.code, starts_on=payload.starts_on,
            commander=commander,
            reason=payload.reason, reason_note=payload.reason_note, cases=cases, areas=areas,
            buildings=buildings, boundary=payload.boundary, note=payload.note,
        ),
        source="api",
    )  # fmt: skip
    return Status(201, ZoneDetailOut.full(zone))


@router.get("/zones/proposals", response=list[TransitionOut], summary="Transitions waiting for a decision")
@api(Cap.VIEW_CONTROL)
def proposals(request: AuthedRequest, paging: Query[Paging]) -> list[TransitionOut]:
    rows: list[ZoneTransition] = page(selectors.proposals_for(request.user), paging, cap=ZONES_CAP)
    return [TransitionOut.of(t) for t in rows]


@router.get("/zones/rules", response=list[RulesOut], summary="The rule sets (one in force)")
@api(Cap.VIEW_CONTROL)
def rules(request: AuthedRequest) -> list[RulesOut]:
    return [RulesOut.of(r) for r in selectors.rule_sets()]


@router.post("/zones/rules", response={201: RulesOut}, summary="Put a new version of a rule set in force")
@api(Cap.ADMIN)
def put_rules(request: AuthedRequest, payload: RulesIn) -> Status[RulesOut]:
    r = actions.put_rules_in_force(
        actor=request.user, code=payload.code, definition=payload.definition, name=payload.name,
        note=payload.note, source="api",
    )  # fmt: skip
    return Status(201, RulesOut.of(r))


@router.get("/zones/{key}", response=ZoneDetailOut, summary="A zone with its population, rounds and overlaps")
@api(Cap.VIEW_CONTROL)
def get_zone(request: AuthedRequest, key: str) -> ZoneDetailOut:
    return ZoneDetailOut.full(selectors.get_zone_for(request.user, key))


@router.get("/zones/{key}/transitions", response=list[TransitionOut], summary="A zone's history")
@api(Cap.VIEW_CONTROL)
def zone_history(request: AuthedRequest, key: str) -> list[TransitionOut]:
    zone = selectors.get_zone_for(request.user, key)
    return [TransitionOut.of(t) for t in selectors.history(zone)]


@router.post(
    "/zones/{key}/transitions",
    response={201: TransitionOut},
    summary="Propose a step (put in force, escalate, downgrade, lift, close), or take it at once",
)
@api(Cap.MANAGE_ZONES)
def step(request: AuthedRequest, key: str, payload: StepIn) -> Status[TransitionOut]:
    zone = selectors.get_zone_for(request.user, key)
    act, kind, note = payload.action, payload.kind, payload.note
    if payload.confirm:
        t = actions.transition(
            actor=request.user, zone=zone, act=act, to_kind=kind, note=note, source="api", on=payload.on
        )
    elif payload.on not in (None, timezone.localdate()):
        raise ValidationError({"on": _("A proposal is decided later: only a step taken now has a day.")})
    else:
        t = actions.propose(actor=request.user, zone=zone, act=act, to_kind=kind, note=note, source="api")
    return Status(201, TransitionOut.of(t))


class ZoneRoundOut(Schema):
    code: str
    buildings: int


@router.post(
    "/zones/{key}/rounds", response={201: ZoneRoundOut}, summary="Open an area screening round over a zone"
)
@api(Cap.MANAGE_ZONES)
def screen(request: AuthedRequest, key: str) -> Status[ZoneRoundOut]:
    zone = selectors.get_zone_for(request.user, key)
    r = actions.screen_zone(actor=request.user, zone=zone, source="api")
    return Status(201, ZoneRoundOut(code=r.code, buildings=r.buildings.count()))


@router.post("/zones/transitions/{transition_id}/decide", response=TransitionOut, summary="Confirm or reject")
@api(Cap.MANAGE_ZONES)
def decide(request: AuthedRequest, transition_id: int, payload: DecisionIn) -> TransitionOut:
    t = selectors.get_transition_for(request.user, transition_id)
    done = actions.decide(
        actor=request.user, transition=t, confirm=payload.confirm, note=payload.note, source="api"
    )
    return TransitionOut.of(done)
