"""Zones in the demo, through the zones app's actions: the outbreak's first areas sealed or controlled as of the
load's last day, and a prevention zone beside them (no round needed to lift it, so playing days shows a lift
proposed once a week passes without a case there); and, each played day, the area screening rounds the rules ask
for (a zone in force on day 7 of its clean streak is screened that day), so a sealed or controlled zone can be
proposed for lifting too."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.utils import timezone

from cordon.apps.geo import selectors as geo
from cordon.apps.screening import actions as screening
from cordon.apps.zones import actions as zones
from cordon.apps.zones import selectors as zone_reads
from cordon.apps.zones.models import Reason
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
# A building controlled as a precaution, one the outbreak leaves alone for the week after the load (in the
# community of the Chaoyang economy hotel a case stayed in, when it has one): a week of played days brings its
# day-7 round and its lift proposed.
PRECAUTION = "110105030201"
LAB = "LAB-110000"  # the city lab of the demo (made by the Fengtai round)


@action
def zone_first_areas(
    *,
    actor: Actor | None,
    progress: bool = False,
    today: dt.date | None = None,
    quiet: str | None = None,
    source: str = SOURCE,
) -> int:
    """Each area of ``AREAS`` a zone of its district, put in force on ``today`` (the last day of the outbreak
    played by the load; today by default), with the cases living there as its cause; and the building coded
    ``quiet`` (one the outbreak leaves alone, ``outbreak.quiet_building``) a controlled zone as a precaution.
    Returns how many zones were made."""
    if progress:
        print("zoning the first areas ...", file=sys.stderr, flush=True)
    today = today or timezone.localdate()
    made = 0
    plans: list[tuple[str, str, Any, list[Any], list[Any], str]] = []
    for code, kind, name in AREAS:
        node = selectors.area_with_buildings(code)
        if node is not None:  # else a city generated without this place
            cases = selectors.cases_living_in(node)
            plans.append((name, kind, node, [node], [], "首批病例所在社区" if cases else "病例所在社区周边"))
    building = selectors.building(quiet) if quiet else None
    if building is not None:
        name = f"{building.address}管控区"[:200]
        plans.append(
            (name, rules.CONTROLLED, building.jurisdiction, [], [building], "病例到访场所周边，预防性管控")
        )
    for name, kind, node, areas, buildings, why in plans:
        cases = selectors.cases_living_in(node) if areas else []
        zone = zones.create_zone(
            actor=actor,
            data=zones.ZoneData(
                name=name, kind=kind, owner=geo.district_of(node), areas=areas, buildings=buildings, cases=cases,
                starts_on=today, reason=Reason.CASES if cases else Reason.RISK_VENUE, reason_note=why,
                note="演练：指挥部决定",
            ),
            source=source,
        )  # fmt: skip
        proposal = zone_reads.open_proposal(zone, rules.PUT_IN_FORCE)
        assert proposal is not None
        zones.decide(
            actor=actor,
            transition=proposal,
            confirm=True,
            note="演练：指挥部决定",
            today=today,
            source=source,
        )
        made += 1
    return made


@action
def screen_zones_due(*, actor: Actor | None, day: dt.date, source: str = SOURCE) -> list[str]:
    """The area screening rounds the rules in force ask for on ``day`` (a played day): every zone in force on
    the day of its clean streak its kind's rule names (day 7 for a sealed or controlled zone under the 9th
    edition) is screened that day, its residents sampled ten to a tube at one site and the tubes resulted by
    the city lab; a zone that had its own round that day already is left as it is. The simulator finds no
    infection there (a case would have reset the zone's clock), so the results are negative. First the lab
    reports the results still pending from earlier days (negative). Returns the codes of the rounds made."""
    rule_set = zone_reads.rules_in_force().rules
    lab = selectors.lab(LAB)
    waiting = selectors.tubes_waiting_for_results()
    if lab is not None and waiting:
        screening.record_results(
            actor=actor, rows=[screening.ResultIn(b, "negative") for b in waiting], lab=lab, source=source
        )
    made: list[str] = []
    for zone in selectors.zones_in_force():
        rule = rule_set.kinds.get(zone.kind)
        clock = max(d for d in (zone.in_force_on, zone.last_case_on) if d is not None)
        if rule is None or rule.round_day is None or (day - clock).days != rule.round_day:
            continue
        facts = zone_reads.zone_facts([zone.pk], today=day)
        own = f"{zone.code}-R"
        if any(r.day == day and r.code.startswith(own) for f in facts for r in f.rounds):  # already that day
            continue
        buildings = list(zone_reads.zone_buildings(zone, limit=100_000))
        ids = selectors.national_ids_living_in([b.pk for b in buildings]) if buildings else []
        if not ids:
            continue  # nobody lives there: no round to open (it would stay empty)
        # Sampled from 07:00 that day (or from an hour ago when the day is today and it is earlier than 08:00).
        midnight = timezone.make_aware(dt.datetime.combine(day, dt.time()))
        start = max(midnight, min(midnight + dt.timedelta(hours=7), timezone.now() - dt.timedelta(hours=1)))
        code = f"{zone.code}-R{zone_reads.rounds_of_zone_count(zone) + 1}"
        rnd = screening.create_round(
            actor=actor,
            data=screening.RoundData(
                code=code, name=f"{zone.name}第{rule.round_day}天区域核酸筛查", owner=zone.owner, starts_at=start,
                ends_at=start + dt.timedelta(hours=12), design="10-in-1", buildings=buildings,
            ),
            source=source,
        )  # fmt: skip
        site = screening.add_site(
            actor=actor,
            round=rnd,
            data=screening.SiteData(f"{code}-S", f"{zone.name}采样点", buildings[0].jurisdiction, staff=4),
            source=source,
        )
        barcodes = [f"{code}-{i + 1:04d}" for i in range((len(ids) + 9) // 10)]
        screening.issue_tubes(actor=actor, site=site, barcodes=barcodes, source=source)
        rows = [screening.BindingIn(barcodes[i // 10], nid, start) for i, nid in enumerate(ids)]
        screening.bind_samples(actor=actor, site=site, rows=rows, source=source, now=start)
        if lab is not None:
            screening.receive_tubes(actor=actor, lab=lab, barcodes=barcodes, source=source)
            screening.record_results(
                actor=actor,
                rows=[screening.ResultIn(b, "negative") for b in barcodes],
                lab=lab,
                source=source,
            )
        screening.close_round(actor=actor, round=rnd, source=source)
        made.append(rnd.code)
    return made
