"""The persons and venues lists page with the one paging rule (cordon.core.paging)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("path", ["/api/persons", "/api/venues"])
def test_lists_page_and_refuse_a_negative_offset(
    city: Any, make_user: Any, client_for: Any, path: str
) -> None:
    client = client_for(make_user("administrator", city.city))
    everything = client.get(path).json()
    assert len(everything) >= 2
    assert client.get(path, {"limit": 1, "offset": 1}).json() == everything[1:2]
    assert client.get(path, {"limit": 10_000}).json() == everything  # lowered to the cap, not refused
    assert client.get(path, {"offset": -1}).status_code == 422
    assert client.get(path, {"limit": 0}).status_code == 422
