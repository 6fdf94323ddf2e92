"""What the people app contributes to the platform: the persons and households figures of the jurisdiction
roll-ups and the person record kind of the audit pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cordon.core import records, rollups
from cordon.core.roles import Cap

from . import selectors
from .models import SpecialGroup

rollups.register(
    rollups.Figure("persons", _("Persons"), 10, Cap.VIEW_JURISDICTIONS, selectors.persons_by_jurisdiction)
)
rollups.register(
    rollups.Figure(
        "households", _("Households"), 20, Cap.VIEW_JURISDICTIONS, selectors.households_by_jurisdiction
    )
)
rollups.register_group(
    rollups.Group(
        selectors.SPECIAL_GROUPS,
        tuple(SpecialGroup.values),
        Cap.VIEW_PERSONS,
        selectors.special_groups_by_jurisdiction,
    )
)
records.register(records.RecordKind("person", _("person"), selectors.get_person_for))
