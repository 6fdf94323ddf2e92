"""The audit pages: recent changes, the history of one record, the personal-data access log (auditors)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from cordon.core import records
from cordon.core.access import AuthedRequest, page
from cordon.core.pages import found
from cordon.core.reads import personal_data
from cordon.core.roles import Cap

from . import display, selectors

PAGE_SIZE = 50


@page(Cap.VIEW_AUDIT)
@personal_data()
def audit_recent(request: AuthedRequest) -> HttpResponse:
    page_obj = Paginator(selectors.recent_audit(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    entries = [display.describe(e) for e in page_obj]
    return render(request, "audit/audit.html", {"page_obj": page_obj, "entries": entries, "record": None})


@page(Cap.VIEW_AUDIT)
@personal_data()
def audit_record(request: AuthedRequest, kind: str, pk: int) -> HttpResponse:
    """A record's history; the record is fetched through its own app's scoped selector first (``records``)."""
    record = found(lambda: records.fetch(request.user, kind, pk))
    history = selectors.audit_for_record(request.user, record)
    page_obj = Paginator(history, PAGE_SIZE).get_page(request.GET.get("page"))
    entries = [display.describe(e) for e in page_obj]
    return render(
        request,
        "audit/audit.html",
        {"page_obj": page_obj, "entries": entries, "record": record, "kind": kind},
    )


@page(Cap.VIEW_AUDIT)
@personal_data()
def access_log(request: AuthedRequest) -> HttpResponse:
    person = request.GET.get("person", "")
    qs = selectors.access_log_visible_to(request.user, person=int(person) if person.isdigit() else None)
    page_obj = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/access_log.html", {"page_obj": page_obj})


@page(Cap.VIEW_AUDIT)
def read_alerts(request: AuthedRequest) -> HttpResponse:
    """Users stopped by the personal-data volume limit (``CORDON_PII_READ_LIMIT``), newest first."""
    page_obj = Paginator(selectors.read_alerts_visible_to(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "audit/read_alerts.html", {"page_obj": page_obj})
