"""Zones in the demo as of today, through the zones app's actions: the outbreak's first areas sealed or
controlled, and a prevention zone beside them (no round needed to lift it, so playing days shows a lift
proposed once a week passes without a case there)."""

from __future__ import annotations

import sys

from cordon.apps.geo import selectors as geo
from cordon.apps.zones import actions as zones
from cordon.core.actions import action
from cordon.core.actors import Actor
from cordon.engine import zones as rules

from .. import selectors
from ..scenario import SOURCE

AREAS = (
    ("110106010201", rules.SEALED, "张郭庄村封控区"),
    ("110106010012", rules.CONTROLLED, "二七车辆厂社区管控区"),
    ("110114011005", rules.CONTROLLED, "龙祥社区东区管控区"),
    ("110114011006", rules.PREVENTION, "龙华园社区防范区"),
)


@action
def zone_first_areas(*, actor: Actor | None, progress: bool = False, source: str = SOURCE) -> int:
    """Each area of ``AREAS`` a zone of its district, put in force today, with the cases living there as its
    cause. Returns how many zones were made."""
    if progress:
        print("zoning the first areas ...", file=sys.stderr, flush=True)
    made = 0
    for code, kind, name in AREAS:
        node = selectors.area_with_buildings(code)
        if node is None:  # a city generated without this place
            continue
        cases = selectors.cases_living_in(node)
        zone = zones.create_zone(
            actor=actor,
            data=zones.ZoneData(
                name=name, kind=kind, owner=geo.district_of(node), areas=[node], cases=cases,
                reason_note="首批病例所在社区" if cases else "病例所在社区周边", note="演练：指挥部决定",
            ),
            source=source,
        )  # fmt: skip
        zones.transition(
            actor=actor, zone=zone, act=rules.PUT_IN_FORCE, note="演练：指挥部决定", source=source
        )
        made += 1
    return made
