"""Pages of close-contact control: thin views over selectors and actions. A refused write shows its reasons
and changes nothing. One module per part of the work: ``board`` (the open-items board, the queue and room
proposals, homes under control), ``transfers``, ``orders`` (orders, PDFs, follow-up) and ``sites`` (sites,
rooms, plans)."""

from __future__ import annotations

from .board import (
    allocate,
    board,
    clocks,
    homes,
    queue,
)
from .orders import (
    alert_handle,
    certificate_pdf,
    follow_up,
    order_detail,
    order_extend,
    order_health,
    order_list,
    order_pdf,
    orders_bulk,
    orders_pdf,
    sample_result,
    samples_taken,
)
from .sites import (
    plan_edit,
    plan_list,
    room_status,
    site_detail,
    site_list,
    site_new,
    site_rooms,
)
from .transfers import (
    member_fail,
    transfer_new,
    transfer_status,
    transfers,
)

__all__ = [
    "alert_handle",
    "allocate",
    "board",
    "certificate_pdf",
    "clocks",
    "follow_up",
    "homes",
    "member_fail",
    "order_detail",
    "order_extend",
    "order_health",
    "order_list",
    "order_pdf",
    "orders_bulk",
    "orders_pdf",
    "plan_edit",
    "plan_list",
    "queue",
    "room_status",
    "sample_result",
    "samples_taken",
    "site_detail",
    "site_list",
    "site_new",
    "site_rooms",
    "transfer_new",
    "transfer_status",
    "transfers",
]
