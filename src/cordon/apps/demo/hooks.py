"""What the demo app contributes: playing the outbreak's next day as a background job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cordon.apps.geo import selectors as geo
from cordon.core import jobs
from cordon.core.actors import Actor
from cordon.core.roles import Cap, caps_for
from cordon.core.scoping import may_change

from . import actions

NEXT_DAY = "demo.next_day"


def _next_day_job(progress: jobs.Progress, params: Mapping[str, Any], actor: Actor | None) -> dict[str, Any]:
    """One audited action, one transaction: the day is played whole or not at all."""
    progress(0, 1, gettext("Simulating the next day, ingesting its scans, reporting and tracing its cases"))
    played = actions.play_next_day(actor=actor, source="job")
    progress(1, 1)
    return {
        "summary": played.describe(),
        "link": reverse("demo:exercise"),
        "cases": played.cases,
        "scans": played.scans,
    }


def _may_play(actor: Actor) -> bool:
    """An administrator of the city (the day is the whole city's; a district's administrator does not play it)."""
    root = geo.city_root()
    return Cap.ADMIN in caps_for(actor.role) and (root is None or may_change(actor, root))


jobs.register(
    jobs.JobKind(
        name=NEXT_DAY,
        label=_("Play the demo outbreak's next day"),
        run=_next_day_job,
        may_start=_may_play,
        one_at_a_time=True,
    )
)
