"""Close-contact control in the demo as of today, through control's and tracing's actions."""

from __future__ import annotations

import sys
from typing import Any

from django.utils import timezone

from cordon.apps.control import actions as control
from cordon.apps.control import selectors as control_reads
from cordon.apps.control.models import ControlOrder, Room
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Decision
from cordon.core.actions import action
from cordon.core.actors import Actor

from .. import selectors
from ..scenario import CONTROL_CASES, SOURCE, Summary

# Rooms of each isolation hotel: numbers, beds per room, accessible.
_ROOMS = (("1001-1060", 1, False), ("2001-2040", 2, False), ("3001-3020", 3, False), ("8001-8008", 2, True))


@action
def set_up_control(
    *, actor: Actor | None, summary: Summary, progress: bool = False, source: str = SOURCE
) -> None:
    """An isolation hotel per district; the household and work-unit contacts of the most recent cases judged,
    with the household members of those contacts as secondary contacts; two thirds of the close contacts placed
    (half of them arrived), most secondary contacts in home quarantine, the rest still in the queue, so every
    list of the open-items board has something on it (counts go to ``summary``)."""
    for district in selectors.districts():
        lat, lon = selectors.centre_of(district)
        site = control.save_site(
            actor=actor,
            data=control.SiteData(
                code=f"GLD-{district.code}", name=f"{district.name}集中隔离酒店",
                name_en=f"{district.name_en or district.name} quarantine hotel", jurisdiction=district,
                latitude=lat, longitude=lon, takes_special_needs=True,
                address=f"{district.name}（合成）", phone="010-12345678",
            ),
            source=source,
        )  # fmt: skip
        for numbers, beds, accessible in _ROOMS:
            control.add_rooms(
                actor=actor, site=site, numbers=numbers, beds=beds, accessible=accessible, source=source
            )
        summary.sites += 1
    _judge(actor, progress, source)
    officer = selectors.officer()
    _place(actor, officer, source)
    summary.orders = control_reads.orders_visible_to(officer).count()


def _judge(actor: Actor | None, progress: bool, source: str) -> None:
    """Confirm the close contacts of the most recent cases (which opens their control orders)."""
    recent = selectors.recent_cases(CONTROL_CASES)
    if progress:
        print(
            f"judging the household and work-unit contacts of {len(recent)} cases ...",
            file=sys.stderr,
            flush=True,
        )
    for case in recent:
        ids = selectors.close_contacts(case)
        if ids:
            tracing.decide_contacts(
                actor=actor, case=case, contact_ids=ids, decision=Decision.CONFIRMED, source=source
            )


def _place(actor: Actor | None, officer: Any, source: str) -> None:
    """Two thirds of the queue placed in rooms and sent in transfers of twenty (every other one arrived); three
    quarters of those waiting for home quarantine placed at home."""
    waiting = list(control_reads.queue(officer, centralized=True))
    view = control_reads.propose_placements(officer, waiting[: len(waiting) * 2 // 3])
    pairs: list[tuple[ControlOrder, Room]] = [(r.order, r.room) for r in view.rows if r.room is not None]
    if pairs:
        control.reserve_rooms(actor=actor, assignments=pairs, source=source)
    by_site: dict[int, list[ControlOrder]] = {}
    for order, room in pairs:
        by_site.setdefault(room.site_id, []).append(order)
    now = timezone.now()
    for n, orders in enumerate(by_site.values()):
        for i in range(0, len(orders), 20):
            task = control.create_transfer(
                actor=actor, orders=orders[i : i + 20],
                data=control.TransferData(f"京A·{10000 + 37 * n + i:05d}", f"转运{n + 1}组", now), source=source,
            )  # fmt: skip
            if (i // 20) % 2 == 0:
                control.arrive_transfer(actor=actor, task=task, source=source)
    at_home = [o for o in control_reads.queue(officer, centralized=False) if o.person.home_building_id]
    if at_home:
        control.place_at_home(actor=actor, orders=at_home[: len(at_home) * 3 // 4], source=source)
