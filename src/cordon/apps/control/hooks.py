"""What the control app plugs into the platform: its reactions to tracing's events, its kinds of open item on
the daily-zero board, and the recount of the board's kept site table and capacity."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cordon.apps.tracing.events import ContactsJudged
from cordon.apps.tracing.models import Decision
from cordon.core import events, openitems, periodic
from cordon.core.roles import Cap

from . import actions, selectors


@events.subscribe(ContactsJudged)
def control_follows_judgment(event: ContactsJudged) -> None:
    """A confirmed close or secondary contact waits in their district's queue with a clock at once; a judgment
    taken back (dismissed, or back to candidate) cancels what was not yet done."""
    if event.decision == Decision.CONFIRMED:
        actions.open_orders(actor=event.actor, contacts=event.contacts, source=event.source)
    else:
        actions.withdraw_orders(actor=event.actor, contacts=event.contacts, source=event.source)


for key, label, order, count, placed in (
    ("waiting", _("Not yet under control"), 40, selectors.waiting_by_district, selectors.waiting_placed),
    ("transfers", _("Transfers under way"), 50, selectors.transfers_by_district, selectors.transfers_placed),
    (
        "missed_tests",
        _("Tests missed"),
        60,
        selectors.missed_tests_by_district,
        selectors.missed_tests_placed,
    ),
    ("alerts", _("Health alerts"), 70, selectors.alerts_by_district, selectors.alerts_placed),
    ("releases", _("Releases due"), 80, selectors.releases_by_district, selectors.releases_placed),
):
    openitems.register(openitems.OpenItemKind(key, label, order, Cap.VIEW_CONTROL, count, placed))

# The board's site table and capacity, kept like the open-item counts (``apps/tallies``) and on the same clock.
periodic.register(
    periodic.Periodic(
        "control.board_tables", lambda: float(settings.CORDON_TALLY_SECONDS), actions.refresh_board_tables
    )
)
