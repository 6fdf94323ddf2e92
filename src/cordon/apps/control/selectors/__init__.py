"""Scoped reads of close-contact control: the queue, orders, sites and capacity, proposals, transfers, homes
under control, follow-up lists, clocks per case and the open-items board (每日清零).

Scoped selectors take ``user: Actor`` and start from ``Scope.of(user)``: a record outside the user's territory
raises ``NotFound`` exactly like a missing one. The few unscoped reads actions need (the plan in force, an
order's test results) say so. Other apps use the names re-exported here; the sub-modules are private.

- ``orders``: orders, the queue, an order's timeline, the quarantine plans;
- ``sites``: sites, rooms, capacity and room proposals;
- ``transfers``: the transfer board and the homes under control;
- ``follow_up``: sample tasks, health alerts, results, releases and home stages due;
- ``board``: the clocks of recent cases and the open-items board.
"""

from __future__ import annotations

from .board import (
    CLOCKS_AT_MOST,
    CLOCKS_ON_BOARD,
    BoardRow,
    Clock,
    alerts_by_district,
    alerts_placed,
    case_clocks,
    missed_tests_by_district,
    missed_tests_placed,
    open_items,
    recent_cases_with_clocks,
    releases_by_district,
    releases_placed,
    transfers_by_district,
    transfers_placed,
    waiting_by_district,
    waiting_placed,
)
from .follow_up import (
    get_health_record_for,
    get_sample_task_for,
    home_stage_due,
    open_alerts,
    problem_messages,
    release_check,
    releases_due,
    results_of,
    sample_tasks_due,
)
from .kept import capacity_recount, kept_site_items, site_recount
from .orders import (
    RESIDENT_STATUSES,
    current_plan,
    get_order_for,
    get_plan_for,
    order_timeline,
    orders_by_ids,
    orders_visible_to,
    plan_ever_set,
    plan_in_force,
    plans,
    profile_id,
    queue,
    search_orders,
)
from .sites import (
    CHILD_AGE,
    SPECIAL_NEEDS,
    Capacity,
    ProposalView,
    ProposedRow,
    capacity,
    capacity_by_district,
    get_room_for,
    get_site_for,
    propose_placements,
    rooms_of,
    sites_visible_to,
    spare_rooms,
)
from .transfers import (
    get_member_for,
    get_transfer_for,
    home_buildings,
    homes_under_control,
    transfer_board,
    transfers_visible_to,
)

__all__ = [
    "CHILD_AGE",
    "CLOCKS_AT_MOST",
    "CLOCKS_ON_BOARD",
    "RESIDENT_STATUSES",
    "SPECIAL_NEEDS",
    "BoardRow",
    "Capacity",
    "Clock",
    "ProposalView",
    "ProposedRow",
    "alerts_by_district",
    "alerts_placed",
    "capacity",
    "capacity_by_district",
    "capacity_recount",
    "case_clocks",
    "current_plan",
    "get_health_record_for",
    "get_member_for",
    "get_order_for",
    "get_plan_for",
    "get_room_for",
    "get_sample_task_for",
    "get_site_for",
    "get_transfer_for",
    "home_buildings",
    "home_stage_due",
    "homes_under_control",
    "kept_site_items",
    "missed_tests_by_district",
    "missed_tests_placed",
    "open_alerts",
    "open_items",
    "order_timeline",
    "orders_by_ids",
    "orders_visible_to",
    "plan_ever_set",
    "plan_in_force",
    "plans",
    "problem_messages",
    "profile_id",
    "propose_placements",
    "queue",
    "recent_cases_with_clocks",
    "release_check",
    "releases_by_district",
    "releases_due",
    "releases_placed",
    "results_of",
    "rooms_of",
    "sample_tasks_due",
    "search_orders",
    "site_recount",
    "sites_visible_to",
    "spare_rooms",
    "transfer_board",
    "transfers_by_district",
    "transfers_placed",
    "transfers_visible_to",
    "waiting_by_district",
    "waiting_placed",
]
