"""The chain graph's data: one link per pair of cases, from the earlier case to the later one, dated by the
contact; the index case (earliest onset) is the first root, and a case linked to nobody is a root of its own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.people import actions as people
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing import selectors
from cordon.engine import identity

pytestmark = pytest.mark.django_db


def test_graph_runs_from_the_index_case_with_dated_links(
    city: Any, chain: Any, make_user: Any, client_for: Any
) -> None:
    client = client_for(make_user("investigator", city.city))
    g = client.get(f"/api/clusters/{chain.cluster.code}/graph").json()
    a, b, c, d = (str(x.pk) for x in (chain.index, chain.b, chain.c, chain.d))
    assert g["index"] == a and g["roots"] == [a]
    assert [n["id"] for n in g["nodes"]] == [a, b, d, c]  # in the order of onset
    today = timezone.localdate()
    edges = {(e["source"], e["target"]): e["date"] for e in g["edges"]}
    # The meeting of a and b was found from both sides: one link, earlier -> later, dated.
    assert edges == {
        (a, b): f"{today - dt.timedelta(days=4)}",
        (b, c): f"{today - dt.timedelta(days=2)}",
        (a, d): None,
    }


def test_a_case_linked_to_nobody_is_a_root_after_the_index_case(
    city: Any, chain: Any, make_user: Any, client_for: Any
) -> None:
    person = people.create_person(
        actor=None,
        data=people.PersonData(
            name="赵敏",
            national_id=identity.make("110114", dt.date(1988, 8, 8), 441),
            home_building=city.cp_building,
        ),
    )
    lone = tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=person, onset_date=timezone.localdate(), sampled_at=timezone.now(), found_by="fever_clinic"
        ),
    )
    tracing.add_to_cluster(actor=None, cluster=chain.cluster, cases=[lone])
    user = make_user("investigator", city.city)
    g = client_for(user).get(f"/api/clusters/{chain.cluster.code}/graph").json()
    assert g["total"] == 5 and g["roots"] == [str(chain.index.pk), str(lone.pk)]
    # Summarised by street, the index case's street is the root.
    small = selectors.cluster_graph(user, chain.cluster, limit=2)
    assert (
        small["summarised"]
        and small["index"].endswith(city.beigong.code)
        and small["roots"] == [small["index"]]
    )
