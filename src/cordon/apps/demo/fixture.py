"""The built-in demo city: the simulator's ``demo`` preset (the scenario of DOMAIN.md) loaded into the platform.

A synthetic capital with Fengtai, Changping, Chaoyang and Haidian districts, their streets, communities and
grids named as in the reports Cordon grew from (plus generated ones); buildings with coordinates and footprints;
about 20,000 residents in households with valid national IDs, a megacity age structure, occupations,
key-industry workers and special groups; venues with place codes and sub-areas (the economy hotel in Chaoyang,
courier depots, markets, metro stations, ...); and one login per role and scope. Everything is written
through the apps' actions with source ``demo``.

The simulator also runs the first two weeks of the outbreak (first cases in the Fengtai and Changping
communities, cases isolated and their households and work units quarantined as they are reported): the venue
check-in scans of those days go to ``<var>/scans`` (Parquet, partitioned by date) and the cases and the true
infection tree to ``<var>/sim/demo``, for the scan store and case management to read; ``persons.parquet`` there
maps the simulator's person ids to national IDs.

Deterministic (fixed seed) and idempotent: loading twice does nothing the second time; ``reset`` deletes the demo
city and loads it again.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import shutil
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction

from cordon.apps.accounts import actions as accounts
from cordon.apps.accounts.models import User
from cordon.apps.accounts.roles import Role
from cordon.apps.audit.models import AccessLog
from cordon.apps.geo import actions as geo
from cordon.apps.geo.models import Building, IndustrySector, Jurisdiction, Level
from cordon.apps.people import actions as people
from cordon.apps.people.models import Household, Person, SpecialGroup
from cordon.apps.venues import actions as venues
from cordon.apps.venues.models import Venue
from cordon.engine import identity

SOURCE = "demo"
PASSWORD = "cordon-demo"
SEED = 20221122
CITY_CODE = "110000"  # the demo preset's city code

# Short logins for the named places of the scenario (names, codes and positions live in the simulator's demo
# preset); generated streets and communities get logins derived from their codes.
LOGIN_NAMES = {
    "110106": "fengtai", "110114": "changping", "110105": "chaoyang", "110108": "haidian",
    "110106010": "beigong", "110106010201": "zhangguozhuang", "110106010012": "erqi",
    "110106002": "taipingqiao", "110106002003": "dongguantou",
    "110114011": "huilongguan", "110114011005": "longxiang", "110114011006": "longhuayuan",
    "110105020": "dadun", "110105020010": "oulujingdian",
    "110105030": "shibalidian", "110105030201": "tongcheng",
    "110105040": "nanmofang", "110105040010": "meijingdongfang", "110105040011": "nanxinyuan",
    "110108001": "wanshoulu", "110108001010": "cuiweilu",
}  # fmt: skip
OUTBREAK_DAYS = 14

KEY_JOBS = {
    "delivery": "外卖骑手",
    "courier": "快递员",
    "maintenance": "维修工",
    "cleaning": "保洁员",
    "security": "保安",
    "catering": "厨师",
}
OTHER_JOBS = {
    "office": ["职员", "工程师", "会计", "公务员"],
    "retail": ["营业员", "收银员"],
    "medical": ["护士", "医生"],
    "transport": ["司机", "地铁站务员"],
    "education": ["教师"],
    "hotel": ["前台"],
    "cold_chain": ["搬运工"],
}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文玉兰红梅鑫宇浩然子涵一诺欣怡梓萱俊杰雨桐思远晨阳"
)

# Other roles: username, role, jurisdiction code, sector code
OTHER_LOGINS = [
    ("city", Role.CITY_COMMANDER, "110000", None),
    ("investigator", Role.INVESTIGATOR, "110000", None),
    ("quarantine", Role.QUARANTINE_OFFICER, "110106", None),
    ("screening", Role.SCREENING_STAFF, "110106010", None),
    ("lab", Role.LAB_STAFF, "110000", None),
    ("grid", Role.GRID_WORKER, "110106010201-01", None),
    ("checkpoint", Role.CHECKPOINT_STAFF, "110106010201", None),
    ("dispatcher", Role.SERVICE_DISPATCHER, "110106010", None),
    ("courier-regulator", Role.INDUSTRY_REGULATOR, "110000", "courier"),
    ("auditor", Role.AUDITOR, "110000", None),
    ("admin", Role.ADMINISTRATOR, "110000", None),
]


@dataclass(frozen=True)
class Login:
    username: str
    role: str
    jurisdiction: str
    sector: str | None = None


@functools.cache
def _demo_city() -> Any:
    """The demo preset's city (deterministic; generated once per process, read-only afterwards)."""
    from cordon.engine.sim import generate_city, preset

    return generate_city(preset("demo"), seed=SEED)


def logins() -> list[Login]:
    """Every demo login: a commander per district, an officer per street, a grid worker per community (and one
    at a single Fengtai grid), and one login for each other role. Named places keep their short logins;
    generated streets and communities get ``<district>-street-<code>`` / ``<district>-community-<code>``."""
    from cordon.engine.sim.city import COMMUNITY, DISTRICT, STREET

    city = _demo_city()
    out = [Login(u, r, j, s) for u, r, j, s in OTHER_LOGINS[:1]]
    for level, role, word in (
        (DISTRICT, Role.DISTRICT_COMMANDER, ""),
        (STREET, Role.STREET_OFFICER, "street"),
        (COMMUNITY, Role.GRID_WORKER, "community"),
    ):
        for i, code in enumerate(city.jur_code):
            if city.jur_level[i] == level:
                name = LOGIN_NAMES.get(code) or f"{LOGIN_NAMES[code[:6]]}-{word}-{code[6:]}"
                out.append(Login(name, role, code))
    out += [Login(u, r, j, s) for u, r, j, s in OTHER_LOGINS[1:]]
    return out


LOGINS = logins()


@dataclass
class Summary:
    loaded: bool
    jurisdictions: int = 0
    buildings: int = 0
    households: int = 0
    persons: int = 0
    venues: int = 0
    logins: int = 0
    scans: int = 0
    cases: int = 0

    def describe(self) -> str:
        if not self.loaded:
            return (
                f"The demo city is already loaded ({self.persons:,} persons); use --reset to load it again."
            )
        return (
            f"Loaded the demo city: {self.jurisdictions} jurisdictions, {self.buildings} buildings, "
            f"{self.households:,} households, {self.persons:,} persons, {self.venues} venues, "
            f"{self.logins} logins; the first {OUTBREAK_DAYS} days of the outbreak: {self.scans:,} venue scans, "
            f"{self.cases} reported cases."
        )


T = TypeVar("T")


def _bar(items: Iterable[T], total: int, desc: str, progress: bool) -> Iterator[T]:
    if not progress:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, unit="", file=sys.stderr)


def is_loaded() -> bool:
    return Jurisdiction.objects.filter(code=CITY_CODE).exists()


def load(*, reset: bool = False, progress: bool = False) -> Summary:
    if reset:
        delete()
    if is_loaded():
        _ensure_logins()
        return Summary(
            loaded=False,
            persons=Person.objects.filter(jurisdiction__path__startswith=f"/{CITY_CODE}/").count(),
        )
    with transaction.atomic():
        return _build(random.Random(SEED), progress)


def delete() -> None:
    """Remove the demo city and its logins (the audit trail keeps its history)."""
    prefix = f"/{CITY_CODE}/"
    with transaction.atomic():
        User.objects.filter(username__in=[login.username for login in LOGINS]).delete()
        AccessLog.objects.filter(person__jurisdiction__path__startswith=prefix).delete()
        Person.objects.filter(jurisdiction__path__startswith=prefix).delete()
        Household.objects.filter(building__jurisdiction__path__startswith=prefix).delete()
        Venue.objects.filter(jurisdiction__path__startswith=prefix).delete()
        Building.objects.filter(jurisdiction__path__startswith=prefix).delete()
        for level in sorted(Level.values, reverse=True):
            Jurisdiction.objects.filter(path__startswith=prefix, level=level).delete()
        IndustrySector.objects.filter(code__in=[s.code for s in _demo_city().config.sectors]).delete()


def _ensure_logins() -> int:
    existing = set(
        User.objects.filter(username__in=[x.username for x in LOGINS]).values_list("username", flat=True)
    )
    made = 0
    for login in LOGINS:
        if login.username in existing:
            continue
        accounts.create_user(
            actor=None,
            username=login.username,
            password=PASSWORD,
            role=login.role,
            jurisdiction_code=login.jurisdiction,
            sector_code=login.sector,
            is_staff=login.role == Role.ADMINISTRATOR,
            source=SOURCE,
        )
        made += 1
    return made


def _build(rng: random.Random, progress: bool) -> Summary:
    from cordon.engine.sim import Simulation, built_in, load_profile
    from cordon.engine.sim.city import SPECIAL_GROUPS
    from cordon.engine.sim.output import ScanWriter, write_run

    summary = Summary(loaded=True)
    city = _demo_city()
    config = city.config
    today = dt.date.today()
    sectors = {
        s.code: geo.create_sector(
            actor=None, code=s.code, name=s.name, name_en=s.name_en, key_industry=s.key, source=SOURCE
        )
        for s in config.sectors
    }

    # The jurisdiction tree, in one bulk insert (parents given by code; parents precede children).
    level_of = {1: Level.CITY, 2: Level.DISTRICT, 3: Level.STREET, 4: Level.COMMUNITY, 5: Level.GRID}
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
                "level": level_of[int(city.jur_level[i])],
                "parent": city.jur_code[parent] if parent >= 0 else None,
            }
        )
    nodes = {n.code: n for n in geo.bulk_create_jurisdictions(actor=None, rows=tree, source=SOURCE)}
    summary.jurisdictions = len(nodes)

    # Buildings with coordinates and footprints (residential, then one per venue).
    numbers: dict[int, int] = {}
    rows = []
    for b in range(len(city.bld_grid)):
        grid_i = int(city.bld_grid[b])
        community = city.jur_name[int(city.jur_parent[grid_i])]
        numbers[grid_i] = numbers.get(grid_i, 0) + 1
        rows.append(
            {
                "code": f"B{config.code}{b:06d}",
                "address": f"{community}{numbers[grid_i]}号楼" if city.bld_residential[b] else community,
                "jurisdiction": nodes[city.jur_code[grid_i]],
                "latitude": round(float(city.bld_lat[b]), 6),
                "longitude": round(float(city.bld_lon[b]), 6),
                "footprint": [[round(x, 6), round(y, 6)] for x, y in city.bld_footprint[b].tolist()],
            }
        )
    buildings = geo.bulk_create_buildings(actor=None, rows=rows, source=SOURCE)
    summary.buildings = len(buildings)

    # Venues with place codes and sub-areas.
    venue_rows = []
    for v in range(city.n_venues):
        values, errors = venues.clean_venue(
            venues.VenueData(
                code=city.venue_code(v),
                name=city.venue_name[v],
                venue_type=config.venue_kinds[int(city.venue_kind[v])].kind,
                building=buildings[int(city.venue_building[v])],
                capacity=int(city.venue_capacity[v]),
                sub_areas=list(city.venue_subarea_names[v]),
            )
        )
        assert not errors, errors
        venue_rows.append(values)
    made_venues = venues.bulk_create_venues(actor=None, rows=venue_rows, source=SOURCE)
    summary.venues = len(made_venues)

    # Households and residents.
    household_rows = [
        {
            "code": f"H{config.code}{h:07d}",
            "building": buildings[int(b)],
            "unit": f"{h % 6 + 1}-{h % 30 + 101}",
        }
        for h, b in enumerate(city.hh_building.tolist())
    ]
    households = people.bulk_create_households(actor=None, rows=household_rows, source=SOURCE)
    summary.households = len(households)
    district_code = [city.jur_code[d] if d >= 0 else "" for d in city.district_of_jurisdiction().tolist()]
    person_district = [district_code[g] for g in city.grid.tolist()]
    used: set[str] = set()
    national_ids: list[str] = []
    person_rows: list[dict[str, Any]] = []
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
        sector = config.sectors[sector_i].code if sector_i >= 0 else None
        if sector in KEY_JOBS:
            occupation = KEY_JOBS[sector]
        elif sector:
            occupation = rng.choice(OTHER_JOBS.get(sector, ["职员"]))
        elif city.school[p] >= 0:
            occupation = "学生"
        else:
            occupation = "退休" if age >= 60 else ""
        workplace = int(city.workplace[p])
        tags = [g for bit, g in enumerate(SPECIAL_GROUPS) if int(city.special[p]) >> bit & 1]
        if age >= 80 and rng.random() < 0.1:
            tags.append(SpecialGroup.BEDRIDDEN)
        values, errors = people.clean_person(
            people.PersonData(
                name=surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
                national_id=nid,
                sex=sex,
                phone=f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" if age >= 12 else "",
                household=households[household],
                workplace=made_venues[int(city.wp_venue[workplace])] if workplace >= 0 else None,
                occupation=occupation,
                sector=sectors[sector] if sector else None,
                tags=tags,
            ),
            today=today,
        )
        assert not errors, errors
        person_rows.append(values)
    summary.persons = len(people.bulk_create_persons(actor=None, rows=person_rows, source=SOURCE))
    summary.logins = _ensure_logins()

    # The first two weeks of the outbreak: scans for the scan store, cases and the infection tree.
    out = Path(settings.VAR_DIR)
    for folder in (out / "scans", out / "sim" / "demo"):
        shutil.rmtree(folder, ignore_errors=True)
    sim = Simulation(
        city,
        load_profile(),
        built_in("basic"),
        seed=SEED,
        start_date=today - dt.timedelta(days=OUTBREAK_DAYS),
    )
    writer = ScanWriter(out)
    sim.run(OUTBREAK_DAYS, on_visits=writer)
    write_run(sim, out / "sim" / "demo")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"person_id": list(range(city.n_persons)), "national_id": national_ids}),
        out / "sim" / "demo" / "persons.parquet",
    )
    summary.scans = writer.rows
    summary.cases = len(sim.case_list().person)
    return summary


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def print_logins() -> None:
    names = dict(
        Jurisdiction.objects.filter(code__in=[x.jurisdiction for x in LOGINS]).values_list("code", "name")
    )
    rows = [
        (
            x.username,
            str(Role(x.role).label),
            f"{x.jurisdiction} {names.get(x.jurisdiction, '')}" + (f" / {x.sector}" if x.sector else ""),
        )
        for x in LOGINS
    ]
    user_w = max(_width(r[0]) for r in [*rows, ("user", "", "")])
    role_w = max(_width(r[1]) for r in [*rows, ("", "role", "")])
    print(f"\nDemo logins (password for all: {PASSWORD})")
    print(f"  {_pad('user', user_w)}  {_pad('role', role_w)}  scope")
    for username, role, scope in rows:
        print(f"  {_pad(username, user_w)}  {_pad(role, role_w)}  {scope}")
    print()
