"""Bad input is refused with a field error, never a server error nor a silent change (cordon.core.inputs and
cordon.core.paging): every API text input is bounded by its model field and free of NUL characters, every
date input by a plausible range, every paged list by one paging rule; the import and scan ingestion refuse
the same values."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.dataio import actions as dataio
from cordon.apps.people.models import Person
from cordon.apps.tracing import actions as tracing
from cordon.core import inputs
from cordon.site.api import api

pytestmark = pytest.mark.django_db

OPENAPI = api.get_openapi_schema()
COMPONENTS = OPENAPI["components"]["schemas"]


def _leaves(
    schema: dict[str, Any], where: str, seen: frozenset[str] = frozenset()
) -> Iterator[tuple[str, Any]]:
    """Every (place, schema) of a string or date leaf of an input schema, following references."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _leaves(COMPONENTS[name], name, seen | {name})
        return
    for key in ("anyOf", "allOf", "oneOf"):
        for option in schema.get(key, []):
            yield from _leaves(option, where, seen)
    if schema.get("type") == "object":
        for name, prop in schema.get("properties", {}).items():
            yield from _leaves(prop, f"{where}.{name}", seen)
    if schema.get("type") == "array":
        yield from _leaves(schema.get("items", {}), f"{where}[]", seen)
    if schema.get("type") == "string":
        yield where, schema


def _inputs() -> Iterator[tuple[str, str, Any]]:
    for path, operations in OPENAPI["paths"].items():
        for method, op in operations.items():
            label = f"{method.upper()} {path}"
            for param in op.get("parameters", []):
                if param["in"] == "query":
                    for where, leaf in _leaves(param["schema"], param["name"]):
                        yield label, where, leaf
            for content in op.get("requestBody", {}).get("content", {}).values():
                for where, leaf in _leaves(content["schema"], "body"):
                    yield label, where, leaf


def test_every_text_input_is_bounded_and_every_date_input_plausible() -> None:
    unbounded, unchecked = [], []
    for label, where, leaf in _inputs():
        if leaf.get("format") in ("date", "date-time"):
            if "x-plausible" not in leaf:
                unchecked.append(f"{label} {where}")
        elif leaf.get("format") in ("time", "binary") or "enum" in leaf:
            continue
        elif "maxLength" not in leaf or leaf.get("pattern") != inputs.NO_NUL:
            unbounded.append(f"{label} {where}")
    assert unbounded == [] and unchecked == []


def test_every_paged_list_refuses_a_negative_offset_and_a_zero_limit(
    city: Any, make_user: Any, client_for: Any
) -> None:
    client = client_for(make_user("administrator", city.city))
    paged = [
        path
        for path, operations in OPENAPI["paths"].items()
        if "get" in operations and {"offset", "limit"} <= {p["name"] for p in operations["get"]["parameters"]}
    ]
    assert {"/api/persons", "/api/cases", "/api/control/orders", "/api/access-log"} <= set(paged)
    for path in paged:
        url = path.replace("{case_id}", "1")
        assert client.get(url, {"offset": -1}).status_code == 422, path
        assert client.get(url, {"limit": 0}).status_code == 422, path


def _errors(response: Any) -> str:
    assert response.status_code == 422, response.content
    return json.dumps(response.json(), ensure_ascii=False)


def test_person_changes_refuse_null_long_and_nul_text(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("administrator", city.city))
    url = f"/api/persons/{city.ft_person.pk}"

    def patch(body: dict[str, Any]) -> Any:
        return client.patch(url, body, content_type="application/json")

    assert "tags" in _errors(patch({"tags": None}))
    assert "name" in _errors(patch({"name": None}))
    assert "name" in _errors(patch({"name": "长" * 5000}))
    assert "occupation" in _errors(patch({"occupation": "a\x00b"}))
    assert "birth_date" in _errors(patch({"birth_date": "1880-01-01"}))
    assert "birth_date" in _errors(
        patch({"birth_date": (timezone.localdate() + dt.timedelta(1)).isoformat()})
    )
    long = client.post("/api/persons", {"name": "x" * 5000}, content_type="application/json")
    assert "name" in _errors(long)
    city.ft_person.refresh_from_db()
    assert city.ft_person.name == "张伟" and city.ft_person.tags == []
    assert patch({"phone": None, "birth_date": None}).status_code == 200  # those may be cleared


def test_case_dates_out_of_the_plausible_range_are_refused(
    city: Any, make_user: Any, client_for: Any
) -> None:
    client = client_for(make_user("administrator", city.city))
    for onset in ("1900-01-01", "2099-01-01"):
        body = {"person_id": city.ft_person.pk, "onset_date": onset, "found_by": "fever_clinic"}
        assert "onset_date" in _errors(client.post("/api/cases", body, content_type="application/json"))


def test_the_plausible_range_is_a_setting(settings: Any) -> None:
    today = timezone.localdate()
    old = today.replace(year=today.year - 4)
    assert inputs.date_problem(old) is None
    settings.CORDON_PLAUSIBLE_DATES = {"event": (1, 0), "birth": (120, 0)}
    assert inputs.date_problem(old) is not None
    assert inputs.date_problem(today + dt.timedelta(days=1)) is not None
    assert inputs.date_problem(today.replace(year=today.year - 100), "birth") is None


def test_import_refuses_long_text_and_implausible_dates(city: Any, make_user: Any) -> None:
    admin = make_user("administrator", city.city)
    rows = "\n".join(
        [
            "name,jurisdiction code,birth date,occupation",
            f"{'x' * 5000},110106,1980-01-01,",
            "ok,110106,1850-01-01,",
            f"ok2,110106,1980-01-01,{'y' * 101}",
        ]
    )
    result = dataio.import_file(actor=admin, kind="persons", data=rows.encode(), filename="p.csv")
    assert result.created == 0
    found = {(p.row, p.column) for p in result.problems}
    assert {(2, "name"), (3, "birth date"), (4, "occupation")} <= found, result.describe()
    assert not Person.objects.filter(name__startswith="ok").exists()


def test_scans_dated_outside_the_plausible_range_are_rejected(
    city: Any, make_user: Any, tmp_path: Any
) -> None:
    admin = make_user("administrator", city.city)
    now = timezone.localtime().replace(tzinfo=None, microsecond=0)
    lines = ["national_id,venue_code,time_in,time_out"]
    for when in (dt.datetime(1900, 5, 1, 9), dt.datetime(2099, 5, 1, 9), now - dt.timedelta(hours=2)):
        out = when + dt.timedelta(minutes=30)
        lines.append(f"{city.ft_person.national_id},V-FT-1,{when:%Y-%m-%d %H:%M:%S},{out:%Y-%m-%d %H:%M:%S}")
    path = tmp_path / "scans.csv"
    path.write_text("\n".join(lines) + "\n")
    report = tracing.ingest_scans(actor=admin, source_file=path, filename="scans.csv")
    assert report.added == 1
    assert sum(report.rejected.values()) == 2


def test_no_two_api_schemas_share_a_name() -> None:
    """The OpenAPI schema keeps one component per class name: two schemas of one name would document one
    operation's input or output with the other's fields (control's and screening's ``SiteIn`` did)."""
    from ninja import Schema

    names: dict[str, set[str]] = {}

    def walk(cls: type) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("cordon."):
                names.setdefault(sub.__name__, set()).add(f"{sub.__module__}.{sub.__qualname__}")
            walk(sub)

    walk(Schema)
    assert {name: where for name, where in names.items() if len(where) > 1} == {}
