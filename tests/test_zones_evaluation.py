"""The daily evaluation written in bulk (``zones.actions.evaluate_zones``) against the same rules applied zone by
zone: on random zones (every kind and state, cases, open proposals, rounds over some of them) both paths propose
the same transitions with the same reasons; each proposal written in bulk has the audit row ``audit.create``
would have written for it, and the trail's hash chains still verify."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.audit import actions as audit
from cordon.apps.audit import chain
from cordon.apps.audit.models import AuditEntry
from cordon.apps.geo.models import Building
from cordon.apps.screening import actions as screening
from cordon.apps.screening.models import Tube
from cordon.apps.zones import actions, selectors
from cordon.apps.zones.models import Zone, ZoneBuilding, ZoneTransition
from cordon.engine import zones as engine

pytestmark = pytest.mark.django_db


def _random_zones(city: Any, rng: random.Random, today: dt.date, n: int) -> list[Zone]:
    grids = [city.zgz_grid, city.lx_grid]
    buildings = Building.objects.bulk_create(
        [
            Building(code=f"RB{i:04d}", address=f"随机楼{i}", jurisdiction=grids[i % 2], latitude=39.8,
                     longitude=116.3)
            for i in range(n)
        ]
    )  # fmt: skip
    zones = []
    for i in range(n):
        state = rng.choice(
            [engine.IN_FORCE, engine.IN_FORCE, engine.IN_FORCE, engine.GUARDED, engine.PROPOSED]
        )
        in_force = today - dt.timedelta(days=rng.randint(0, 20))
        case = (
            in_force + dt.timedelta(days=rng.randint(0, (today - in_force).days))
            if rng.random() < 0.3
            else None
        )
        guarded = today - dt.timedelta(days=rng.randint(0, 10)) if state == engine.GUARDED else None
        zone = Zone.objects.create(
            code=f"ZR{i:03d}", name=f"随机区{i}", kind=rng.choice(engine.KINDS), state=state, owner=city.fengtai,
            starts_on=in_force, in_force_on=in_force, last_case_on=case, guarded_on=guarded,
            case_flag=case is not None and rng.random() < 0.5,
        )  # fmt: skip
        ZoneBuilding.objects.create(zone=zone, building=buildings[i])
        zones.append(zone)
    # Rounds over some zones (negative, positive, pending), on random days of their streaks.
    for k in range(n // 3):
        day = today - dt.timedelta(days=rng.randint(0, 12))
        start = timezone.make_aware(dt.datetime.combine(day, dt.time(8)))
        r = screening.create_round(
            actor=None,
            data=screening.RoundData(
                code=f"RR{k:03d}", name="区域核酸", owner=city.city, starts_at=start,
                ends_at=start + dt.timedelta(hours=10), buildings=rng.sample(buildings, 3),
            ),
        )  # fmt: skip
        site = screening.add_site(
            actor=None, round=r, data=screening.SiteData(f"S{k}", "采样点", city.zgz_grid)
        )
        screening.issue_tubes(actor=None, site=site, barcodes=f"RT{k:05d}")
        result = rng.choices(["negative", "positive", ""], weights=[7, 1, 2])[0]
        Tube.objects.filter(round=r).update(bound=1, result=result)  # a lab's result, the tests' shortcut
    # Some zones already have an open proposal of the step the rules would propose.
    ruleset = selectors.rules_in_force()
    for z in rng.sample(zones, n // 8):
        act = engine.LIFT if z.state == engine.IN_FORCE else engine.CLOSE
        ZoneTransition.objects.create(
            zone=z, action=act, from_state=z.state, to_state=engine.TARGET_STATE[act], from_kind=z.kind,
            to_kind=z.kind, rule_set=ruleset, proposed_on=today - dt.timedelta(days=1),
        )  # fmt: skip
    return zones


def _one_by_one(zones: list[Zone], today: dt.date) -> set[tuple[Any, ...]]:
    """The rules applied to each zone alone: its own facts read, its finding, skipped when held or already open."""
    rules = selectors.rules_in_force().rules
    out = set()
    for zone in zones:
        if zone.state not in (engine.IN_FORCE, engine.GUARDED):
            continue
        facts = selectors.zone_facts([zone.pk], today=today)
        f = engine.evaluate_one(facts[0], rules, today)
        if f is None or f.hold or selectors.open_proposal(zone, f.action) is not None:
            continue
        reasons = tuple((r.code, tuple(sorted(r.params.items()))) for r in f.reasons)
        out.add((zone.pk, f.action, zone.state, f.state, zone.kind, f.kind, reasons))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_bulk_evaluation_proposes_what_the_rules_say_zone_by_zone(city: Any, seed: int) -> None:
    rng = random.Random(seed)
    today = timezone.localdate()
    actions.load_default_rules()
    zones = _random_zones(city, rng, today, 48)
    expected = _one_by_one(zones, today)
    before = set(ZoneTransition.objects.values_list("pk", flat=True))
    result = actions.evaluate_zones(today=today)
    made = ZoneTransition.objects.exclude(pk__in=before).select_related("rule_set")
    got = {
        (t.zone_id, t.action, t.from_state, t.to_state, t.from_kind, t.to_kind,
         tuple((r["code"], tuple(sorted(r["params"].items()))) for r in t.reasons))
        for t in made
    }  # fmt: skip
    assert got == expected and result.proposed == len(expected) > 0
    assert all(t.status == "proposed" and t.proposed_on == today and t.proposed_by is None for t in made)
    assert all(t.rule_set is not None and t.rule_set.in_force for t in made)
    # Each one audited as its own creation, exactly as audit.create records a record.
    rows = {
        int(e.object_pk): e
        for e in AuditEntry.objects.filter(
            model="zones.zonetransition", object_pk__in=[str(t.pk) for t in made]
        )
    }
    assert len(rows) == len(made)
    for t in made:
        entry = rows[t.pk]
        assert entry.verb == AuditEntry.Verb.CREATE and entry.source == "job" and entry.object_repr == str(t)
        assert entry.changes == audit._created(t)
    assert all(v.ok for v in chain.verify_all())
    # Run again the same day: nothing new.
    assert actions.evaluate_zones(today=today).proposed == 0
    assert all(v.ok for v in chain.verify_all())
