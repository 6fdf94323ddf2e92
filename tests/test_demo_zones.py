"""The demo's played day screens the zones the rules ask a round of (day 7 of a sealed or controlled zone's
clean streak), so the evaluation that follows proposes their lift: on the small test city, without loading the
whole demo."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.demo import actions as demo
from cordon.apps.screening import actions as screening
from cordon.apps.screening.models import Binding, ScreeningRound, Tube
from cordon.apps.zones import actions, selectors
from cordon.apps.zones.models import ZoneTransition
from cordon.engine import zones as engine

pytestmark = pytest.mark.django_db


def test_a_played_day_screens_the_zones_due_a_round_and_their_lift_is_proposed(city: Any) -> None:
    today = timezone.localdate()
    screening.create_lab(actor=None, code=demo.zones.LAB, name="市检测基地", jurisdiction=city.city)
    zones = {}
    for days, name in ((7, "第七天"), (6, "第六天")):
        zone = actions.create_zone(
            actor=None,
            data=actions.ZoneData(
                name=name, kind="controlled", owner=city.fengtai, buildings=[city.ft_building]
            ),
        )
        t = selectors.open_proposal(zone, engine.PUT_IN_FORCE)
        assert t is not None
        actions.decide(
            actor=None, transition=t, confirm=True, note="演练", today=today - dt.timedelta(days=days)
        )
        zones[days] = zone
    made = demo.screen_zones_due(actor=None, day=today)
    assert made == [f"{zones[7].code}-R1"]  # day 7 of its streak: screened; day 6: not yet
    rnd = ScreeningRound.objects.get(code=made[0])
    assert rnd.status == "closed" and timezone.localtime(rnd.starts_at).date() == today
    assert Binding.objects.filter(tube__round=rnd).count() == 2  # both residents of the building
    assert set(Tube.objects.filter(round=rnd).values_list("result", flat=True)) == {"negative"}
    assert actions.evaluate_zones(today=today).proposed == 1
    lift = ZoneTransition.objects.get(zone=zones[7], action="lift", status="proposed")
    assert [r["code"] for r in lift.reasons] == ["clean_days", "round_negative"]
    # The day-6 zone sees the same round, too early for its streak: nothing for it yet.
    assert not ZoneTransition.objects.filter(zone=zones[6], action="lift").exists()
    assert demo.screen_zones_due(actor=None, day=today) == []  # screened that day already: not again
