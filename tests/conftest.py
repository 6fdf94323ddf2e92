"""Shared fixtures: a small two-district city built through the real actions, and users per role and scope."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.db.backends.signals import connection_created
from django.test import Client
from django.utils import timezone

from architecture.audit_watch import WATCH
from cordon.apps.accounts import actions as accounts
from cordon.apps.geo import actions as geo
from cordon.apps.geo.models import Building, IndustrySector, Jurisdiction, Level
from cordon.apps.people import actions as people
from cordon.apps.people.models import Household, Person
from cordon.apps.venues import actions as venues
from cordon.apps.venues.models import Venue
from cordon.core import actions as actions_registry
from cordon.engine import identity
from data_rows import restore_data_migration_rows


def _may_empty_the_trail(sender: Any, connection: Any, **kwargs: Any) -> None:
    """The suite empties every table between transactional tests (TRUNCATE on PostgreSQL), which the audit
    tables refuse unless the session says so (``audit/guards.py``)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET cordon.audit_reset = 'on'")


connection_created.connect(_may_empty_the_trail, dispatch_uid="tests.may_empty_the_trail")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Under ``CORDON_TEST_CLOCK`` the tests that compare the process's clock with the database's (the jobs'
    heartbeats and reaper) would only measure the gap the setting made: they are skipped, saying so."""
    if not os.environ.get("CORDON_TEST_CLOCK"):
        return
    skip = pytest.mark.skip(reason="reads the database's clock, which CORDON_TEST_CLOCK does not move")
    for item in items:
        if "db_clock" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _suite_clock() -> Any:
    """``CORDON_TEST_CLOCK`` (an ISO date-time with its offset) runs the whole suite with the clock started at
    that moment and ticking, so a test that holds only at some hours of the day is found before CI runs at
    them: e.g. ``CORDON_TEST_CLOCK=2026-12-07T23:58+08:00`` crosses the local midnight during the run, and
    ``2026-12-08T00:30+08:00`` is a local date that is not the UTC date (docs/contributing.md)."""
    when = os.environ.get("CORDON_TEST_CLOCK", "")
    if not when:
        yield None
        return
    with time_machine.travel(dt.datetime.fromisoformat(when), tick=True) as traveller:
        yield traveller


@dataclass
class City:
    city: Jurisdiction
    fengtai: Jurisdiction
    changping: Jurisdiction
    beigong: Jurisdiction
    zhangguozhuang: Jurisdiction
    zgz_grid: Jurisdiction
    huilongguan: Jurisdiction
    longxiang: Jurisdiction
    lx_grid: Jurisdiction
    ft_building: Building
    cp_building: Building
    ft_household: Household
    ft_person: Person
    ft_person2: Person
    cp_person: Person
    courier: Person
    ft_venue: Venue
    cp_venue: Venue
    courier_sector: IndustrySector


def _node(code: str, name: str, level: int, parent: Jurisdiction | None, name_en: str = "") -> Jurisdiction:
    return geo.create_jurisdiction(
        actor=None, code=code, name=name, name_en=name_en, level=level, parent=parent
    )


@pytest.fixture
def city(db: Any) -> City:
    c = _node("110000", "合成京城", Level.CITY, None, "Synthetic Capital")
    ft = _node("110106", "丰台区", Level.DISTRICT, c, "Fengtai")
    cp = _node("110114", "昌平区", Level.DISTRICT, c, "Changping")
    bg = _node("110106010", "北宫镇", Level.STREET, ft, "Beigong")
    zgz = _node("110106010201", "张郭庄村", Level.COMMUNITY, bg, "Zhangguozhuang")
    zgz_g = _node("110106010201-01", "张郭庄村第1网格", Level.GRID, zgz, "Zhangguozhuang grid 1")
    hlg = _node("110114011", "回龙观街道", Level.STREET, cp, "Huilongguan")
    lx = _node("110114011005", "龙祥社区东区", Level.COMMUNITY, hlg, "Longxiang East")
    lx_g = _node("110114011005-01", "龙祥社区东区第1网格", Level.GRID, lx, "Longxiang grid 1")
    courier = geo.create_sector(actor=None, code="courier", name="快递", name_en="Courier", key_industry=True)
    ftb = geo.create_building(
        actor=None,
        code="B-FT-1",
        address="丰台区北宫镇张郭庄村1号楼",
        jurisdiction=zgz_g,
        latitude=39.86,
        longitude=116.16,
    )
    cpb = geo.create_building(
        actor=None,
        code="B-CP-1",
        address="昌平区回龙观龙祥社区东区3号楼",
        jurisdiction=lx_g,
        latitude=40.07,
        longitude=116.33,
    )
    hh = people.create_household(actor=None, code="H-FT-1", building=ftb, unit="1-101")
    p1 = people.create_person(
        actor=None,
        data=people.PersonData(
            name="张伟",
            national_id=identity.make("110106", dt.date(1980, 5, 17), 123),
            phone="13800001111",
            household=hh,
        ),
    )
    p2 = people.create_person(
        actor=None,
        data=people.PersonData(
            name="王芳",
            national_id=identity.make("110106", dt.date(1982, 3, 2), 124),
            phone="13800002222",
            household=hh,
            tags=["pregnant"],
        ),
    )
    p3 = people.create_person(
        actor=None,
        data=people.PersonData(
            name="李娜",
            national_id=identity.make("110114", dt.date(1990, 1, 9), 222),
            phone="13900003333",
            home_building=cpb,
        ),
    )
    p4 = people.create_person(
        actor=None,
        data=people.PersonData(
            name="刘洋",
            national_id=identity.make("110114", dt.date(1995, 7, 30), 331),
            phone="13900004444",
            home_building=cpb,
            occupation="快递员",
            sector=courier,
        ),
    )
    v1 = venues.create_venue(
        actor=None,
        data=venues.VenueData(
            code="V-FT-1", name="北宫快捷酒店", venue_type="economy_hotel", building=ftb, capacity=80
        ),
    )
    v2 = venues.create_venue(
        actor=None,
        data=venues.VenueData(
            code="V-CP-1",
            name="回龙观快递站",
            venue_type="courier_depot",
            building=cpb,
            capacity=30,
            sub_areas=["分拣区", "取件区"],
            sector=courier,
        ),
    )
    return City(c, ft, cp, bg, zgz, zgz_g, hlg, lx, lx_g, ftb, cpb, hh, p1, p2, p3, p4, v1, v2, courier)


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    counter = {"n": 0}

    def make(role: str, jurisdiction: Jurisdiction, sector: IndustrySector | None = None, **kw: Any) -> Any:
        counter["n"] += 1
        return accounts.create_user(
            actor=None,
            username=kw.pop("username", f"{role}-{counter['n']}"),
            password="pw-test-0001",
            role=role,
            jurisdiction_code=jurisdiction.code,
            sector_code=sector.code if sector else None,
            is_staff=role == "administrator",
        )

    return make


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> None:
    """Real hashing costs a quarter of a second per user; tests create hundreds of users."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    """Every test starts in the installation's default language: a request that asked for English leaves English
    active in the thread (Django's LocaleMiddleware), which would otherwise change what the next test reads."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _scan_store(tmp_path: Any, settings: Any) -> None:
    """Every test gets its own empty scan store, demo run folder, uploads folder and zone map files (never the
    checkout's var)."""
    settings.CORDON_SCAN_DIR = tmp_path / "scans"
    settings.CORDON_DEMO_DIR = tmp_path / "sim" / "demo"
    settings.CORDON_UPLOAD_DIR = tmp_path / "uploads"
    settings.CORDON_ZONE_MAP_DIR = tmp_path / "zonemap"
    uploads = {**settings.STORAGES["uploads"], "OPTIONS": {**settings.STORAGES["uploads"]["OPTIONS"]}}
    uploads["OPTIONS"]["location"] = str(tmp_path / "uploads")
    settings.STORAGES = {**settings.STORAGES, "uploads": uploads}


@pytest.fixture(autouse=True)
def _rows_of_data_migrations(request: Any) -> None:
    """A transactional test (PostgreSQL concurrency tests, browser tests) ends by flushing the database, which
    also removes the rows data migrations created; put them back (the default quarantine plans and zone rules)
    before each transactional test, whatever ran before it."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction", bool(marker.args and marker.args[0])):
        return
    request.getfixturevalue("transactional_db")
    restore_data_migration_rows()


@pytest.fixture(autouse=True)
def _every_write_is_audited() -> Any:
    """Every action any test runs is watched: one that writes a record without its audit row fails (see
    tests/architecture/audit_watch.py)."""
    with actions_registry.observe(WATCH):
        yield WATCH


@pytest.fixture
def worker(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """``with worker(): client.post(...)``: the jobs the block queues are queued when it ends (its on-commit
    callbacks run, as they would when the request's transaction commits), then run by django-tasks' database
    worker in this process, as ``cordon worker --batch`` would."""
    import contextlib

    from django.db import transaction
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    @contextlib.contextmanager
    def queued_then_run() -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            yield
        # The worker's own loop closes "old" connections between tasks, which inside a test's transaction
        # would close the test's connection on PostgreSQL: claim and run each task the way its loop does.
        worker = Worker(
            queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
            max_tasks=None, worker_id="test-worker", excluded_queue_names=[],
        )  # fmt: skip
        while True:
            with transaction.atomic():
                task = DBTaskResult.objects.ready().filter(backend_name="default").get_locked()
                if task is not None:
                    task.claim(worker.worker_id)
            if task is None:
                return
            worker.run_task(task)

    return queued_then_run


@pytest.fixture
def exported(worker: Callable[[], Any]) -> Callable[..., Any]:
    """``exported(client, url)``: POST ``url`` (a page or API operation that starts a job making a file: an
    export, a batch of PDFs), run the job as a worker would, check that it is done, and return the download of
    its file from the job's page (or from ``/api/jobs/{id}/file`` for an API call)."""

    def run(client: Any, url: str, data: Any = None) -> Any:
        from cordon.apps.jobs.models import Job

        with worker():
            started = client.post(url, data or {})
        if url.startswith("/api/"):
            assert started.status_code == 202, started.content.decode()
            job = Job.objects.get(pk=started.json()["id"])
            download = f"/api/jobs/{job.pk}/file"
        else:
            assert started.status_code == 302, started.content.decode()
            job = Job.objects.get(pk=int(started["Location"].split("/")[2]))
            download = f"/jobs/{job.pk}/file/"
        assert job.status == Job.Status.DONE, job.error
        return client.get(download)

    return run


@pytest.fixture
def api_job(worker: Callable[[], Any]) -> Callable[..., Any]:
    """``api_job(client, url, body)``: POST an API operation that starts a job (JSON ``body``, or multipart
    when it holds a file), check its 202, run the job as a worker would, and return ``GET /api/jobs/{id}``."""
    import json

    def run(client: Any, url: str, body: Any = None, status: str = "done") -> Any:
        with worker():
            if isinstance(body, dict) and any(hasattr(v, "read") for v in body.values()):
                started = client.post(url, body)
            else:
                started = client.post(url, data=json.dumps(body or {}), content_type="application/json")
        assert started.status_code == 202, started.content.decode()
        job = client.get(started.json()["url"]).json()
        assert job["status"] == status, job["error"]
        return job

    return run


@pytest.fixture
def chain(city: Any) -> Any:
    """A cluster of four cases in a chain: 张伟 (onset six days ago, the index case) met 李娜 at the hotel, who
    met 刘洋 at the depot; 王芳 lives with 张伟. The tracing of both ends of a meeting found the other (as it
    does), so links run both ways in the data; the household link has no date."""
    from cordon.apps.geo import selectors as geo_selectors
    from cordon.apps.tracing import actions as tracing
    from cordon.apps.tracing.models import Contact

    today = timezone.localdate()

    def report(person: Any, days_ago: int) -> Any:
        onset = today - dt.timedelta(days=days_ago)
        sampled = timezone.make_aware(dt.datetime.combine(onset, dt.time(9)))
        return tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=person, onset_date=onset, sampled_at=sampled, found_by="fever_clinic"
            ),
        )

    def link(case: Any, person: Any, kind: str, days_ago: int | None) -> None:
        when = None if days_ago is None else f"{today - dt.timedelta(days=days_ago)}T10:00:00"
        Contact.objects.create(
            case=case, person=person, degree=1, contact_type=kind, jurisdiction=person.jurisdiction,
            district=geo_selectors.district_of(person.jurisdiction),
            evidence=[{"type": kind, "venue_name": "北宫快捷酒店", "contact_in": when}] if when else [],
        )  # fmt: skip

    a, d = report(city.ft_person, 6), report(city.ft_person2, 2)
    b, c = report(city.cp_person, 3), report(city.courier, 1)
    link(a, city.cp_person, "venue", 4)
    link(b, city.ft_person, "venue", 4)
    link(b, city.courier, "venue", 2)
    link(c, city.cp_person, "venue", 2)
    link(a, city.ft_person2, "household", None)
    cluster = tracing.create_cluster(actor=None, name="北宫酒店聚集", cases=[c, b, d, a])
    return SimpleNamespace(cluster=cluster, index=a, b=b, c=c, d=d)


@pytest.fixture
def fengtai_case(city: City) -> Callable[[], Any]:
    """``fengtai_case()``: a confirmed case for 张伟 of Fengtai, reported now (onset yesterday), by the system."""
    from cordon.apps.tracing import actions as tracing

    def report() -> Any:
        return tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=city.ft_person,
                onset_date=timezone.localdate() - dt.timedelta(days=1),
                sampled_at=timezone.now(),
                found_by="fever_clinic",
            ),
        )

    return report
