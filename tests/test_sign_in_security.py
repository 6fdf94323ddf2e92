"""Signing in is rate limited (django-axes), failures are recorded and shown to auditors, an administrator's
unlock is audited, and every path that sets a password checks it (length, likeness, common, numeric)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import timezone

from cordon import cli
from cordon.apps.accounts import actions as accounts
from cordon.apps.accounts import signin
from cordon.apps.accounts.models import User
from cordon.apps.audit.models import AuditEntry

PASSWORD = "pw-test-0001"  # the make_user fixture's
WRONG = "not-the-password"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _sign_in(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post("/login/", {"username": username, "password": password}, **extra)


def _signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


@pytest.fixture
def grid_worker(city: Any, make_user: Any) -> User:
    return make_user("grid_worker", city.zgz_grid, username="zhang.wei")


def test_thirty_wrong_passwords_then_the_right_one_is_refused(grid_worker: User) -> None:
    client = Client()
    statuses = [_sign_in(client, "zhang.wei", WRONG, **EN).status_code for _ in range(30)]
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, "wrong user name or password"
    assert set(statuses[limit - 1 :]) == {429}

    response = _sign_in(client, "zhang.wei", PASSWORD, **EN)
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert not _signed_in(client)


def test_the_lock_is_per_user_name_and_address(grid_worker: User, make_user: Any, city: Any) -> None:
    make_user("grid_worker", city.zgz_grid, username="li.na")
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(attacker, "zhang.wei", WRONG)
    assert _sign_in(attacker, "zhang.wei", PASSWORD).status_code == 429
    # The same user from their own office, and another user from the attacker's address, still sign in.
    office = Client(REMOTE_ADDR="198.51.100.20")
    assert _sign_in(office, "zhang.wei", PASSWORD).status_code == 302 and _signed_in(office)
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert _sign_in(other, "li.na", PASSWORD).status_code == 302 and _signed_in(other)


def test_the_lock_page_speaks_both_languages(grid_worker: User) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "zhang.wei", WRONG)
    zh = _sign_in(client, "zhang.wei", PASSWORD)
    assert zh.status_code == 429 and "登录失败次数过多" in zh.content.decode()
    en = _sign_in(client, "zhang.wei", PASSWORD, **EN)
    assert "Try again in 15 minutes" in en.content.decode()


def test_the_cool_off_lets_them_in_again(grid_worker: User) -> None:
    start = timezone.now()
    client = Client()
    with time_machine.travel(start, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _sign_in(client, "zhang.wei", WRONG)
        assert _sign_in(client, "zhang.wei", PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
        assert _sign_in(client, "zhang.wei", PASSWORD).status_code == 429  # failures while locked extend it
    with time_machine.travel(start + dt.timedelta(minutes=14 + 16), tick=False):
        assert _sign_in(client, "zhang.wei", PASSWORD).status_code == 302
        assert _signed_in(client)


def test_failures_are_shown_to_the_auditor(
    grid_worker: User, make_user: Any, city: Any, client_for: Any
) -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        _sign_in(client, "zhang.wei", WRONG)
    _sign_in(client, "nobody-of-ours", WRONG)
    _sign_in(Client(REMOTE_ADDR="198.51.100.20"), "zhang.wei", WRONG)

    auditor = client_for(make_user("auditor", city.city))
    page = auditor.get("/audit/sign-ins/", **EN)
    assert page.status_code == 200
    counts = page.context["counts"]
    rows = {(c.username, c.ip_address): (c.failures, c.locked) for c in counts}
    assert rows == {
        ("zhang.wei", "203.0.113.9"): (settings.AXES_FAILURE_LIMIT + 2, True),
        ("nobody-of-ours", "203.0.113.9"): (1, False),
        ("zhang.wei", "198.51.100.20"): (1, False),
    }
    failures = page.context["page_obj"].object_list
    assert len(failures) == settings.AXES_FAILURE_LIMIT + 4
    assert sum(f.locked_out for f in failures) == 3  # the limit-th failure and the two after it
    html = page.content.decode()
    assert "zhang.wei" in html and "203.0.113.9" in html and "locked" in html
    assert 'action="/audit/sign-ins/unlock/"' not in html  # auditors read; administrators unlock

    # A district's auditor sees the failures against that district's users only.
    changping = client_for(make_user("auditor", city.changping)).get("/audit/sign-ins/")
    assert changping.context["counts"] == [] and not changping.context["page_obj"].object_list
    fengtai = client_for(make_user("auditor", city.fengtai)).get("/audit/sign-ins/")
    assert {c.username for c in fengtai.context["counts"]} == {"zhang.wei"}


def test_an_administrator_unlocks_and_the_unlock_is_audited(
    grid_worker: User, make_user: Any, city: Any, client_for: Any
) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "zhang.wei", WRONG)
    assert _sign_in(client, "zhang.wei", PASSWORD).status_code == 429

    admin = make_user("administrator", city.city)
    staff = client_for(admin)
    assert 'action="/audit/sign-ins/unlock/"' in staff.get("/audit/sign-ins/").content.decode()
    response = staff.post("/audit/sign-ins/unlock/", {"username": "zhang.wei", "ip_address": "127.0.0.1"})
    assert response.status_code == 302 and response["Location"] == "/audit/sign-ins/"
    entry = AuditEntry.objects.filter(model="axes.accessattempt").get()
    assert (
        entry.verb == "delete" and entry.actor_id == admin.pk and entry.changes["username"][0] == "zhang.wei"
    )
    # The request data axes kept of the failures (CSRF tokens among it) is not copied into the trail.
    assert str(entry.changes["post_data"][0]).startswith("hidden:")
    assert "csrfmiddlewaretoken" not in json.dumps(entry.changes)

    assert _sign_in(client, "zhang.wei", PASSWORD).status_code == 302 and _signed_in(client)
    # Unlocking again finds nothing left to forget, and says so.
    again = staff.post("/audit/sign-ins/unlock/", {"username": "zhang.wei"}, follow=True, **EN)
    assert "Nothing is counted against it any more." in again.content.decode()


def test_a_successful_sign_in_clears_the_count(grid_worker: User) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "zhang.wei", WRONG)
    assert _sign_in(client, "zhang.wei", PASSWORD).status_code == 302
    client.post("/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "zhang.wei", WRONG)
    assert _sign_in(client, "zhang.wei", PASSWORD).status_code == 302


def test_the_admin_login_is_limited_too(city: Any, make_user: Any) -> None:
    make_user("administrator", city.city, username="root-admin")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "root-admin", "password": WRONG})
    response = client.post("/admin/login/", {"username": "root-admin", "password": PASSWORD})
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302  # still to the admin's login page


def test_the_api_takes_no_password(grid_worker: User) -> None:
    """The API authenticates with a session (signed in through the limited login) or a bearer token (random,
    only its hash stored); a user name and password in an Authorization header are not a way in."""
    basic = base64.b64encode(f"zhang.wei:{PASSWORD}".encode()).decode()
    assert Client().get("/api/me", HTTP_AUTHORIZATION=f"Basic {basic}").status_code == 401
    assert Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {PASSWORD}").status_code == 401


def test_the_client_address_comes_from_the_proxy_header_when_configured(settings: Any) -> None:
    request = RequestFactory().post("/login/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="203.0.113.9")
    assert signin.client_ip(request) == "127.0.0.1"
    settings.CORDON_CLIENT_IP_HEADER = "X-Real-IP"
    assert signin.client_ip(request) == "203.0.113.9"
    # A list (X-Forwarded-For): the last address, the one the proxy added; a forged non-address is ignored.
    settings.CORDON_CLIENT_IP_HEADER = "X-Forwarded-For"
    forwarded = RequestFactory().post(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9"
    )
    assert signin.client_ip(forwarded) == "203.0.113.9"
    forged = RequestFactory().post("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address")
    assert signin.client_ip(forged) == "127.0.0.1"


# --- password validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("abcd", "too short"),
        ("12345678", "entirely numeric"),
        ("password", "too common"),
        ("zhang.wei.2", "too similar to the username"),
        ("1234567890", "entirely numeric"),
    ],
)
def test_createuser_refuses_weak_passwords_clearly(
    city: Any, capsys: Any, settings: Any, password: str, reason: str
) -> None:
    args = ["createuser", "zhang.wei", "--role", "auditor", "--jurisdiction", city.city.code]
    settings.LANGUAGE_CODE = "en"  # an installation in English (CORDON_LANGUAGE=en): the CLI speaks it
    assert cli.main([*args, "--password", password]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cordon: password: ") and reason in err, err
    assert not User.objects.filter(username="zhang.wei").exists()


def test_createuser_accepts_a_good_password_and_speaks_chinese_by_default(city: Any, capsys: Any) -> None:
    args = ["createuser", "zhang.wei", "--role", "auditor", "--jurisdiction", city.city.code, "--password"]
    assert cli.main([*args, "abcd"]) == 2
    assert "密码长度太短" in capsys.readouterr().err
    assert cli.main([*args, "grey-heron-lantern"]) == 0
    assert User.objects.get(username="zhang.wei").check_password("grey-heron-lantern")


def test_the_admin_forms_refuse_weak_passwords(city: Any, make_user: Any, client_for: Any) -> None:
    staff = client_for(make_user("administrator", city.city))
    response = staff.post(
        "/admin/accounts/user/add/",
        {"username": "weak", "password1": "12345678", "password2": "12345678", "usable_password": "true"},
        **EN,
    )
    assert response.status_code == 200 and not User.objects.filter(username="weak").exists()
    assert "This password is entirely numeric." in response.content.decode()

    user = accounts.create_user(
        actor=None, username="forgetful", password=PASSWORD, role="grid_worker", jurisdiction_code="110000"
    )
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "password", "password2": "password", "usable_password": "true"},
        **EN,
    )
    assert response.status_code == 200 and "This password is too common." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_counted_by_address_alone_the_page_and_the_unlock_follow(
    settings: Any, grid_worker: User, make_user: Any, city: Any, client_for: Any
) -> None:
    """CORDON_LOGIN_LOCKOUT=ip_address: failures against many names lock the address for every name; the page
    shows each pair locked, and unlocking one of them frees the address."""
    settings.AXES_LOCKOUT_PARAMETERS = ["ip_address"]
    sprayer = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(sprayer, f"guess-{n}", WRONG)
    assert _sign_in(sprayer, "zhang.wei", PASSWORD).status_code == 429
    staff = client_for(make_user("administrator", city.city))
    counts = staff.get("/audit/sign-ins/").context["counts"]
    assert len(counts) == settings.AXES_FAILURE_LIMIT + 1 and all(c.locked for c in counts)
    staff.post("/audit/sign-ins/unlock/", {"username": "guess-0", "ip_address": "203.0.113.9"})
    assert staff.get("/audit/sign-ins/").context["counts"] == []
    assert _sign_in(sprayer, "zhang.wei", PASSWORD).status_code == 302


def test_an_unlock_with_a_bad_address_changes_nothing(
    grid_worker: User, make_user: Any, city: Any, client_for: Any
) -> None:
    _sign_in(Client(), "zhang.wei", WRONG)
    staff = client_for(make_user("administrator", city.city))
    response = staff.post("/audit/sign-ins/unlock/", {"username": "", "ip_address": "not-an-address"})
    assert response.status_code == 302
    assert len(staff.get("/audit/sign-ins/").context["counts"]) == 1
