"""The built-in demo city: the scenario of DOMAIN.md at small scale, until the simulator's ``demo`` preset exists.

A synthetic capital with Fengtai, Changping, Chaoyang and Haidian districts, their streets, communities and grids
named as in the reports Cordon grew from; buildings with coordinates and footprints; about 3,000 residents in
households with valid national IDs, a megacity age structure, occupations, key-industry workers and special
groups; venues with place codes (an economy hotel in Chaoyang, courier depots, markets, a metro station, ...);
and one login per role and scope. Everything is written through the apps' actions with source ``demo``.

Deterministic (fixed seed) and idempotent: loading twice does nothing the second time; ``reset`` deletes the demo
city and loads it again.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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
from cordon.apps.venues.models import Venue, VenueType
from cordon.engine import identity

SOURCE = "demo"
PASSWORD = "cordon-demo"
SEED = 20221122
CITY = ("110000", "合成京城（演示）", "Synthetic Capital (demo)")

# district code, name, English, centre (lat, lon), login
DISTRICTS = [
    ("110106", "丰台区", "Fengtai", (39.858, 116.287), "fengtai"),
    ("110114", "昌平区", "Changping", (40.072, 116.331), "changping"),
    ("110105", "朝阳区", "Chaoyang", (39.921, 116.443), "chaoyang"),
    ("110108", "海淀区", "Haidian", (39.959, 116.298), "haidian"),
]
# street code, name, English, centre, login, [(community code, name, English, login)]
STREETS: list[tuple[str, str, str, tuple[float, float], str, list[tuple[str, str, str, str]]]] = [
    ("110106010", "北宫镇", "Beigong", (39.873, 116.201), "beigong", [
        ("110106010201", "张郭庄村", "Zhangguozhuang", "zhangguozhuang"),
        ("110106010012", "二七车辆厂社区", "Erqi Vehicle Factory", "erqi"),
    ]),
    ("110106002", "太平桥街道", "Taipingqiao", (39.872, 116.316), "taipingqiao", [
        ("110106002003", "东管头社区", "Dongguantou", "dongguantou"),
    ]),
    ("110114011", "回龙观街道", "Huilongguan", (40.076, 116.326), "huilongguan", [
        ("110114011005", "龙祥社区东区", "Longxiang East", "longxiang"),
        ("110114011006", "龙华园社区", "Longhuayuan", "longhuayuan"),
    ]),
    ("110105020", "大屯街道", "Dadun", (40.004, 116.412), "dadun", [
        ("110105020010", "欧陆经典社区", "Oulu Jingdian", "oulujingdian"),
    ]),
    ("110105030", "十八里店乡", "Shibalidian", (39.851, 116.503), "shibalidian", [
        ("110105030201", "潼城公寓", "Tongcheng Apartments", "tongcheng"),
    ]),
    ("110105040", "南磨房乡", "Nanmofang", (39.879, 116.478), "nanmofang", [
        ("110105040010", "美景东方小区", "Meijing Dongfang", "meijingdongfang"),
        ("110105040011", "南新园小区", "Nanxinyuan", "nanxinyuan"),
    ]),
    ("110108001", "万寿路街道", "Wanshoulu", (39.909, 116.293), "wanshoulu", [
        ("110108001010", "翠微路社区", "Cuiweilu", "cuiweilu"),
    ]),
]  # fmt: skip
GRIDS_PER_COMMUNITY = 2
BUILDINGS_PER_GRID = 4
HOUSEHOLDS_PER_BUILDING = 14

# code, name, English, key industry
SECTORS = [
    ("delivery", "外卖配送", "Food delivery", True),
    ("courier", "快递物流", "Courier", True),
    ("maintenance", "维修", "Maintenance", True),
    ("cleaning", "保洁", "Cleaning", True),
    ("security", "安保", "Security", True),
    ("catering", "餐饮", "Catering", True),
    ("hotel", "住宿", "Hotels", False),
    ("cold_chain", "冷链", "Cold chain", False),
    ("medical", "医疗卫生", "Medical", False),
    ("transport", "交通运输", "Transport", False),
    ("retail", "商超零售", "Retail", False),
    ("education", "教育", "Education", False),
    ("office", "企事业单位", "Offices and public bodies", False),
]
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
# How the non-key workers spread over sectors (offices and retail dominate; cold chain is small).
OTHER_WEIGHTS = {
    "office": 40,
    "retail": 16,
    "medical": 9,
    "transport": 11,
    "education": 9,
    "hotel": 6,
    "cold_chain": 3,
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


def logins() -> list[Login]:
    """Every demo login: a commander per district, an officer per street, a grid worker per community (and one
    at a single Fengtai grid), and one login for each other role."""
    out = [Login(u, r, j, s) for u, r, j, s in OTHER_LOGINS[:1]]
    out += [Login(login, Role.DISTRICT_COMMANDER, code) for code, _n, _e, _c, login in DISTRICTS]
    out += [Login(street[4], Role.STREET_OFFICER, street[0]) for street in STREETS]
    out += [Login(c[3], Role.GRID_WORKER, c[0]) for street in STREETS for c in street[5]]
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

    def describe(self) -> str:
        if not self.loaded:
            return (
                f"The demo city is already loaded ({self.persons:,} persons); use --reset to load it again."
            )
        return (
            f"Loaded the demo city: {self.jurisdictions} jurisdictions, {self.buildings} buildings, "
            f"{self.households:,} households, {self.persons:,} persons, {self.venues} venues, "
            f"{self.logins} logins."
        )


T = TypeVar("T")


def _bar(items: Iterable[T], total: int, desc: str, progress: bool) -> Iterator[T]:
    if not progress:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, unit="", file=sys.stderr)


def is_loaded() -> bool:
    return Jurisdiction.objects.filter(code=CITY[0]).exists()


def load(*, reset: bool = False, progress: bool = False) -> Summary:
    if reset:
        delete()
    if is_loaded():
        _ensure_logins()
        return Summary(
            loaded=False, persons=Person.objects.filter(jurisdiction__path__startswith=f"/{CITY[0]}/").count()
        )
    with transaction.atomic():
        return _build(random.Random(SEED), progress)


def delete() -> None:
    """Remove the demo city and its logins (the audit trail keeps its history)."""
    prefix = f"/{CITY[0]}/"
    with transaction.atomic():
        User.objects.filter(username__in=[login.username for login in LOGINS]).delete()
        AccessLog.objects.filter(person__jurisdiction__path__startswith=prefix).delete()
        Person.objects.filter(jurisdiction__path__startswith=prefix).delete()
        Household.objects.filter(building__jurisdiction__path__startswith=prefix).delete()
        Venue.objects.filter(jurisdiction__path__startswith=prefix).delete()
        Building.objects.filter(jurisdiction__path__startswith=prefix).delete()
        for level in sorted(Level.values, reverse=True):
            Jurisdiction.objects.filter(path__startswith=prefix, level=level).delete()
        IndustrySector.objects.filter(code__in=[s[0] for s in SECTORS]).delete()


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


def _square(lat: float, lon: float, half: float = 0.00025) -> list[list[float]]:
    return [
        [round(lon - half, 6), round(lat - half, 6)],
        [round(lon + half, 6), round(lat - half, 6)],
        [round(lon + half, 6), round(lat + half, 6)],
        [round(lon - half, 6), round(lat + half, 6)],
    ]


def _build(rng: random.Random, progress: bool) -> Summary:
    summary = Summary(loaded=True)
    sectors = {
        code: geo.create_sector(actor=None, code=code, name=name, name_en=en, key_industry=key, source=SOURCE)
        for code, name, en, key in SECTORS
    }

    # The jurisdiction tree, in one bulk insert (parents given by code).
    tree: list[dict[str, Any]] = [
        {
            "code": CITY[0],
            "name": getattr(settings, "CORDON_CITY_NAME", "") or CITY[1],
            "name_en": CITY[2],
            "level": Level.CITY,
            "parent": None,
        }
    ]
    centres: dict[str, tuple[float, float]] = {}
    grids: list[tuple[str, str]] = []  # (grid code, district code)
    for code, name, en, centre, _login in DISTRICTS:
        tree.append({"code": code, "name": name, "name_en": en, "level": Level.DISTRICT, "parent": CITY[0]})
        centres[code] = centre
    for s_code, s_name, s_en, s_centre, _login, communities in STREETS:
        tree.append(
            {"code": s_code, "name": s_name, "name_en": s_en, "level": Level.STREET, "parent": s_code[:6]}
        )
        for i, (c_code, c_name, c_en, _l) in enumerate(communities):
            tree.append(
                {"code": c_code, "name": c_name, "name_en": c_en, "level": Level.COMMUNITY, "parent": s_code}
            )
            for g in range(1, GRIDS_PER_COMMUNITY + 1):
                g_code = f"{c_code}-{g:02d}"
                tree.append(
                    {
                        "code": g_code,
                        "name": f"{c_name}第{g}网格",
                        "name_en": f"{c_en} grid {g}",
                        "level": Level.GRID,
                        "parent": c_code,
                    }
                )
                lat = s_centre[0] + (i - 0.5) * 0.006 + (g - 1.5) * 0.002
                centres[g_code] = (lat, s_centre[1] + (g - 1.5) * 0.003)
                grids.append((g_code, s_code[:6]))
    nodes = {n.code: n for n in geo.bulk_create_jurisdictions(actor=None, rows=tree, source=SOURCE)}
    summary.jurisdictions = len(nodes)

    # Buildings with coordinates and footprints.
    rows = []
    for g_code, _district in grids:
        grid = nodes[g_code]
        lat0, lon0 = centres[g_code]
        for b in range(1, BUILDINGS_PER_GRID + 1):
            lat, lon = lat0 + (b % 2) * 0.0008, lon0 + (b // 2) * 0.0008
            rows.append(
                {
                    "code": f"B-{g_code}-{b}",
                    "address": f"{grid.parent.name if grid.parent else ''}{b}号楼",
                    "jurisdiction": grid,
                    "latitude": round(lat, 6),
                    "longitude": round(lon, 6),
                    "footprint": _square(lat, lon),
                }
            )
    buildings = geo.bulk_create_buildings(actor=None, rows=rows, source=SOURCE)
    summary.buildings = len(buildings)

    # Venues: a few per street, and the scenario's hubs.
    venue_rows = _venues(nodes, buildings, sectors, rng)
    summary.venues = len(venues.bulk_create_venues(actor=None, rows=venue_rows, source=SOURCE))
    workplaces = list(Venue.objects.filter(code__in=[v["code"] for v in venue_rows]))

    # Households and residents.
    household_rows = [
        {
            "code": f"H-{b.code[2:]}-{h:02d}",
            "building": b,
            "unit": f"{h // 4 + 1}-{(h % 4 + 1) * 100 + h + 1}",
        }
        for b in buildings
        for h in range(HOUSEHOLDS_PER_BUILDING)
    ]
    households = people.bulk_create_households(actor=None, rows=household_rows, source=SOURCE)
    summary.households = len(households)
    district_of = {b.pk: b.jurisdiction.path.split("/")[2] for b in buildings}
    person_rows: list[dict[str, Any]] = []
    used_ids: set[str] = set()
    for household in _bar(households, len(households), "residents", progress):
        for values in _household_members(
            rng, household, district_of[household.building_id], sectors, workplaces, used_ids
        ):
            person_rows.append(values)
    summary.persons = len(people.bulk_create_persons(actor=None, rows=person_rows, source=SOURCE))
    summary.logins = _ensure_logins()
    return summary


def _venues(
    nodes: dict[str, Jurisdiction],
    buildings: list[Building],
    sectors: dict[str, IndustrySector],
    rng: random.Random,
) -> list[dict[str, Any]]:
    by_street: dict[str, list[Building]] = {}
    for b in buildings:
        by_street.setdefault(b.jurisdiction.path.split("/")[3], []).append(b)
    specs: list[tuple[str, str, str, str, int, list[str], str | None]] = [
        # street, name, type, responsible unit, capacity, sub-areas, sector
        ("110106010", "北宫快递驿站", VenueType.COURIER_DEPOT, "北宫镇快递网点", 40, ["分拣区", "取件区"], "courier"),
        ("110106010", "张郭庄农贸市场", VenueType.MARKET, "张郭庄村委会", 600, ["蔬菜区", "肉类区", "水产区"], "retail"),  # noqa: E501
        ("110106010", "二七厂食堂", VenueType.RESTAURANT, "二七车辆厂", 200, ["一楼", "二楼"], "catering"),
        ("110106002", "太平桥超市", VenueType.SUPERMARKET, "太平桥商贸公司", 300, [], "retail"),
        ("110106002", "丰台区第一医院", VenueType.HOSPITAL, "丰台区卫健委", 1500, ["门诊", "急诊", "发热门诊"], "medical"),  # noqa: E501
        ("110114011", "回龙观地铁站", VenueType.TRANSIT, "地铁运营公司", 3000, ["A口", "B口", "站台"], "transport"),
        ("110114011", "回龙观快递站", VenueType.COURIER_DEPOT, "回龙观快递网点", 60, ["分拣区"], "courier"),
        ("110114011", "龙祥麻辣烫", VenueType.RESTAURANT, "个体经营", 40, [], "catering"),
        ("110114011", "龙华园健身房", VenueType.GYM, "健身公司", 120, ["器械区", "操课室"], None),
        ("110105020", "大屯购物中心", VenueType.MALL, "大屯商业公司", 5000, ["B1", "1F", "2F", "3F"], "retail"),
        ("110105020", "欧陆经典外卖站", VenueType.COURIER_DEPOT, "外卖平台站点", 80, [], "delivery"),
        ("110105030", "潼城快捷酒店", VenueType.ECONOMY_HOTEL, "潼城酒店管理公司", 150, ["大堂", "3层", "4层", "5层"], "hotel"),  # noqa: E501
        ("110105030", "十八里店冷链仓库", VenueType.FACTORY, "冷链物流公司", 100, ["冷库", "装卸区"], "cold_chain"),
        ("110105040", "南磨房菜市场", VenueType.MARKET, "南磨房乡农贸公司", 500, ["蔬菜区", "熟食区"], "retail"),
        ("110105040", "美景东方写字楼", VenueType.OFFICE, "物业公司", 800, ["A座", "B座"], "office"),
        ("110105040", "南新园小区门岗", VenueType.RESIDENTIAL, "南新园物业", 0, ["东门", "西门"], "security"),
        ("110108001", "翠微路小学", VenueType.SCHOOL, "海淀区教委", 900, ["教学楼", "食堂"], "education"),
        ("110108001", "万寿路诊所", VenueType.CLINIC, "万寿路社区卫生服务站", 50, [], "medical"),
    ]  # fmt: skip
    rows = []
    for i, (street, name, vtype, unit, capacity, areas, sector) in enumerate(specs, start=1):
        building = rng.choice(by_street[street])
        values, errors = venues.clean_venue(
            venues.VenueData(
                code=f"V{street}{i:03d}",
                name=name,
                venue_type=vtype,
                building=building,
                capacity=capacity or None,
                sub_areas=areas,
                responsible_unit=unit,
                sector=sectors[sector] if sector else None,
            )
        )
        assert not errors, errors
        rows.append(values)
    return rows


def _age(rng: random.Random) -> int:
    """A megacity age structure: 0-14 12%, 15-24 9%, 25-59 57%, 60+ 22%."""
    r = rng.random()
    if r < 0.12:
        return rng.randrange(0, 15)
    if r < 0.21:
        return rng.randrange(15, 25)
    if r < 0.78:
        return rng.randrange(25, 60)
    return min(99, 60 + int(rng.expovariate(1 / 11)))


def _household_members(
    rng: random.Random,
    household: Household,
    district: str,
    sectors: dict[str, IndustrySector],
    workplaces: list[Venue],
    used_ids: set[str],
) -> list[dict[str, Any]]:
    size = rng.choices([1, 2, 3, 4, 5], weights=[22, 30, 26, 14, 8])[0]
    surname = rng.choice(SURNAMES)
    today = dt.date.today()
    members = []
    for _ in range(size):
        age = _age(rng) if size > 1 else max(20, _age(rng))
        birth = today - dt.timedelta(days=age * 365 + rng.randrange(365))
        sex = rng.choice("MF")
        while True:
            seq = rng.randrange(1, 999)
            seq = seq - (seq % 2) + (1 if sex == "M" else 0)
            nid = identity.make(district, birth, seq % 1000)
            if nid not in used_ids:
                used_ids.add(nid)
                break
        tags = []
        if size == 1 and age >= 70:
            tags.append(SpecialGroup.ELDERLY_ALONE)
        if age < 3:
            tags.append(SpecialGroup.INFANT)
        if sex == "F" and 22 <= age <= 40 and rng.random() < 0.05:
            tags.append(SpecialGroup.PREGNANT)
        if age in (17, 18) and rng.random() < 0.6:
            tags.append(SpecialGroup.EXAM_STUDENT)
        if age >= 40 and rng.random() < 0.006:
            tags.append(SpecialGroup.DIALYSIS)
        if rng.random() < 0.015:
            tags.append(SpecialGroup.DISABLED)
        if age >= 80 and rng.random() < 0.1:
            tags.append(SpecialGroup.BEDRIDDEN)
        occupation, sector, workplace = "", None, None
        if 18 <= age < 60 and rng.random() < 0.75:
            if rng.random() < 0.14:
                code = rng.choice(list(KEY_JOBS))
                occupation = KEY_JOBS[code]
            else:
                code = rng.choices(list(OTHER_JOBS), weights=[OTHER_WEIGHTS[k] for k in OTHER_JOBS])[0]
                occupation = rng.choice(OTHER_JOBS[code])
            sector = sectors[code]
            matching = [w for w in workplaces if w.sector_id == sector.pk]
            workplace = rng.choice(matching) if matching and rng.random() < 0.6 else None
        elif age < 18 and age >= 6:
            occupation = "学生"
        elif age >= 60:
            occupation = "退休"
        values, errors = people.clean_person(
            people.PersonData(
                name=surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
                national_id=nid,
                sex=sex,
                phone=f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" if age >= 12 else "",
                household=household,
                workplace=workplace,
                workplace_name="" if workplace else ("某公司" if sector and rng.random() < 0.5 else ""),
                occupation=occupation,
                sector=sector,
                tags=tags,
            ),
            today=today,
        )
        assert not errors, errors
        members.append(values)
    return members


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
