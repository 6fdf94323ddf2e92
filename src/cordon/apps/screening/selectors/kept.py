"""A day's screening coverage over a user's territory (``coverage_on``), and today's kept at every node as a
roll-up group (``hooks.py``) for the commanders' headline: what ``coverage_on`` gives a user of each node."""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum
from django.utils import timezone

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction
from cordon.core import rollups
from cordon.core.actors import Actor

from ..models import RoundCount, RoundTarget
from . import _scope, rounds_on


def coverage_on(user: Actor, day: dt.date) -> dict[str, int]:
    """The coverage of the rounds that ran on ``day`` over the user's territory: the rounds, persons sampled
    (first samples in the rounds' scope) and the target population, from the counters the binding action keeps
    (``RoundCount``, ``RoundTarget``), summed over the territory's jurisdictions."""
    scope = _scope(user)
    rounds = list(rounds_on(user, day).values_list("pk", flat=True))
    if not rounds or scope.path is None:
        return {"rounds": len(rounds), "sampled": 0, "target": 0}
    inside = {"round_id__in": rounds, "jurisdiction__path__startswith": scope.path}
    sampled = RoundCount.objects.filter(**inside).aggregate(n=Sum("sampled"))["n"] or 0
    target = RoundTarget.objects.filter(**inside).aggregate(n=Sum("persons"))["n"] or 0
    return {"rounds": len(rounds), "sampled": sampled, "target": target}


# The kept roll-up group of today's coverage (hooks.py; the commanders' headline reads it), and its figures.
COVERAGE_TODAY = "screening_today"
COVERAGE_TODAY_FIGURES = {
    "rounds": "screening_today_rounds",
    "sampled": "screening_today_sampled",
    "target": "screening_today_target",
}


def coverage_today_by_node(
    user: Actor, path: str, depth: int = rollups.HEADLINE_DEPTH
) -> dict[str, dict[int, int]]:
    """The ``screening_today`` group's count: for every node under ``path`` down to ``depth`` (the nodes it is
    kept at), what ``coverage_on`` gives a user of that node today (a group kept with ``summed=False``): the
    rounds running today it sees (owned above, at or below it), and the persons sampled and to sample of those
    rounds in its subtree."""
    today = timezone.localdate()
    rounds = {pk: (owner, owner_path) for pk, owner, owner_path in
              rounds_on(user, today).values_list("pk", "owner_id", "owner__path")}  # fmt: skip
    out: dict[str, dict[int, int]] = {key: {} for key in COVERAGE_TODAY_FIGURES.values()}
    if not rounds:
        return out
    nodes = {pk: p for pk, p in Jurisdiction.objects.filter(path__startswith=path).values_list("pk", "path")
             if len(p.strip("/").split("/")) <= depth}  # fmt: skip
    up = geo.lineage()
    seen_by: dict[int, set[int]] = {}  # round -> the nodes under ``path`` that see it
    for pk, (owner, owner_path) in rounds.items():
        below = {n for n, p in nodes.items() if p.startswith(owner_path)}
        seen_by[pk] = below | {n for n in up.get(owner, ()) if n in nodes}
        seen = out[COVERAGE_TODAY_FIGURES["rounds"]]
        for n in seen_by[pk]:
            seen[n] = seen.get(n, 0) + 1
    inside = {"round_id__in": list(rounds), "jurisdiction__path__startswith": path}
    for rows, key in (
        (RoundCount.objects.filter(**inside).values_list("round_id", "jurisdiction_id").annotate(n=Sum("sampled")),
         COVERAGE_TODAY_FIGURES["sampled"]),
        (RoundTarget.objects.filter(**inside).values_list("round_id", "jurisdiction_id").annotate(n=Sum("persons")),
         COVERAGE_TODAY_FIGURES["target"]),
    ):  # fmt: skip
        counts = out[key]
        for round_id, jid, n in rows.order_by():
            for node in up.get(jid, ())[:depth]:  # the place and every node above it that sees the round
                if node in seen_by[round_id]:
                    counts[node] = counts.get(node, 0) + (n or 0)
    return out
