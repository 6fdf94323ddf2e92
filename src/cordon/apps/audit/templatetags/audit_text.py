"""An audit entry as people read it, for pages other than the audit trail (the home page's recent changes):
``{{ entry|audit_actor }}`` and ``{{ entry|audit_record }}`` (see ``audit.display``)."""

from __future__ import annotations

from django import template

from ..display import actor_text, model_label, record_text
from ..models import AuditEntry

register = template.Library()


@register.filter
def audit_actor(entry: AuditEntry) -> str:
    return actor_text(entry)


@register.filter
def audit_record(entry: AuditEntry) -> str:
    """The record's description, or for a link row (a round's area) the record type."""
    return record_text(entry) or model_label(entry.model)
