"""The one rule for values coming in, shared by the API's input schemas, the register import and scan ingestion.

Text: no longer than the model field it is stored in (the limit is read from the field, never written twice) and
without NUL characters (PostgreSQL cannot store them). An API schema declares a text field as
``Annotated[str, text(Person, "name")]`` (the limit shows in the OpenAPI schema as ``maxLength``); the import
asks ``text_problem(Person, "name", value)``. Text not stored as it is (search words) is ``words()``.

Dates and times: within a plausible range around today, set in settings (``CORDON_PLAUSIBLE_DATES``: years
back and ahead for events, such as scans, onsets, samples, orders and rounds; years back for birth dates). An API
schema declares ``EventDate``, ``EventTime`` or ``BirthDate``; the import and ingestion ask ``date_problem`` or
``event_bounds``. A value out of range is refused with a field error (422 in the API), never stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import AfterValidator, Field

NO_NUL = r"^[^\x00]*$"
# The default of a field of a change (PATCH) that may be left out but not set to null: ``name: Name = OMITTED``
# (the schema says string, not nullable, so null is refused with 422; left out, it is not among the changes).
OMITTED: Any = None
SEARCH_MAX = 200  # characters of a search (q) or filter word
TEXT_MAX = 10_000  # a model's TextField has no limit of its own: this is the API's and the import's


def max_length(model: type[models.Model], field_name: str) -> int:
    """The number of characters ``model.field_name`` holds (``TEXT_MAX`` for a field without a limit)."""
    field = model._meta.get_field(field_name)
    return getattr(field, "max_length", None) or TEXT_MAX


def text(model: type[models.Model], field_name: str) -> Any:
    """The constraint of an API string stored in (or looked up by) ``model.field_name``, for ``Annotated``."""
    return Field(max_length=max_length(model, field_name), pattern=NO_NUL)


def query(model: type[models.Model], field_name: str, default: Any = "") -> Any:
    """A query parameter of an operation's signature stored in (or looked up by) ``model.field_name``."""
    from ninja import Query

    return Query(default, max_length=max_length(model, field_name), pattern=NO_NUL)


def words(limit: int = SEARCH_MAX) -> Any:
    """The constraint of text not stored as it is (a search or filter word, a choice checked by the action, a
    list of room numbers parsed by it), for ``Annotated``."""
    return Field(max_length=limit, pattern=NO_NUL)


def text_problem(model: type[models.Model], field_name: str, value: str) -> str | None:
    """Why ``value`` cannot be stored in ``model.field_name`` (too long, or a NUL character), or None."""
    if "\x00" in value:
        return _("contains a NUL character, which cannot be stored.")
    limit = max_length(model, field_name)
    if len(value) > limit:
        return _("too long: at most %(limit)d characters (this has %(length)d).") % {
            "limit": limit,
            "length": len(value),
        }
    return None


# --- Dates -----------------------------------------------------------------------------------------------------


def _years_from(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def event_bounds(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first and last plausible day of an event (a scan, an onset, a sample, an order, a round)."""
    today = today or timezone.localdate()
    back, ahead = settings.CORDON_PLAUSIBLE_DATES["event"]
    return _years_from(today, -back), _years_from(today, ahead)


def birth_bounds(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first and last plausible birth date: not in the future, not more than the set years back."""
    today = today or timezone.localdate()
    (back, _ahead) = settings.CORDON_PLAUSIBLE_DATES["birth"]
    return _years_from(today, -back), today


def date_problem(value: dt.date | dt.datetime, kind: str = "event") -> str | None:
    """Why ``value`` is not a plausible date of its kind ("event" or "birth"), or None."""
    day = timezone.localtime(value).date() if isinstance(value, dt.datetime) and value.tzinfo else value
    if isinstance(day, dt.datetime):
        day = day.date()
    first, last = birth_bounds() if kind == "birth" else event_bounds()
    if first <= day <= last:
        return None
    return _("not a plausible date: it must be from %(first)s to %(last)s.") % {
        "first": first.isoformat(),
        "last": last.isoformat(),
    }


def _checked(kind: str) -> Any:
    def check(value: Any) -> Any:
        if value is not None and (problem := date_problem(value, kind)):
            raise ValueError(problem)
        return value

    return AfterValidator(check)


def _marked(kind: str) -> Any:
    """Names the range in the OpenAPI schema (``x-plausible``), where a test checks every date input has one."""
    return Field(json_schema_extra={"x-plausible": kind})


def _local(value: dt.time) -> dt.time:
    """A time of day is local to the city (opening hours, a plan's times): one with an offset is refused, not
    compared with local ones."""
    if value.tzinfo is not None:
        raise ValueError(_("give a local time of day, without an offset."))
    return value


EventDate = Annotated[dt.date, _checked("event"), _marked("event")]
EventTime = Annotated[dt.datetime, _checked("event"), _marked("event")]
BirthDate = Annotated[dt.date, _checked("birth"), _marked("birth")]
LocalTime = Annotated[dt.time, AfterValidator(_local)]
# Counts stored in a PostgreSQL integer column (a ``PositiveIntegerField``, a ``PositiveSmallIntegerField``).
Count = Annotated[int, Field(ge=0, le=2_147_483_647)]
SmallCount = Annotated[int, Field(ge=0, le=32_767)]


Box = tuple[float, float, float, float]


def bbox(value: str) -> Box | None:
    """A map box ``west,south,east,north`` in degrees (a map page's ``?bbox=``), or ``None`` when empty or not a
    box on the globe (the caller then shows everything it would without one)."""
    try:
        w, s, e, n = (float(v) for v in value.split(","))
    except ValueError:
        return None
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        return None
    return w, s, e, n
