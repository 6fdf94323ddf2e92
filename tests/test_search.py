"""Person search answers from indexes; it must find exactly what a plain reading of the rules finds."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from cordon.apps.geo import actions as geo_actions
from cordon.apps.people import actions as people_actions
from cordon.apps.people import selectors
from cordon.apps.people.models import Person
from cordon.engine import identity

pytestmark = pytest.mark.django_db

SURNAMES = "王李张刘陈"
GIVEN = "伟芳娜敏静丽强"


def _reference(persons: list[Person], q: str) -> set[int]:
    """The search rules, read plainly: name starts with q; national ID is q or ends with it (4+ characters);
    the phone's digits end with q's digits (4+ digits, q only digits and + - space); the address contains q
    (unless q is only digits, + and -)."""
    q = q.strip()
    out = set()
    nid_q = identity.normalize(q)
    digits = "".join(ch for ch in q if ch.isdigit())
    phone_query = len(digits) >= 4 and all(ch.isdigit() or ch in "+- " for ch in q)
    for p in persons:
        phone_digits = "".join(ch for ch in p.phone if ch.isdigit())
        if (
            p.name.startswith(q)
            or (
                not q.replace("-", "").replace("+", "").isdigit()
                and p.home_building is not None
                and q.lower() in p.home_building.address.lower()
            )
            or (len(nid_q) >= 4 and bool(p.national_id) and (p.national_id or "").endswith(nid_q))
            or (phone_query and phone_digits.endswith(digits))
        ):
            out.add(p.pk)
    return out


def test_search_matches_the_plain_rules(city: Any, make_user: Any) -> None:
    rng = random.Random(5)
    building = geo_actions.create_building(
        actor=None, code="B-FT-9", address="北宫镇张郭庄村西街9号楼", jurisdiction=city.zgz_grid
    )
    for i in range(120):
        people_actions.create_person(
            actor=None,
            data=people_actions.PersonData(
                name=rng.choice(SURNAMES)
                + rng.choice(GIVEN)
                + (rng.choice(GIVEN) if rng.random() < 0.5 else ""),
                national_id=identity.make("110106", dt.date(1960 + i % 50, 1 + i % 12, 1 + i % 28), i),
                phone=rng.choice(["", f"139{rng.randrange(10**8):08d}", f"010-{rng.randrange(10**8):08d}"]),
                home_building=building if i % 3 else city.ft_person.home_building,
            ),
        )
    user = make_user("city_commander", city.city)
    persons = list(Person.objects.select_related("home_building"))
    queries = ["王", "张伟", "李芳", "西街", "9号楼", "张郭庄", "1101", "X", "9"]
    for p in rng.sample(persons, 25):
        nid = p.national_id or ""
        queries += [p.name, p.name[:2], nid, nid[-4:], nid[-6:], nid.lower()]
        if p.phone:
            queries += [p.phone, p.phone[-4:], p.phone[-7:]]
    for q in queries:
        got = set(selectors.search_persons(user, q).values_list("pk", flat=True))
        assert got == _reference(persons, q), q


def test_search_keys_follow_edits(city: Any, make_user: Any) -> None:
    user = make_user("grid_worker", city.zhangguozhuang)
    person = city.ft_person
    people_actions.update_person(actor=user, person=person, changes={"phone": "010-66887766"})
    assert list(selectors.search_persons(user, "7766")) == [person]
    assert list(selectors.search_persons(user, "66887766")) == [person]
    assert not selectors.search_persons(user, "1234").filter(pk=person.pk).exists()
    person.phone = "13900001111"
    person.save()  # a save outside the actions (the admin) keeps the keys too
    assert list(selectors.search_persons(user, "1111")) == [person]
