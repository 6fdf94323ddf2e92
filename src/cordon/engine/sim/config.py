"""What a synthetic city looks like: :class:`CityConfig`, its validation, and the named presets.

Every number has a default for a Chinese megacity; a preset fixes the size and the names. A configuration is
validated completely (:func:`validate`) before any work starts, and :class:`SimConfigError` lists every problem.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from cordon.engine.sim.errors import SimConfigError


@dataclass(frozen=True, slots=True)
class CommunitySpec:
    code: str
    name: str
    name_en: str


@dataclass(frozen=True, slots=True)
class StreetSpec:
    code: str
    name: str
    name_en: str
    centre: tuple[float, float]  # (longitude, latitude)
    communities: tuple[CommunitySpec, ...]


@dataclass(frozen=True, slots=True)
class DistrictSpec:
    """A district with its share of the residents; named streets and communities are optional (more are
    generated until the district has its share at ``community_size`` residents per community)."""

    code: str
    name: str
    name_en: str
    share: float
    centre: tuple[float, float]
    streets: tuple[StreetSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class SectorSpec:
    """An industry sector: its share of the employed, whether it is a key industry (screened more densely),
    the mean number of venues its workers visit a day for their work, and the kinds of venue they visit."""

    code: str
    name: str
    name_en: str
    share: float
    key: bool = False
    work_visits: float = 0.0
    work_visit_minutes: float = 10.0
    visit_kinds: tuple[str, ...] = ()
    workplace_kind: str = "office"
    workplace_size: float = 40.0


@dataclass(frozen=True, slots=True)
class VenueKindSpec:
    """A kind of venue: how many per 10,000 residents, capacity and sub-area ranges, the share of residents'
    visits that go to this kind, the median stay, the Pareto shape of its popularity (smaller = heavier tail)
    and whether it is a hub (station, mall, large market, hospital)."""

    kind: str
    name: str
    per_10k: float
    capacity: tuple[int, int]
    subareas: tuple[int, int]
    visit_share: float
    median_minutes: float
    popularity_shape: float = 1.2
    hub: bool = False
    subarea_names: tuple[str, ...] = ()


# Sector codes match the platform's industry sectors; the six key industries come first.
SECTORS: tuple[SectorSpec, ...] = (
    SectorSpec("delivery", "外卖配送", "Food delivery", 0.030, True, 18, 4,
               ("restaurant", "restaurant", "restaurant", "mall", "supermarket", "office", "economy_hotel"),
               "courier_depot", 60),
    SectorSpec("courier", "快递物流", "Courier", 0.020, True, 12, 6,
               ("office", "office", "mall", "supermarket", "courier_depot"), "courier_depot", 40),
    SectorSpec("maintenance", "维修", "Maintenance", 0.010, True, 5, 30,
               ("office", "mall", "restaurant", "hospital"), "office", 20),
    SectorSpec("cleaning", "保洁", "Cleaning", 0.015, True, 3, 60,
               ("office", "mall", "hospital", "economy_hotel"), "office", 30),
    SectorSpec("security", "安保", "Security", 0.015, True, 1, 30, ("mall", "office"), "office", 30),
    SectorSpec("catering", "餐饮", "Catering", 0.050, True, 1, 20, ("market", "supermarket"), "restaurant", 15),
    SectorSpec("hotel", "住宿", "Hotels", 0.015, False, 0, 0, (), "economy_hotel", 20),
    SectorSpec("cold_chain", "冷链", "Cold chain", 0.008, False, 2, 30, ("market", "supermarket"), "factory", 40),
    SectorSpec("medical", "医疗卫生", "Medical", 0.050, False, 0, 0, (), "hospital", 150),
    SectorSpec("transport", "交通运输", "Transport", 0.060, False, 0, 0, (), "transit", 60),
    SectorSpec("retail", "商超零售", "Retail", 0.110, False, 0, 0, (), "supermarket", 25),
    SectorSpec("education", "教育", "Education", 0.050, False, 0, 0, (), "school", 80),
    SectorSpec("office", "企事业单位", "Offices and public bodies", 0.567, False, 0, 0, (), "office", 60),
)  # fmt: skip

VENUE_KINDS: tuple[VenueKindSpec, ...] = (
    VenueKindSpec("restaurant", "餐馆", 30, (20, 300), (1, 3), 0.34, 45, 1.3, False, ("大厅", "包间", "二楼")),
    VenueKindSpec("supermarket", "超市", 4, (100, 800), (1, 3), 0.20, 25, 1.3, False, ("入口", "生鲜区", "收银区")),
    VenueKindSpec("market", "农贸市场", 1.0, (200, 2000), (2, 6), 0.08, 30, 1.0, True,
                  ("蔬菜区", "肉类区", "水产区", "熟食区", "干货区", "水果区")),
    VenueKindSpec("mall", "购物中心", 0.4, (2000, 20000), (4, 10), 0.09, 90, 1.0, True,
                  ("B1", "1F", "2F", "3F", "4F", "5F", "6F", "餐饮层", "影院", "停车场")),
    VenueKindSpec("transit", "地铁站", 1.2, (1000, 10000), (3, 6), 0.15, 15, 0.9, True,
                  ("A口", "B口", "C口", "D口", "站厅", "站台")),
    VenueKindSpec("hospital", "医院", 0.3, (500, 5000), (4, 8), 0.03, 90, 1.0, True,
                  ("门诊", "急诊", "发热门诊", "药房", "住院部", "检验科", "影像科", "收费处")),
    VenueKindSpec("clinic", "诊所药店", 3, (10, 80), (1, 2), 0.05, 15, 1.5, False, ("诊室", "药房")),
    VenueKindSpec("gym", "健身娱乐", 2, (50, 400), (1, 3), 0.04, 80, 1.3, False, ("器械区", "操课室", "包厢")),
    VenueKindSpec("economy_hotel", "快捷酒店", 1.0, (60, 300), (3, 8), 0.02, 240, 1.5, False,
                  ("大堂", "2层", "3层", "4层", "5层", "6层", "7层", "8层")),
    VenueKindSpec("office", "写字楼", 6, (200, 5000), (2, 10), 0.0, 30, 1.5, False,
                  ("大堂", "A座", "B座", "C座", "3层", "5层", "8层", "10层", "12层", "15层")),
    VenueKindSpec("courier_depot", "快递驿站", 2, (20, 200), (1, 2), 0.0, 10, 1.5, False, ("分拣区", "取件区")),
    VenueKindSpec("factory", "工厂仓库", 0.5, (50, 500), (1, 3), 0.0, 30, 1.5, False, ("冷库", "装卸区", "车间")),
    VenueKindSpec("school", "学校", 0.0, (300, 2000), (1, 2), 0.0, 30, 2.0, False, ("教学楼", "食堂")),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class NamedVenue:
    """A venue the scenario needs by name (the demo's economy hotel, courier depots, ...), placed in a named
    community; ``popularity`` multiplies the draw weight of residents' visits."""

    kind: str
    name: str
    community: str
    popularity: float = 1.0
    subareas: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CommuteLink:
    """A share of one sector's workers living in one district who work in another (how key-industry workers
    carry an outbreak across districts)."""

    home_district: str
    work_district: str
    sectors: tuple[str, ...]
    share: float


@dataclass(frozen=True)
class CityConfig:
    name: str
    name_en: str
    code: str
    population: int
    districts: tuple[DistrictSpec, ...]
    centre: tuple[float, float] = (116.397, 39.909)
    community_size: int = 3000
    communities_per_street: int = 8
    grid_households: int = 300
    households_per_building: int = 60
    # Shares of households with 1, 2, 3, ... members (China, 7th census 2020, rounded; mean 2.6).
    household_sizes: tuple[float, ...] = (0.25, 0.30, 0.21, 0.13, 0.07, 0.04)
    # (first age, last age, share of residents): a megacity structure (0-14 12%, 15-59 66%, 60+ 22%).
    age_bands: tuple[tuple[int, int, float], ...] = (
        (0, 5, 0.045), (6, 14, 0.075), (15, 17, 0.025), (18, 24, 0.065), (25, 34, 0.17), (35, 44, 0.16),
        (45, 54, 0.14), (55, 59, 0.10), (60, 69, 0.12), (70, 79, 0.07), (80, 99, 0.03),
    )  # fmt: skip
    employment_rate: float = 0.72
    work_in_home_district: float = 0.7
    school_ages: tuple[int, int] = (3, 17)
    class_size: int = 40
    school_size: int = 1200
    unit_size: int = 12
    sectors: tuple[SectorSpec, ...] = SECTORS
    venue_kinds: tuple[VenueKindSpec, ...] = VENUE_KINDS
    # Mean venue visits a day (besides work) for children, adults and the elderly; weekends multiply them.
    visits_per_day: tuple[float, float, float] = (0.5, 1.3, 0.9)
    weekend_factor: float = 1.3
    local_visit_share: float = 0.8
    special_groups: dict[str, float] = field(
        default_factory=lambda: {"disabled": 0.015, "pregnant": 0.05, "dialysis": 0.006, "exam_student": 0.6}
    )
    named_venues: tuple[NamedVenue, ...] = ()
    commute_links: tuple[CommuteLink, ...] = ()
    seed_communities: tuple[str, ...] = ()
    seed_infections: int = 20
    start_date: str = "2022-11-01"

    def with_population(self, population: int) -> CityConfig:
        return replace(self, population=population)

    def with_values(self, **values: Any) -> CityConfig:
        unknown = set(values) - set(self.__dataclass_fields__)
        if unknown:
            raise SimConfigError([f"unknown city setting {k!r}" for k in sorted(unknown)])
        return replace(self, **values)


def _probability(problems: list[str], name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= 1):
        problems.append(f"{name}: a probability must be between 0 and 1, got {value!r}")


def _positive(problems: list[str], name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        problems.append(f"{name}: must be positive, got {value!r}")


def validate(config: CityConfig) -> None:
    """Raise :class:`SimConfigError` listing every problem of ``config``; return when it is usable."""
    p: list[str] = []
    if not isinstance(config.population, int) or config.population <= 0:
        p.append(f"population: must be a positive whole number, got {config.population!r}")
    for name in ("community_size", "communities_per_street", "grid_households", "households_per_building",
                 "class_size", "school_size", "unit_size", "seed_infections"):  # fmt: skip
        value = getattr(config, name)
        if not isinstance(value, int) or value < (0 if name == "seed_infections" else 1):
            p.append(f"{name}: must be a positive whole number, got {value!r}")
    for name in ("employment_rate", "work_in_home_district", "local_visit_share"):
        _probability(p, name, getattr(config, name))
    for name, value in config.special_groups.items():
        _probability(p, f"special_groups.{name}", value)
    _positive(p, "weekend_factor", config.weekend_factor)
    for i, rate in enumerate(config.visits_per_day):
        if not (math.isfinite(rate) and rate >= 0):
            p.append(f"visits_per_day[{i}]: must not be negative, got {rate!r}")
    sizes = config.household_sizes
    if (
        not sizes
        or any(not (math.isfinite(x) and x >= 0) for x in sizes)
        or not math.isclose(sum(sizes), 1, abs_tol=1e-6)
    ):
        p.append(f"household_sizes: shares must be non-negative and sum to 1, got {sizes!r}")
    bands = config.age_bands
    if not bands or any(lo < 0 or hi < lo or hi > 120 or not (share >= 0) for lo, hi, share in bands):
        p.append("age_bands: each band needs 0 <= first age <= last age <= 120 and a non-negative share")
    elif not math.isclose(sum(b[2] for b in bands), 1, abs_tol=1e-6):
        p.append(f"age_bands: shares must sum to 1, got {sum(b[2] for b in bands):.4f}")
    if not config.districts:
        p.append("districts: at least one district is required")
    elif not math.isclose(sum(d.share for d in config.districts), 1, abs_tol=1e-6) or any(
        d.share <= 0 for d in config.districts
    ):
        p.append("districts: shares must be positive and sum to 1")
    codes = [d.code for d in config.districts]
    if len(set(codes)) != len(codes):
        p.append("districts: codes must be unique")
    _check_sectors_and_venues(config, p)
    _check_places(config, p)
    if p:
        raise SimConfigError(p)


def _check_sectors_and_venues(config: CityConfig, p: list[str]) -> None:
    """The sectors' shares and work visits, and the venue kinds' counts, ranges and visit shares."""
    if not config.sectors or not math.isclose(sum(s.share for s in config.sectors), 1, abs_tol=1e-6):
        p.append("sectors: shares must sum to 1")
    kinds = {k.kind for k in config.venue_kinds}
    for s in config.sectors:
        _probability(p, f"sectors.{s.code}.share", s.share)
        if s.work_visits < 0:
            p.append(f"sectors.{s.code}.work_visits: must not be negative")
        if s.work_visit_minutes < 0:
            p.append(f"sectors.{s.code}.work_visit_minutes: must not be negative")
        if not s.workplace_size > 0:
            p.append(f"sectors.{s.code}.workplace_size: must be positive")
        for kind in (*s.visit_kinds, s.workplace_kind):
            if kind not in kinds:
                p.append(f"sectors.{s.code}: unknown venue kind {kind!r}")
    for k in config.venue_kinds:
        if k.per_10k < 0 or k.visit_share < 0 or k.median_minutes <= 0 or k.popularity_shape <= 0:
            p.append(
                f"venue_kinds.{k.kind}: counts and shares must not be negative, stays and shapes positive"
            )
        if (
            k.capacity[0] < 1
            or k.capacity[1] < k.capacity[0]
            or k.subareas[0] < 1
            or k.subareas[1] < k.subareas[0]
        ):
            p.append(f"venue_kinds.{k.kind}: capacity and sub-area ranges must be 1 <= low <= high")
    if not math.isclose(sum(k.visit_share for k in config.venue_kinds), 1, abs_tol=1e-6):
        p.append("venue_kinds: visit shares must sum to 1")


def _check_places(config: CityConfig, p: list[str]) -> None:
    """Named venues, commute links and seed communities refer to places and sectors the city has."""
    kinds = {k.kind for k in config.venue_kinds}
    known = {c.code for d in config.districts for s in d.streets for c in s.communities}
    districts = {d.code for d in config.districts}
    sectors = {s.code for s in config.sectors}
    for v in config.named_venues:
        if v.kind not in kinds or v.community not in known or v.popularity <= 0:
            p.append(
                f"named_venues.{v.name}: needs a known kind, a named community and a positive popularity"
            )
    for link in config.commute_links:
        _probability(p, f"commute_links.{link.home_district}->{link.work_district}", link.share)
        if {link.home_district, link.work_district} - districts or set(link.sectors) - sectors:
            p.append(f"commute_links: unknown district or sector in {link}")
    for code in config.seed_communities:
        if code not in known:
            p.append(f"seed_communities: {code!r} is not a named community of this city")


# --- presets -----------------------------------------------------------------------------------------------


def _c(code: str, name: str, en: str) -> CommunitySpec:
    return CommunitySpec(code, name, en)


DEMO_DISTRICTS = (
    DistrictSpec("110106", "丰台区", "Fengtai", 0.30, (116.287, 39.858), (
        StreetSpec("110106010", "北宫镇", "Beigong", (116.201, 39.873), (
            _c("110106010201", "张郭庄村", "Zhangguozhuang"),
            _c("110106010012", "二七车辆厂社区", "Erqi Vehicle Factory"),
        )),
        StreetSpec("110106002", "太平桥街道", "Taipingqiao", (116.316, 39.872), (
            _c("110106002003", "东管头社区", "Dongguantou"),
        )),
    )),
    DistrictSpec("110114", "昌平区", "Changping", 0.20, (116.331, 40.072), (
        StreetSpec("110114011", "回龙观街道", "Huilongguan", (116.326, 40.076), (
            _c("110114011005", "龙祥社区东区", "Longxiang East"),
            _c("110114011006", "龙华园社区", "Longhuayuan"),
        )),
    )),
    DistrictSpec("110105", "朝阳区", "Chaoyang", 0.32, (116.443, 39.921), (
        StreetSpec("110105020", "大屯街道", "Dadun", (116.412, 40.004), (
            _c("110105020010", "欧陆经典社区", "Oulu Jingdian"),
        )),
        StreetSpec("110105030", "十八里店乡", "Shibalidian", (116.503, 39.851), (
            _c("110105030201", "潼城公寓", "Tongcheng Apartments"),
        )),
        StreetSpec("110105040", "南磨房乡", "Nanmofang", (116.478, 39.879), (
            _c("110105040010", "美景东方小区", "Meijing Dongfang"),
            _c("110105040011", "南新园小区", "Nanxinyuan"),
        )),
    )),
    DistrictSpec("110108", "海淀区", "Haidian", 0.18, (116.298, 39.959), (
        StreetSpec("110108001", "万寿路街道", "Wanshoulu", (116.293, 39.909), (
            _c("110108001010", "翠微路社区", "Cuiweilu"),
        )),
    )),
)  # fmt: skip


def _areas(*groups: tuple[str, int]) -> tuple[str, ...]:
    """Sub-area names: ``(prefix, n)`` gives ``prefix1 .. prefixN`` (``n`` 0 gives the prefix alone)."""
    return tuple(name for prefix, n in groups for name in ([prefix] if n == 0 else
                 [f"{prefix}{i}" for i in range(1, n + 1)]))  # fmt: skip


# The demo's venues as a small city has them: more, smaller places than the benchmark defaults (a restaurant,
# a corner shop or a clinic per few hundred residents), and sub-areas as fine as a contact tracer asks about
# (a restaurant's tables and rooms, a supermarket's aisles, a station's entrances, halls and platform cars, a
# mall's floors and wings, an office's floors), so that sharing a sub-area means being near one another. The
# visit shares and stays are the defaults'.
_DEMO_KIND_CHANGES: tuple[dict[str, Any], ...] = (
    {"per_10k": 80, "subareas": (8, 20), "subarea_names": _areas(("大厅", 14), ("包间", 6))},
    {"per_10k": 30, "capacity": (30, 800), "subareas": (6, 16),
     "subarea_names": _areas(("入口", 0), ("收银区", 0), ("生鲜区", 0), ("通道", 13))},
    {"per_10k": 3, "subareas": (12, 24), "subarea_names": _areas(("蔬菜", 6), ("肉类", 6), ("水产", 4),
                                                                 ("熟食", 4), ("干货", 4))},
    {"per_10k": 1.5, "subareas": (24, 40),
     "subarea_names": _areas(("B1-", 6), ("1F-", 6), ("2F-", 6), ("3F-", 6), ("4F-", 6), ("5F-", 6),
                             ("餐饮层", 4))},
    {"per_10k": 3, "subareas": (16, 24),
     "subarea_names": _areas(("A口", 0), ("B口", 0), ("C口", 0), ("D口", 0), ("站厅", 4), ("站台", 2),
                             ("上行车厢", 8), ("下行车厢", 8))},
    {"per_10k": 1, "subareas": (16, 32),
     "subarea_names": _areas(("门诊", 12), ("急诊", 4), ("发热门诊", 2), ("药房", 2), ("住院部", 8),
                             ("检验科", 2), ("影像科", 2))},
    {"per_10k": 10},
    {"per_10k": 4, "subareas": (3, 8), "subarea_names": _areas(("器械区", 4), ("操课室", 2), ("包厢", 2))},
    {"per_10k": 2, "subareas": (8, 16), "subarea_names": ("大堂", *(f"{i}层" for i in range(2, 17)))},
    {"per_10k": 8, "subareas": (20, 40), "subarea_names": ("大堂", *(f"{i}层" for i in range(2, 41)))},
    {"per_10k": 4},
    {},
    {},
)  # fmt: skip
DEMO_VENUE_KINDS = tuple(
    replace(k, **changes) if changes else k
    for k, changes in zip(VENUE_KINDS, _DEMO_KIND_CHANGES, strict=True)
)


DEMO_VENUES = (
    NamedVenue("courier_depot", "北宫快递驿站", "110106010201", 3, ("分拣区", "取件区")),
    NamedVenue("market", "张郭庄农贸市场", "110106010201", 3),
    NamedVenue("restaurant", "二七厂食堂", "110106010012", 3, _areas(("一楼", 8), ("二楼", 8))),
    NamedVenue("supermarket", "太平桥超市", "110106002003", 2),
    NamedVenue("hospital", "丰台区第一医院", "110106002003", 2),
    NamedVenue("transit", "回龙观地铁站", "110114011005", 4),
    NamedVenue("courier_depot", "回龙观快递站", "110114011005", 3, ("分拣区", "取件区")),
    NamedVenue("restaurant", "龙祥麻辣烫", "110114011005", 2),
    NamedVenue("gym", "龙华园健身房", "110114011006", 2),
    NamedVenue("mall", "大屯购物中心", "110105020010", 4),
    NamedVenue("courier_depot", "欧陆经典外卖站", "110105020010", 3),
    NamedVenue(
        "economy_hotel", "潼城快捷酒店", "110105030201", 30, ("大堂", *(f"{i}层" for i in range(2, 13)))
    ),
    NamedVenue("factory", "十八里店冷链仓库", "110105030201", 1, ("冷库", "装卸区")),
    NamedVenue("market", "南磨房菜市场", "110105040010", 3),
    NamedVenue("office", "美景东方写字楼", "110105040010", 2, _areas(("A座", 12), ("B座", 12))),
    NamedVenue("clinic", "万寿路诊所", "110108001010", 1),
)

# Beijing's 16 districts with their approximate resident shares (2021 yearbook, 21.9 million in all).
BEIJING_DISTRICTS = tuple(
    DistrictSpec(code, name, en, share, centre)
    for code, name, en, share, centre in (
        ("110101", "东城区", "Dongcheng", 0.032, (116.416, 39.928)),
        ("110102", "西城区", "Xicheng", 0.050, (116.366, 39.912)),
        ("110105", "朝阳区", "Chaoyang", 0.157, (116.443, 39.921)),
        ("110106", "丰台区", "Fengtai", 0.092, (116.287, 39.858)),
        ("110107", "石景山区", "Shijingshan", 0.026, (116.223, 39.906)),
        ("110108", "海淀区", "Haidian", 0.143, (116.298, 39.959)),
        ("110109", "门头沟区", "Mentougou", 0.018, (116.102, 39.940)),
        ("110111", "房山区", "Fangshan", 0.060, (116.143, 39.748)),
        ("110112", "通州区", "Tongzhou", 0.084, (116.656, 39.909)),
        ("110113", "顺义区", "Shunyi", 0.060, (116.654, 40.130)),
        ("110114", "昌平区", "Changping", 0.104, (116.231, 40.220)),
        ("110115", "大兴区", "Daxing", 0.091, (116.341, 39.726)),
        ("110116", "怀柔区", "Huairou", 0.020, (116.632, 40.316)),
        ("110117", "平谷区", "Pinggu", 0.021, (117.121, 40.141)),
        ("110118", "密云区", "Miyun", 0.024, (116.843, 40.377)),
        ("110119", "延庆区", "Yanqing", 0.018, (115.975, 40.457)),
    )
)

PRESETS: dict[str, CityConfig] = {
    "demo": CityConfig(
        name="合成京城（演示）",
        name_en="Synthetic Capital (demo)",
        code="110000",
        population=20_000,
        districts=DEMO_DISTRICTS,
        community_size=1500,
        communities_per_street=3,
        grid_households=150,
        households_per_building=40,
        venue_kinds=DEMO_VENUE_KINDS,
        unit_size=6,
        named_venues=DEMO_VENUES,
        commute_links=(
            CommuteLink("110106", "110105", ("delivery", "courier", "cleaning"), 0.5),
            CommuteLink("110114", "110105", ("delivery", "courier"), 0.4),
        ),
        seed_communities=("110106010201", "110106010012", "110114011005"),
        seed_infections=6,
    ),
    "city-1m": CityConfig(
        name="合成城市（百万人口）",
        name_en="Synthetic city (1 million)",
        code="990000",
        population=1_000_000,
        districts=tuple(
            DistrictSpec(
                f"9901{i:02d}",
                f"第{i}区",
                f"District {i}",
                1 / 8,
                (116.2 + 0.1 * (i % 4), 39.8 + 0.1 * (i // 4)),
            )
            for i in range(1, 9)
        ),
        seed_infections=100,
    ),
    "beijing": CityConfig(
        name="合成北京（21.9百万人口）",
        name_en="Synthetic Beijing (21.9 million)",
        code="110000",
        population=21_900_000,
        districts=BEIJING_DISTRICTS,
        seed_infections=200,
    ),
}


def preset(name: str, **overrides: Any) -> CityConfig:
    """A named preset (``demo``, ``city-1m``, ``beijing``), optionally with settings replaced, validated."""
    if name not in PRESETS:
        raise SimConfigError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    config = PRESETS[name].with_values(**overrides) if overrides else PRESETS[name]
    validate(config)
    return config
