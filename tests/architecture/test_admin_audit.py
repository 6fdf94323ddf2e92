"""Every write the Django admin can make is audited.

The first test enumerates the admin site: a registered admin that can add, change or delete records must derive
from ``AuditedAdmin`` (or be read-only), and declare no inlines (inline formsets are not audited). It reports each
offending admin on its own. The others edit records as the administrator through the admin's HTTP pages (change
form, delete page, bulk delete) and check both the changed value and the audit row.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.forms import MultiWidget
from django.test import Client, RequestFactory

from cordon.apps.accounts import actions as accounts
from cordon.apps.accounts.models import ApiToken, User
from cordon.apps.audit.admin import AuditedAdmin
from cordon.apps.audit.models import AuditEntry
from cordon.apps.geo import actions as geo
from cordon.apps.geo.models import Building, IndustrySector
from cordon.apps.people import actions as people

REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower)


def _superuser_request() -> Any:
    request = RequestFactory().get("/admin/")
    request.user = User(username="probe", is_staff=True, is_superuser=True, is_active=True)
    return request


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=[m._meta.label_lower for m, _a in REGISTRY])
def test_every_writable_admin_is_audited(model: type[models.Model], model_admin: admin.ModelAdmin) -> None:
    request = _superuser_request()
    writable = [
        verb
        for verb, can in (
            ("add", model_admin.has_add_permission(request)),
            ("change", model_admin.has_change_permission(request)),
            ("delete", model_admin.has_delete_permission(request)),
        )
        if can
    ]
    label = f"{model._meta.label_lower} ({type(model_admin).__module__}.{type(model_admin).__name__})"
    if writable:
        assert isinstance(model_admin, AuditedAdmin), (
            f"{label} can {'/'.join(writable)} but is not an AuditedAdmin: its writes are not audited"
        )
    assert not model_admin.inlines, f"{label} has inlines, whose rows AuditedAdmin does not audit"


# --- edits through the admin's pages --------------------------------------------------------------------------


def _form_data(client: Client, url: str) -> dict[str, Any]:
    """The values the admin's change form shows for a record, as the browser would post them back."""
    form = client.get(url).context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        widget = field.widget
        if isinstance(widget, MultiWidget):
            for i, part in enumerate(widget.decompress(value)):
                data[f"{name}_{i}"] = "" if part is None else str(part)
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        else:
            data[name] = "" if value is None else str(value)
    return data


def _audit_rows(model: type[models.Model], pk: Any) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(model=model._meta.label_lower, object_pk=str(pk), source="admin").order_by(
            "id"
        )
    )


@pytest.fixture
def administrator(city: Any, make_user: Any) -> Any:
    return make_user("administrator", city.city)


@pytest.fixture
def staff(administrator: Any, client_for: Any) -> Client:
    return client_for(administrator)


def _post(client: Client, url: str, data: dict[str, Any]) -> None:
    response = client.post(url, data)
    errors = response.context["adminform"].form.errors if response.context else None
    assert response.status_code == 302, errors


def test_revoking_an_api_token_is_audited(city: Any, administrator: Any, staff: Client) -> None:
    user = accounts.create_user(
        actor=None,
        username="scanner",
        password="pw-test-0001",
        role="screening_staff",
        jurisdiction_code="110000",
    )
    accounts.issue_api_token(actor=None, user=user, name="station 7")
    token = ApiToken.objects.get(user=user)
    url = f"/admin/accounts/apitoken/{token.pk}/change/"
    data = _form_data(staff, url)
    data["revoked"] = "on"
    _post(staff, url, data)
    token.refresh_from_db()
    assert token.revoked
    [row] = _audit_rows(ApiToken, token.pk)
    assert row.verb == "update" and row.actor_id == administrator.pk
    assert row.changes == {"revoked": [False, True]}


def test_editing_a_person_is_audited(city: Any, administrator: Any, staff: Client) -> None:
    person = city.ft_person
    url = f"/admin/people/person/{person.pk}/change/"
    data = _form_data(staff, url)
    data["occupation"] = "教师"
    _post(staff, url, data)
    person.refresh_from_db()
    assert person.occupation == "教师"
    [row] = _audit_rows(type(person), person.pk)
    assert row.verb == "update" and row.changes == {"occupation": ["", "教师"]}


def test_editing_a_building_is_audited(city: Any, administrator: Any, staff: Client) -> None:
    building = city.cp_building
    url = f"/admin/geo/building/{building.pk}/change/"
    data = _form_data(staff, url)
    data["address"] = "昌平区回龙观龙祥社区东区3号楼（北门）"
    _post(staff, url, data)
    building.refresh_from_db()
    assert building.address.endswith("（北门）")
    [row] = _audit_rows(Building, building.pk)
    assert row.changes == {"address": ["昌平区回龙观龙祥社区东区3号楼", building.address]}


def test_many_to_many_fields_saved_by_the_form_are_audited(
    city: Any, administrator: Any, staff: Client
) -> None:
    group = Group.objects.create(name="night shift")
    user = accounts.create_user(
        actor=None, username="night", password="pw-test-0001", role="grid_worker", jurisdiction_code="110000"
    )
    url = f"/admin/accounts/user/{user.pk}/change/"
    data = _form_data(staff, url)
    data["groups"] = [str(group.pk)]
    _post(staff, url, data)
    assert list(user.groups.all()) == [group]
    # (The form also posts the join time back without its microseconds: that change is audited too.)
    [row] = [r for r in _audit_rows(User, user.pk) if "groups" in r.changes]
    assert row.verb == "update" and row.changes == {"groups": [[], [group.pk]]}

    # The group admin (Django's, re-registered audited) with its permissions.
    permission = Permission.objects.get(codename="view_building")
    url = f"/admin/auth/group/{group.pk}/change/"
    data = _form_data(staff, url)
    data["permissions"] = [str(permission.pk)]
    _post(staff, url, data)
    [row] = _audit_rows(Group, group.pk)
    assert row.changes == {"permissions": [[], [permission.pk]]}


def test_a_password_changed_in_the_admin_is_audited_without_hashes(
    city: Any, administrator: Any, staff: Client
) -> None:
    user = accounts.create_user(
        actor=None,
        username="forgetful",
        password="pw-test-0001",
        role="grid_worker",
        jurisdiction_code="110000",
    )
    old = user.password
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "a-new-secret-9", "password2": "a-new-secret-9", "usable_password": "true"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password != old and user.check_password("a-new-secret-9")
    [row] = _audit_rows(User, user.pk)
    assert row.verb == "update" and old not in str(row.changes) and user.password not in str(row.changes)


def test_deleting_is_audited_with_what_it_cascades_to(city: Any, administrator: Any, staff: Client) -> None:
    # One record from its delete page: a venue someone works at (their workplace is set to NULL).
    person, venue = city.cp_person, city.cp_venue
    people.update_person(actor=None, person=person, changes={"workplace": venue})
    response = staff.post(f"/admin/venues/venue/{venue.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not type(venue).objects.filter(pk=venue.pk).exists()
    [deleted] = _audit_rows(type(venue), venue.pk)
    assert deleted.verb == "delete" and "V-CP-1" in str(deleted.changes["code"])
    [cleared] = _audit_rows(type(person), person.pk)
    assert cleared.verb == "update" and cleared.changes == {"workplace_id": [venue.pk, None]}

    # A selection from the list (bulk delete).
    sectors = [
        geo.create_sector(actor=None, code=f"s{i}", name=f"行业{i}", name_en=f"Sector {i}") for i in range(2)
    ]
    response = staff.post(
        "/admin/geo/industrysector/",
        {"action": "delete_selected", "_selected_action": [str(s.pk) for s in sectors], "post": "yes"},
    )
    assert response.status_code == 302
    assert not IndustrySector.objects.filter(pk__in=[s.pk for s in sectors]).exists()
    for sector in sectors:
        [row] = _audit_rows(IndustrySector, sector.pk)
        assert row.verb == "delete" and sector.code in str(row.changes["code"])
