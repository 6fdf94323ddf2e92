"""Every write path of the foundation apps (accounts, geo, people, venues) runs under the audit watch.

Each action runs through its route where it has one (the persons API and pages, the register import, the API
token sign-in, the ``cordon`` commands), directly otherwise; the autouse audit watch (tests/conftest.py) fails
any of them that writes a record without its audit row, and each test checks that the actions it covers ran.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from architecture.audit_watch import WATCH as AUDIT_WATCH
from cordon import cli
from cordon.apps.accounts import actions as accounts
from cordon.apps.accounts.models import ApiToken, User
from cordon.apps.audit.models import AuditEntry
from cordon.apps.geo import actions as geo
from cordon.apps.geo.models import Building, Jurisdiction, Level
from cordon.apps.people import actions as people
from cordon.apps.people.models import Household, Person
from cordon.apps.venues import actions as venues
from cordon.apps.venues.models import Venue
from cordon.engine import identity

ACCOUNTS = "cordon.apps.accounts.actions."
GEO = "cordon.apps.geo.actions."
PEOPLE = "cordon.apps.people.actions."
VENUES = "cordon.apps.venues.actions."

COVERS = {
    ACCOUNTS + "create_user",
    ACCOUNTS + "issue_api_token",
    ACCOUNTS + "stamp_token_use",
    ACCOUNTS + "unlock_sign_in",
    GEO + "create_jurisdiction",
    GEO + "rename_jurisdiction",
    GEO + "refresh_rollups",
    GEO + "refresh_fast_rollups",
    GEO + "reconcile_rollups",
    GEO + "refresh_outlines",
    GEO + "create_building",
    GEO + "create_sector",
    GEO + "bulk_create_jurisdictions",
    GEO + "bulk_create_buildings",
    PEOPLE + "create_person",
    PEOPLE + "update_person",
    PEOPLE + "delete_person",
    PEOPLE + "create_household",
    PEOPLE + "bulk_create_persons",
    PEOPLE + "bulk_create_households",
    VENUES + "create_venue",
    VENUES + "update_venue",
    VENUES + "bulk_create_venues",
}


@pytest.fixture
def ran() -> Iterator[Any]:
    """``ran(*names)`` asserts that each named action ran during the test (at least once more than before)."""
    before = Counter(AUDIT_WATCH.seen)

    def check(*names: str) -> None:
        missing = [n for n in names if AUDIT_WATCH.seen[n] <= before[n]]
        assert not missing, f"did not run: {missing}"

    yield check


def _audited(model: type[Any], pk: Any, verb: str, source: str) -> AuditEntry:
    return AuditEntry.objects.filter(
        model=model._meta.label_lower, object_pk=str(pk), verb=verb, source=source
    ).latest("id")


def test_covers_every_action_of_the_foundation_apps() -> None:
    from cordon.core.actions import registered

    mine = {n for n in registered() if n.startswith((ACCOUNTS, GEO, PEOPLE, VENUES))}
    assert mine == COVERS


def test_kept_roll_ups_are_derived_rows(city: Any) -> None:
    from cordon.apps.geo import actions as geo_actions
    from cordon.apps.geo.models import RollupTally

    slow = geo_actions.refresh_rollups()
    fast = geo_actions.refresh_fast_rollups()
    assert slow + fast == RollupTally.objects.count() and slow > 0 and fast > 0
    assert geo_actions.reconcile_rollups() == []
    assert all(
        AUDIT_WATCH.seen[GEO + n] for n in ("refresh_rollups", "refresh_fast_rollups", "reconcile_rollups")
    )


def test_kept_outlines_are_derived_rows(city: Any) -> None:
    from cordon.apps.audit.models import AuditEntry as Entry
    from cordon.apps.geo import actions as geo_actions
    from cordon.apps.geo.models import Outline

    before = Entry.objects.count()
    written = geo_actions.refresh_outlines()
    assert written == Outline.objects.count() == 8  # 2 districts, 2 streets, 2 communities, 2 grids
    assert Entry.objects.count() == before  # derived: not audited
    assert AUDIT_WATCH.seen[GEO + "refresh_outlines"]


# --- accounts ---------------------------------------------------------------------------------------------


def test_users_tokens_and_token_use(city: Any, ran: Any, capsys: Any) -> None:
    args = ["createuser", "etl", "--role", "administrator", "--jurisdiction", city.city.code]
    assert cli.main([*args, "--password", "pw-x-12345"]) == 0
    user = User.objects.get(username="etl")
    assert _audited(User, user.pk, "create", "cli").changes["role"] == [None, "administrator"]

    assert cli.main(["token", "etl", "--name", "nightly"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    token = ApiToken.objects.get(user=user)
    assert _audited(ApiToken, token.pk, "create", "cli").changes["name"] == [None, "nightly"]

    # Token use is stamped at most once a minute: two calls, one stamp (and its audit row).
    client = Client()
    for _ in range(2):
        assert client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {key}").json()["username"] == "etl"
    token.refresh_from_db()
    assert token.last_used_at is not None
    stamps = AuditEntry.objects.filter(model="accounts.apitoken", object_pk=str(token.pk), verb="update")
    assert stamps.count() == 1 and stamps[0].source == "api" and stamps[0].actor_id == user.pk
    later = token.last_used_at + dt.timedelta(seconds=61)
    assert accounts.stamp_token_use(actor=user, token=token, now=later)
    assert not accounts.stamp_token_use(actor=user, token=token, now=later + dt.timedelta(seconds=5))
    assert stamps.count() == 2

    # A revoked token signs nobody in, and is not stamped.
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    assert Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
    assert stamps.count() == 2
    ran(ACCOUNTS + "create_user", ACCOUNTS + "issue_api_token", ACCOUNTS + "stamp_token_use")


def test_unlocking_a_sign_in(city: Any, make_user: Any, client_for: Any, ran: Any) -> None:
    """Failed sign-ins are django-axes' own log; an administrator's unlock (from the failed sign-ins page)
    deletes the counts, one audit row each."""
    make_user("grid_worker", city.zgz_grid, username="locked.out")
    for agent in ("phone", "laptop"):  # one count per browser
        for _ in range(3):
            Client(HTTP_USER_AGENT=agent).post(
                "/login/", {"username": "locked.out", "password": "wrong-wrong"}
            )
    admin = client_for(make_user("administrator", city.city))
    response = admin.post("/audit/sign-ins/unlock/", {"username": "locked.out"})
    assert response.status_code == 302
    deleted = AuditEntry.objects.filter(model="axes.accessattempt", verb="delete", source="web")
    assert deleted.count() == 2
    ran(ACCOUNTS + "unlock_sign_in")


# --- geo ------------------------------------------------------------------------------------------------


def test_jurisdictions_buildings_and_sectors(city: Any, ran: Any) -> None:
    street = geo.create_jurisdiction(
        actor=None, code="110106020", name="新村街道", level=Level.STREET, parent=city.fengtai
    )
    assert street.path == f"{city.fengtai.path}110106020/"
    geo.rename_jurisdiction(actor=None, node=street, name="新村街道办", name_en="Xincun")
    street.refresh_from_db()
    assert (street.name, street.name_en) == ("新村街道办", "Xincun")
    assert _audited(Jurisdiction, street.pk, "update", "web").changes == {
        "name": ["新村街道", "新村街道办"],
        "name_en": ["", "Xincun"],
    }
    building = geo.create_building(
        actor=None, code="B-XC-1", address="新村1号", jurisdiction=street, latitude=39.8, longitude=116.2
    )
    assert _audited(Building, building.pk, "create", "web").changes["address"] == [None, "新村1号"]
    sector = geo.create_sector(actor=None, code="catering", name="餐饮")
    assert _audited(type(sector), sector.pk, "create", "web")
    ran(
        GEO + "create_jurisdiction",
        GEO + "rename_jurisdiction",
        GEO + "create_building",
        GEO + "create_sector",
    )


# --- the register import: every bulk action ---------------------------------------------------------------


def _import(client: Client, worker: Any, kind: str, rows: list[list[str]]) -> None:
    """Through the import page: it queues an import job, which a worker runs."""
    text = io.StringIO()
    for row in rows:
        text.write(",".join(row) + "\n")
    upload = SimpleUploadedFile(f"{kind}.csv", text.getvalue().encode())
    with worker():
        response = client.post("/data/import/", {"kind": kind, "file": upload}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="job-result">Imported' in page, page


def test_the_register_import_runs_every_bulk_action(
    city: Any, make_user: Any, client_for: Any, ran: Any, worker: Any
) -> None:
    client = client_for(make_user("administrator", city.city))
    _import(
        client,
        worker,
        "jurisdictions",
        [
            ["code", "name", "level", "parent code"],
            ["110106030", "新街道", "street", city.fengtai.code],
            ["110106030001", "新社区", "community", "110106030"],
        ],
    )
    _import(
        client,
        worker,
        "buildings",
        [["building code", "address", "jurisdiction code"], ["B-NEW-1", "新社区1号楼", "110106030001"]],
    )
    _import(
        client,
        worker,
        "households",
        [["household code", "building code", "unit"], ["H-NEW-1", "B-NEW-1", "1-1"]],
    )
    nid = identity.make("110106", dt.date(1988, 4, 4), 777)
    _import(
        client,
        worker,
        "persons",
        [
            ["name", "national ID", "home building code", "household code"],
            ["赵新", nid, "B-NEW-1", "H-NEW-1"],
        ],
    )
    _import(
        client,
        worker,
        "venues",
        [["place code", "name", "type", "building code"], ["V-NEW-1", "新社区食堂", "restaurant", "B-NEW-1"]],
    )
    for model, key in (
        (Jurisdiction, {"code": "110106030001"}),
        (Building, {"code": "B-NEW-1"}),
        (Household, {"code": "H-NEW-1"}),
        (Person, {"national_id": nid}),
        (Venue, {"code": "V-NEW-1"}),
    ):
        record = model.objects.get(**key)
        assert _audited(model, record.pk, "create", "import")
    ran(
        GEO + "bulk_create_jurisdictions",
        GEO + "bulk_create_buildings",
        PEOPLE + "bulk_create_households",
        PEOPLE + "bulk_create_persons",
        VENUES + "bulk_create_venues",
    )


# --- people ---------------------------------------------------------------------------------------------


def test_persons_through_the_api_and_the_pages(city: Any, make_user: Any, client_for: Any, ran: Any) -> None:
    client = client_for(make_user("street_officer", city.beigong))
    created = client.post(
        "/api/persons",
        json.dumps({"name": "钱多", "building": city.ft_building.code, "household": city.ft_household.code}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert _audited(Person, pk, "create", "api")
    patched = client.patch(
        f"/api/persons/{pk}", json.dumps({"phone": "13700001234"}), content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["phone"] == "13700001234"
    assert _audited(Person, pk, "update", "api").changes == {"phone": ["", "13700001234"]}
    # The phone's search key is written with it: the person is found by the last digits.
    assert [p["id"] for p in client.get("/api/persons", {"q": "1234"}).json()] == [pk]

    # The same through the pages.
    response = client.post("/persons/new/", {"name": "孙页", "building": city.ft_building.code})
    assert response.status_code == 302
    page_pk = int(response.url.rstrip("/").split("/")[-1])
    form = {"name": "孙页", "building": city.ft_building.code, "occupation": "厨师", "version": 1}
    assert client.post(f"/persons/{page_pk}/edit/", form).status_code == 302
    assert _audited(Person, page_pk, "update", "web").changes == {"occupation": ["", "厨师"]}

    # An edit that changes nothing writes nothing (and needs no audit row).
    before = AuditEntry.objects.count()
    form["version"] = 2
    assert client.post(f"/persons/{page_pk}/edit/", form).status_code == 302
    assert AuditEntry.objects.count() == before

    person = Person.objects.get(pk=page_pk)
    people.delete_person(actor=None, person=person, source="cli")
    assert not Person.objects.filter(pk=page_pk).exists()
    assert _audited(Person, page_pk, "delete", "cli")
    ran(PEOPLE + "create_person", PEOPLE + "update_person", PEOPLE + "delete_person")


def test_households(city: Any, ran: Any) -> None:
    household = people.create_household(actor=None, code="H-CP-9", building=city.cp_building, unit=" 3-302 ")
    assert household.unit == "3-302"
    assert _audited(Household, household.pk, "create", "web").changes["code"] == [None, "H-CP-9"]
    ran(PEOPLE + "create_household")


# --- venues ---------------------------------------------------------------------------------------------


def test_venues(city: Any, ran: Any) -> None:
    venue = venues.create_venue(
        actor=None,
        data=venues.VenueData(
            code="V-FT-9", name="北宫菜市场", venue_type="market", building=city.ft_building
        ),
    )
    assert venue.jurisdiction == city.ft_building.jurisdiction
    assert _audited(Venue, venue.pk, "create", "web").changes["code"] == [None, "V-FT-9"]
    venues.update_venue(actor=None, venue=venue, changes={"capacity": 120, "sub_areas": ["蔬菜区", "肉类区"]})
    venue.refresh_from_db()
    assert venue.capacity == 120 and venue.sub_areas == ["蔬菜区", "肉类区"]
    assert _audited(Venue, venue.pk, "update", "web").changes == {
        "capacity": [None, 120],
        "sub_areas": [[], ["蔬菜区", "肉类区"]],
    }
    ran(VENUES + "create_venue", VENUES + "update_venue")
