"""Walk every URL pattern and every API route with every role (and anonymous) and check allow/deny.

The expectations below are written out by hand, independent of ``accounts/roles.py``: a change to the role table
that opens or closes a route shows up here. A route without an access rule in code, or without a row here, fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from cordon.core.access import rule_of
from cordon.core.roles import Role
from cordon.site.api import api

ALL = frozenset(Role.values)
PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed_in"  # any signed-in role
OWN = "own"  # any signed-in role passes the rule; the record is its owner's: 404 for others (tests/test_jobs.py)

READERS = frozenset(
    {
        Role.CITY_COMMANDER,
        Role.DISTRICT_COMMANDER,
        Role.STREET_OFFICER,
        Role.GRID_WORKER,
        Role.INVESTIGATOR,
        Role.QUARANTINE_OFFICER,
        Role.SERVICE_DISPATCHER,
        Role.INDUSTRY_REGULATOR,
        Role.AUDITOR,
        Role.ADMINISTRATOR,
    }
)
PERSON_READERS = READERS | {Role.SCREENING_STAFF}
JURISDICTION_READERS = READERS | {Role.LAB_STAFF}
VENUE_READERS = READERS | {Role.CHECKPOINT_STAFF}
EDITORS = frozenset({Role.STREET_OFFICER, Role.GRID_WORKER, Role.ADMINISTRATOR})
EXPORTERS = frozenset(
    {
        Role.CITY_COMMANDER,
        Role.DISTRICT_COMMANDER,
        Role.STREET_OFFICER,
        Role.INDUSTRY_REGULATOR,
        Role.ADMINISTRATOR,
    }
)
IMPORTERS = frozenset({Role.ADMINISTRATOR})
CASE_VIEWERS = frozenset(
    {
        Role.CITY_COMMANDER,
        Role.DISTRICT_COMMANDER,
        Role.STREET_OFFICER,
        Role.INVESTIGATOR,
        Role.QUARANTINE_OFFICER,
        Role.ADMINISTRATOR,
    }
)
# The daily reports hold cases, control and screening figures: roles that see all three (not the investigator).
REPORT_READERS = CASE_VIEWERS - {Role.INVESTIGATOR}
TRACERS = frozenset({Role.INVESTIGATOR, Role.ADMINISTRATOR})
LINKAGE = frozenset({Role.DISTRICT_COMMANDER, Role.INVESTIGATOR, Role.QUARANTINE_OFFICER, Role.ADMINISTRATOR})
INGESTERS = frozenset({Role.ADMINISTRATOR})
AUDITORS = frozenset({Role.AUDITOR, Role.ADMINISTRATOR})
CONTROL_VIEWERS = frozenset(
    {
        Role.CITY_COMMANDER,
        Role.DISTRICT_COMMANDER,
        Role.STREET_OFFICER,
        Role.GRID_WORKER,
        Role.INVESTIGATOR,
        Role.QUARANTINE_OFFICER,
        Role.SERVICE_DISPATCHER,
        Role.AUDITOR,
        Role.ADMINISTRATOR,
    }
)
CONTROLLERS = frozenset({Role.QUARANTINE_OFFICER, Role.ADMINISTRATOR})
HEALTH_RECORDERS = frozenset({Role.GRID_WORKER, Role.QUARANTINE_OFFICER, Role.ADMINISTRATOR})
SCREENING_VIEWERS = frozenset(
    {
        Role.CITY_COMMANDER,
        Role.DISTRICT_COMMANDER,
        Role.STREET_OFFICER,
        Role.GRID_WORKER,
        Role.QUARANTINE_OFFICER,
        Role.SCREENING_STAFF,
        Role.INDUSTRY_REGULATOR,
        Role.AUDITOR,
        Role.ADMINISTRATOR,
    }
)
SCREENING_MANAGERS = frozenset({Role.CITY_COMMANDER, Role.DISTRICT_COMMANDER, Role.ADMINISTRATOR})
ZONE_MANAGERS = frozenset({Role.CITY_COMMANDER, Role.DISTRICT_COMMANDER, Role.ADMINISTRATOR})
SAMPLERS = frozenset({Role.SCREENING_STAFF, Role.ADMINISTRATOR})
LABS = frozenset({Role.LAB_STAFF, Role.ADMINISTRATOR})
ADMINS = frozenset({Role.ADMINISTRATOR})
SIMULATORS = frozenset({Role.CITY_COMMANDER, Role.DISTRICT_COMMANDER, Role.ADMINISTRATOR})
POST_VIEWERS = frozenset(
    {
        Role.CITY_COMMANDER,
        Role.DISTRICT_COMMANDER,
        Role.STREET_OFFICER,
        Role.GRID_WORKER,
        Role.AUDITOR,
        Role.ADMINISTRATOR,
    }
)
POST_MANAGERS = frozenset(
    {Role.CITY_COMMANDER, Role.DISTRICT_COMMANDER, Role.STREET_OFFICER, Role.ADMINISTRATOR}
)
PATROLLERS = frozenset({Role.STREET_OFFICER, Role.GRID_WORKER, Role.ADMINISTRATOR})

# Pages: url name -> (method, kwargs from the city fixture, who may).
PAGES: dict[str, tuple[str, Callable[[Any], dict[str, Any]], Any]] = {
    "home": ("GET", lambda c: {}, SIGNED_IN),
    "login": ("GET", lambda c: {}, PUBLIC),
    "logout": ("POST", lambda c: {}, PUBLIC),
    "healthz": ("GET", lambda c: {}, PUBLIC),
    "live-badges": ("GET", lambda c: {}, SIGNED_IN),
    "set_language": ("POST", lambda c: {}, PUBLIC),
    "jurisdictions": ("GET", lambda c: {}, JURISDICTION_READERS),
    "jurisdiction": ("GET", lambda c: {"code": c.beigong.code}, JURISDICTION_READERS),
    "jurisdiction-outlines": ("GET", lambda c: {}, JURISDICTION_READERS),
    "persons": ("GET", lambda c: {}, PERSON_READERS),
    "person-new": ("GET", lambda c: {}, EDITORS),
    "person": ("GET", lambda c: {"pk": c.ft_person.pk}, PERSON_READERS),
    "person-edit": ("GET", lambda c: {"pk": c.ft_person.pk}, EDITORS),
    "venues": ("GET", lambda c: {}, VENUE_READERS),
    "venue": ("GET", lambda c: {"pk": c.ft_venue.pk}, VENUE_READERS),
    "audit": ("GET", lambda c: {}, AUDITORS),
    "access-log": ("GET", lambda c: {}, AUDITORS),
    "read-alerts": ("GET", lambda c: {}, AUDITORS),
    "audit-record": ("GET", lambda c: {"kind": "person", "pk": c.ft_person.pk}, AUDITORS),
    "sign-ins": ("GET", lambda c: {}, AUDITORS),
    "sign-ins-unlock": ("POST", lambda c: {}, ADMINS),
    "dataio:index": ("GET", lambda c: {}, IMPORTERS | EXPORTERS),
    "dataio:upload": ("GET", lambda c: {}, IMPORTERS),
    "dataio:export": ("POST", lambda c: {"kind": "persons", "fmt": "csv"}, EXPORTERS),
    "dataio:template": ("GET", lambda c: {"kind": "persons"}, IMPORTERS),
    "jobs:list": ("GET", lambda c: {}, SIGNED_IN),
    "demo:exercise": ("GET", lambda c: {}, ADMINS),
    "demo:next-day": ("POST", lambda c: {}, ADMINS),
    "jobs:detail": ("GET", lambda c: {"job_id": c.job.pk}, OWN),
    "jobs:file": ("GET", lambda c: {"job_id": c.job.pk}, OWN),
    "jobs:cancel": ("POST", lambda c: {"job_id": c.job.pk}, OWN),
    "jobs:again": ("POST", lambda c: {"job_id": c.job.pk}, OWN),
    "jobs:check": ("POST", lambda c: {}, ADMINS),
    "simulation:list": ("GET", lambda c: {}, SIMULATORS),
    "simulation:run": ("GET", lambda c: {"run_id": c.sim_run.pk}, SIMULATORS),
    "simulation:compare": ("GET", lambda c: {}, SIMULATORS),
    "command:analysis": ("GET", lambda c: {}, CASE_VIEWERS),
    "command:reports": ("GET", lambda c: {}, REPORT_READERS),
    "command:make-report": ("POST", lambda c: {}, REPORT_READERS),
    "command:report": ("GET", lambda c: {"report_id": c.report.pk}, REPORT_READERS),
    "command:report-pdf": ("GET", lambda c: {"report_id": c.report.pk}, REPORT_READERS),
    "command:home": ("GET", lambda c: {}, CASE_VIEWERS),
    "command:timeliness": ("GET", lambda c: {}, CASE_VIEWERS),
    "command:zero": ("GET", lambda c: {}, CASE_VIEWERS),
    "command:map": ("GET", lambda c: {}, CASE_VIEWERS),
    "tracing:cases": ("GET", lambda c: {}, CASE_VIEWERS),
    "tracing:contacts": ("GET", lambda c: {}, CASE_VIEWERS),
    "tracing:case-new": ("GET", lambda c: {}, TRACERS),
    "tracing:case": ("GET", lambda c: {"pk": c.case.pk}, CASE_VIEWERS),
    "tracing:case-trace": ("POST", lambda c: {"pk": c.case.pk}, TRACERS),
    "tracing:cases-trace-untraced": ("POST", lambda c: {}, TRACERS),
    "tracing:case-decide": ("POST", lambda c: {"pk": c.case.pk}, TRACERS),
    "tracing:case-trajectory": ("POST", lambda c: {"pk": c.case.pk}, TRACERS),
    "tracing:case-autofill": ("POST", lambda c: {"pk": c.case.pk}, TRACERS),
    "tracing:case-investigation": ("POST", lambda c: {"pk": c.case.pk}, TRACERS),
    "tracing:case-cluster": ("POST", lambda c: {"pk": c.case.pk}, TRACERS),
    "tracing:case-imported": ("POST", lambda c: {"pk": c.case.pk}, TRACERS),
    "tracing:linkage": ("GET", lambda c: {}, LINKAGE),
    "tracing:linkage-ack": ("POST", lambda c: {}, LINKAGE),
    "tracing:clusters": ("GET", lambda c: {}, CASE_VIEWERS),
    "tracing:cluster": ("GET", lambda c: {"code": c.cluster.code}, CASE_VIEWERS),
    "tracing:cluster-merge": ("POST", lambda c: {"code": c.cluster.code}, TRACERS),
    "tracing:risk-venues": ("GET", lambda c: {}, CASE_VIEWERS),
    "tracing:scans": ("GET", lambda c: {}, INGESTERS),
    "control:board": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "control:clocks": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "control:queue": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "control:allocate": ("POST", lambda c: {}, CONTROLLERS),
    "control:transfers": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "control:transfer-new": ("POST", lambda c: {}, CONTROLLERS),
    "control:transfer-status": ("POST", lambda c: {"pk": c.transfer.pk}, CONTROLLERS),
    "control:member-fail": ("POST", lambda c: {"pk": c.member.pk}, CONTROLLERS),
    "control:orders": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "control:orders-bulk": ("POST", lambda c: {}, CONTROLLERS),
    "control:orders-pdf": ("POST", lambda c: {}, CONTROL_VIEWERS),
    "control:order": ("GET", lambda c: {"pk": c.order.pk}, CONTROL_VIEWERS),
    "control:order-pdf": ("GET", lambda c: {"pk": c.order.pk}, CONTROL_VIEWERS),
    "control:certificate-pdf": ("GET", lambda c: {"pk": c.order.pk}, CONTROL_VIEWERS),
    "control:order-health": ("POST", lambda c: {"pk": c.order.pk}, HEALTH_RECORDERS),
    "control:order-extend": ("POST", lambda c: {"pk": c.order.pk}, CONTROLLERS),
    "control:alert-handle": ("POST", lambda c: {"pk": c.health.pk}, HEALTH_RECORDERS),
    "control:sample-result": ("POST", lambda c: {"pk": c.sample.pk}, CONTROLLERS),
    "control:samples-taken": ("POST", lambda c: {}, HEALTH_RECORDERS),
    "control:follow-up": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "control:homes": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "control:sites": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "control:site-new": ("GET", lambda c: {}, CONTROLLERS),
    "control:site": ("GET", lambda c: {"code": c.site.code}, CONTROL_VIEWERS),
    "control:site-rooms": ("POST", lambda c: {"code": c.site.code}, CONTROLLERS),
    "control:room-status": ("POST", lambda c: {"pk": c.room.pk}, CONTROLLERS),
    "control:plans": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "control:plan-edit": ("GET", lambda c: {"applies_to": "close"}, ADMINS),
    "screening:rounds": ("GET", lambda c: {}, SCREENING_VIEWERS),
    "screening:round-new": ("POST", lambda c: {}, SCREENING_MANAGERS),
    "screening:round-target": ("GET", lambda c: {}, SCREENING_MANAGERS),
    "screening:round": ("GET", lambda c: {"code": c.round.code}, SCREENING_VIEWERS),
    "screening:round-close": ("POST", lambda c: {"code": c.round.code}, SCREENING_MANAGERS),
    "screening:round-recount": ("POST", lambda c: {"code": c.round.code}, SCREENING_MANAGERS),
    "screening:site-new": ("POST", lambda c: {"code": c.round.code}, SCREENING_MANAGERS),
    "screening:coverage": ("GET", lambda c: {"code": c.round.code}, SCREENING_VIEWERS),
    "screening:tubes-issue": ("POST", lambda c: {"pk": c.sampling_site.pk}, SCREENING_MANAGERS),
    "screening:station": ("GET", lambda c: {"pk": c.sampling_site.pk}, SAMPLERS),
    "screening:station-bind": ("POST", lambda c: {"pk": c.sampling_site.pk}, SAMPLERS),
    "screening:station-seal": ("POST", lambda c: {"pk": c.sampling_site.pk}, SAMPLERS),
    "screening:station-queue": ("POST", lambda c: {"pk": c.sampling_site.pk}, SAMPLERS),
    "screening:lab": ("GET", lambda c: {}, LABS),
    "screening:lab-submit": ("POST", lambda c: {}, LABS),
    "screening:alerts": ("GET", lambda c: {}, SCREENING_VIEWERS),
    "screening:overdue": ("GET", lambda c: {}, SCREENING_VIEWERS),
    "zones:zones": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "zones:zone-new": ("GET", lambda c: {}, ZONE_MANAGERS),
    "zones:proposals": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "zones:evaluate": ("POST", lambda c: {}, ZONE_MANAGERS),
    "zones:decide": ("POST", lambda c: {"pk": c.zone_proposal.pk}, ZONE_MANAGERS),
    "zones:zone": ("GET", lambda c: {"code": c.zone.code}, CONTROL_VIEWERS),
    "zones:step": ("POST", lambda c: {"code": c.zone.code}, ZONE_MANAGERS),
    "zones:screen": ("POST", lambda c: {"code": c.zone.code}, ZONE_MANAGERS),
    "gridwork:posts": ("GET", lambda c: {}, POST_VIEWERS),
    "gridwork:post-new": ("POST", lambda c: {}, POST_MANAGERS),
    "gridwork:post": ("GET", lambda c: {"pk": c.post.pk}, POST_VIEWERS),
    "gridwork:post-plan": ("POST", lambda c: {"pk": c.post.pk}, POST_MANAGERS),
    "gridwork:post-shift": ("POST", lambda c: {"pk": c.post.pk}, POST_MANAGERS),
    "gridwork:patrol": ("GET", lambda c: {"pk": c.post.pk}, PATROLLERS),
    "gridwork:patrol-photo": ("GET", lambda c: {"pk": c.patrol.pk}, POST_VIEWERS),
    "gridwork:me": ("GET", lambda c: {}, POST_VIEWERS),
    "zones:map": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "zones:map-data": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "zones:map-buildings": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "zones:preview": ("GET", lambda c: {}, CONTROL_VIEWERS),
    "zones:notice": ("GET", lambda c: {"code": c.zone.code}, CONTROL_VIEWERS),
}

# API operations: (method, path template) -> (params from the city fixture, JSON body, who may).
API: dict[tuple[str, str], tuple[Callable[[Any], dict[str, Any]], dict[str, Any] | None, Any]] = {
    ("GET", "/api/me"): (lambda c: {}, None, SIGNED_IN),
    ("GET", "/api/jurisdictions"): (lambda c: {}, None, JURISDICTION_READERS),
    ("GET", "/api/jurisdictions/{code}"): (lambda c: {"code": c.beigong.code}, None, JURISDICTION_READERS),
    ("GET", "/api/persons"): (lambda c: {}, None, PERSON_READERS),
    ("GET", "/api/persons/{person_id}"): (lambda c: {"person_id": c.ft_person.pk}, None, PERSON_READERS),
    ("POST", "/api/persons"): (lambda c: {}, {"name": "测试", "jurisdiction": "110106010201-01"}, EDITORS),
    ("PATCH", "/api/persons/{person_id}"): (
        lambda c: {"person_id": c.ft_person.pk},
        {"occupation": "x"},
        EDITORS,
    ),
    ("GET", "/api/venues"): (lambda c: {}, None, VENUE_READERS),
    ("GET", "/api/venues/{code}"): (lambda c: {"code": c.ft_venue.code}, None, VENUE_READERS),
    ("GET", "/api/audit/{kind}/{pk}"): (lambda c: {"kind": "person", "pk": c.ft_person.pk}, None, AUDITORS),
    ("GET", "/api/access-log"): (lambda c: {}, None, AUDITORS),
    ("GET", "/api/read-alerts"): (lambda c: {}, None, AUDITORS),
    ("POST", "/api/import/{kind}"): (lambda c: {"kind": "persons"}, None, IMPORTERS),
    ("POST", "/api/export/{kind}"): (lambda c: {"kind": "persons"}, None, EXPORTERS),
    ("GET", "/api/cases"): (lambda c: {}, None, CASE_VIEWERS),
    ("GET", "/api/cases/summary"): (lambda c: {}, None, CASE_VIEWERS),
    ("POST", "/api/cases"): (
        lambda c: {},
        {"person_id": 0, "sampled_at": "2026-01-01T08:00:00+08:00", "found_by": "fever_clinic"},
        TRACERS,
    ),
    ("GET", "/api/cases/{case_id}"): (lambda c: {"case_id": c.case.pk}, None, CASE_VIEWERS),
    ("POST", "/api/cases/{case_id}/trace"): (lambda c: {"case_id": c.case.pk}, None, TRACERS),
    ("POST", "/api/cases/{case_id}/imported"): (
        lambda c: {"case_id": c.case.pk},
        {"imported": True},
        TRACERS,
    ),
    ("GET", "/api/cases/{case_id}/contacts"): (lambda c: {"case_id": c.case.pk}, None, CASE_VIEWERS),
    ("POST", "/api/cases/{case_id}/contacts/decide"): (
        lambda c: {"case_id": c.case.pk},
        {"contacts": [], "decision": "confirmed"},
        TRACERS,
    ),
    ("GET", "/api/cases/{case_id}/trajectory"): (lambda c: {"case_id": c.case.pk}, None, CASE_VIEWERS),
    ("POST", "/api/cases/{case_id}/trajectory"): (
        lambda c: {"case_id": c.case.pk},
        {"kind": "place", "place": "x", "time_in": "2026-01-01T08:00:00", "time_out": "2026-01-01T07:00:00"},
        TRACERS,
    ),
    ("POST", "/api/cases/{case_id}/trajectory/autofill"): (lambda c: {"case_id": c.case.pk}, None, TRACERS),
    ("GET", "/api/cases/{case_id}/associations"): (lambda c: {"case_id": c.case.pk}, None, CASE_VIEWERS),
    ("GET", "/api/linkage"): (lambda c: {}, None, LINKAGE),
    ("POST", "/api/linkage/{linkage_id}/acknowledge"): (
        lambda c: {"linkage_id": c.linkage.pk},
        None,
        LINKAGE,
    ),
    ("GET", "/api/clusters"): (lambda c: {}, None, CASE_VIEWERS),
    ("POST", "/api/clusters"): (lambda c: {}, {"name": "x", "cases": []}, TRACERS),
    ("POST", "/api/clusters/{code}/cases"): (lambda c: {"code": c.cluster.code}, {"cases": []}, TRACERS),
    ("POST", "/api/clusters/{code}/merge"): (lambda c: {"code": c.cluster.code}, {"clusters": []}, TRACERS),
    ("GET", "/api/clusters/{code}/graph"): (lambda c: {"code": c.cluster.code}, None, CASE_VIEWERS),
    ("GET", "/api/risk-venues"): (lambda c: {}, None, CASE_VIEWERS),
    ("POST", "/api/scans"): (lambda c: {}, None, INGESTERS),
    ("GET", "/api/control/orders"): (lambda c: {}, None, CONTROL_VIEWERS),
    ("GET", "/api/control/queue"): (lambda c: {}, None, CONTROL_VIEWERS),
    ("GET", "/api/control/orders/{order_id}"): (lambda c: {"order_id": c.order.pk}, None, CONTROL_VIEWERS),
    ("POST", "/api/control/proposals"): (lambda c: {}, {"orders": []}, CONTROLLERS),
    ("POST", "/api/control/placements"): (lambda c: {}, {"assignments": []}, CONTROLLERS),
    ("POST", "/api/control/home-placements"): (lambda c: {}, {"orders": []}, CONTROLLERS),
    ("GET", "/api/control/transfers"): (lambda c: {}, None, CONTROL_VIEWERS),
    ("POST", "/api/control/transfers"): (
        lambda c: {},
        {"orders": [], "vehicle": "", "team": ""},
        CONTROLLERS,
    ),
    ("POST", "/api/control/transfers/{task_id}/depart"): (
        lambda c: {"task_id": c.transfer.pk},
        {},
        CONTROLLERS,
    ),
    ("POST", "/api/control/transfers/{task_id}/arrive"): (
        lambda c: {"task_id": c.transfer.pk},
        {},
        CONTROLLERS,
    ),
    ("POST", "/api/control/transfer-members/{member_id}/fail"): (
        lambda c: {"member_id": c.member.pk},
        {"reason": ""},
        CONTROLLERS,
    ),
    ("POST", "/api/control/orders/{order_id}/health"): (
        lambda c: {"order_id": c.order.pk},
        {"temperature": 50},
        HEALTH_RECORDERS,
    ),
    ("POST", "/api/control/sample-tasks/{task_id}/result"): (
        lambda c: {"task_id": c.sample.pk},
        {"result": ""},
        CONTROLLERS,
    ),
    ("POST", "/api/control/orders/{order_id}/extend"): (
        lambda c: {"order_id": c.order.pk},
        {"days": 0, "reason": ""},
        CONTROLLERS,
    ),
    ("POST", "/api/control/home-stage"): (lambda c: {}, {"orders": []}, CONTROLLERS),
    ("POST", "/api/control/releases"): (lambda c: {}, {"orders": []}, CONTROLLERS),
    ("GET", "/api/control/board"): (lambda c: {}, None, CONTROL_VIEWERS),
    ("GET", "/api/control/sites"): (lambda c: {}, None, CONTROL_VIEWERS),
    ("POST", "/api/control/sites"): (lambda c: {}, {"code": "", "name": "", "jurisdiction": ""}, CONTROLLERS),
    ("POST", "/api/control/sites/{code}/rooms"): (
        lambda c: {"code": c.site.code},
        {"numbers": ""},
        CONTROLLERS,
    ),
    ("GET", "/api/control/plans"): (lambda c: {}, None, CONTROL_VIEWERS),
    ("POST", "/api/control/plans"): (
        lambda c: {},
        {"applies_to": "close", "definition": {}, "note": ""},
        ADMINS,
    ),
    ("GET", "/api/zones"): (lambda c: {}, None, CONTROL_VIEWERS),
    ("POST", "/api/zones"): (lambda c: {}, {"name": "", "kind": "", "owner": ""}, ZONE_MANAGERS),
    ("GET", "/api/zones/proposals"): (lambda c: {}, None, CONTROL_VIEWERS),
    ("GET", "/api/zones/rules"): (lambda c: {}, None, CONTROL_VIEWERS),
    ("POST", "/api/zones/rules"): (lambda c: {}, {"code": "x", "definition": {}}, ADMINS),
    ("GET", "/api/zones/{key}"): (lambda c: {"key": c.zone.code}, None, CONTROL_VIEWERS),
    ("GET", "/api/zones/{key}/transitions"): (lambda c: {"key": c.zone.code}, None, CONTROL_VIEWERS),
    ("POST", "/api/zones/{key}/transitions"): (lambda c: {"key": c.zone.code}, {"action": ""}, ZONE_MANAGERS),
    ("POST", "/api/zones/{key}/rounds"): (lambda c: {"key": c.zone.code}, {}, ZONE_MANAGERS),
    ("POST", "/api/zones/transitions/{transition_id}/decide"): (
        lambda c: {"transition_id": c.zone_proposal.pk},
        {"confirm": False, "note": "x"},
        ZONE_MANAGERS,
    ),
    ("GET", "/api/screening/rounds"): (lambda c: {}, None, SCREENING_VIEWERS),
    ("POST", "/api/screening/rounds"): (
        lambda c: {},
        {
            "code": "",
            "name": "",
            "owner": "",
            "starts_at": "2026-01-01T08:00:00",
            "ends_at": "2026-01-01T07:00:00",
        },
        SCREENING_MANAGERS,
    ),
    ("GET", "/api/screening/rounds/{code}"): (lambda c: {"code": c.round.code}, None, SCREENING_VIEWERS),
    ("POST", "/api/screening/rounds/{code}/close"): (
        lambda c: {"code": c.round.code},
        {},
        SCREENING_MANAGERS,
    ),
    ("POST", "/api/screening/rounds/{code}/recount"): (
        lambda c: {"code": c.round.code},
        {},
        SCREENING_MANAGERS,
    ),
    ("POST", "/api/screening/rounds/{code}/sites"): (
        lambda c: {"code": c.round.code},
        {"code": "", "name": "", "jurisdiction": ""},
        SCREENING_MANAGERS,
    ),
    ("GET", "/api/screening/rounds/{code}/coverage"): (
        lambda c: {"code": c.round.code},
        None,
        SCREENING_VIEWERS,
    ),
    ("POST", "/api/screening/sites/{site_id}/tubes"): (
        lambda c: {"site_id": c.sampling_site.pk},
        {"barcodes": ""},
        SCREENING_MANAGERS,
    ),
    ("POST", "/api/screening/sites/{site_id}/queue"): (
        lambda c: {"site_id": c.sampling_site.pk},
        {"persons": 3},
        SAMPLERS,
    ),
    ("POST", "/api/screening/tubes/{barcode}/seal"): (lambda c: {"barcode": c.tube.barcode}, {}, SAMPLERS),
    ("POST", "/api/screening/bindings"): (lambda c: {}, {"site": 0, "bindings": []}, SAMPLERS),
    ("POST", "/api/screening/labs"): (
        lambda c: {},
        {"code": "", "name": "", "jurisdiction": ""},
        SCREENING_MANAGERS,
    ),
    ("POST", "/api/screening/labs/{code}/manifests"): (lambda c: {"code": c.lab.code}, {"tubes": []}, LABS),
    ("POST", "/api/screening/labs/{code}/results"): (lambda c: {"code": c.lab.code}, {"results": []}, LABS),
    ("POST", "/api/screening/labs/{code}/results-file"): (lambda c: {"code": c.lab.code}, None, LABS),
    ("GET", "/api/screening/alerts"): (lambda c: {}, None, SCREENING_VIEWERS),
    ("GET", "/api/screening/overdue"): (lambda c: {}, None, SCREENING_VIEWERS),
    ("POST", "/api/screening/rules"): (lambda c: {}, {"sector": "", "every_days": 0}, SCREENING_MANAGERS),
    ("GET", "/api/screening/advice"): (lambda c: {}, None, SCREENING_VIEWERS),
    ("GET", "/api/jobs/{job_id}"): (lambda c: {"job_id": c.job.pk}, None, OWN),
    ("POST", "/api/jobs/{job_id}/cancel"): (lambda c: {"job_id": c.job.pk}, None, OWN),
    ("GET", "/api/jobs/{job_id}/file"): (lambda c: {"job_id": c.job.pk}, None, OWN),
    ("GET", "/api/simulation/runs"): (lambda c: {}, None, SIMULATORS),
    ("GET", "/api/simulation/runs/{run_id}"): (lambda c: {"run_id": c.sim_run.pk}, None, SIMULATORS),
    ("POST", "/api/simulation/runs"): (lambda c: {}, {"preset": "atlantis"}, SIMULATORS),
    ("GET", "/api/gridwork/posts"): (lambda c: {}, None, POST_VIEWERS),
    ("POST", "/api/gridwork/posts"): (lambda c: {}, {"zone": 0, "name": ""}, POST_MANAGERS),
    ("GET", "/api/gridwork/posts/{post_id}"): (lambda c: {"post_id": c.post.pk}, None, POST_VIEWERS),
    ("POST", "/api/gridwork/posts/{post_id}/shifts"): (
        lambda c: {"post_id": c.post.pk},
        {"username": "", "starts_at": "2026-01-01T08:00:00+08:00", "ends_at": "2026-01-01T07:00:00+08:00"},
        POST_MANAGERS,
    ),
    ("POST", "/api/gridwork/posts/{post_id}/plan"): (lambda c: {"post_id": c.post.pk}, {}, POST_MANAGERS),
    ("GET", "/api/gridwork/posts/{post_id}/patrols"): (lambda c: {"post_id": c.post.pk}, None, POST_VIEWERS),
    ("POST", "/api/gridwork/posts/{post_id}/patrols"): (
        lambda c: {"post_id": c.post.pk},
        {"findings": ""},
        PATROLLERS,
    ),
    ("GET", "/api/gridwork/missed"): (lambda c: {}, None, POST_VIEWERS),
    ("GET", "/api/command/analysis"): (lambda c: {}, None, CASE_VIEWERS),
    ("GET", "/api/command/reports"): (lambda c: {}, None, REPORT_READERS),
    ("GET", "/api/command/reports/{report_id}"): (lambda c: {"report_id": c.report.pk}, None, REPORT_READERS),
    ("POST", "/api/command/reports"): (lambda c: {}, {"area": "", "day": "2026-01-01"}, REPORT_READERS),
    ("GET", "/api/command/home"): (lambda c: {}, None, CASE_VIEWERS),
    ("GET", "/api/command/timeliness"): (lambda c: {}, None, CASE_VIEWERS),
    ("GET", "/api/command/zero"): (lambda c: {}, None, CASE_VIEWERS),
    ("GET", "/api/command/map"): (lambda c: {}, None, CASE_VIEWERS),
}

# Routes that are not Cordon views: Django admin (staff only, checked below), the API mount (walked separately).
SKIPPED_PREFIXES = ("admin/", "api/")


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, Any]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            route = prefix + str(p.pattern)
            if route.startswith(SKIPPED_PREFIXES):
                continue
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, route, ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), namespace + (p.name or ""), p.callback


def _api_operations() -> Iterator[tuple[str, str, Any]]:
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            full = "/api" + ("/" + prefix.strip("/") if prefix.strip("/") else "") + "/" + path.lstrip("/")
            full = full.replace("{int:", "{")
            for op in path_view.operations:
                for method in op.methods:
                    yield method, full, op.view_func


def _allowed(rule: Any, role: str | None) -> bool:
    if rule == PUBLIC:
        return True
    if role is None:
        return False
    if rule in (SIGNED_IN, OWN):
        return True
    return role in rule


def test_every_page_has_an_access_rule_and_an_expectation() -> None:
    seen = set()
    for route, name, callback in _walk(get_resolver().url_patterns):
        assert name, f"route {route!r} has no name"
        assert rule_of(callback) is not None, f"view for {route!r} ({name}) declares no access rule"
        assert name in PAGES, f"route {route!r} ({name}) has no row in the authorization matrix"
        seen.add(name)
    assert seen == set(PAGES), f"matrix rows for routes that no longer exist: {set(PAGES) - seen}"


def test_every_api_operation_has_an_access_rule_and_an_expectation() -> None:
    seen = set()
    for method, path, func in _api_operations():
        assert rule_of(func) is not None, f"API {method} {path} declares no access rule"
        assert (method, path) in API, f"API {method} {path} has no row in the authorization matrix"
        seen.add((method, path))
    assert seen == set(API), f"matrix rows for API routes that no longer exist: {set(API) - seen}"


@pytest.fixture
def clients(city: Any, make_user: Callable[..., Any]) -> dict[str | None, Client]:
    """One client per role, every user scoped to the whole city (scoping itself is tested elsewhere)."""
    _tracing_objects(city)
    _control_objects(city)
    _screening_objects(city)
    _zone_objects(city)
    _gridwork_objects(city)
    _command_objects(city)
    out: dict[str | None, Client] = {None: Client()}
    for role in Role.values:
        user = make_user(role, city.city)
        client = Client()
        client.force_login(user)
        client.cordon_user = user  # type: ignore[attr-defined]
        out[role] = client
    _job_objects(city, out[Role.ADMINISTRATOR].cordon_user)  # type: ignore[attr-defined]
    return out


def _job_objects(city: Any, admin: Any) -> None:
    """A job the administrator started (queued, never run: no worker in this test), and a simulator run of the
    city's (queued too)."""
    from cordon.apps.jobs import actions
    from cordon.apps.simulation import actions as simulation
    from cordon.engine.sim.strategy import Scenario

    city.job = actions.start(actor=admin, kind="jobs.worker_check", params={"seconds": 1})
    city.sim_run = simulation.start_run(actor=admin, scenario=Scenario(population=1000, days=5))


def _tracing_objects(city: Any) -> None:
    """A case with a contact handed to Changping, and a cluster: the routes that take an id need one."""
    import datetime as dt

    from django.utils import timezone

    from cordon.apps.tracing import actions
    from cordon.apps.tracing.models import Contact, Linkage

    city.case = actions.report_case(
        actor=None,
        data=actions.CaseData(
            person=city.ft_person,
            onset_date=timezone.localdate() - dt.timedelta(days=1),
            sampled_at=timezone.now(),
            found_by="fever_clinic",
        ),
    )
    contact = Contact.objects.create(
        case=city.case, person=city.cp_person, degree=1, contact_type="venue",
        jurisdiction=city.lx_grid, district=city.changping, status="confirmed",
    )  # fmt: skip
    city.linkage = Linkage.objects.create(
        contact=contact, from_district=city.fengtai, to_district=city.changping
    )
    city.cluster = actions.create_cluster(actor=None, name="matrix", cases=[city.case])


def _control_objects(city: Any) -> None:
    """A site with a room, and the Changping contact transferred there: an order with sample tasks, a
    transfer task with its member, and a health record with an alert."""
    from cordon.apps.control import actions
    from cordon.apps.tracing.models import Contact

    city.site = actions.save_site(
        actor=None, data=actions.SiteData(code="S-M", name="矩阵酒店", jurisdiction=city.changping)
    )
    city.room = actions.add_rooms(actor=None, site=city.site, numbers="101-102")[0]
    (city.order,) = actions.open_orders(actor=None, contacts=[Contact.objects.get(person=city.cp_person)])
    actions.reserve_rooms(actor=None, assignments=[(city.order, city.room)])
    city.transfer = actions.create_transfer(
        actor=None, orders=[city.order], data=actions.TransferData("京A1", "一组", city.order.opened_at)
    )
    city.member = city.transfer.members.get()
    actions.arrive_transfer(actor=None, task=city.transfer)
    city.sample = city.order.sample_tasks.order_by("due_on").first()
    city.health = actions.record_health(actor=None, order=city.order, day=None, temperature="38.2")


def _screening_objects(city: Any) -> None:
    """A city-wide round with a site and a lab."""
    import datetime as dt

    from django.utils import timezone

    from cordon.apps.screening import actions
    from cordon.apps.screening.models import Tube

    now = timezone.now()
    city.round = actions.create_round(
        actor=None,
        data=actions.RoundData(
            code="R-M", name="矩阵筛查", owner=city.city, starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=8), jurisdictions=[city.city],
        ),
    )  # fmt: skip
    city.sampling_site = actions.add_site(
        actor=None, round=city.round, data=actions.SiteData("S-M", "矩阵采样点", city.zgz_grid)
    )
    city.lab = actions.create_lab(actor=None, code="LAB-M", name="矩阵实验室", jurisdiction=city.city)
    actions.issue_tubes(actor=None, site=city.sampling_site, barcodes="M001-M002")
    city.tube = Tube.objects.get(barcode="M001")


def _command_objects(city: Any) -> None:
    """The city's daily report of today, made on the clock (no kept PDF: its PDF is drawn from its figures)."""
    from django.utils import timezone

    from cordon.apps.command import actions, selectors
    from cordon.core.actors import CityReader

    today = timezone.localdate()
    figures = selectors.daily_figures(CityReader(city.city), city.city, today)
    city.report = actions.record_report(
        actor=None, area=city.city, day=today, figures=figures, file={}, scheduled=True
    )


def _zone_objects(city: Any) -> None:
    """A city zone across both districts, proposed (its putting in force waits for a decision)."""
    from cordon.apps.zones import actions

    city.zone = actions.create_zone(
        actor=None,
        data=actions.ZoneData(
            name="矩阵封控区", kind="sealed", owner=city.city, code="Z-M",
            buildings=[city.ft_building, city.cp_building],
        ),
    )  # fmt: skip
    city.zone_proposal = city.zone.transitions.get()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the first bytes of a PNG: enough for the photo check


def _gridwork_objects(city: Any) -> None:
    """A Changping zone in force holding the Changping building, a gate post there with a plan, a guard of
    Longxiang's grid who may be put on duty, and a patrol with a photo."""
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from cordon.apps.accounts import actions as accounts
    from cordon.apps.gridwork import actions
    from cordon.apps.zones.models import Zone, ZoneBuilding

    today = timezone.localdate()
    city.post_zone = Zone.objects.create(
        code="Z-GW", name="矩阵值守区", kind="sealed", state="in_force", owner=city.changping,
        starts_on=today - dt.timedelta(days=2), in_force_on=today - dt.timedelta(days=2),
    )  # fmt: skip
    ZoneBuilding.objects.create(zone=city.post_zone, building=city.cp_building)
    city.post = actions.create_post(actor=None, zone=city.post_zone, name="北门", building=city.cp_building)
    actions.set_plan(
        actor=None, post=city.post, times="08:00,20:00", active_from=today - dt.timedelta(days=1)
    )
    city.guard = accounts.create_user(
        actor=None, username="lx.guard", password="pw-test-0001", role="grid_worker",
        jurisdiction_code=city.lx_grid.code,
    )  # fmt: skip
    photo = SimpleUploadedFile("p.png", PNG, content_type="image/png")
    city.patrol = actions.record_patrol(actor=None, post=city.post, findings="all_clear", photo=photo)


def test_page_matrix(city: Any, clients: dict[str | None, Client]) -> None:
    from django.urls import reverse

    problems = []
    for name, (method, kwargs, rule) in PAGES.items():
        url = reverse(name, kwargs=kwargs(city))
        for role, client in clients.items():
            if role is not None:
                client.force_login(client.cordon_user)  # type: ignore[attr-defined]  # "logout" signs out
            response = client.get(url) if method == "GET" else client.post(url)
            ok = _allowed(rule, role)
            if (
                ok
                and response.status_code not in (200, 302)
                and not (rule == OWN and response.status_code == 404)
            ):
                problems.append(f"{role} {method} {url}: expected allow, got {response.status_code}")
            if not ok:
                if role is None:
                    denied = response.status_code == 302 and "/login/" in response["Location"]
                else:
                    denied = response.status_code == 403
                if not denied:
                    problems.append(f"{role} {method} {url}: expected deny, got {response.status_code}")
    assert not problems, "\n".join(problems)


def test_api_matrix(city: Any, clients: dict[str | None, Client]) -> None:
    problems = []
    for (method, template), (params, body, rule) in API.items():
        url = template.format(**params(city))
        for role, client in clients.items():
            if method == "GET":
                response = client.get(url)
            else:
                response = client.generic(
                    method, url, data=__import__("json").dumps(body or {}), content_type="application/json"
                )
            ok = _allowed(rule, role)
            if rule == OWN and response.status_code == 404:
                continue  # another person's job (or one that made no file): not found, as on the pages
            if ok and response.status_code in (401, 403, 404, 405):
                problems.append(f"{role} {method} {url}: expected allow, got {response.status_code}")
            if not ok and response.status_code != (401 if role is None else 403):
                problems.append(f"{role} {method} {url}: expected deny, got {response.status_code}")
    assert not problems, "\n".join(problems)


def test_admin_is_for_administrators_only(city: Any, clients: dict[str | None, Client]) -> None:
    for role, client in clients.items():
        status = client.get("/admin/").status_code
        assert status == (200 if role == Role.ADMINISTRATOR else 302), (role, status)
