"""The audit trail: personal data masked in its values as on the record itself, and its tamper-evident hash
chains (``cordon audit verify``)."""

from __future__ import annotations

from typing import Any

from cordon.apps.people import actions as people
from cordon.engine import identity


def _edit_phone(city: Any, make_user: Any) -> None:
    worker = make_user("grid_worker", city.zhangguozhuang)
    people.update_person(actor=worker, person=city.ft_person, changes={"phone": "13611112222"})


def test_auditors_see_personal_data_in_the_trail_masked(city: Any, make_user: Any, client_for: Any) -> None:
    """An auditor (no ``view_pii``) reads a person's history with the national ID and phone masked by the
    person's own rule, on the page and in the API; a role that sees them in full (an administrator) still
    does."""
    p = city.ft_person
    national_id, phone = p.national_id, p.phone
    _edit_phone(city, make_user)
    auditor = client_for(make_user("auditor", city.city))
    history = auditor.get(f"/api/audit/person/{p.pk}").json()
    assert [h["verb"] for h in history] == ["update", "create"]
    assert history[0]["changes"]["phone"] == [identity.mask_phone(phone), "136****2222"]
    assert history[1]["changes"]["national_id"] == [None, identity.mask(national_id)]
    assert history[1]["changes"]["name"] == [None, p.name]  # other values as they are
    page = auditor.get(f"/audit/person/{p.pk}/").content.decode()
    recent = auditor.get("/audit/").content.decode()
    for text in (str(history), page, recent):
        assert not [v for v in (national_id, phone, "13611112222") if v in text]
    assert identity.mask(national_id) in page and "136****2222" in page

    admin = client_for(make_user("administrator", city.city))
    full = admin.get(f"/api/audit/person/{p.pk}").json()
    assert full[0]["changes"]["phone"] == [phone, "13611112222"]
    assert full[1]["changes"]["national_id"] == [None, national_id]
    page = admin.get(f"/audit/person/{p.pk}/").content.decode()
    assert national_id in page and "13611112222" in page
