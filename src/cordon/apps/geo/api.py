"""The jurisdiction API: the tree from the caller's root down, with rolled-up figures."""

from collections.abc import Mapping

from ninja import Router, Schema

from cordon.core.access import AuthedRequest, api
from cordon.core.inputs import query
from cordon.core.roles import Cap

from . import selectors
from .models import Jurisdiction

router = Router(tags=["jurisdictions"])


class JurisdictionOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    level: int
    parent: str | None
    persons: int = 0
    households: int = 0
    buildings: int = 0
    venues: int = 0

    @classmethod
    def of(cls, node: Jurisdiction, counts: Mapping[int, Mapping[str, int]]) -> "JurisdictionOut":
        """A node with its rolled-up figures (from ``selectors.subtree_counts``)."""
        return cls(
            id=node.pk,
            code=node.code,
            name=node.name,
            name_en=node.name_en,
            level=node.level,
            parent=node.parent.code if node.parent is not None else None,
            **counts.get(node.pk, {}),
        )


@router.get(
    "/jurisdictions", response=list[JurisdictionOut], summary="Children of a node (default: your root)"
)
@api(Cap.VIEW_JURISDICTIONS)
def list_jurisdictions(
    request: AuthedRequest, parent: str | None = query(Jurisdiction, "code", None)
) -> list[JurisdictionOut]:
    node: Jurisdiction | None
    if parent:
        node = selectors.get_jurisdiction_for(request.user, parent)
        children = list(selectors.children_of(request.user, node))
    else:
        node = selectors.root_for(request.user)
        if node is None:
            return []
        children = [node]
    counts = selectors.subtree_counts(request.user, node)
    return [JurisdictionOut.of(child, counts) for child in children]


@router.get("/jurisdictions/{code}", response=JurisdictionOut, summary="One node with rolled-up counts")
@api(Cap.VIEW_JURISDICTIONS)
def get_jurisdiction(request: AuthedRequest, code: str) -> JurisdictionOut:
    node = selectors.get_jurisdiction_for(request.user, code)
    return JurisdictionOut.of(node, selectors.subtree_counts(request.user, node))
