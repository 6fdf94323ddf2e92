"""Every write of close-contact control: plans, sites and rooms, control orders, placements, transfers,
sample tasks and results, health records, extensions, release.

Each public write is an ``@action``: one transaction that checks its input, refuses with
``ValidationError({field: message})`` and changes nothing when something is wrong, and writes through the
audit helpers, one audit row per record it changes. Bulk paths (hundreds of contacts at once) stay bulk:
``bulk_create`` with ``audit.record_bulk_create``, ``audit.change_many``/``change_each`` (one ``bulk_update``
and one audit row per changed record, inserted in bulk).

Other code uses the names re-exported here (``from cordon.apps.control import actions``); the sub-modules,
one per sub-domain, are private to the app:

- ``plans``: plan versions, the profile's default plans;
- ``sites``: sites and rooms;
- ``orders``: orders opened and withdrawn as tracing's judgments come in;
- ``placement``: rooms reserved, home quarantine;
- ``transfer``: transfer tasks, departure, a person not picked up, arrival;
- ``follow_up``: health records and alerts, samples, results (a positive becomes a case);
- ``release``: the home stage, extensions, release;
- ``kept``: the board's site table and capacity, recounted by workers.
"""

from __future__ import annotations

from .follow_up import RESULTS, ResultOutcome, handle_alert, record_health, record_result, record_samples
from .kept import refresh_board_tables
from .orders import open_orders, withdraw_orders
from .placement import place_at_home, reserve_rooms
from .plans import load_default_plans, save_plan_version
from .release import MAX_EXTENSION_DAYS, extend, move_to_home, release
from .sites import SiteData, add_rooms, clean_site, parse_room_numbers, save_site, set_room_status
from .transfer import (
    MAX_TRANSFER_GROUP,
    TransferData,
    arrive_transfer,
    create_transfer,
    depart_transfer,
    fail_member,
)

__all__ = [
    "MAX_EXTENSION_DAYS",
    "MAX_TRANSFER_GROUP",
    "RESULTS",
    "ResultOutcome",
    "SiteData",
    "TransferData",
    "add_rooms",
    "arrive_transfer",
    "clean_site",
    "create_transfer",
    "depart_transfer",
    "extend",
    "fail_member",
    "handle_alert",
    "load_default_plans",
    "move_to_home",
    "open_orders",
    "parse_room_numbers",
    "place_at_home",
    "record_health",
    "record_result",
    "record_samples",
    "refresh_board_tables",
    "release",
    "reserve_rooms",
    "save_plan_version",
    "save_site",
    "set_room_status",
    "withdraw_orders",
]
