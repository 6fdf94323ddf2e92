"""Roles and what each may do. This table is the single source of the access rules that
``cordon.core.access`` enforces on every page, API route, export and CLI path."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITY_COMMANDER = "city_commander", _("City commander")
    DISTRICT_COMMANDER = "district_commander", _("District commander")
    STREET_OFFICER = "street_officer", _("Street officer")
    GRID_WORKER = "grid_worker", _("Community / grid worker")
    INVESTIGATOR = "investigator", _("Epidemiological investigator")
    QUARANTINE_OFFICER = "quarantine_officer", _("Quarantine officer")
    SCREENING_STAFF = "screening_staff", _("Screening-site staff")
    LAB_STAFF = "lab_staff", _("Lab staff")
    CHECKPOINT_STAFF = "checkpoint_staff", _("Checkpoint staff")
    SERVICE_DISPATCHER = "service_dispatcher", _("Service dispatcher")
    INDUSTRY_REGULATOR = "industry_regulator", _("Industry regulator")
    AUDITOR = "auditor", _("Auditor")
    ADMINISTRATOR = "administrator", _("Administrator")


class Cap(models.TextChoices):
    """Capabilities. A route declares the one it needs; a role grants a set."""

    VIEW_JURISDICTIONS = "view_jurisdictions", _("Browse the jurisdiction tree")
    VIEW_PERSONS = "view_persons", _("Search and open persons")
    VIEW_PII = "view_pii", _("See full national ID and phone")
    EDIT_PERSONS = "edit_persons", _("Create and edit persons")
    VIEW_VENUES = "view_venues", _("Browse venues")
    EDIT_VENUES = "edit_venues", _("Create and edit venues")
    IMPORT = "import", _("Import files")
    EXPORT = "export", _("Export data")
    VIEW_CASES = "view_cases", _("See cases, contacts, clusters and risk venues")
    TRACE = "trace", _("Report cases, investigate, trace and judge contacts")
    RECEIVE_LINKAGE = "receive_linkage", _("Receive and acknowledge contacts from other districts")
    INGEST_SCANS = "ingest_scans", _("Load venue check-in scans")
    VIEW_CONTROL = (
        "view_control",
        _("See isolation sites, control orders, transfers and the open-items board"),
    )
    CONTROL = "control", _("Place, transfer, test and release contacts; manage isolation sites")
    RECORD_HEALTH = "record_health", _("Record daily health checks and samples of persons under control")
    VIEW_SCREENING = "view_screening", _("See screening rounds, coverage and the follow-up of positives")
    MANAGE_SCREENING = "manage_screening", _("Organise screening rounds, sites, tubes and frequency rules")
    MANAGE_ZONES = "manage_zones", _("Propose, put in force, escalate, downgrade and lift zones")
    SAMPLE = "sample", _("Bind samples to tubes at a sampling site")
    LAB = "lab", _("Receive tubes and record lab results")
    VIEW_POSTS = "view_posts", _("See duty posts, their plans, who is on duty and the patrols recorded")
    MANAGE_POSTS = "manage_posts", _("Set up duty posts, patrol plans and who is on duty")
    PATROL = "patrol", _("Record patrols and inspections at duty posts")
    VIEW_AUDIT = "view_audit", _("Read the audit trail and access log")
    SIMULATE = "simulate", _("Run the outbreak simulator and compare response strategies")
    ADMIN = "admin", _("Configure the system")


_ALL = frozenset(Cap)
_READ = frozenset({Cap.VIEW_JURISDICTIONS, Cap.VIEW_PERSONS, Cap.VIEW_VENUES})

ROLE_CAPS: dict[str, frozenset[Cap]] = {
    Role.CITY_COMMANDER: _READ
    | {
        Cap.EXPORT,
        Cap.VIEW_CASES,
        Cap.VIEW_CONTROL,
        Cap.VIEW_SCREENING,
        Cap.MANAGE_SCREENING,
        Cap.MANAGE_ZONES,
        Cap.SIMULATE,
        Cap.VIEW_POSTS,
        Cap.MANAGE_POSTS,
    },
    Role.DISTRICT_COMMANDER: _READ
    | {
        Cap.EXPORT,
        Cap.VIEW_CASES,
        Cap.RECEIVE_LINKAGE,
        Cap.VIEW_CONTROL,
        Cap.VIEW_SCREENING,
        Cap.MANAGE_SCREENING,
        Cap.SIMULATE,
        Cap.MANAGE_ZONES,
        Cap.VIEW_POSTS,
        Cap.MANAGE_POSTS,
    },
    Role.STREET_OFFICER: _READ
    | {
        Cap.VIEW_PII,
        Cap.EDIT_PERSONS,
        Cap.EXPORT,
        Cap.VIEW_CASES,
        Cap.VIEW_CONTROL,
        Cap.VIEW_SCREENING,
        Cap.VIEW_POSTS,
        Cap.MANAGE_POSTS,
        Cap.PATROL,
    },
    Role.GRID_WORKER: _READ
    | {
        Cap.VIEW_PII,
        Cap.EDIT_PERSONS,
        Cap.VIEW_CONTROL,
        Cap.RECORD_HEALTH,
        Cap.VIEW_SCREENING,
        Cap.VIEW_POSTS,
        Cap.PATROL,
    },
    Role.INVESTIGATOR: _READ
    | {Cap.VIEW_PII, Cap.VIEW_CASES, Cap.TRACE, Cap.RECEIVE_LINKAGE, Cap.VIEW_CONTROL},
    Role.QUARANTINE_OFFICER: _READ
    | {
        Cap.VIEW_PII,
        Cap.VIEW_CASES,
        Cap.RECEIVE_LINKAGE,
        Cap.VIEW_CONTROL,
        Cap.CONTROL,
        Cap.RECORD_HEALTH,
        Cap.VIEW_SCREENING,
    },
    Role.SCREENING_STAFF: frozenset({Cap.VIEW_PERSONS, Cap.VIEW_PII, Cap.VIEW_SCREENING, Cap.SAMPLE}),
    Role.LAB_STAFF: frozenset({Cap.VIEW_JURISDICTIONS, Cap.LAB}),
    Role.CHECKPOINT_STAFF: frozenset({Cap.VIEW_VENUES}),
    Role.SERVICE_DISPATCHER: _READ | {Cap.VIEW_PII, Cap.VIEW_CONTROL},
    Role.INDUSTRY_REGULATOR: _READ | {Cap.EXPORT, Cap.VIEW_SCREENING},
    Role.AUDITOR: _READ | {Cap.VIEW_AUDIT, Cap.VIEW_CONTROL, Cap.VIEW_SCREENING, Cap.VIEW_POSTS},
    Role.ADMINISTRATOR: _ALL,
}


def caps_for(role: str) -> frozenset[Cap]:
    return ROLE_CAPS.get(role, frozenset())
