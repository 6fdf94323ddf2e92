"""Schemathesis against the API's own OpenAPI schema: every operation, called with data generated from its
schema, as two roles (the city's administrator, who may call every route, and a Fengtai investigator, whose
scope is one district), must answer without a server error and with a response its schema describes.

Runs on PostgreSQL only, as its own step of scripts/test (``pytest -m schemathesis``); bounded by a fixed number
of examples per operation (CORDON_SCHEMATHESIS_EXAMPLES, default 20) and no per-example deadline.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from cordon.apps.accounts import actions as accounts
from cordon.apps.jobs import actions as jobs
from cordon.apps.people.models import Person
from cordon.apps.tracing.models import Contact
from cordon.site.api import api
from cordon.site.wsgi import application

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("CORDON_SCHEMATHESIS_EXAMPLES", 20))
ROLES = {"administrator": "city", "investigator": "fengtai"}

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = application

# Path parameters that name records of the test's data (filled by the fixture): generated identifiers are
# almost never those of a record, so an example takes one of these about half the time, reaching past the 404.
KNOWN: dict[str, list[Any]] = {}


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries(
        {
            name: st.one_of(st.just(value), st.sampled_from(KNOWN[name]))
            if KNOWN.get(name)
            else st.just(value)
            for name, value in path_parameters.items()
        }
    )


def _seed(client: Any, city: Any, chain: Any) -> dict[str, list[Any]]:
    """Records the lists show (an isolation site with rooms, control orders from confirmed contacts, a screening
    round with a site, a lab, a frequency rule), made through the API by the city's administrator, so every
    list's response is checked against its schema with rows in it; returns the path parameters that name them."""

    def post(path: str, body: dict[str, Any]) -> Any:
        response = client.post(path, body, content_type="application/json")
        assert response.status_code in (200, 201), (path, response.content)
        return response.json()

    now = timezone.localtime()
    post("/api/control/sites", {"code": "FT-H1", "name": "隔离酒店", "jurisdiction": city.beigong.code})
    post("/api/control/sites/FT-H1/rooms", {"numbers": "101-104"})
    # The chain's contacts are all cases themselves: a household member who is not, judged a close contact.
    mate = Person.objects.get(
        pk=post("/api/persons", {"name": "赵敏", "household": city.ft_household.code})["id"]
    )
    contact = Contact.objects.create(
        case=chain.index, person=mate, degree=1, contact_type="household", jurisdiction=mate.jurisdiction,
        district=city.fengtai,
    )  # fmt: skip
    post(f"/api/cases/{chain.index.pk}/contacts/decide", {"contacts": [contact.pk], "decision": "confirmed"})
    rnd = {"code": "R-1", "name": "全员筛查", "owner": city.city.code, "areas": [city.fengtai.code]}
    post(
        "/api/screening/rounds",
        rnd | {"starts_at": now.isoformat(), "ends_at": (now + dt.timedelta(1)).isoformat()},
    )
    site = post(
        "/api/screening/rounds/R-1/sites",
        {"code": "S-1", "name": "采样点", "jurisdiction": city.zhangguozhuang.code},
    )
    post("/api/screening/labs", {"code": "L-1", "name": "检测机构", "jurisdiction": city.city.code})
    post("/api/screening/rules", {"sector": city.courier_sector.code, "every_days": 7})
    orders = [o["id"] for o in client.get("/api/control/orders").json()]
    assert orders
    return {"order_id": orders, "site_id": [site["id"]], "code": ["FT-H1", "R-1", "L-1"]}


@pytest.fixture(params=sorted(ROLES))
def bearer(
    request: Any,
    chain: Any,
    city: Any,
    make_user: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> dict[str, str]:
    """The Authorization header of a user of the role, with the small city and its chain of cases loaded."""
    if connection.vendor != "postgresql":
        pytest.skip("the schemathesis run is for PostgreSQL (scripts/test runs it there)")
    role = request.param
    with django_capture_on_commit_callbacks(execute=True):  # domain events' reactions run on commit
        seeded = _seed(client_for(make_user("administrator", city.city)), city, chain)
    user = make_user(role, getattr(city, ROLES[role]))
    persons = [city.ft_person.pk, city.ft_person2.pk, city.cp_person.pk, city.courier.pk]
    cases = [chain.index.pk, chain.b.pk, chain.c.pk, chain.d.pk]
    KNOWN.clear()
    KNOWN.update(
        person_id=persons,
        pk=persons + cases,
        case_id=cases,
        code=[chain.cluster.code, city.fengtai.code, city.ft_venue.code, city.cp_venue.code, *seeded["code"]],
        kind=["persons", "venues", "buildings", "person", "case"],
        order_id=seeded["order_id"],
        site_id=seeded["site_id"],
    )
    # A job of the user's (a trace, queued: no worker runs here), for the jobs API's operations to find.
    KNOWN["job_id"] = [
        jobs.start(actor=user, kind="tracing.trace_case", params={"case_id": chain.index.pk}).pk
    ]
    key = accounts.issue_api_token(actor=None, user=user, name="schemathesis")
    # The WSGI handler closes the database connection when a request ends, as it should in a server; in a test
    # that is the test's transaction (Django's test client disconnects the same signals for its requests).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request.addfinalizer(lambda: request_started.connect(close_old_connections))
    request.addfinalizer(lambda: request_finished.connect(close_old_connections))
    return {"Authorization": f"Bearer {key}"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_conforms_to_its_schema(case: Any, bearer: dict[str, str]) -> None:
    response = case.call(headers=bearer)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
