"""Scoping (out of scope answers exactly like missing), masking of personal data, the access log, the audit trail."""

from __future__ import annotations

import json
import re
from typing import Any

from cordon.apps.audit.models import AccessLog, AuditEntry
from cordon.apps.people.models import Person

_TOKEN = re.compile(rb'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+')


def _without_tokens(content: bytes, pk: str) -> bytes:
    """The page without its per-request CSRF tokens and the id that was asked for."""
    return _TOKEN.sub(rb"\1", content).replace(pk.encode(), b"")


def test_out_of_scope_person_answers_like_a_missing_one(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("district_commander", city.fengtai))
    missing_page = client.get("/persons/99999999/")
    hidden_page = client.get(f"/persons/{city.cp_person.pk}/")
    assert missing_page.status_code == hidden_page.status_code == 404
    assert _without_tokens(missing_page.content, "99999999") == _without_tokens(
        hidden_page.content, str(city.cp_person.pk)
    )
    missing_api = client.get("/api/persons/99999999")
    hidden_api = client.get(f"/api/persons/{city.cp_person.pk}")
    assert missing_api.status_code == hidden_api.status_code == 404
    assert missing_api.json() == hidden_api.json()


def test_search_and_lists_never_show_other_districts(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("district_commander", city.fengtai))
    page = client.get("/persons/", {"q": city.cp_person.name}).content.decode()
    assert f"/persons/{city.cp_person.pk}/" not in page
    assert 'data-testid="person-results"' not in page
    assert client.get("/api/persons", {"q": city.cp_person.name}).json() == []
    assert {p["name"] for p in client.get("/api/persons").json()} == {
        city.ft_person.name,
        city.ft_person2.name,
    }
    assert client.get(f"/venues/{city.cp_venue.pk}/").status_code == 404
    assert client.get(f"/jurisdictions/{city.changping.code}/").status_code == 404
    assert client.get(f"/api/jurisdictions/{city.changping.code}").status_code == 404
    # The jurisdiction counts roll up only what is in scope.
    node = client.get(f"/api/jurisdictions/{city.fengtai.code}").json()
    assert node["persons"] == 2
    assert node["venues"] == 1


def test_sector_scope_narrows_persons_and_venues(city: Any, make_user: Any, client_for: Any) -> None:
    client = client_for(make_user("industry_regulator", city.city, sector=city.courier_sector))
    names = {p["name"] for p in client.get("/api/persons").json()}
    assert names == {city.courier.name}
    assert [v["code"] for v in client.get("/api/venues").json()] == [city.cp_venue.code]
    assert client.get(f"/persons/{city.ft_person.pk}/").status_code == 404


def test_ids_and_phones_masked_for_roles_without_pii(city: Any, make_user: Any, client_for: Any) -> None:
    commander = client_for(make_user("city_commander", city.city))
    body = commander.get(f"/api/persons/{city.ft_person.pk}").json()
    assert body["masked"] is True
    assert body["national_id"] != city.ft_person.national_id
    assert body["national_id"].startswith(city.ft_person.national_id[:6])
    assert "*" in body["national_id"] and "*" in body["phone"]
    page = commander.get(f"/persons/{city.ft_person.pk}/").content.decode()
    assert city.ft_person.national_id not in page and city.ft_person.phone not in page
    listing = commander.get("/persons/", {"q": city.ft_person.name}).content.decode()
    assert city.ft_person.national_id not in listing

    worker = client_for(make_user("grid_worker", city.zhangguozhuang))
    body = worker.get(f"/api/persons/{city.ft_person.pk}").json()
    assert body["masked"] is False
    assert body["national_id"] == city.ft_person.national_id
    assert body["phone"] == city.ft_person.phone


def test_opening_a_record_is_logged_and_auditors_can_read_it(
    city: Any, make_user: Any, client_for: Any
) -> None:
    investigator = make_user("investigator", city.fengtai, username="ft.investigator")
    client = client_for(investigator)
    client.get(f"/persons/{city.ft_person.pk}/")
    client.get(f"/api/persons/{city.ft_person.pk}")
    client.get("/persons/", {"q": city.ft_person.name})  # a list is not an opening
    rows = list(AccessLog.objects.filter(person=city.ft_person).values_list("actor_name", "via"))
    assert sorted(rows) == [("ft.investigator", "api"), ("ft.investigator", "web")]

    auditor = client_for(make_user("auditor", city.city))
    log = auditor.get("/api/access-log", {"person": city.ft_person.pk}).json()
    assert {(e["actor"], e["via"]) for e in log} == {("ft.investigator", "web"), ("ft.investigator", "api")}
    assert "ft.investigator" in auditor.get("/audit/access-log/").content.decode()
    # An auditor of Changping does not see Fengtai's access log.
    cp_auditor = client_for(make_user("auditor", city.changping))
    assert cp_auditor.get("/api/access-log").json() == []


def test_every_change_is_audited_with_old_and_new_values(city: Any, make_user: Any, client_for: Any) -> None:
    worker = make_user("grid_worker", city.zhangguozhuang, username="zgz.grid")
    client = client_for(worker)
    response = client.patch(
        f"/api/persons/{city.ft_person.pk}",
        data=json.dumps({"phone": "13611112222", "occupation": "司机"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.filter(
        model="people.person", object_pk=str(city.ft_person.pk), verb="update"
    ).get()
    assert entry.actor_name == "zgz.grid"
    assert entry.source == "api"
    assert entry.changes == {"phone": ["13800001111", "13611112222"], "occupation": ["", "司机"]}

    auditor = client_for(make_user("auditor", city.city))
    history = auditor.get(f"/api/audit/person/{city.ft_person.pk}").json()
    assert [h["verb"] for h in history] == ["update", "create"]
    page = auditor.get(f"/audit/person/{city.ft_person.pk}/").content.decode()
    assert "136****2222" in page and "13611112222" not in page and "zgz.grid" in page  # masked for auditors
    # Editing through the web form is audited too.
    response = client.post(
        f"/persons/{city.ft_person.pk}/edit/",
        {
            "name": "张伟",
            "national_id": city.ft_person.national_id,
            "sex": "M",
            "building": city.ft_building.code,
            "phone": "13611112222",
            "occupation": "公交司机",
            "version": Person.objects.get(pk=city.ft_person.pk).version,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = AuditEntry.objects.filter(model="people.person", object_pk=str(city.ft_person.pk)).first()
    assert (
        latest is not None and latest.changes["occupation"] == ["司机", "公交司机"] and latest.source == "web"
    )


def test_grid_worker_cannot_register_into_another_district(
    city: Any, make_user: Any, client_for: Any
) -> None:
    client = client_for(make_user("grid_worker", city.zhangguozhuang))
    response = client.post(
        "/api/persons",
        data=json.dumps({"name": "赵六", "building": city.cp_building.code}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "building" in response.json()["errors"]
    assert "B-CP-1" in response.json()["errors"]["building"]


def test_opening_a_person_in_the_admin_is_access_logged(city: Any, make_user: Any, client_for: Any) -> None:
    from cordon.apps.audit.models import AccessLog

    admin_user = make_user("administrator", city.city)
    client = client_for(admin_user)
    response = client.get(f"/admin/people/person/{city.ft_person.pk}/change/")
    assert response.status_code == 200
    entry = AccessLog.objects.get(person=city.ft_person, actor=admin_user)
    assert entry.via == "admin"


def test_the_edit_form_shows_the_birth_date_it_will_save_in_both_languages(
    city: Any, make_user: Any, client_for: Any
) -> None:
    """A date field of the browser takes only ISO dates: in Chinese the form once sent 1990/01/02, which the
    browser shows as blank, so saving any change erased the birth date of a person without a national ID."""
    import datetime as dt

    Person.objects.filter(pk=city.ft_person2.pk).update(national_id="", birth_date=dt.date(1990, 1, 2))
    client = client_for(make_user("street_officer", city.fengtai))
    for language in ("zh-hans", "en"):
        form = client.get(
            f"/persons/{city.ft_person2.pk}/edit/", HTTP_ACCEPT_LANGUAGE=language
        ).content.decode()
        field = re.search(r'<input[^>]*name="birth_date"[^>]*>', form)
        assert field is not None and 'value="1990-01-02"' in field.group(0), (language, field)


def test_a_new_person_form_does_not_guess_the_sex(city: Any, make_user: Any, client_for: Any) -> None:
    form = client_for(make_user("street_officer", city.fengtai)).get("/persons/new/").content.decode()
    selected = re.findall(r'<option value="(\w)"[^>]*selected', form)
    assert selected == ["U"], selected
