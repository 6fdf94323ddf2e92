"""The zones in force per kind at every node, kept as a roll-up group (``hooks.py``) for the commanders'
headline: each node's own count, a zone over two districts once."""

from __future__ import annotations

import hashlib
from collections import defaultdict

from django.core.cache import cache

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction
from cordon.core import rollups
from cordon.core.actors import Actor

from ..models import Kind, State, Zone
from . import _scope, _seen_from, _seen_under, _visible

# The kept roll-up group of the zones in force per kind (hooks.py; the commanders' headline reads it), and its
# figures.
IN_FORCE = "zones_in_force"
IN_FORCE_FIGURES = {str(kind): f"zones_in_force_{kind}" for kind in Kind.values}


def in_force_by_node(
    user: Actor, path: str, depth: int = rollups.HEADLINE_DEPTH
) -> dict[str, dict[int, int]]:
    """The ``zones_in_force`` group's count: for every node under ``path`` down to ``depth`` (the nodes it is
    kept at), the zones in force of each kind a user of that node sees (``counts_by_kind``): a zone counts once
    at every node above or at its owner or any of its buildings' places, however many districts it spans (a
    group kept with ``summed=False``)."""
    scope = _scope(user)
    # Recounted every few seconds, but the zones rarely change: the count is reused while the zones' mark
    # (``maps.zones_generation``, three small aggregates: any zone or membership written) stays the same.
    from ..maps import zones_generation  # (maps reads this package)

    key = (
        "zones.in_force:"
        + hashlib.blake2b(
            repr((scope.path, path, depth, zones_generation())).encode(), digest_size=16
        ).hexdigest()
    )
    if (kept := cache.get(key)) is not None:
        return kept  # type: ignore[no-any-return]
    qs = Zone.objects.filter(state=State.IN_FORCE)
    qs = _visible(scope, qs if scope.path == path else qs.filter(_seen_under(path)))
    zones = list(qs.values_list("pk", "kind", "owner_id"))
    seen = _seen_from(qs.values("pk"))
    up = geo.lineage()
    root = Jurisdiction.objects.filter(path=path).values_list("pk", flat=True).first()
    out: dict[str, dict[int, int]] = {key: defaultdict(int) for key in IN_FORCE_FIGURES.values()}
    for pk, kind, owner in zones:
        counts = out[IN_FORCE_FIGURES[kind]]
        places = (owner, *seen.get(pk, ()))
        for node in {a for p in places for a in up.get(p, ())[:depth]}:
            if root in up.get(node, ()):  # under ``path``
                counts[node] += 1
    result = {figure: dict(counts) for figure, counts in out.items()}
    cache.set(key, result, 600)
    return result
