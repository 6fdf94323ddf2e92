"""The demo's scenario: the simulator's ``demo`` preset city (fixed seed), the names, jobs and logins the
loader gives it, and the summary it reports. Plain values, shared by ``actions`` (the loader) and ``selectors``.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cordon.core.roles import Role

if TYPE_CHECKING:
    from cordon.engine.sim import Simulation
    from cordon.engine.sim.city import City

SOURCE = "demo"
PASSWORD = "cordon-demo"
SEED = 20221122
CITY_CODE = "110000"  # the demo preset's city code
OUTBREAK_DAYS = 9  # days of the outbreak the load plays, the last of them today
# The city's response inside the simulator (the platform's own decisions do not feed back into it): cases
# isolated, households and teams quarantined, case communities sealed and the city screened every three days
# from day 7 (the first round's positives are reported on the last day the load plays), with regular testing
# and testing in quarantine added by ``simulation``.
RESPONSE = "zero-covid"
# The outbreak's pace. The simulator's default profile has Omicron's R0 of 6 in a city living normally; a city
# under the standing measures of 2022 (masks, venue codes, regular testing) saw about half that, and with R0 6
# the demo's outbreak grew unseen to some 80 infections in a week and its first full screening round reported
# nearly all of them on the last day (an Rt of 8 to 9 on the analysis page). With R0 3 and everyone tested once
# a week (a seventh of the households each day), cases are found a few a day from the third day, the full round
# of day 7 reports some more today, and Rt reads about 2 to 4.
R0 = 3.0
REGULAR_TESTING_EVERY = 7  # days between a resident's regular PCR tests (a 1/7 share of households each day)
CONTROL_CASES = 40  # the most recent cases whose household and work-unit contacts the demo has judged
SCREENED = 300  # Zhangguozhuang residents sampled in the demo round (ten to a tube)

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
OFFICER = "admin"  # the login whose scope the loader reads through when it places contacts


@dataclass(frozen=True)
class Login:
    username: str
    role: str
    jurisdiction: str
    sector: str | None = None


@functools.cache
def demo_city() -> City:
    """The demo preset's city (deterministic; generated once per process, read-only afterwards)."""
    from cordon.engine.sim import generate_city, preset

    return generate_city(preset("demo"), seed=SEED)


def logins(city: City | None = None) -> list[Login]:
    """Every demo login: a commander per district, an officer per street, a grid worker per community (and one
    at a single Fengtai grid), and one login for each other role. Named places keep their short logins;
    generated streets and communities get ``<district>-street-<code>`` / ``<district>-community-<code>``."""
    from cordon.engine.sim.city import COMMUNITY, DISTRICT, STREET

    city = city or demo_city()
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


def simulation(city: City, start: dt.date) -> Simulation:
    """The demo's outbreak in ``city`` from ``start`` (day 0), seeded: the same days on every run. The response
    is ``RESPONSE``'s bundle (cases isolated, contacts quarantined, case communities sealed, city-wide rounds
    every three days from day 7) plus regular testing, at the profile's serial interval with R0 ``R0``."""
    from cordon.engine.sim import Simulation, built_in, load_profile
    from cordon.engine.sim.interventions import QuarantineTesting, RegularTesting

    response = [*built_in(RESPONSE), RegularTesting(every=REGULAR_TESTING_EVERY), QuarantineTesting(every=2)]
    profile = load_profile().with_overrides(r0=R0)
    return Simulation(city, profile, response, seed=SEED, start_date=start)


def city_of(population: int) -> City:
    """The demo preset's city at ``population`` residents (the demo's own, generated once, at its default)."""
    from cordon.engine.sim import generate_city, preset

    city = demo_city()
    if population == city.n_persons:
        return city
    return generate_city(preset("demo", population=population), seed=SEED)


@dataclass(frozen=True)
class Run:
    """The outbreak as played so far: from ``start``, ``days`` days (the last is ``last_date``)."""

    start: dt.date
    days: int
    population: int

    @property
    def last_date(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days - 1)

    @property
    def next_date(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days)


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
    sites: int = 0
    orders: int = 0
    samples: int = 0

    def describe(self) -> str:
        if not self.loaded:
            return (
                f"The demo city is already loaded ({self.persons:,} persons); use --reset to load it again."
            )
        return (
            f"Loaded the demo city: {self.jurisdictions} jurisdictions, {self.buildings} buildings, "
            f"{self.households:,} households, {self.persons:,} persons, {self.venues} venues, "
            f"{self.logins} logins; the outbreak's first {OUTBREAK_DAYS} days, the last of them today: "
            f"{self.scans:,} venue scans, "
            f"{self.cases} reported cases; {self.sites} isolation sites, {self.orders:,} persons under control orders; "
            f"a screening round in Fengtai with {self.samples} samples bound."
        )
