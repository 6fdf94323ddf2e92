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


@pytest.mark.parametrize(
    ("birth", "ok"),
    [
        (TODAY, True),  # born today
        (TODAY + dt.timedelta(days=1), False),  # born tomorrow
        (dt.date(1880, 1, 1), True),
        (dt.date(1879, 12, 31), False),
    ],
)
def test_birth_date_limits(birth: dt.date, ok: bool) -> None:
    number = identity.make("110105", birth, 21)
    if ok:
        assert identity.parse(number, today=TODAY).birth_date == birth
    else:
        with pytest.raises(identity.NationalIdError) as info:
            identity.parse(number, today=TODAY)
        assert info.value.code == "birth_date" and "out of range" in info.value.message


def test_without_today_the_limit_is_the_real_date() -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert identity.parse(identity.make("110105", dt.date.today(), 1)).birth_date == dt.date.today()
    with pytest.raises(identity.NationalIdError):
        identity.parse(identity.make("110105", tomorrow, 1))


def test_check_char_and_make_refuse_bad_input() -> None:
    for body in (
        "1101051949123100",
        "110105194912310021",
        "1101051949123100A",
        "１１０１０５１９４９１２３１００２",
    ):
        with pytest.raises(identity.NationalIdError):
            identity.check_char(body)
    for area, seq in (("11010", 1), ("1101050", 1), ("11010A", 1), ("110105", -1), ("110105", 1000)):
        with pytest.raises(ValueError, match="six digits"):
            identity.make(area, dt.date(1990, 1, 1), seq)
    assert identity.make("110105", dt.date(1949, 12, 31), 2) == "11010519491231002X"
    assert identity.make("110105", dt.date(1990, 1, 1), 999)[14:17] == "999"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("", ""),
        ("1", "*"),
        ("1234", "****"),  # four digits or fewer: nothing shown
        ("12345", "*2345"),
        ("010-6512", "****6512"),
        ("13812345678", "138****5678"),  # a mobile number: the carrier prefix and the last four
        (" 13812345678 ", "138****5678"),  # spaces around are dropped
        ("138123456789", "********6789"),  # twelve digits: not a mobile number
        ("+8613812345678", "**********5678"),
    ],
)
def test_phone_masking(phone: str, masked: str) -> None:
    assert identity.mask_phone(phone) == masked


@given(st.text(alphabet="0123456789X", max_size=24))
def test_masking_hides_at_least_four_characters_and_shows_at_most_ten(number: str) -> None:
    masked = identity.mask(number)
    assert len(masked) == len(number)
    hidden = [i for i, c in enumerate(masked) if c == "*"]
    assert len(hidden) == len(number) if len(number) <= 8 else len(hidden) >= 4
    assert all(masked[i] == number[i] for i in range(len(number)) if i not in hidden)
    if len(number) == 18:
        assert masked == number[:6] + "*" * 8 + number[-4:]


def test_short_numbers_are_masked_whole_or_to_their_last_four() -> None:
    assert identity.mask("") == ""
    assert identity.mask("12345678") == "********"
    assert identity.mask("E12345678") == "*****5678"  # a passport number keeps no prefix
    assert identity.mask("110105491231002") == "110105*****1002"  # a 15-digit first-generation ID


def test_format_and_area_errors() -> None:
    for raw, code in (
        ("", "length"),
        ("11010519491231002X1", "length"),
        ("1101051949123100２X", "format"),
        ("X10105194912310021", "format"),
        ("00010519491231002X", "area"),
    ):
        with pytest.raises(identity.NationalIdError) as info:
            identity.parse(raw, today=TODAY)
        assert info.value.code == code
    # Only an area starting with 00 is refused as such.
    assert identity.parse(identity.make("010105", dt.date(1990, 1, 1), 1), today=TODAY).area_code == "010105"
    assert identity.parse("11010519491231002X", today=TODAY).sex == "F"
    assert identity.normalize("  1101 0519 4912 3100 2x ") == "11010519491231002X"
