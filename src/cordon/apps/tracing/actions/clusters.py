"""Clusters (聚集性疫情): cases grouped by the investigators, and clusters merged into one another."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none
from cordon.core.scoping import require_may_change

from ..models import Case, Cluster


def _cluster_code(day: dt.date) -> str:
    prefix = f"CL-{day:%Y%m%d}-"
    n = Cluster.objects.filter(code__startswith=prefix).count() + 1
    while Cluster.objects.filter(code=f"{prefix}{n:03d}").exists():
        n += 1
    return f"{prefix}{n:03d}"


@action
def create_cluster(
    *, actor: Actor | None, name: str, cases: Sequence[Case], note: str = "", source: str = "web"
) -> Cluster:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A cluster needs a name.")})
    if not cases:
        raise ValidationError({"cases": _("A cluster starts from at least one case.")})
    cluster = audit.create(
        actor,
        Cluster,
        source=source,
        code=_cluster_code(timezone.localdate()),
        name=name[:200],
        note=note.strip(),
        created_by=user_or_none(actor),
    )
    add_to_cluster(actor=actor, cluster=cluster, cases=cases, source=source)
    return cluster


@action
def add_to_cluster(
    *, actor: Actor | None, cluster: Cluster, cases: Sequence[Case], source: str = "web"
) -> int:
    """Put the cases into the cluster (cases already in it are left as they are); returns how many moved."""
    if cluster.merged_into_id is not None:
        raise ValidationError({"cluster": _("This cluster was merged into another; add cases there.")})
    n = 0
    for case in cases:
        if case.cluster_id == cluster.pk:
            continue
        audit.change(actor, case, source=source, cluster=cluster)
        n += 1
    return n


@action
def merge_clusters(
    *, actor: Actor | None, target: Cluster, others: Sequence[Cluster], source: str = "web"
) -> int:
    """Move every case of ``others`` into ``target``; the others are kept, marked as merged into it (and so
    are the clusters merged into them before). Every case moved must be the actor's to change: a district does
    not move another district's cases (a cluster across districts is merged by a level holding them all)."""
    if target.merged_into_id is not None:
        raise ValidationError({"target": _("The target cluster was itself merged into another.")})
    others = [c for c in others if c.pk != target.pk]
    if not others:
        raise ValidationError({"clusters": _("Choose at least one other cluster to merge.")})
    moved = 0
    for other in others:
        cases = list(Case.objects.filter(cluster=other).select_related("jurisdiction", "district"))
        for case in cases:
            require_may_change(actor, case.jurisdiction, named=case.district)
        moved += add_to_cluster(actor=actor, cluster=target, cases=cases, source=source)
        audit.change(actor, other, source=source, merged_into=target)
        audit.change_many(
            actor, list(Cluster.objects.filter(merged_into=other)), source=source, merged_into=target
        )
    return moved
