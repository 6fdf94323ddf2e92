"""What the control app plugs into the platform: its reactions to tracing's events, its kinds of open item on
the daily-zero board, the recount of the board's kept site table and capacity, and a batch of quarantine orders
as one PDF made by a background job (``control.orders_pdf``)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from cordon.apps.tracing.events import ContactsJudged
from cordon.apps.tracing.models import Decision
from cordon.core import events, jobs, openitems, periodic, reads
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope

from . import actions, pdf, selectors

ORDERS_PDF = "control.orders_pdf"


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


def _orders_pdf_job(
    progress: jobs.Progress, params: Mapping[str, Any], actor: Actor | None
) -> dict[str, Any]:
    """The quarantine orders ticked on the orders page, one page each, in one PDF only the starter downloads
    from the job's page; read in the starter's scope now (an order moved out of it since fails the job), the
    national IDs as the starter's role sees them. The persons in it are access-logged as read by the starter,
    in one row, once the file is whole; past the volume limit the job fails before it reads anyone."""
    if actor is None:
        raise ValidationError(gettext("A batch of PDFs is started by a person."))
    refusal = reads.refusal(actor, via="pdf", route="control:orders-pdf")
    if refusal is not None:
        raise ValidationError(refusal)
    ids = [int(pk) for pk in params.get("orders", [])]
    note = gettext("Making the orders' pages")

    def pages(done: int, total: int) -> None:
        progress(done, total, note)

    with reads.reading(actor, via="pdf", route="control:orders-pdf", query=f"orders:{len(ids)}"):
        try:
            orders = selectors.orders_by_ids(actor, ids)
        except NotFound:
            raise ValidationError(
                gettext("Some of these orders are no longer yours to see; tick them again.")
            ) from None
        try:
            content = pdf.quarantine_orders(orders, full_id=Scope.of(actor).can(Cap.VIEW_PII), progress=pages)
        except pdf.PdfUnavailable as exc:
            raise ValidationError(str(exc)) from None
    name = f"quarantine-orders-{timezone.localdate():%Y%m%d}.pdf"
    kept = jobs.result_file(io.BytesIO(content), name, "application/pdf")
    return {
        "summary": ngettext(
            "The quarantine order of %(n)d person, in one PDF.",
            "The quarantine orders of %(n)d persons, in one PDF.",
            len(orders),
        )
        % {"n": len(orders)},
        "link": reverse("control:orders"),
        jobs.FILE: kept,
        "orders": len(orders),
    }


jobs.register(
    jobs.JobKind(
        name=ORDERS_PDF,
        label=_("Quarantine orders as PDF"),
        run=_orders_pdf_job,
        may_start=lambda actor: Scope.of(actor).can(Cap.VIEW_CONTROL),
    )
)

# The board's site table and capacity, kept like the open-item counts (``apps/tallies``) and on the same clock.
periodic.register(
    periodic.Periodic(
        "control.board_tables", lambda: float(settings.CORDON_TALLY_SECONDS), actions.refresh_board_tables
    )
)
