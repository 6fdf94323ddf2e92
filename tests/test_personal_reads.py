"""Reads of personal data (issue 17, unlogged bulk reads): every request that returns persons writes exactly one
access-log row naming them, lists mask identifiers, and a per-user volume limit stops bulk harvesting and alerts
the auditors.

The routes are not listed by hand: every GET page and API route of the authorization matrix is called, and a
route that loads any person must carry ``@personal_data`` and write one row naming what it loaded; a route that
does not carry it must load no person. An API route whose response schema has a person field must carry it too.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

import pytest
import time_machine
from django.template.loader import get_template
from django.test import Client
from django.urls import get_resolver, resolve, reverse
from django.utils import timezone

import test_authorization_matrix as matrix
from cordon.apps.audit.models import AccessLog, ReadAlert
from cordon.core import reads
from cordon.core.roles import Role
from cordon.engine import identity
from cordon.site.api import api

clients = matrix.clients  # the matrix's fixture: one client per role, with a case, an order, a round, ...

PERSON_FIELDS = {"person_id", "national_id", "phone"}


def _api_views() -> dict[tuple[str, str], Any]:
    return {(method, path): func for method, path, func in matrix._api_operations()}


def _schema_fields(schema: dict[str, Any], node: Any, seen: frozenset[str] = frozenset()) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                out |= _schema_fields(schema, schema["components"]["schemas"][name], seen | {name})
        out |= set(node.get("properties", {}))
        for value in node.values():
            out |= _schema_fields(schema, value, seen)
    elif isinstance(node, list):
        for value in node:
            out |= _schema_fields(schema, value, seen)
    return out


def test_every_api_route_whose_schema_carries_persons_is_logged() -> None:
    schema = api.get_openapi_schema()
    views = _api_views()
    personal = []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            if method != "get":  # a write answers with the record it wrote, audited as a write
                continue
            response = op["responses"].get(200, op["responses"].get("200", {}))
            if _schema_fields(schema, response) & PERSON_FIELDS:
                personal.append((method.upper(), path))
                func = views[(method.upper(), path)]
                assert reads.is_personal(func), f"{method.upper()} {path} returns persons but is not logged"
    assert ("GET", "/api/persons") in personal and ("GET", "/api/cases/{case_id}/contacts") in personal


# Template expressions that show a person's values: {{ o.person.name }}, {{ r.national_id }}, {{ p.name }}, ...
SHOWS_PERSON = re.compile(
    r"\{\{(?![^}]*\bform\b)[^}]*(\bperson\.|\.person\b|national_id|\bphone\b|\bp\.name\b)[^}]*\}\}"
)
# Forms that only echo what the user typed (a new person, a new case's ID, a new site's phone): no one's record.
ECHO_FORMS = {"person-new", "tracing:case-new", "control:site-new"}


def test_every_page_whose_template_shows_persons_is_logged() -> None:
    """The pages the call-every-route test cannot see with the fixture's data (an empty queue): a view whose
    template shows a person's values must carry ``@personal_data``."""
    missing, seen = [], []
    for _route, name, callback in matrix._walk(get_resolver().url_patterns):
        func = inspect.unwrap(callback)
        templates = re.findall(r'"([a-z_]+/[a-z_]+\.html)"', inspect.getsource(func))
        shows = [t for t in templates if SHOWS_PERSON.search(Path(get_template(t).origin.name).read_text())]
        if shows and name not in ECHO_FORMS:
            seen.append(name)
            if not reads.is_personal(callback):
                missing.append(f"{name} ({', '.join(shows)})")
    assert not missing, "pages that show persons but are not @personal_data: " + "; ".join(missing)
    assert {"control:queue", "control:homes", "screening:alerts", "screening:overdue"} <= set(seen)


def _calls(city: Any) -> list[tuple[str, str, Any]]:
    """Every GET page and API route of the matrix: (label, url, view function)."""
    out = []
    for name, (method, kwargs, _rule) in matrix.PAGES.items():
        if method == "GET":
            url = reverse(name, kwargs=kwargs(city))
            out.append((name, url, resolve(url).func))
    out.append(
        (
            "persons?q=",
            reverse("persons") + "?" + urlencode({"q": city.ft_person.name}),
            resolve(reverse("persons")).func,
        )
    )
    views = _api_views()
    for (method, template), (params, _body, _rule) in matrix.API.items():
        if method == "GET":
            out.append((f"{method} {template}", template.format(**params(city)), views[(method, template)]))
    return out


def test_every_route_that_returns_persons_writes_one_row_naming_them(
    city: Any, clients: dict[str | None, Client]
) -> None:
    admin = clients[Role.ADMINISTRATOR]
    problems, logged = [], []
    for label, url, func in _calls(city):
        before = AccessLog.objects.count()
        with reads.watch() as outside:
            response = admin.get(url)
        rows = list(AccessLog.objects.order_by("-id")[: AccessLog.objects.count() - before])
        if response.status_code != 200:  # a redirect (signed in already), a query the route needs
            if rows:
                problems.append(f"{label}: {response.status_code} but {len(rows)} access-log rows")
        elif reads.is_personal(func):  # no row when the city has nobody to show there (an empty queue)
            if len(rows) > 1 or (rows and not rows[0].person_ids()):
                problems.append(f"{label}: {len(rows)} access-log rows, expected one naming the persons")
            elif rows:
                logged.append(label)
                assert rows[0].count == len(rows[0].person_ids())
                assert rows[0].query == unquote(url), (rows[0].query, url)
        elif outside.ids or rows:
            problems.append(f"{label}: loads persons {sorted(outside.ids)} but is not @personal_data")
    assert not problems, "\n".join(problems)
    assert {"persons?q=", "person", "GET /api/persons", "GET /api/cases/{case_id}/contacts"} <= set(logged)


def test_the_issue_scenario_is_logged_then_stopped_and_the_auditor_sees_the_alert(
    city: Any, make_user: Callable[..., Any], client_for: Callable[[Any], Client], settings: Any
) -> None:
    from cordon.apps.people.models import Person

    settings.CORDON_PII_READ_LIMIT = 5
    extra = [
        Person(
            name=f"居民{i}",
            national_id=None,
            phone=f"1390000{i:04d}",
            jurisdiction=city.ft_person.jurisdiction,
        )
        for i in range(6)
    ]
    Person.objects.bulk_create(extra)
    investigator = make_user("investigator", city.fengtai, username="ft.harvester")
    client = client_for(investigator)
    statuses, seen = [], 0
    for offset in range(0, 12, 3):
        response = client.get("/api/persons", {"limit": 3, "offset": offset}, HTTP_ACCEPT_LANGUAGE="en")
        statuses.append(response.status_code)
        if response.status_code == 200:
            body = response.json()
            seen += len(body)
            # A list masks identifiers even for a role with view_pii.
            assert all(p["masked"] for p in body)
            assert all("*" in p["phone"] for p in body if p["phone"])
    assert statuses == [200, 200, 429, 429], statuses
    assert "auditors have been alerted" in response.json()["detail"]
    rows = AccessLog.objects.filter(actor=investigator).order_by("id")
    assert [r.count for r in rows] == [3, 3]  # one row per request, naming the persons returned
    assert sum(len(r.person_ids()) for r in rows) == seen == 6
    assert rows[0].query == "/api/persons?limit=3&offset=0" and rows[0].via == "api"
    # Pages are stopped too, with the same message, translated.
    page = client.get("/persons/", {"q": city.ft_person.name}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 429 and "auditors have been alerted" in page.content.decode()
    zh = client.get("/persons/", {"q": city.ft_person.name}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert (
        zh.status_code == 429
        and "审计" in zh.content.decode()
        and "个人信息读取已达上限" in zh.content.decode()
    )
    # One alert, for the auditors of the user's territory.
    alert = ReadAlert.objects.get()
    assert alert.actor_name == "ft.harvester" and alert.count == 6 and alert.limit == 5
    auditor = client_for(make_user("auditor", city.fengtai))
    listing = auditor.get("/audit/read-alerts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "ft.harvester" in listing and "Bulk-read alerts" in listing
    assert auditor.get("/api/read-alerts").json()[0]["actor"] == "ft.harvester"
    cp_auditor = client_for(make_user("auditor", city.changping))
    assert "ft.harvester" not in cp_auditor.get("/audit/read-alerts/").content.decode()
    # The window moves on: two hours later the user may read again (the access log is append-only: the clock
    # moves, not the rows).
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2), tick=True):
        assert client.get("/api/persons", {"limit": 3}).status_code == 200


def test_a_user_under_the_limit_is_unaffected(
    city: Any, make_user: Callable[..., Any], client_for: Callable[[Any], Client], settings: Any
) -> None:
    settings.CORDON_PII_READ_LIMIT = 50
    worker = make_user("grid_worker", city.zhangguozhuang)
    client = client_for(worker)
    for _ in range(5):
        assert client.get("/api/persons").status_code == 200
        assert client.get(f"/persons/{city.ft_person.pk}/").status_code == 200
    assert AccessLog.objects.filter(actor=worker).count() == 10
    assert not ReadAlert.objects.exists()


def test_list_masked_detail_full_and_logged(city: Any, make_user: Any, client_for: Any) -> None:
    investigator = make_user("investigator", city.fengtai)
    client = client_for(investigator)
    listing = client.get("/api/persons", {"q": city.ft_person.name}).json()
    row = next(p for p in listing if p["id"] == city.ft_person.pk)
    assert row["masked"] is True and row["national_id"] == identity.mask(city.ft_person.national_id)
    page = client.get("/persons/", {"q": city.ft_person.name}).content.decode()
    assert city.ft_person.national_id not in page and city.ft_person.phone not in page
    detail = client.get(f"/api/persons/{city.ft_person.pk}").json()
    assert detail["masked"] is False and detail["national_id"] == city.ft_person.national_id
    opened = AccessLog.objects.filter(actor=investigator, person=city.ft_person).get()
    assert opened.via == "api" and opened.person_ids() == [city.ft_person.pk]
    # The auditor finds both the list and the opening under the person.
    auditor = client_for(make_user("auditor", city.city))
    log = auditor.get("/api/access-log", {"person": city.ft_person.pk}).json()
    assert len(log) == 3 and {e["count"] for e in log} >= {1}


def test_a_refused_request_of_the_control_pdf_is_a_page_not_a_file(
    city: Any, clients: dict[str | None, Client], settings: Any
) -> None:
    settings.CORDON_PII_READ_LIMIT = 1
    officer = clients[Role.QUARANTINE_OFFICER]
    first = officer.get(reverse("control:order-pdf", kwargs={"pk": city.order.pk}))
    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    second = officer.get(reverse("control:order-pdf", kwargs={"pk": city.order.pk}))
    assert second.status_code == 429 and second["Content-Type"].startswith("text/html")
    row = AccessLog.objects.get(actor=officer.cordon_user)  # type: ignore[attr-defined]
    assert row.via == "pdf" and row.person_ids() == [city.order.person_id]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_is_one_row(city: Any, make_user: Any, client_for: Any, exported: Any, fmt: str) -> None:
    officer = make_user("street_officer", city.beigong)
    response = exported(client_for(officer), f"/data/export/persons.{fmt}")
    assert response.status_code == 200
    b"".join(response.streaming_content)  # the download reads no one again: still the job's one row
    row = AccessLog.objects.get(actor=officer)
    assert row.via == "export" and set(row.person_ids()) == {city.ft_person.pk, city.ft_person2.pk}
    assert json.dumps(row.person_ids())


def test_a_command_line_export_is_one_row_flagged_but_not_refused(
    city: Any, make_user: Callable[..., Any], settings: Any, tmp_path: Any
) -> None:
    from cordon.apps.dataio import selectors as dataio

    settings.CORDON_PII_READ_LIMIT = 1
    officer = make_user("street_officer", city.beigong)
    for _ in range(2):
        assert dataio.export_to(officer, "persons", "csv", tmp_path / "p.csv") == 2
    rows = AccessLog.objects.filter(actor=officer)
    assert [(r.via, r.count) for r in rows] == [("export", 2), ("export", 2)]
    assert ReadAlert.objects.get().actor_name == officer.username  # over the limit: flagged once, not refused


def test_a_case_s_contacts_are_masked_and_logged_as_one_row(
    city: Any, clients: dict[str | None, Client]
) -> None:
    investigator = clients[Role.INVESTIGATOR]
    user = investigator.cordon_user  # type: ignore[attr-defined]
    before = AccessLog.objects.filter(actor=user).count()
    contacts = investigator.get(f"/api/cases/{city.case.pk}/contacts").json()
    assert [c["person_id"] for c in contacts] == [city.cp_person.pk]
    assert contacts[0]["national_id"] == identity.mask(city.cp_person.national_id)
    row = AccessLog.objects.filter(actor=user).order_by("-id").first()
    assert AccessLog.objects.filter(actor=user).count() == before + 1 and row is not None
    assert row.detail == "api:list_contacts"
    assert city.cp_person.pk in row.person_ids() and row.query == f"/api/cases/{city.case.pk}/contacts"


def test_the_admin_list_of_persons_is_one_row(city: Any, make_user: Any, client_for: Any) -> None:
    admin_user = make_user("administrator", city.city)
    assert client_for(admin_user).get("/admin/people/person/").status_code == 200
    row = AccessLog.objects.get(actor=admin_user)
    assert row.via == "admin" and city.ft_person.pk in row.person_ids()


def test_reading_the_same_persons_again_is_not_harvesting(
    city: Any, make_user: Callable[..., Any], client_for: Callable[[Any], Client], settings: Any
) -> None:
    """The limit counts different persons: an investigator who reopens a case's contacts or refreshes a list
    all day reads nobody new; paging on to other persons is what reaches the limit."""
    from cordon.apps.people.models import Person

    Person.objects.bulk_create(
        [
            Person(name=f"居民{i}", national_id=None, jurisdiction=city.ft_person.jurisdiction)
            for i in range(4)
        ]
    )
    investigator = make_user("investigator", city.fengtai)
    client = client_for(investigator)
    first = {p["id"] for p in client.get("/api/persons", {"limit": 2}).json()}
    assert len(first) == 2
    settings.CORDON_PII_READ_LIMIT = 3
    for _ in range(6):  # the same 2 persons again and again: 14 shown in all, 2 different
        assert client.get("/api/persons", {"limit": 2}).status_code == 200
    assert not ReadAlert.objects.exists()
    more = {p["id"] for p in client.get("/api/persons", {"limit": 2, "offset": 2}).json()}
    assert more and not more & first  # someone new: 3 or 4 different persons now
    assert client.get("/api/persons", {"limit": 2}).status_code == 429
    assert ReadAlert.objects.get().count == len(first | more)
