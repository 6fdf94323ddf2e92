from __future__ import annotations


def test_fengtai_commander_sees_only_fengtai(city, make_user, client_for):
    user = make_user("district_commander", city.fengtai)
    client = client_for(user)
    assert client.get(f"/persons/{city.ft_person.pk}/").status_code == 200
    assert client.get(f"/persons/{city.cp_person.pk}/").status_code == 404
    assert client.get("/persons/999999/").status_code == 404
