from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from cordon.apps.accounts.roles import Cap
from cordon.site.access import api

from . import selectors

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


def _out(node: Any, counts: dict[int, dict[str, int]]) -> dict[str, Any]:
    return {
        "id": node.pk,
        "code": node.code,
        "name": node.name,
        "name_en": node.name_en,
        "level": node.level,
        "parent": node.parent.code if node.parent_id else None,
        **counts.get(node.pk, {}),
    }


@router.get(
    "/jurisdictions", response=list[JurisdictionOut], summary="Children of a node (default: your root)"
)
@api(Cap.VIEW_JURISDICTIONS)
def list_jurisdictions(request: HttpRequest, parent: str | None = None) -> Any:
    node: Any
    if parent:
        node = selectors.get_jurisdiction_for(request.user, parent)
        children = list(node.children.select_related("parent"))
    else:
        node = selectors.root_for(request.user)
        if node is None:
            return []
        children = [node]
    counts = selectors.subtree_counts(request.user, node)
    return [_out(child, counts) for child in children]


@router.get("/jurisdictions/{code}", response=JurisdictionOut, summary="One node with rolled-up counts")
@api(Cap.VIEW_JURISDICTIONS)
def get_jurisdiction(request: HttpRequest, code: str) -> Any:
    node = selectors.get_jurisdiction_for(request.user, code)
    return _out(node, selectors.subtree_counts(request.user, node))
