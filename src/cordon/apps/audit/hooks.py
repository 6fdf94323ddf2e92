"""What the audit app plugs into the platform: the ledger of personal-data reads (``cordon.core.reads``): the
access-log row of each request that returned persons, and the per-user volume limit with its alert."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.core import reads
from cordon.core.actors import Actor

from . import actions, selectors


def _window() -> tuple[int, dt.datetime]:
    limit = int(settings.CORDON_PII_READ_LIMIT)
    return limit, timezone.now() - dt.timedelta(seconds=int(settings.CORDON_PII_READ_WINDOW))


def _alert_once(user: Actor, since: dt.datetime, count: int, limit: int, route: str) -> None:
    if not selectors.alerted_since(user, since):
        actions.raise_read_alert(user, window_start=since, count=count, limit=limit, route=route)


class Ledger:
    def refusal(self, user: Actor, *, via: str, route: str) -> str | None:
        """A translated refusal when ``user`` has already read the limit's worth of different persons in the
        window."""
        limit, since = _window()
        if limit <= 0:
            return None
        count = selectors.persons_read_since(user, since, at_least=limit)
        if count < limit:
            return None
        _alert_once(user, since, count, limit, route)
        minutes = max(1, int(settings.CORDON_PII_READ_WINDOW) // 60)
        return _(
            "You have read the personal data of %(count)d persons in the last %(minutes)d minutes, the most "
            "allowed; the auditors have been alerted. Try again later."
        ) % {"count": count, "minutes": minutes}

    def record(
        self, user: Actor, ids: list[int], *, via: str, route: str, query: str, opened: int | None
    ) -> None:
        """The request's access-log row; the alert when this request took the user over the limit."""
        actions.log_read(user, ids, via=via, route=route, query=query, opened=opened)
        limit, since = _window()
        if limit > 0:
            count = selectors.persons_read_since(user, since, at_least=limit)
            if count >= limit:
                _alert_once(user, since, count, limit, route)


reads.register(Ledger())
