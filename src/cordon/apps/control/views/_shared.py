"""What several control pages share."""

from __future__ import annotations

from cordon.core.access import AuthedRequest
from cordon.core.pages import found, posted_ids

from .. import selectors
from ..models import ControlOrder


def chosen_orders(request: AuthedRequest) -> list[ControlOrder]:
    """The orders ticked in the form (``order`` checkboxes); 404 when one is unknown or out of scope."""
    return found(lambda: selectors.orders_by_ids(request.user, posted_ids(request, "order")))
