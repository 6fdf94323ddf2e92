"""The chain graph of a cluster is laid out as a tree: the index case (the earliest onset) at the top, each later
case below the case it was linked to, links dated; the same links are listed as text."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)


def test_chain_graph_is_a_tree_from_the_index_case(
    live_server: Any, browser: Any, city: Any, chain: Any, make_user: Any, login: Any, screenshot: Any
) -> None:
    make_user("investigator", city.city, username="city.inv")
    base = live_server.url
    page = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15000)
    login(page, base, "city.inv")
    page.goto(f"{base}/tracing/clusters/{chain.cluster.code}/")
    page.wait_for_selector("[data-testid=graph][data-ready='1']")
    nodes = page.evaluate(
        "() => Object.fromEntries(document.getElementById('graph').cordonGraph.nodes()"
        ".map(n => [n.data('label'), {y: n.position('y'), x: n.position('x'), index: n.data('index')}]))"
    )
    a, b, c, d = (chain.index.code, chain.b.code, chain.c.code, chain.d.code)
    assert set(nodes) == {a, b, c, d}
    assert len({round(n["y"]) for n in nodes.values()}) == 3  # three generations, not one line
    assert nodes[a]["index"] and not any(nodes[k]["index"] for k in (b, c, d))
    assert nodes[a]["y"] < nodes[b]["y"] == nodes[d]["y"] < nodes[c]["y"]  # the index case is the root
    edges = page.evaluate(
        "() => document.getElementById('graph').cordonGraph.edges()"
        ".map(e => [e.source().data('label'), e.target().data('label'), e.data('when')])"
    )
    # One link per pair, from the earlier case to the later one, dated by the contact (none for a household).
    today = timezone.localdate()
    met_ab, met_bc = (f"{today - dt.timedelta(days=n):%m-%d}" for n in (4, 2))
    assert sorted(edges) == sorted([[a, b, met_ab], [b, c, met_bc], [a, d, ""]])
    listed = page.locator("[data-testid=graph-links]").text_content()
    assert f"Index case: {a}" in listed and f"{a} → {b}" in listed
    screenshot(page, "tracing-chain-graph")
