"""How an audit entry reads on a page: the record type and each field by its label in the page's language, and
each value as people read it (a choice by its label, a yes/no, a time in the city's local time), never the raw
model and field names or UTC timestamps the entry stores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from cordon.core import pii, reads
from cordon.core.actors import Actor

from .models import AuditEntry

EMPTY = "∅"


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Entry:
    entry: AuditEntry
    model: str
    changes: list[Change]
    actor: str
    source: str
    record: str  # the record's description (none for a link row, whose changes say it all)


def _sources() -> dict[str, str]:
    return {
        "web": _("web page"), "api": _("API"), "cli": _("command line"), "station": _("sampling station"),
        "system": _("system"), "import": _("import"), "demo": _("demo"), "job": _("background job"),
        "worker": _("worker"),
    }  # fmt: skip


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def model_label(label: str) -> str:
    """``people.person`` -> its verbose name ("person", 人员); a many-to-many row -> the field it belongs to."""
    model = _model(label)
    if model is None:
        return label
    if model._meta.auto_created:  # the through table of a many-to-many field: "screening round: areas"
        owner: Any = model._meta.auto_created  # the owning model class (typed as a bool)
        for f in owner._meta.many_to_many:
            if f.remote_field.through is model:
                return f"{owner._meta.verbose_name}: {f.verbose_name}"
    return str(model._meta.verbose_name)


def _field(model: type[models.Model] | None, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return model._meta.get_field(name.removesuffix("_id")) if name.endswith("_id") else None


def field_label(field: Any, name: str) -> str:
    """A field's label; a relation left with the label Django derives from its name ("from district") reads
    as the catalogue has it, else as the related model's name."""
    if field is None:
        return name
    label = str(field.verbose_name)
    if getattr(field, "is_relation", False) and label == field.name.replace("_", " "):
        translated = _(label)
        if translated != label:
            return translated
        related = getattr(field, "related_model", None)
        if related is not None:
            return str(related._meta.verbose_name)
    return label


def _time(value: str) -> str | None:
    """An ISO timestamp with its offset, in the city's local time; ``None`` when ``value`` is not one."""
    if len(value) < 19 or value[4] != "-" or value[10] not in "T ":
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return None
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def value_text(field: Any, value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    choices = getattr(field, "flatchoices", None)
    if choices:
        labels = {str(k): v for k, v in choices}
        if str(value) in labels:
            return str(labels[str(value)])
    if isinstance(value, str) and (local := _time(value)) is not None:
        return local
    if isinstance(value, list):
        return ", ".join(value_text(None, v) for v in value)
    return str(value)


def actor_text(entry: AuditEntry) -> str:
    return _("system") if entry.actor_id is None and entry.actor_name == "system" else entry.actor_name


def record_text(entry: AuditEntry) -> str:
    """The record's description; none for a link row (a round's area), whose changes say it all."""
    model = _model(entry.model)
    return "" if model is not None and model._meta.auto_created else entry.object_repr


def describe(entry: AuditEntry, user: Actor) -> Entry:
    """The entry as ``user`` reads it: personal data in the values masked unless the role sees it in full
    (``core.pii``, the rule the record's own pages follow). A person's entry shows their values (a national ID,
    a phone), so it counts as a read of that person for the request's access-log row (``cordon.core.reads``)."""
    if entry.model == "people.person" and entry.object_pk.isdigit():
        reads.loaded(int(entry.object_pk))
    model = _model(entry.model)
    changes = []
    for name, pair in pii.masked_changes(user, entry.model, entry.changes or {}).items():
        field = _field(model, name)
        label = field_label(field, name)
        old, new = [*pair, None, None][:2] if isinstance(pair, list | tuple) else (None, pair)
        changes.append(Change(label, value_text(field, old), value_text(field, new)))
    source = _sources().get(entry.source, entry.source)
    return Entry(entry, model_label(entry.model), changes, actor_text(entry), source, record_text(entry))
