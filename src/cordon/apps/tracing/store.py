"""The platform's scan store (``CORDON_SCAN_DIR``) and the translation between its clock and Django's.

Scans carry local wall-clock times without a zone (as check-in systems export them); Django keeps aware
datetimes. The tracing engine counts whole minutes since 1970-01-01 local time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone

from cordon.engine.scanstore import Resolver, ScanStore

EPOCH = dt.datetime(1970, 1, 1)


def scan_store() -> ScanStore:
    return ScanStore(settings.CORDON_SCAN_DIR)


def local_naive(value: dt.datetime) -> dt.datetime:
    """An aware datetime as the local wall-clock time the scans use."""
    return timezone.localtime(value).replace(tzinfo=None)


def aware(value: dt.datetime) -> dt.datetime:
    """A local wall-clock time from the scan store as an aware datetime."""
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def to_minutes(value: dt.datetime) -> int:
    return int((local_naive(value) - EPOCH).total_seconds() // 60)


def from_minutes(minutes: int) -> dt.datetime:
    return aware(EPOCH + dt.timedelta(minutes=int(minutes)))


def register_resolver() -> Resolver:
    """Resolves national IDs and place codes of an incoming scan file against the register, and checks that
    person and venue ids exist (one query per chunk of distinct values)."""
    from cordon.apps.people.models import Person
    from cordon.apps.venues.models import Venue

    def chunks(values: Sequence[Any], size: int = 5000) -> list[Sequence[Any]]:
        return [values[i : i + size] for i in range(0, len(values), size)]

    def persons_by_id(ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for part in chunks(list(ids)):
            rows = Person.objects.filter(national_id__in=part).values_list("national_id", "pk")
            out.update((str(nid), int(pk)) for nid, pk in rows)
        return out

    def venues_by_code(codes: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for part in chunks(list(codes)):
            out.update(Venue.objects.filter(code__in=part).values_list("code", "pk"))
        return out

    def known_persons(ids: Sequence[int]) -> set[int]:
        out: set[int] = set()
        for part in chunks([int(i) for i in ids]):
            out.update(Person.objects.filter(pk__in=part).values_list("pk", flat=True))
        return out

    def known_venues(ids: Sequence[int]) -> set[int]:
        out: set[int] = set()
        for part in chunks([int(i) for i in ids]):
            out.update(Venue.objects.filter(pk__in=part).values_list("pk", flat=True))
        return out

    return Resolver(
        person_by_national_id=persons_by_id,
        venue_by_code=venues_by_code,
        known_persons=known_persons,
        known_venues=known_venues,
    )
