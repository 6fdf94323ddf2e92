"""The built-in demo city: the simulator's ``demo`` preset (the scenario of DOMAIN.md) loaded into the platform.

A synthetic capital with Fengtai, Changping, Chaoyang and Haidian districts, their streets, communities and
grids named as in the reports Cordon grew from (plus generated ones); buildings with coordinates and footprints;
about 20,000 residents in households with valid national IDs, a megacity age structure, occupations,
key-industry workers and special groups; venues with place codes and sub-areas (the economy hotel in Chaoyang,
courier depots, markets, metro stations, ...); and one login per role and scope. Everything is written
through the apps' actions with source ``demo``.

The simulator also runs the first two weeks of the outbreak (first cases in the Fengtai and Changping
communities, cases isolated and their households and work units quarantined as they are reported): the venue
check-in scans of those days go into the scan store (``CORDON_SCAN_DIR``, by default ``<var>/scans``; a reset
empties it), the reported cases are entered as cases and traced (candidates with evidence, risk venues), and the
simulator's own tables (true infection tree, daily counts) go to ``<var>/sim/demo``, where ``persons.parquet``
maps the simulator's person ids to register ids and national IDs.

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
            f"{self.logins} logins; the first {OUTBREAK_DAYS} days of the outbreak: {self.scans:,} venue scans, "
            f"{self.cases} reported cases; {self.sites} isolation sites, {self.orders:,} persons under control orders; "
            f"a screening round in Fengtai with {self.samples} samples bound."
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
        from cordon.apps.control.models import ControlOrder, IsolationSite, TransferTask
        from cordon.apps.screening.models import Lab, ScreeningRound, TemporaryControl
        from cordon.apps.tracing.models import Case, Cluster

        TemporaryControl.objects.filter(jurisdiction__path__startswith=prefix).delete()
        ScreeningRound.objects.filter(owner__path__startswith=prefix).delete()
        Lab.objects.filter(jurisdiction__path__startswith=prefix).delete()

        TransferTask.objects.filter(district__path__startswith=prefix).delete()
        ControlOrder.objects.filter(jurisdiction__path__startswith=prefix).delete()
        IsolationSite.objects.filter(jurisdiction__path__startswith=prefix).delete()
        Case.objects.filter(jurisdiction__path__startswith=prefix).delete()
        Cluster.objects.filter(cases__isnull=True).delete()
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
    from cordon.engine.sim.city import SPECIAL_GROUPS

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
        school = int(city.school[p])
        if workplace >= 0:
            workplace_venue = made_venues[int(city.wp_venue[workplace])]
            work_unit = f"班组{int(city.unit[p])}" if city.unit[p] >= 0 else ""
        elif school >= 0:
            workplace_venue = made_venues[int(city.school_venue[school])]
            work_unit = f"班级{int(city.klass[p])}"
        else:
            workplace_venue, work_unit = None, ""
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
                workplace=workplace_venue,
                work_unit=work_unit,
                occupation=occupation,
                sector=sectors[sector] if sector else None,
                tags=tags,
            ),
            today=today,
        )
        assert not errors, errors
        person_rows.append(values)
    made_persons = people.bulk_create_persons(actor=None, rows=person_rows, source=SOURCE)
    summary.persons = len(made_persons)
    summary.logins = _ensure_logins()

    # The first two weeks of the outbreak: every day's check-in scans into the scan store (simulator ids mapped
    # to the register's), then the reported cases, traced.
    _outbreak(city, made_persons, made_venues, national_ids, summary, today, progress)
    _control(summary, progress)
    _screening(summary, progress)
    return summary


def _outbreak(
    city: Any,
    made_persons: list[Person],
    made_venues: list[Venue],
    national_ids: list[str],
    summary: Summary,
    today: dt.date,
    progress: bool,
) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cordon.apps.tracing import actions as tracing
    from cordon.apps.tracing.models import Classification, Control, FoundBy
    from cordon.apps.tracing.store import scan_store
    from cordon.engine.sim import Simulation, built_in, load_profile
    from cordon.engine.sim.interventions import FOUND_BY as FOUND_BY_SIM
    from cordon.engine.sim.outbreak import NEVER as NEVER_SIM
    from cordon.engine.sim.output import scan_table, write_run

    out = Path(settings.VAR_DIR)
    shutil.rmtree(out / "sim" / "demo", ignore_errors=True)
    store = scan_store()
    shutil.rmtree(store.root, ignore_errors=True)
    person_pk = np.array([p.pk for p in made_persons], dtype=np.int64)
    venue_pk = np.array([v.pk for v in made_venues], dtype=np.int64)

    def on_visits(day: int, date: dt.date, visits: Any) -> None:
        raw = scan_table(date, visits)
        table = pa.table(
            {
                "person_id": person_pk[raw.column("person_id").to_numpy()],
                "venue_id": venue_pk[raw.column("venue_id").to_numpy()],
                "subarea": raw.column("subarea").cast(pa.int16()),
                "time_in": raw.column("time_in"),
                "time_out": raw.column("time_out"),
            }
        )
        summary.scans += store.ingest(table).added

    sim = Simulation(
        city,
        load_profile(),
        built_in("basic"),
        seed=SEED,
        start_date=today - dt.timedelta(days=OUTBREAK_DAYS),
    )
    sim.run(OUTBREAK_DAYS, on_visits=on_visits)
    write_run(sim, out / "sim" / "demo")
    pq.write_table(
        pa.table(
            {
                "person_id": list(range(city.n_persons)),
                "register_id": person_pk,
                "national_id": national_ids,
            }
        ),
        out / "sim" / "demo" / "persons.parquet",
    )

    # Reported cases, as investigators would have entered them, then traced (candidates, risk venues).
    cases = sim.case_list()
    start = sim.start_date
    rng = random.Random(SEED + 1)
    key = city.is_key_worker()
    found_map = {
        "fever_clinic": FoundBy.FEVER_CLINIC,
        "quarantine": FoundBy.IN_QUARANTINE,
        "seed": FoundBy.SELF_REPORT,
    }
    made = []
    order = np.argsort(cases.reported, kind="stable")
    for i in order.tolist():
        p = int(cases.person[i])
        reported_day = start + dt.timedelta(days=int(cases.reported[i]))
        if reported_day >= today:
            continue
        sampled_day = start + dt.timedelta(days=int(cases.sampled[i]))
        found = FOUND_BY_SIM[int(cases.found_by[i])]
        if found == "screening":
            found_by = FoundBy.KEY_INDUSTRY_SCREENING if key[p] else FoundBy.AREA_SCREENING
        else:
            found_by = found_map.get(found, FoundBy.SELF_REPORT)
        asymptomatic = bool(sim.asymptomatic[p])
        onset = (
            None
            if asymptomatic or sim.onset[p] == NEVER_SIM
            else start + dt.timedelta(days=int(sim.onset[p]))
        )
        if onset is not None and onset > reported_day:
            onset = reported_day
        sampled_at = _at(sampled_day, 8 * 60 + rng.randrange(10 * 60))
        reported_at = max(
            _at(reported_day, 10 * 60 + rng.randrange(10 * 60)), sampled_at + dt.timedelta(hours=4)
        )
        controlled = bool(cases.under_control[i])
        made.append(
            tracing.report_case(
                actor=None,
                data=tracing.CaseData(
                    person=made_persons[p],
                    classification=Classification.ASYMPTOMATIC if onset is None else Classification.CONFIRMED,
                    onset_date=onset,
                    sampled_at=sampled_at,
                    reported_at=reported_at,
                    found_by=found_by,
                    control=Control.QUARANTINE if controlled else Control.COMMUNITY,
                    isolated_at=sampled_at - dt.timedelta(days=2) if controlled else None,
                ),
                source=SOURCE,
            )
        )
    if progress:
        print(f"tracing {len(made)} cases ...", file=sys.stderr, flush=True)
    tracing.trace_cases(actor=None, cases=made, source=SOURCE)
    summary.cases = len(made)


CONTROL_CASES = 40  # the most recent cases whose household and work-unit contacts the demo has judged


def _control(summary: Summary, progress: bool) -> None:
    """Close-contact control as of today: an isolation hotel per district; the household and work-unit
    contacts of the most recent cases judged, with the household members of those contacts as secondary
    contacts; two thirds of the close contacts placed (half of them arrived), most secondary contacts in home
    quarantine, the rest still in the queue, so every list of the open-items board has something on it."""
    from django.db.models import Avg
    from django.utils import timezone

    from cordon.apps.control import actions as control
    from cordon.apps.control import selectors as control_reads
    from cordon.apps.tracing import actions as tracing
    from cordon.apps.tracing.models import Case, Contact, ContactType, Decision

    prefix = f"/{CITY_CODE}/"
    for district in Jurisdiction.objects.filter(path__startswith=prefix, level=Level.DISTRICT).order_by(
        "code"
    ):
        where = Building.objects.filter(jurisdiction__path__startswith=district.path).aggregate(
            lat=Avg("latitude"), lon=Avg("longitude")
        )
        site = control.save_site(
            actor=None,
            data=control.SiteData(
                code=f"GLD-{district.code}", name=f"{district.name}集中隔离酒店",
                name_en=f"{district.name_en or district.name} quarantine hotel", jurisdiction=district,
                latitude=where["lat"], longitude=where["lon"], takes_special_needs=True,
                address=f"{district.name}（合成）", phone="010-12345678",
            ),
            source=SOURCE,
        )  # fmt: skip
        for numbers, beds, accessible in (("1001-1060", 1, False), ("2001-2040", 2, False),
                                           ("3001-3020", 3, False), ("8001-8008", 2, True)):  # fmt: skip
            control.add_rooms(
                actor=None, site=site, numbers=numbers, beds=beds, accessible=accessible, source=SOURCE
            )
        summary.sites += 1
    recent = list(
        Case.objects.filter(jurisdiction__path__startswith=prefix).order_by("-reported_at")[:CONTROL_CASES]
    )
    if progress:
        print(
            f"judging the household and work-unit contacts of {len(recent)} cases ...",
            file=sys.stderr,
            flush=True,
        )
    for case in recent:
        close = Contact.objects.filter(
            case=case,
            status=Decision.CANDIDATE,
            contact_type__in=[ContactType.HOUSEHOLD, ContactType.WORK_UNIT],
        )
        close_people = list(close.values_list("person_id", flat=True))
        ids = list(close.values_list("pk", flat=True)) + list(
            Contact.objects.filter(
                case=case, status=Decision.CANDIDATE, contact_type=ContactType.SECONDARY_HOUSEHOLD,
                via_id__in=close_people,
            ).values_list("pk", flat=True)
        )  # fmt: skip
        if ids:
            tracing.decide_contacts(
                actor=None, case=case, contact_ids=ids, decision=Decision.CONFIRMED, source=SOURCE
            )
    officer = User.objects.get(username="admin")
    waiting = list(control_reads.queue(officer, centralized=True))
    view = control_reads.propose_placements(officer, waiting[: len(waiting) * 2 // 3])
    pairs = [(r.order, r.room) for r in view.rows if r.room is not None]
    if pairs:
        control.reserve_rooms(actor=None, assignments=pairs, source=SOURCE)
    by_site: dict[int, list[Any]] = {}
    for order, room in pairs:
        by_site.setdefault(room.site_id, []).append(order)
    now = timezone.now()
    for n, orders in enumerate(by_site.values()):
        for i in range(0, len(orders), 20):
            task = control.create_transfer(
                actor=None, orders=orders[i : i + 20],
                data=control.TransferData(f"京A·{10000 + 37 * n + i:05d}", f"转运{n + 1}组", now), source=SOURCE,
            )  # fmt: skip
            if (i // 20) % 2 == 0:
                control.arrive_transfer(actor=None, task=task, source=SOURCE)
    at_home = [o for o in control_reads.queue(officer, centralized=False) if o.person.home_building_id]
    if at_home:
        control.place_at_home(actor=None, orders=at_home[: len(at_home) * 3 // 4], source=SOURCE)
    summary.orders = control_reads.orders_visible_to(officer).count()


SCREENED = 300  # Zhangguozhuang residents sampled in the demo round (ten to a tube)


def _screening(summary: Summary, progress: bool) -> None:
    """Mass screening as of today: a 10-in-1 round over Fengtai with a sampling site in Beigong, the first
    residents of Zhangguozhuang bound to tubes, the tubes received by the city lab and their results: one pool
    positive (its persons under temporary control at home with their single-tube re-sample tasks); frequency
    rules for delivery riders (daily) and couriers (every 2 days)."""
    from django.utils import timezone

    from cordon.apps.screening import actions as screening

    if progress:
        print("screening a Fengtai community ...", file=sys.stderr, flush=True)
    fengtai = Jurisdiction.objects.get(code="110106")
    now = timezone.now()
    rnd = screening.create_round(
        actor=None,
        data=screening.RoundData(
            code=f"FT-{timezone.localdate():%Y%m%d}", name="丰台区全员核酸筛查", owner=fengtai,
            starts_at=now - dt.timedelta(hours=2), ends_at=now + dt.timedelta(hours=12), design="10-in-1",
            jurisdictions=[fengtai],
        ),
        source=SOURCE,
    )  # fmt: skip
    site = screening.add_site(
        actor=None,
        round=rnd,
        data=screening.SiteData(
            "BG-01", "北宫镇张郭庄村采样点", Jurisdiction.objects.get(code="110106010"), staff=4
        ),
        source=SOURCE,
    )
    screening.issue_tubes(actor=None, site=site, barcodes="FT000001-FT000100", source=SOURCE)
    screening.issue_tubes(actor=None, site=site, barcodes="FS000001-FS000050", size=1, source=SOURCE)
    ids = list(
        Person.objects.filter(jurisdiction__path__startswith="/110000/110106/110106010/110106010201/")
        .exclude(national_id__isnull=True)
        .order_by("pk")
        .values_list("national_id", flat=True)[:SCREENED]
    )
    rows = [screening.BindingIn(f"FT{i // 10 + 1:06d}", nid or "") for i, nid in enumerate(ids)]
    summary.samples = len(screening.bind_samples(actor=None, site=site, rows=rows, source=SOURCE).bound)
    tubes = sorted({r.tube for r in rows})
    lab = screening.create_lab(
        actor=None, code="LAB-110000", name="合成京城核酸检测基地",
        jurisdiction=Jurisdiction.objects.get(code=CITY_CODE), source=SOURCE,
    )  # fmt: skip
    screening.receive_tubes(actor=None, lab=lab, barcodes=tubes, source=SOURCE)
    results = [screening.ResultIn(t, "negative") for t in tubes]
    results[len(results) // 3] = screening.ResultIn(
        tubes[len(tubes) // 3], "positive", {"ORF1ab": 31.5, "N": 30.8}
    )
    screening.record_results(actor=None, rows=results[:-3], lab=lab, source=SOURCE)  # the last three pending
    for code, days in (("delivery", 1), ("courier", 2)):
        sector = IndustrySector.objects.filter(code=code).first()
        if sector is not None:
            screening.save_rule(actor=None, sector=sector, every_days=days, source=SOURCE)


def _at(day: dt.date, minutes: int) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes))


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
