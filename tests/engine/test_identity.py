"""GB 11643 national IDs: property tests against a direct transcription of the standard."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cordon.engine import identity

TODAY = dt.date(2026, 11, 22)


def reference_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 exactly as GB 11643-1999 writes it: sum(a_i * W_i) with W_i = 2^(i-1) mod 11,
    i counted from the right starting at 2 for the first body digit next to the check character."""
    total = 0
    for position, digit in enumerate(reversed(first17), start=2):
        total += int(digit) * (2 ** (position - 1) % 11)
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


areas = st.from_regex(r"[1-9][0-9]{5}", fullmatch=True)
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)


@given(areas, births, sequences)
def test_made_ids_parse_back(area: str, birth: dt.date, seq: int) -> None:
    number = identity.make(area, birth, seq)
    parsed = identity.parse(number, today=TODAY)
    assert parsed.number == number
    assert parsed.birth_date == birth
    assert parsed.area_code == area
    assert parsed.sex == ("M" if seq % 2 else "F")
    assert number[-1] == reference_check_char(number[:17])


@given(
    areas, births, sequences, st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9)
)
def test_any_single_digit_change_is_caught(area: str, birth: dt.date, seq: int, pos: int, delta: int) -> None:
    number = identity.make(area, birth, seq)
    changed = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    with pytest.raises(identity.NationalIdError):
        identity.parse(changed, today=TODAY)


def test_known_valid_example() -> None:
    # The worked example of GB 11643-1999 Annex A.
    assert identity.parse("11010519491231002X", today=TODAY).birth_date == dt.date(1949, 12, 31)
    assert identity.check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1101051949123100", "length"),
        ("11010519491231002Y", "format"),
        ("11010519491331002X", "birth_date"),
        ("110105194912310021", "checksum"),
        ("00010519491231002X", "area"),
    ],
)
def test_malformed_ids_say_why(raw: str, code: str) -> None:
    with pytest.raises(identity.NationalIdError) as info:
        identity.parse(raw, today=TODAY)
    assert info.value.code == code


def test_lowercase_x_and_spaces_are_normalised() -> None:
    assert identity.parse(" 11010519491231002x ", today=TODAY).number == "11010519491231002X"


def test_masking() -> None:
    assert identity.mask("11010519491231002X") == "110105********002X"
    assert identity.mask_phone("13812345678") == "138****5678"
    assert identity.mask_phone("010-6512") == "****6512"
