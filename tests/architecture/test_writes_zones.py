"""The zones app's write paths, each run under the audit watch."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from architecture.audit_watch import WATCH
from cordon.apps.zones import actions, selectors
from cordon.engine import zones as engine

Z = "cordon.apps.zones.actions"
COVERS = {
    f"{Z}.create_zone",
    f"{Z}.propose",
    f"{Z}.decide",
    f"{Z}.transition",
    f"{Z}.evaluate_zones",
    f"{Z}.case_found",
    f"{Z}.put_rules_in_force",
    f"{Z}.screen_zone",
    f"{Z}.load_default_rules",
}

pytestmark = pytest.mark.django_db


def test_zone_write_paths(city: Any, fengtai_case: Any) -> None:
    today = timezone.localdate()
    actions.load_default_rules()  # stored by the migration (0), or again after a transactional test's flush (2)
    assert actions.load_default_rules() == 0
    zone = actions.create_zone(
        actor=None,
        data=actions.ZoneData(
            name="管控区", kind="controlled", owner=city.fengtai, buildings=[city.ft_building]
        ),
    )
    actions.transition(actor=None, zone=zone, act=engine.PUT_IN_FORCE, note="决定")
    zone.refresh_from_db()
    actions.screen_zone(actor=None, zone=zone)
    fengtai_case()  # case_found: the escalation is proposed
    t = selectors.open_proposal(zone, engine.ESCALATE)
    assert t is not None
    actions.decide(actor=None, transition=t, confirm=False, note="暂不升级")
    zone.refresh_from_db()
    actions.propose(actor=None, zone=zone, act=engine.LIFT, note="试")
    actions.put_rules_in_force(
        actor=None, code="ninth-edition", definition=engine.rules_to_json(engine.NINTH_EDITION), name="9"
    )
    actions.evaluate_zones(today=today + dt.timedelta(days=30))
    assert all(WATCH.seen[name] for name in COVERS)
