"""The built-in demo city: what `cordon demo` loads, and that each demo login sees only its own scope."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.db.models import Count, Q
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from cordon import cli
from cordon.apps.accounts.models import User
from cordon.apps.dataio import selectors
from cordon.apps.demo import actions as fixture
from cordon.apps.demo import selectors as demo_selectors
from cordon.apps.geo.models import Jurisdiction, Level
from cordon.apps.people.models import Person
from cordon.apps.tracing import selectors as tracing_reads
from cordon.apps.tracing.models import Case, Contact, Decision
from cordon.apps.venues.models import Venue
from cordon.cli import _django
from cordon.core.roles import Role
from cordon.engine import identity
from data_rows import after_flush


@pytest.fixture(scope="module")
def demo_dirs(tmp_path_factory: Any) -> Path:
    """The module's scan store and demo run folder (the load's, kept for every test of the module)."""
    return Path(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any, demo_dirs: Path) -> Any:
    """Load the demo city once for this module, and discard it afterwards (as ``cordon demo --reset`` does)."""
    with (
        django_db_blocker.unblock(),
        override_settings(CORDON_SCAN_DIR=demo_dirs / "scans", CORDON_DEMO_DIR=demo_dirs / "sim"),
    ):
        summary = fixture.load()
        yield summary
        _django.flush()
        after_flush()  # the tests after this module's, in the same worker, need the session as it was


@pytest.fixture(autouse=True)
def _demo_dirs(_scan_store: None, settings: Any, demo_dirs: Path) -> None:
    settings.CORDON_SCAN_DIR = demo_dirs / "scans"
    settings.CORDON_DEMO_DIR = demo_dirs / "sim"


pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_demo_city_follows_the_scenario(demo: Any) -> None:
    assert demo.loaded and demo.persons == 20_000 and demo.scans > 250_000 and demo.cases > 0
    names = set(Jurisdiction.objects.values_list("name", flat=True))
    for name in (
        "丰台区",
        "昌平区",
        "朝阳区",
        "北宫镇",
        "张郭庄村",
        "二七车辆厂社区",
        "回龙观街道",
        "龙祥社区东区",
    ):
        assert name in names
    for name in (
        "大屯街道",
        "欧陆经典社区",
        "十八里店乡",
        "潼城公寓",
        "南磨房乡",
        "美景东方小区",
        "南新园小区",
    ):
        assert name in names
    hotel = Venue.objects.get(name="潼城快捷酒店", venue_type="economy_hotel")
    assert hotel.jurisdiction.path.startswith("/110000/110105/")  # Chaoyang
    ids = list(Person.objects.values_list("national_id", flat=True))
    assert len(ids) == len(set(ids)) == demo.persons
    for nid in ids:
        identity.parse(nid or "")  # raises on an invalid number
    key = Person.objects.filter(sector__key_industry=True).count()
    assert 0.03 * demo.persons < key < 0.2 * demo.persons
    assert Person.objects.filter(tags__icontains='"elderly_alone"').exists()
    assert Person.objects.filter(tags__icontains='"pregnant"').exists()


def test_every_role_and_scope_has_a_login(demo: Any) -> None:
    roles = {login.role for login in fixture.LOGINS}
    assert roles == set(Role.values)
    districts = Jurisdiction.objects.filter(level=Level.DISTRICT)
    streets = Jurisdiction.objects.filter(level=Level.STREET)
    communities = Jurisdiction.objects.filter(level=Level.COMMUNITY)
    scopes = {(x.role, x.jurisdiction) for x in fixture.LOGINS}
    assert all((Role.DISTRICT_COMMANDER, d.code) in scopes for d in districts)
    assert all((Role.STREET_OFFICER, s.code) in scopes for s in streets)
    assert all((Role.GRID_WORKER, c.code) in scopes for c in communities)
    for login in fixture.LOGINS:
        request = RequestFactory().post("/login/")  # django-axes counts sign-ins per request
        assert authenticate(request, username=login.username, password=fixture.PASSWORD) is not None, login


def test_loading_again_changes_nothing(demo: Any, capsys: Any) -> None:
    count = Person.objects.count()
    again = fixture.load()
    assert not again.loaded and "already loaded" in again.describe()
    assert Person.objects.count() == count
    demo_selectors.print_logins()
    out = capsys.readouterr().out
    assert "fengtai" in out and fixture.PASSWORD in out


def test_fengtai_commander_cannot_reach_a_changping_person(demo: Any, exported: Any) -> None:
    fengtai = _client("fengtai")
    changping_person = Person.objects.filter(jurisdiction__path__startswith="/110000/110114/").first()
    fengtai_person = Person.objects.filter(jurisdiction__path__startswith="/110000/110106/").first()
    assert changping_person is not None and fengtai_person is not None
    missing_id = Person.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000

    # By URL: the same answer as a person that does not exist.
    outside = fengtai.get(f"/persons/{changping_person.pk}/")
    missing = fengtai.get(f"/persons/{missing_id}/")
    assert outside.status_code == missing.status_code == 404
    assert fengtai.get(f"/persons/{fengtai_person.pk}/").status_code == 200

    # By API.
    outside_api = fengtai.get(f"/api/persons/{changping_person.pk}")
    assert outside_api.status_code == 404
    assert outside_api.json() == fengtai.get(f"/api/persons/{missing_id}").json()

    # By search, on the page and in the API.
    page = fengtai.get("/persons/", {"q": changping_person.name}).content.decode()
    assert f"/persons/{changping_person.pk}/" not in page
    found = fengtai.get("/api/persons", {"q": changping_person.name}).json()
    items = found["items"] if isinstance(found, dict) else found
    assert changping_person.pk not in {item["id"] for item in items}
    by_id = fengtai.get("/api/persons", {"q": changping_person.national_id}).json()
    assert not (by_id["items"] if isinstance(by_id, dict) else by_id)

    # By export.
    body = b"".join(exported(fengtai, "/data/export/persons.csv").streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    masked = identity.mask(changping_person.national_id or "")
    assert len(rows) > 1 and all(row[1] != masked for row in rows[1:])
    assert all(row[5].startswith("110106") for row in rows[1:])  # every row's jurisdiction is in Fengtai
    buffer = io.BytesIO()
    selectors.write_export(User.objects.get(username="fengtai"), "persons", "csv", buffer)
    assert buffer.getvalue() == body.encode("utf-8-sig")


def test_changping_commander_sees_changping(demo: Any) -> None:
    changping = _client("changping")
    person = Person.objects.filter(jurisdiction__path__startswith="/110000/110114/").first()
    assert person is not None
    assert changping.get(f"/persons/{person.pk}/").status_code == 200


def test_grid_login_sees_its_grid_only(demo: Any) -> None:
    grid = _client("grid")
    mine = Person.objects.filter(jurisdiction__code="110106010201-01").first()
    sibling = Person.objects.filter(jurisdiction__code="110106010201-02").first()
    assert mine is not None and sibling is not None
    assert grid.get(f"/persons/{mine.pk}/").status_code == 200
    assert grid.get(f"/persons/{sibling.pk}/").status_code == 404


def test_demo_screening_round_with_one_positive_pool(demo: Any) -> None:
    from cordon.apps.screening.models import Binding, ResampleTask, ScreeningRound, TemporaryControl, Tube

    (rnd,) = ScreeningRound.objects.filter(owner__code="110106")
    assert demo.samples == fixture.SCREENED == Binding.objects.filter(round=rnd).count()
    (positive,) = Tube.objects.filter(round=rnd, result="positive")
    held = TemporaryControl.objects.filter(tube=positive, lifted_at__isnull=True)
    assert held.count() == positive.bound == ResampleTask.objects.filter(source_tube=positive).count()
    assert all(t.district.code == "110106" for t in held)
    body = _client("fengtai").get(f"/api/screening/rounds/{rnd.code}/coverage").json()
    assert body["node"]["sampled"] == fixture.SCREENED
    assert _client("changping").get("/api/screening/alerts").json()["temporary_controls"] == []
    assert len(_client("fengtai").get("/api/screening/alerts").json()["temporary_controls"]) == positive.bound


def test_cli_demo_without_serving_and_reset(demo: Any, capsys: Any) -> None:
    assert cli.main(["demo", "--no-serve"]) == 0
    out = capsys.readouterr().out
    assert "already loaded" in out and "courier-regulator" in out
    before = set(Person.objects.values_list("national_id", flat=True))
    assert cli.main(["demo", "--no-serve", "--reset"]) == 0
    assert "Loaded the demo city" in capsys.readouterr().out
    assert set(Person.objects.values_list("national_id", flat=True)) == before  # deterministic


def test_contact_figures_are_those_of_a_city_that_can_fight(demo: Any) -> None:
    """docs/simulator.md, "The demo's figures": the median case has tens of close contacts and none has a
    thousand; crowds at hubs are risk-venue visitors (screened), not close contacts."""
    per_case = Case.objects.annotate(
        close=Count("contacts", filter=Q(contacts__degree=1)),
        secondary=Count("contacts", filter=Q(contacts__degree=2)),
        risk=Count("contacts", filter=Q(contacts__degree=0)),
    )
    close = [c.close for c in per_case]
    secondary = [c.secondary for c in per_case]
    assert len(close) == demo.cases
    assert 10 <= statistics.median(close) <= 100
    assert max(close) < 1_000
    assert max(c + s for c, s in zip(close, secondary, strict=True)) < 3_000
    assert sum(close) + sum(secondary) < 80_000
    assert sum(c.risk for c in per_case) > sum(close)  # the crowds are screened, not quarantined


def test_today_is_live(demo: Any) -> None:
    """The last day played is today: cases reported today, today's scans in the store, items due today."""
    from cordon.apps.control.models import ControlOrder

    today = timezone.localdate()
    run = demo_selectors.demo_run()
    assert run is not None and run.last_date == today and run.next_date == today + dt.timedelta(days=1)
    # The first full screening round's positives and the day's regular tests.
    assert Case.objects.filter(reported_at__date=today).count() >= 5
    assert not Case.objects.filter(reported_at__gt=timezone.now()).exists()
    assert tracing_reads.scan_store().read(today, today).num_rows > 10_000
    assert ControlOrder.objects.filter(due_at__date=today).exists()
    body = _client("admin").get("/demo/").content.decode()
    assert 'data-testid="demo-up-to-date"' in body and today.isoformat() in body


def test_the_queue_of_contacts_to_judge_can_be_worked_to_zero(demo: Any) -> None:
    """Every candidate can be judged from the case pages by the city's investigator, a page of contacts at a
    time, until the board's "contacts to judge" column reads zero."""
    investigator = _client("investigator")
    board = tracing_reads.to_judge_by_district
    user = User.objects.get(username="investigator")
    assert sum(n for n, _late in board(user, timezone.now()).values()) > 0
    for case in Case.objects.all():
        pending = list(
            Contact.objects.filter(case=case, status=Decision.CANDIDATE, degree__gt=0).values_list(
                "pk", "version"
            )
        )
        for i in range(0, len(pending), 200):  # the case page shows 200 a page, with "select all"
            chosen = pending[i : i + 200]
            response = investigator.post(
                f"/tracing/cases/{case.pk}/decide/",
                {
                    "contact": [pk for pk, _v in chosen],
                    "decision": "dismissed",
                    **{f"v{pk}": v for pk, v in chosen},  # the versions the page shows
                },
            )
            assert response.status_code == 302
    assert sum(n for n, _late in board(user, timezone.now()).values()) == 0


def test_the_demo_loads_with_its_kept_counts_current(demo: Any) -> None:
    """The boards read kept counts: the load leaves them counted, so the first reconciliation finds no drift
    (recounted as of the moment they were counted: clocks turning overdue since are not drift)."""
    from cordon.apps.geo.models import RollupTally
    from cordon.apps.tallies import actions as tallies
    from cordon.apps.tallies.models import OpenItemTally

    counted = OpenItemTally.objects.values_list("counted_at", flat=True).first()
    assert counted is not None and RollupTally.objects.exists()
    assert tallies.reconcile(now=counted) == []
