"""The one paging rule of the API: ``limit`` and ``offset`` query parameters, checked, capped per operation.

An operation's filter schema derives from ``Paging`` (overriding the default ``limit`` where it differs) and
returns ``page(queryset, filters, cap=...)``. A negative offset or a limit below 1 is refused with 422 by the
schema; a limit above the operation's cap is lowered to the cap, as documented in the operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from ninja import Field, Schema

T = TypeVar("T")


class Paging(Schema):
    limit: int = Field(50, ge=1, description="How many rows to return (lowered to the operation's cap).")
    offset: int = Field(0, ge=0, description="How many rows to skip.")


def page(rows: Sequence[T] | Any, paging: Paging, *, cap: int) -> list[T]:
    """``rows[offset : offset + min(limit, cap)]`` of an ordered queryset or a sequence, as a list."""
    return list(rows[paging.offset : paging.offset + min(paging.limit, cap)])
