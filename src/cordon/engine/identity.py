"""Resident identity numbers (公民身份号码) as defined by GB 11643-1999.

An 18-character number is six digits of administrative area, eight digits of birth date (YYYYMMDD), three digits
of sequence (odd for men, even for women) and one check character computed with ISO 7064 MOD 11-2.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
_CHECK_CHARS = "10X98765432"  # index: weighted sum mod 11


class NationalIdError(ValueError):
    """A national ID that is not a valid GB 11643 number; ``code`` says which rule failed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class NationalId:
    number: str
    area_code: str
    birth_date: dt.date
    sex: Literal["M", "F"]


def check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise NationalIdError("format", "the first 17 characters must be digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize(raw: str) -> str:
    """Strip spaces and upper-case a trailing 'x'."""
    return raw.strip().replace(" ", "").upper()


def parse(raw: str, *, today: dt.date | None = None) -> NationalId:
    """Validate an 18-character national ID and return its parts, or raise NationalIdError."""
    number = normalize(raw)
    if len(number) != 18:
        raise NationalIdError("length", f"a national ID has 18 characters, this one has {len(number)}")
    body, last = number[:17], number[17]
    if not (body.isascii() and body.isdigit()) or not (last.isdigit() or last == "X"):
        raise NationalIdError("format", "a national ID is 17 digits followed by a digit or X")
    if body[:2] == "00":
        raise NationalIdError("area", "the area code (first six digits) is not a valid region")
    try:
        birth = dt.date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        raise NationalIdError("birth_date", "the birth date (digits 7 to 14) is not a real date") from None
    limit = today or dt.date.today()
    if birth > limit or birth.year < 1880:
        raise NationalIdError("birth_date", "the birth date (digits 7 to 14) is out of range")
    expected = check_char(body)
    if last != expected:
        raise NationalIdError("checksum", "the check character does not match (GB 11643 checksum)")
    sex: Literal["M", "F"] = "M" if int(body[16]) % 2 == 1 else "F"
    return NationalId(number=number, area_code=body[:6], birth_date=birth, sex=sex)


def make(area_code: str, birth_date: dt.date, sequence: int) -> str:
    """Build a valid national ID (used by the synthetic city and the tests)."""
    if len(area_code) != 6 or not area_code.isdigit() or not 0 <= sequence <= 999:
        raise ValueError("area_code must be six digits and sequence within 0..999")
    body = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return body + check_char(body)


def mask(number: str) -> str:
    """Show the area's first digits and the last four characters only: 110106********123X. Shorter numbers (a
    passport, a typo) keep only their last four characters, and eight or fewer keep none, so at least four
    characters are always hidden."""
    if len(number) <= 8:
        return "*" * len(number)
    if len(number) < 14:
        return "*" * (len(number) - 4) + number[-4:]
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str) -> str:
    """138****5678 for mobile numbers; keep the last four digits of anything else."""
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) == 11:
        return digits[:3] + "****" + digits[-4:]
    return "*" * (len(digits) - 4) + digits[-4:]
