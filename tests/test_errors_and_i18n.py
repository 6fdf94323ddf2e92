"""Bad input gets a clear message and changes nothing; unknown routes never become server errors; both languages."""

from __future__ import annotations

import json
import re
from typing import Any

from django.test import override_settings

from cordon.apps.people.models import Person


def _post_json(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def test_malformed_national_id_is_refused_clearly(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("grid_worker", city.zhangguozhuang))
    before = Person.objects.count()
    response = _post_json(
        client, "/api/persons", {"name": "赵六", "national_id": "110106198005171230", "building": "B-FT-1"}
    )
    assert response.status_code == 422
    assert "check character" in response.json()["errors"]["national_id"]
    response = _post_json(
        client, "/api/persons", {"name": "赵六", "national_id": "12345", "building": "B-FT-1"}
    )
    assert "18 characters" in response.json()["errors"]["national_id"]
    # The web form shows the same message beside the field.
    page = client.post(
        "/persons/new/",
        {"name": "赵六", "national_id": "110106198005171230", "building": "B-FT-1"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 200
    assert "check character is wrong" in page.content.decode()
    assert Person.objects.count() == before


def test_duplicate_national_id_is_refused(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("grid_worker", city.zhangguozhuang))
    response = _post_json(
        client,
        "/api/persons",
        {"name": "张伟", "national_id": city.ft_person.national_id, "building": "B-FT-1"},
    )
    assert response.status_code == 422
    assert "already registered" in response.json()["errors"]["national_id"]


def test_unknown_jurisdiction_is_refused_clearly(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("grid_worker", city.zhangguozhuang))
    response = _post_json(client, "/api/persons", {"name": "赵六", "jurisdiction": "999999"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"jurisdiction": "Unknown jurisdiction: 999999."}
    assert client.get("/jurisdictions/999999/").status_code == 404
    assert client.get("/api/jurisdictions/999999", HTTP_ACCEPT_LANGUAGE="en").json() == {
        "detail": "Not found."
    }
    assert client.get("/api/jurisdictions/999999").json() == {"detail": "未找到。"}  # default language
    page = client.post("/persons/new/", {"name": "赵六", "jurisdiction": "999999"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Unknown jurisdiction code." in page.content.decode()


def test_unknown_routes_answer_404_with_a_message(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("city_commander", city.city))
    page = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 404
    assert "Not found." in page.content.decode()
    api = client.get("/api/no/such/route", HTTP_ACCEPT_LANGUAGE="en")
    assert api.status_code == 404
    assert api.json() == {"detail": "Not found."}
    assert client.get("/persons/not-a-number/").status_code == 404
    assert client.get("/api/persons/not-a-number").status_code in (404, 422)


def test_invalid_json_and_wrong_types_get_422_not_500(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("grid_worker", city.zhangguozhuang))
    response = client.post("/api/persons", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    response = _post_json(
        client, "/api/persons", {"name": "x", "birth_date": "yesterday", "building": "B-FT-1"}
    )
    assert response.status_code == 422


@override_settings(CORDON_MAX_UPLOAD_BYTES=1000)
def test_oversized_request_is_refused_clearly(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("grid_worker", city.zhangguozhuang))
    response = _post_json(client, "/api/persons", {"name": "x" * 2000, "building": "B-FT-1"})
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    page = client.post("/persons/new/", {"name": "x" * 2000}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 413
    assert "too large" in page.content.decode()


def test_language_switch(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("auditor", city.city))
    assert "人员" in client.get("/").content.decode()  # default language: 简体中文
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert "Persons" in page and 'lang="en"' in page
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert 'lang="zh-hans"' in client.get("/").content.decode()


def test_api_docs_and_schema_are_served_by_the_app(client: Any) -> None:
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    assert "/api/persons" in schema.json()["paths"]
    docs = client.get("/api/docs").content.decode()
    assert "swagger-ui" in docs
    # Every script and stylesheet is served by the app itself, none from another host (users may be offline).
    assert not re.search(r"""(src|href)=["'](https?:)?//""", docs), docs
