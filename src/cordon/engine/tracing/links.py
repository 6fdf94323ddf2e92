"""Household and work-unit links from the register: the cases' own household and unit members (degree 1), and
the members of every close contact's household and unit (degree 2, secondary)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .index import expand
from .model import DEGREE_OF_TYPE, F64, HOUSEHOLD, I64, SEC_HOUSEHOLD, SEC_WORK_UNIT, WORK_UNIT, Register
from .results import Rows


@dataclass(frozen=True)
class Groups:
    """A register's persons and one grouping (household or unit), sorted once for lookups."""

    order_p: I64
    persons: I64
    group_of: I64
    order_g: I64
    groups: I64
    members: I64

    @classmethod
    def of(cls, reg_person: I64, reg_group: I64) -> Groups:
        order_p = np.argsort(reg_person, kind="stable")
        order_g = np.argsort(reg_group, kind="stable")
        return cls(
            order_p, reg_person[order_p], reg_group[order_p], order_g, reg_group[order_g], reg_person[order_g]
        )

    def members_of(self, query: I64) -> tuple[I64, I64]:
        """For each queried person, the other persons of their group: (query index, member)."""
        ps = self.persons
        pos = np.minimum(np.searchsorted(ps, query), max(len(ps) - 1, 0))
        found = (ps[pos] == query) if len(ps) else np.zeros(len(query), bool)
        g = np.where(found, self.group_of[pos] if len(ps) else -1, -1)
        lo = np.searchsorted(self.groups, g, side="left").astype(np.int64)
        hi = np.where(g >= 0, np.searchsorted(self.groups, g, side="right"), lo).astype(np.int64)
        which, pos2 = expand(lo, hi)
        member = self.members[pos2]
        keep = member != query[which]
        return which[keep], member[keep]


@dataclass(frozen=True)
class Link:
    """One grouping of the register with its contact types (direct and secondary) and the direct score."""

    groups: Groups
    kind: int
    secondary: int
    score: float


def links_of(register: Register | None) -> list[Link]:
    """The household and the work-unit grouping of a register (none without one)."""
    if register is None:
        return []
    return [
        Link(Groups.of(register.person_id, register.household_id), HOUSEHOLD, SEC_HOUSEHOLD, 1.0),
        Link(Groups.of(register.person_id, register.unit_id), WORK_UNIT, SEC_WORK_UNIT, 0.8),
    ]


def add_members(rows: Rows, links: list[Link], cases: I64, case_person: I64) -> None:
    """Household and work-unit contacts of the cases ``cases`` (indices into ``case_person``)."""
    for link in links:
        which, member = link.groups.members_of(case_person[cases])
        minus = np.full(len(which), -1, np.int64)
        add_links(rows, cases[which], member, minus, link.kind, np.full(len(which), link.score))


def add_secondary(rows: Rows, links: list[Link], case_person: I64) -> None:
    """Secondary contacts: the household and unit members of every close contact found so far (other than the
    case), each scored half the best score of the close contact it comes through."""
    case_arr = rows.get("case", np.int64)
    contact_arr = rows.get("contact", np.int64)
    types = rows.get("type", np.int8)
    scores = rows.get("score", np.float64)
    close = DEGREE_OF_TYPE[types] == 1
    if not close.any():
        return
    key_case, key_contact = case_arr[close], contact_arr[close]
    order = np.lexsort((-scores[close], key_contact, key_case))
    kc, kp, ks = key_case[order], key_contact[order], scores[close][order]
    first = np.r_[True, (kc[1:] != kc[:-1]) | (kp[1:] != kp[:-1])]
    kc, kp, ks = kc[first], kp[first], ks[first]
    for link in links:
        which, member = link.groups.members_of(kp)
        keep = member != case_person[kc[which]]
        which, member = which[keep], member[keep]
        add_links(rows, kc[which], member, kp[which], link.secondary, 0.5 * ks[which])


def add_links(rows: Rows, case: I64, member: I64, via: I64, kind: int, score: F64) -> None:
    n = len(case)
    minus = np.full(n, -1, np.int64)
    rows.add(
        case=case, contact=member, type=np.full(n, kind, np.int8), via=via, stay=minus,
        subarea=np.full(n, -1, np.int16), contact_in=minus, contact_out=minus, overlap=np.zeros(n, np.int64),
        score=score,
    )  # fmt: skip
