"""The small synthetic tree the zones, zone map and patrols benchmarks build on: a city, one district and
``grids`` grids under it (bulk-created, paths set), in the database the benchmark points Django at."""

from __future__ import annotations

from typing import Any


def one_district(grids: int) -> tuple[Any, Any, list[Any]]:
    """The city 990000, its district 990001 and that district's grids 990001NNNN."""
    from cordon.apps.geo import actions as geo
    from cordon.apps.geo.models import Jurisdiction, Level

    city = geo.create_jurisdiction(actor=None, code="990000", name="基准市", level=Level.CITY, parent=None)
    district = geo.create_jurisdiction(
        actor=None, code="990001", name="基准区", level=Level.DISTRICT, parent=city
    )
    made = Jurisdiction.objects.bulk_create(
        [
            Jurisdiction(code=f"990001{g:04d}", name=f"网格{g}", level=Level.GRID, parent=district,
                         path=f"{district.path}990001{g:04d}/")
            for g in range(grids)
        ]
    )  # fmt: skip
    return city, district, made
