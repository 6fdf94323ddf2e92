"""What several control pages share."""

from __future__ import annotations

from cordon.core import openitems
from cordon.core.access import AuthedRequest
from cordon.core.pages import found, posted_ids

from .. import selectors
from ..models import ControlOrder


def chosen_orders(request: AuthedRequest) -> list[ControlOrder]:
    """The orders ticked in the form (``order`` checkboxes); 404 when one is unknown or out of scope."""
    return found(lambda: selectors.orders_by_ids(request.user, posted_ids(request, "order")))


def zero_state(request: AuthedRequest) -> str:
    """``?state=``: one of the daily-zero board's states (``openitems.STATES``) a list is narrowed to, or none."""
    state = request.GET.get("state", "")
    return state if state in openitems.STATES else ""
