"""Live updates: the menu's counts (``/live/badges/``, polled by every page) per role and scope, and the linkage
inbox that asks for itself while nothing is ticked."""

from __future__ import annotations

from typing import Any

import pytest

from cordon.apps.tracing.models import Contact, Linkage

pytestmark = pytest.mark.django_db


def _badges(client: Any) -> dict[str, str]:
    import re

    html = client.get("/live/badges/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    out = {}
    for tag in re.findall(r"<span[^>]*>", html):
        key, n = re.search(r'id="badge-(\w+)"', tag), re.search(r'data-n="(\d+)"', tag)
        assert key is not None
        out[key.group(1)] = n.group(1) if n else ""
    return out


def _hand_over_to_changping(city: Any, case: Any) -> None:
    """A confirmed contact of ``case`` living in Changping, handed over to Changping's inbox."""
    contact = Contact.objects.create(
        case=case, person=city.cp_person, degree=1, contact_type="venue",
        jurisdiction=city.lx_grid, district=city.changping, status="confirmed",
    )  # fmt: skip
    Linkage.objects.create(contact=contact, from_district=city.fengtai, to_district=city.changping)


def test_badges_count_what_waits_for_each_person_in_their_scope(
    city: Any, make_user: Any, client_for: Any, fengtai_case: Any
) -> None:
    cp = client_for(make_user("investigator", city.changping))
    ft = client_for(make_user("investigator", city.fengtai))
    lab = client_for(make_user("lab_staff", city.city))
    assert _badges(cp) == {"cases": "", "linkage": "", "jobs": ""}
    assert _badges(lab) == {"jobs": ""}  # a role sees only the badges of what it may open

    _hand_over_to_changping(city, fengtai_case())
    assert _badges(cp) == {"cases": "", "linkage": "1", "jobs": ""}  # the case is Fengtai's
    assert _badges(ft) == {"cases": "1", "linkage": "", "jobs": ""}
    html = cp.get("/live/badges/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'hx-swap-oob="true"' in html and "1 contacts from other districts to acknowledge" in html
    zh = cp.get("/live/badges/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "有 1 名外区推送的密接待签收" in zh
    assert cp.get("/live/badges/")["Cache-Control"] == "no-store"


def test_every_page_polls_the_badges_and_the_inbox_polls_itself(
    city: Any, make_user: Any, client_for: Any, settings: Any
) -> None:
    settings.CORDON_LIVE_SECONDS = 7
    cp = client_for(make_user("investigator", city.changping))
    home = cp.get("/").content.decode()
    assert 'hx-get="/live/badges/" hx-trigger="load, every 7s"' in home and 'id="badge-linkage"' in home
    inbox = cp.get("/tracing/linkage/").content.decode()
    assert (
        'id="linkage-live"' in inbox
        and "every 7s [!document.querySelector('#linkage-live input:checked')]" in inbox
    )


def test_an_open_inbox_is_answered_nothing_new_until_a_handover_arrives(
    city: Any, make_user: Any, client_for: Any, fengtai_case: Any
) -> None:
    import re

    cp = client_for(make_user("investigator", city.changping))
    html = cp.get("/tracing/linkage/?all=1").content.decode()
    poll = re.search(r'id="linkage-live"[^>]*hx-get="([^"]+)"', html)
    assert poll is not None
    url = poll.group(1).replace("&amp;", "&")
    assert url.startswith("/tracing/linkage/?all=1&v=")
    assert cp.get(url, HTTP_HX_REQUEST="true").status_code == 204  # nothing new: htmx keeps the page
    assert cp.get(url).status_code == 200  # not htmx: the page as usual
    _hand_over_to_changping(city, fengtai_case())
    fresh = cp.get(url, HTTP_HX_REQUEST="true")
    assert fresh.status_code == 200 and city.cp_person.name in fresh.content.decode()
    again = re.search(r'id="linkage-live"[^>]*hx-get="([^"]+)"', fresh.content.decode())
    assert (
        again is not None and again.group(1).replace("&amp;", "&") != url
    )  # it now asks with the new version


@pytest.mark.parametrize(
    ("role", "url", "region"),
    [
        ("investigator", "/tracing/cases/?q=&control=", "case-list-live"),
        ("district_commander", "/screening/alerts/", "follow-up-live"),
    ],
)
def test_live_lists_answer_nothing_new_until_their_version_changes(
    city: Any, make_user: Any, client_for: Any, role: str, url: str, region: str
) -> None:
    import re

    client = client_for(make_user(role, city.fengtai))
    html = client.get(url).content.decode()
    found = re.search(rf'id="{region}"[^>]*hx-get="([^"]+)"', html)
    assert found is not None
    poll = found.group(1).replace("&amp;", "&")
    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204
    stale = re.sub(r"v=[^&]+", "v=0-0-0-0-0", poll)
    assert client.get(stale, HTTP_HX_REQUEST="true").status_code == 200


def test_a_new_case_appears_in_an_open_case_list(
    city: Any, make_user: Any, client_for: Any, fengtai_case: Any
) -> None:
    import re

    client = client_for(make_user("investigator", city.fengtai))
    html = client.get("/tracing/cases/").content.decode()
    found = re.search(r'id="case-list-live"[^>]*hx-get="([^"]+)"', html)
    assert found is not None and city.ft_person.name not in html
    poll = found.group(1).replace("&amp;", "&")
    fengtai_case()
    fresh = client.get(poll, HTTP_HX_REQUEST="true")
    assert fresh.status_code == 200 and city.ft_person.name in fresh.content.decode()
