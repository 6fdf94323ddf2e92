"""Building the demo city's register: industry sectors, the jurisdiction tree, buildings, venues, households and
residents, written through geo's, venues' and people's actions (bulk inserts, one audit row per record)."""

from __future__ import annotations

import datetime as dt
import random
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings

from cordon.apps.geo import actions as geo
from cordon.apps.geo.models import Building, IndustrySector, Jurisdiction, Level
from cordon.apps.people import actions as people
from cordon.apps.people.models import Household, Person, SpecialGroup
from cordon.apps.venues import actions as venues
from cordon.apps.venues.models import Venue
from cordon.core.actions import action
from cordon.core.actors import Actor
from cordon.engine import identity

from ..scenario import GIVEN, KEY_JOBS, OTHER_JOBS, SOURCE, SURNAMES, Summary

if TYPE_CHECKING:
    from cordon.engine.sim.city import City

T = TypeVar("T")

_LEVELS = {1: Level.CITY, 2: Level.DISTRICT, 3: Level.STREET, 4: Level.COMMUNITY, 5: Level.GRID}


@dataclass
class Register:
    """What the outbreak needs of the register just built: the records in the simulator's order."""

    persons: list[Person]
    venues: list[Venue]
    national_ids: list[str]


def _bar(items: Iterable[T], total: int, desc: str, progress: bool) -> Iterator[T]:
    if not progress:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, unit="", file=sys.stderr)


@action
def build_city(
    *,
    actor: Actor | None,
    city: City,
    rng: random.Random,
    today: dt.date,
    summary: Summary,
    progress: bool = False,
    source: str = SOURCE,
) -> Register:
    """The register of the simulated city (counts go to ``summary``)."""
    sectors = {
        s.code: geo.create_sector(
            actor=actor, code=s.code, name=s.name, name_en=s.name_en, key_industry=s.key, source=source
        )
        for s in city.config.sectors
    }
    nodes = _tree(actor, city, source)
    summary.jurisdictions = len(nodes)
    buildings = _buildings(actor, city, nodes, source)
    summary.buildings = len(buildings)
    made_venues = _venues(actor, city, buildings, source)
    summary.venues = len(made_venues)
    household_rows = [
        {
            "code": f"H{city.config.code}{h:07d}",
            "building": buildings[int(b)],
            "unit": f"{h % 6 + 1}-{h % 30 + 101}",
        }
        for h, b in enumerate(city.hh_building.tolist())
    ]
    households = people.bulk_create_households(actor=actor, rows=household_rows, source=source)
    summary.households = len(households)
    national_ids: list[str] = []
    person_rows = _residents(city, rng, today, sectors, households, made_venues, national_ids, progress)
    made_persons = people.bulk_create_persons(actor=actor, rows=person_rows, source=source)
    summary.persons = len(made_persons)
    return Register(made_persons, made_venues, national_ids)


def _tree(actor: Actor | None, city: City, source: str) -> dict[str, Jurisdiction]:
    """The jurisdiction tree, in one bulk insert (parents given by code; parents precede children)."""
    tree: list[dict[str, Any]] = []
    for i, code in enumerate(city.jur_code):
        parent = int(city.jur_parent[i])
        name = city.jur_name[i]
        if i == 0:
            name = getattr(settings, "CORDON_CITY_NAME", "") or name
        tree.append(
            {
                "code": code,
                "name": name,
                "name_en": city.jur_name_en[i],
                "level": _LEVELS[int(city.jur_level[i])],
                "parent": city.jur_code[parent] if parent >= 0 else None,
            }
        )
    return {n.code: n for n in geo.bulk_create_jurisdictions(actor=actor, rows=tree, source=source)}


def _buildings(
    actor: Actor | None, city: City, nodes: dict[str, Jurisdiction], source: str
) -> list[Building]:
    """Buildings with coordinates and footprints (residential, then one per venue)."""
    numbers: dict[int, int] = {}
    rows = []
    for b in range(len(city.bld_grid)):
        grid_i = int(city.bld_grid[b])
        community = city.jur_name[int(city.jur_parent[grid_i])]
        numbers[grid_i] = numbers.get(grid_i, 0) + 1
        rows.append(
            {
                "code": f"B{city.config.code}{b:06d}",
                "address": f"{community}{numbers[grid_i]}号楼" if city.bld_residential[b] else community,
                "jurisdiction": nodes[city.jur_code[grid_i]],
                "latitude": round(float(city.bld_lat[b]), 6),
                "longitude": round(float(city.bld_lon[b]), 6),
                "footprint": [[round(x, 6), round(y, 6)] for x, y in city.bld_footprint[b].tolist()],
            }
        )
    return geo.bulk_create_buildings(actor=actor, rows=rows, source=source)


def _venues(actor: Actor | None, city: City, buildings: list[Building], source: str) -> list[Venue]:
    """Venues with place codes and sub-areas."""
    rows = []
    for v in range(city.n_venues):
        values, errors = venues.clean_venue(
            venues.VenueData(
                code=city.venue_code(v),
                name=city.venue_name[v],
                venue_type=city.config.venue_kinds[int(city.venue_kind[v])].kind,
                building=buildings[int(city.venue_building[v])],
                capacity=int(city.venue_capacity[v]),
                sub_areas=list(city.venue_subarea_names[v]),
            )
        )
        assert not errors, errors
        rows.append(values)
    return venues.bulk_create_venues(actor=actor, rows=rows, source=source)


def _residents(
    city: City,
    rng: random.Random,
    today: dt.date,
    sectors: dict[str, IndustrySector],
    households: list[Household],
    made_venues: list[Venue],
    national_ids: list[str],
    progress: bool,
) -> list[dict[str, Any]]:
    """The residents' values (from ``clean_person``): names, valid national IDs (appended to ``national_ids``),
    phones, occupations, workplaces or schools and special groups, drawn from ``rng`` in a fixed order."""
    district_code = [city.jur_code[d] if d >= 0 else "" for d in city.district_of_jurisdiction().tolist()]
    person_district = [district_code[g] for g in city.grid.tolist()]
    used: set[str] = set()
    rows: list[dict[str, Any]] = []
    surnames: dict[int, str] = {}
    for p in _bar(range(city.n_persons), city.n_persons, "residents", progress):
        age, sex = int(city.age[p]), "M" if city.sex[p] else "F"
        household = int(city.household[p])
        surname = surnames.setdefault(household, rng.choice(SURNAMES))
        birth = today - dt.timedelta(days=age * 365 + rng.randrange(365))
        while True:
            seq = rng.randrange(1, 999)
            seq = seq - (seq % 2) + (1 if sex == "M" else 0)
            nid = identity.make(person_district[p], birth, seq % 1000)
            if nid not in used:
                used.add(nid)
                break
        national_ids.append(nid)
        sector_i = int(city.sector[p])
        sector = city.config.sectors[sector_i].code if sector_i >= 0 else None
        occupation = _occupation(city, p, sector, age, rng)
        workplace_venue, work_unit = _workplace(city, p, made_venues)
        tags = _special_groups(city, p, age, rng)
        values, errors = people.clean_person(
            people.PersonData(
                name=surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
                national_id=nid,
                sex=sex,
                phone=f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" if age >= 12 else "",
                household=households[household],
                workplace=workplace_venue,
                work_unit=work_unit,
                occupation=occupation,
                sector=sectors[sector] if sector else None,
                tags=tags,
            ),
            today=today,
        )
        assert not errors, errors
        rows.append(values)
    return rows


def _occupation(city: City, p: int, sector: str | None, age: int, rng: random.Random) -> str:
    if sector in KEY_JOBS:
        return KEY_JOBS[sector]
    if sector:
        return rng.choice(OTHER_JOBS.get(sector, ["职员"]))
    if city.school[p] >= 0:
        return "学生"
    return "退休" if age >= 60 else ""


def _workplace(city: City, p: int, made_venues: list[Venue]) -> tuple[Venue | None, str]:
    """The person's workplace or school venue and work unit or class."""
    workplace = int(city.workplace[p])
    school = int(city.school[p])
    if workplace >= 0:
        unit = f"班组{int(city.unit[p])}" if city.unit[p] >= 0 else ""
        return made_venues[int(city.wp_venue[workplace])], unit
    if school >= 0:
        return made_venues[int(city.school_venue[school])], f"班级{int(city.klass[p])}"
    return None, ""


def _special_groups(city: City, p: int, age: int, rng: random.Random) -> list[str]:
    from cordon.engine.sim.city import SPECIAL_GROUPS

    tags = [g for bit, g in enumerate(SPECIAL_GROUPS) if int(city.special[p]) >> bit & 1]
    if age >= 80 and rng.random() < 0.1:
        tags.append(SpecialGroup.BEDRIDDEN)
    return tags
