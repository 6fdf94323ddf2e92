"""The authorization matrix's "wrong owner or wrong district, nothing changed" column (issue 17, defect 1).

For every write route of tests/test_authorization_matrix.py (page POSTs, the form pages that also take a POST,
API POST/PATCH/PUT/DELETE), a row here names whose record the call changes and a body that would change it.
Each role that holds the route's capability is then put where it must not change that record (the other
district for a district's record; each district for the city's) and calls the route: it must be refused, and
every table of the database must be as it was (a count and a hash of the rows of every model, the audit trail
included). The owner's own call, the positive control, must change the database, so that a refusal is not
merely a bad body. A write route with neither a row nor an exemption saying why it has no owner fails.

Each call runs in a savepoint that is rolled back, so one fixture city serves every call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.contrib.messages.constants import SUCCESS
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone

from cordon.core.roles import Role
from test_authorization_matrix import (
    API,
    OWN,
    PAGES,
    PUBLIC,
    SIGNED_IN,
    _control_objects,
    _gridwork_objects,
    _job_objects,
    _screening_objects,
    _tracing_objects,
    _walk,
    _zone_objects,
)

CITY, FT, CP, USER = "city", "ft", "cp", "user"
OUTSIDE = {FT: (CP,), CP: (FT,), CITY: (FT, CP)}  # where the record's owner is not, for each owner


@dataclass(frozen=True)
class Owned:
    owner: str  # whose record the call changes: FT or CP (a district's), CITY, or USER (the caller's own job)
    by: str  # the role that makes the call as the owner (the positive control)
    data: Callable[[Any], Any] = lambda c: {}  # form fields (pages) or the JSON body (API)
    changes: bool = True  # the owner's call changes the database in this fixture (else: why, in a comment)
    kwargs: Callable[[Any], dict[str, Any]] | None = None  # URL arguments, when not the matrix row's


def _local(hours: float) -> str:
    return timezone.localtime(timezone.now() + dt.timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")


def _iso(hours: float) -> str:
    return (timezone.now() + dt.timedelta(hours=hours)).isoformat()


def _csv(c: Any) -> SimpleUploadedFile:
    text = f"name,jurisdiction\n新居民,{c.zgz_grid.code}\n"
    return SimpleUploadedFile("persons.csv", text.encode(), content_type="text/csv")


def _results(c: Any) -> SimpleUploadedFile:
    return SimpleUploadedFile("r.csv", b"barcode,result\nM003,negative\n", content_type="text/csv")


def _v(record: Any) -> int:
    """The record's version as an edit form shows it now (edits of shared records carry it)."""
    return int(type(record)._default_manager.get(pk=record.pk).version)


def _investigation_version(c: Any) -> int:
    from cordon.apps.tracing.models import Investigation

    inv = Investigation.objects.filter(case=c.case).first()
    return inv.version if inv is not None else 1


def _plan_in_force(c: Any) -> int:
    """The version of the close contacts' plan in force, which the plan form starts from."""
    from cordon.apps.control import selectors
    from cordon.apps.control.models import QuarantinePlan

    plan = QuarantinePlan.objects.filter(
        profile=selectors.profile_id(), applies_to="close", in_force=True
    ).first()
    return plan.version if plan is not None else 0


def _second_rules() -> dict[str, Any]:
    from cordon.engine import zones

    return zones.rules_to_json(zones.SEALED_THEN_MONITORED)


def _plan(c: Any) -> dict[str, Any]:
    from cordon.apps.control.models import QuarantinePlan

    plan = QuarantinePlan.objects.filter(applies_to="close").order_by("-version").first()
    assert plan is not None
    return {**plan.definition, "transfer_within_hours": 6}  # a new version: transfer within 6 hours


INV, QO, DC, CC, ADM = (
    Role.INVESTIGATOR,
    Role.QUARANTINE_OFFICER,
    Role.DISTRICT_COMMANDER,
    Role.CITY_COMMANDER,
    Role.ADMINISTRATOR,
)

# Page writes: url name -> whose record and how.
PAGE_OWNED: dict[str, Owned] = {
    "person-new": Owned(
        FT, Role.STREET_OFFICER, lambda c: {"name": "新居民", "jurisdiction": c.zgz_grid.code}
    ),
    "person-edit": Owned(
        FT,
        Role.STREET_OFFICER,
        lambda c: {"name": "张伟伟", "jurisdiction": c.zgz_grid.code, "version": _v(c.ft_person)},
    ),
    "dataio:upload": Owned(FT, ADM, lambda c: {"kind": "persons", "file": _csv(c)}),
    # The whole city's next day; without a loaded demo it changes nothing even for the city's administrator
    # (tests/test_ownership.py checks that a district's administrator cannot start or play it).
    "demo:next-day": Owned(CITY, ADM, changes=False),
    "jobs:cancel": Owned(USER, ADM),
    # The failed sign-ins counted against a Fengtai user: a Changping administrator does not see them.
    "sign-ins-unlock": Owned(FT, ADM, lambda c: {"username": "ft-locked"}),
    "jobs:again": Owned(USER, ADM, changes=False),  # a queued job is not run again until it has ended
    "tracing:case-new": Owned(
        FT,
        INV,
        lambda c: {
            "person": c.ft_person3.national_id,
            "sampled_at": _local(-2),
            "found_by": "fever_clinic",
            "onset_date": str(timezone.localdate()),
            "classification": "confirmed",
            "control": "community",
        },
    ),
    "tracing:case-trace": Owned(FT, INV),
    "tracing:case-decide": Owned(
        FT,
        INV,
        lambda c: {"contact": [c.contact.pk], "decision": "dismissed", f"v{c.contact.pk}": _v(c.contact)},
    ),
    "tracing:case-trajectory": Owned(
        FT, INV, lambda c: {"kind": "place", "place": "超市", "time_in": _local(-30), "time_out": _local(-29)}
    ),
    "tracing:case-autofill": Owned(FT, INV, changes=False),  # no check-in scans to fill from
    "tracing:case-investigation": Owned(
        FT, INV, lambda c: {"notes": "流调记录", "version": _investigation_version(c)}
    ),
    "tracing:case-cluster": Owned(FT, INV, lambda c: {"name": "新聚集"}),
    "tracing:case-imported": Owned(FT, INV, lambda c: {"imported": "on"}),
    "tracing:linkage-ack": Owned(CP, DC, lambda c: {"linkage": [c.linkage.pk]}),
    # Merging the mixed cluster (a Fengtai and a Changping case) moves Fengtai's case: the city's to do.
    "tracing:cluster-merge": Owned(
        CITY, INV, lambda c: {"other": [c.cluster.code]}, kwargs=lambda c: {"code": c.cp_cluster.code}
    ),
    "control:allocate": Owned(
        CP, QO, lambda c: {"step": "accept", "order": [c.queued.pk], f"room-{c.queued.pk}": c.room2.pk}
    ),
    "control:transfer-new": Owned(
        CP,
        QO,
        lambda c: {"order": [c.reserved.pk], "vehicle": "京A2", "team": "二组", "pickup_at": _local(1)},
    ),
    "control:transfer-status": Owned(
        CP, QO, lambda c: {"action": "depart"}, kwargs=lambda c: {"pk": c.transfer2.pk}
    ),
    "control:member-fail": Owned(
        CP, QO, lambda c: {"reason": "refused"}, kwargs=lambda c: {"pk": c.member2.pk}
    ),
    # Neither the home stage nor the release is due in this fixture: the refusal of others is still checked.
    "control:orders-bulk": Owned(
        CP, QO, lambda c: {"action": "home-stage", "order": [c.order.pk]}, changes=False
    ),
    "control:order-health": Owned(CP, Role.GRID_WORKER, lambda c: {"temperature": "36.5"}),
    "control:order-extend": Owned(
        CP, QO, lambda c: {"days": "2", "reason": "再次暴露", "version": _v(c.order)}
    ),
    "control:alert-handle": Owned(CP, QO, lambda c: {"handling": "已送医", "version": _v(c.health)}),
    "control:sample-result": Owned(CP, QO, lambda c: {"result": "negative"}),
    "control:samples-taken": Owned(CP, Role.GRID_WORKER, lambda c: {"task": [c.sample.pk]}),
    "control:site-new": Owned(
        CP, QO, lambda c: {"code": "S-N", "name": "新酒店", "jurisdiction": c.changping.code}
    ),
    "control:site-rooms": Owned(CP, QO, lambda c: {"numbers": "201-202"}),
    "control:room-status": Owned(
        CP,
        QO,
        lambda c: {"status": "out_of_service", "version": _v(c.room2)},
        kwargs=lambda c: {"pk": c.room2.pk},
    ),
    "control:plan-edit": Owned(
        CITY,
        ADM,
        lambda c: {"definition": json.dumps(_plan(c)), "note": "改版", "based_on": _plan_in_force(c)},
    ),
    "screening:round-new": Owned(
        CITY,
        CC,
        lambda c: {
            "code": "R-N",
            "name": "新一轮",
            "owner": c.city.code,
            "starts_at": _local(-1),
            "ends_at": _local(8),
            "areas": c.city.code,
        },
    ),
    "zones:zone-new": Owned(
        FT,
        DC,
        lambda c: {"name": "新封控区", "kind": "sealed", "owner": c.fengtai.code, "buildings": "B-FT-1"},
    ),
    # The city zone across both districts: each district sees it, only the city changes it.
    "zones:decide": Owned(CITY, CC, lambda c: {"decision": "confirm", "note": "决定"}),
    "zones:step": Owned(CITY, CC, lambda c: {"action": "put_in_force", "mode": "now", "note": "决定"}),
    # The matrix's zone is proposed, not yet in force: no round to open even for the city (the refusal of the
    # districts, which see the zone, is still checked).
    "zones:screen": Owned(CITY, CC, changes=False),
    "screening:round-close": Owned(CITY, CC),
    "screening:round-recount": Owned(CITY, CC),
    "screening:site-new": Owned(
        CITY, CC, lambda c: {"code": "S-N", "name": "新采样点", "jurisdiction": c.zgz_grid.code}
    ),
    "screening:tubes-issue": Owned(CITY, CC, lambda c: {"barcodes": "N001-N002"}),
    "screening:station-bind": Owned(
        FT, Role.SCREENING_STAFF, lambda c: {"tube": "M001", "person": c.ft_person.national_id}
    ),
    "screening:station-seal": Owned(FT, Role.SCREENING_STAFF, lambda c: {"tube": "M002"}),
    "screening:station-queue": Owned(FT, Role.SCREENING_STAFF, lambda c: {"persons": "7"}),
    "screening:lab-submit": Owned(
        CITY, Role.LAB_STAFF, lambda c: {"lab": c.lab.code, "what": "manifest", "tubes": "M004"}
    ),
    "gridwork:post-new": Owned(
        CP,
        DC,
        lambda c: {"zone": c.post_zone.pk, "name": "南门", "kind": "gate", "building": c.cp_building.code},
    ),
    "gridwork:post-plan": Owned(CP, DC, lambda c: {"times": "07:00, 19:00"}),
    "gridwork:post-shift": Owned(
        CP, DC, lambda c: {"username": c.guard.username, "starts_at": _local(0), "ends_at": _local(8)}
    ),
    "gridwork:patrol": Owned(CP, Role.GRID_WORKER, lambda c: {"findings": "all_clear"}),
    "command:make-report": Owned(
        FT, DC, lambda c: {"area": c.fengtai.code, "day": timezone.localdate().isoformat()}
    ),
}

# API writes: (method, path) -> whose record and how.
API_OWNED: dict[tuple[str, str], Owned] = {
    ("POST", "/api/persons"): Owned(
        FT, Role.GRID_WORKER, lambda c: {"name": "新居民", "jurisdiction": c.zgz_grid.code}
    ),
    ("PATCH", "/api/persons/{person_id}"): Owned(FT, Role.GRID_WORKER, lambda c: {"occupation": "厨师"}),
    ("POST", "/api/import/{kind}"): Owned(FT, ADM, lambda c: {"file": _csv(c)}),
    ("POST", "/api/cases"): Owned(
        FT,
        INV,
        lambda c: {
            "person_id": c.ft_person3.pk,
            "sampled_at": _iso(-2),
            "found_by": "fever_clinic",
            "onset_date": str(timezone.localdate()),
        },
    ),
    ("POST", "/api/cases/{case_id}/trace"): Owned(FT, INV),
    ("POST", "/api/cases/{case_id}/imported"): Owned(FT, INV, lambda c: {"imported": True}),
    ("POST", "/api/cases/{case_id}/contacts/decide"): Owned(
        FT, INV, lambda c: {"contacts": [c.contact.pk], "decision": "dismissed"}
    ),
    ("POST", "/api/cases/{case_id}/trajectory"): Owned(
        FT, INV, lambda c: {"kind": "place", "place": "超市", "time_in": _iso(-30), "time_out": _iso(-29)}
    ),
    ("POST", "/api/cases/{case_id}/trajectory/autofill"): Owned(
        FT, INV, changes=False
    ),  # no scans to fill from
    ("POST", "/api/linkage/{linkage_id}/acknowledge"): Owned(CP, DC),
    ("POST", "/api/clusters"): Owned(FT, INV, lambda c: {"name": "新聚集", "cases": [c.case.code]}),
    ("POST", "/api/clusters/{code}/cases"): Owned(FT, INV, lambda c: {"cases": [c.ft_case2.code]}),
    ("POST", "/api/clusters/{code}/merge"): Owned(
        CITY, INV, lambda c: {"clusters": [c.cluster.code]}, kwargs=lambda c: {"code": c.cp_cluster.code}
    ),
    ("POST", "/api/control/proposals"): Owned(
        CP, QO, lambda c: {"orders": [c.queued.pk]}, changes=False
    ),  # a proposal only
    ("POST", "/api/control/placements"): Owned(
        CP, QO, lambda c: {"assignments": [{"order": c.queued.pk, "room": c.room2.pk}]}
    ),
    # A close contact's plan starts in centralised isolation: home placement is refused to the owner too.
    ("POST", "/api/control/home-placements"): Owned(
        CP, QO, lambda c: {"orders": [c.queued.pk]}, changes=False
    ),
    ("POST", "/api/control/transfers"): Owned(
        CP, QO, lambda c: {"orders": [c.reserved.pk], "vehicle": "京A2", "team": "二组", "pickup_at": _iso(1)}
    ),
    ("POST", "/api/control/transfers/{task_id}/depart"): Owned(
        CP, QO, kwargs=lambda c: {"task_id": c.transfer2.pk}
    ),
    ("POST", "/api/control/transfers/{task_id}/arrive"): Owned(
        CP, QO, kwargs=lambda c: {"task_id": c.transfer2.pk}
    ),
    ("POST", "/api/control/transfer-members/{member_id}/fail"): Owned(
        CP, QO, lambda c: {"reason": "refused"}, kwargs=lambda c: {"member_id": c.member2.pk}
    ),
    ("POST", "/api/control/orders/{order_id}/health"): Owned(
        CP, Role.GRID_WORKER, lambda c: {"temperature": 36.5}
    ),
    ("POST", "/api/control/sample-tasks/{task_id}/result"): Owned(CP, QO, lambda c: {"result": "negative"}),
    ("POST", "/api/control/orders/{order_id}/extend"): Owned(
        CP, QO, lambda c: {"days": 2, "reason": "再次暴露"}
    ),
    ("POST", "/api/control/home-stage"): Owned(
        CP, QO, lambda c: {"orders": [c.order.pk]}, changes=False
    ),  # not due
    ("POST", "/api/control/releases"): Owned(
        CP, QO, lambda c: {"orders": [c.order.pk]}, changes=False
    ),  # not due yet
    ("POST", "/api/control/sites"): Owned(
        CP, QO, lambda c: {"code": "S-N", "name": "新酒店", "jurisdiction": c.changping.code}
    ),
    ("POST", "/api/control/sites/{code}/rooms"): Owned(CP, QO, lambda c: {"numbers": "201-202"}),
    ("POST", "/api/jobs/{job_id}/cancel"): Owned(USER, ADM),
    ("POST", "/api/control/plans"): Owned(
        CITY, ADM, lambda c: {"applies_to": "close", "definition": _plan(c), "note": "改版"}
    ),
    ("POST", "/api/screening/rounds"): Owned(
        CITY,
        CC,
        lambda c: {
            "code": "R-N",
            "name": "新一轮",
            "owner": c.city.code,
            "starts_at": _iso(-1),
            "ends_at": _iso(8),
            "areas": [c.city.code],
        },
    ),
    ("POST", "/api/zones"): Owned(
        FT,
        DC,
        lambda c: {"name": "新封控区", "kind": "sealed", "owner": c.fengtai.code, "buildings": ["B-FT-1"]},
    ),
    ("POST", "/api/zones/rules"): Owned(
        CITY, ADM, lambda c: {"code": "sealed-then-monitored", "definition": _second_rules(), "note": "改用"}
    ),
    ("POST", "/api/zones/{key}/transitions"): Owned(
        CITY, CC, lambda c: {"action": "put_in_force", "confirm": True, "note": "决定"}
    ),
    ("POST", "/api/zones/{key}/rounds"): Owned(CITY, CC, changes=False),  # as "zones:screen"
    ("POST", "/api/zones/transitions/{transition_id}/decide"): Owned(
        CITY, CC, lambda c: {"confirm": True, "note": "决定"}
    ),
    ("POST", "/api/screening/rounds/{code}/close"): Owned(CITY, CC),
    ("POST", "/api/screening/rounds/{code}/recount"): Owned(CITY, CC),
    ("POST", "/api/screening/rounds/{code}/sites"): Owned(
        CITY, CC, lambda c: {"code": "S-N", "name": "新采样点", "jurisdiction": c.zgz_grid.code}
    ),
    ("POST", "/api/screening/sites/{site_id}/tubes"): Owned(CITY, CC, lambda c: {"barcodes": "N001-N002"}),
    ("POST", "/api/screening/sites/{site_id}/queue"): Owned(
        FT, Role.SCREENING_STAFF, lambda c: {"persons": 7}
    ),
    ("POST", "/api/screening/tubes/{barcode}/seal"): Owned(
        FT, Role.SCREENING_STAFF, kwargs=lambda c: {"barcode": "M002"}
    ),
    ("POST", "/api/screening/bindings"): Owned(
        FT,
        Role.SCREENING_STAFF,
        lambda c: {
            "site": c.sampling_site.pk,
            "bindings": [{"tube": "M001", "person": c.ft_person.national_id}],
        },
    ),
    ("POST", "/api/screening/labs"): Owned(
        CITY, CC, lambda c: {"code": "LAB-N", "name": "新实验室", "jurisdiction": c.city.code}
    ),
    ("POST", "/api/screening/labs/{code}/manifests"): Owned(
        CITY, Role.LAB_STAFF, lambda c: {"tubes": ["M004"]}
    ),
    ("POST", "/api/screening/labs/{code}/results"): Owned(
        CITY, Role.LAB_STAFF, lambda c: {"results": [{"tube": "M003", "result": "negative"}]}
    ),
    ("POST", "/api/screening/labs/{code}/results-file"): Owned(
        CITY, Role.LAB_STAFF, lambda c: {"file": _results(c)}
    ),
    ("POST", "/api/screening/rules"): Owned(
        CITY, CC, lambda c: {"sector": "courier", "every_days": 3, "jurisdiction": c.city.code}
    ),
    ("POST", "/api/gridwork/posts"): Owned(
        CP,
        DC,
        lambda c: {"zone": c.post_zone.pk, "name": "南门", "kind": "gate", "building": c.cp_building.code},
    ),
    ("POST", "/api/gridwork/posts/{post_id}/shifts"): Owned(
        CP, DC, lambda c: {"username": c.guard.username, "starts_at": _iso(0), "ends_at": _iso(8)}
    ),
    ("POST", "/api/gridwork/posts/{post_id}/plan"): Owned(CP, DC, lambda c: {"every_hours": 4}),
    ("POST", "/api/gridwork/posts/{post_id}/patrols"): Owned(
        CP, Role.GRID_WORKER, lambda c: {"findings": "crowding", "note": "门口聚集"}
    ),
    ("POST", "/api/command/reports"): Owned(
        FT, DC, lambda c: {"area": c.fengtai.code, "day": timezone.localdate().isoformat()}
    ),
}

# Write routes that change no record owned by a level, and why.
NO_OWNER: dict[Any, str] = {
    "logout": "signs the caller out",
    "set_language": "sets the caller's language",
    "jobs:check": "starts the administrators' worker check: a job of the caller's own",
    "control:orders-pdf": "a read sent by POST: starts a job of the caller's own making the PDF of the orders "
    "ticked (each read in the caller's scope, by the page and again by the job)",
    "dataio:export": "starts a job of the caller's own exporting what the caller's scope holds",
    (
        "POST",
        "/api/export/{kind}",
    ): "starts a job of the caller's own exporting what the caller's scope holds",
    "tracing:cases-trace-untraced": "starts a job of the caller's own tracing the cases not traced yet that the "
    "caller's scope holds (read in that scope by the job)",
    "zones:evaluate": "starts the rules' evaluation, a job of the caller's own: it only proposes, people decide",
    "tracing:scans": "uploads check-in scans into the city's scan store (administrators only)",
    ("POST", "/api/scans"): "loads check-in scans into the city's scan store (administrators only)",
    "simulation:list": "starts a simulator run of the caller's own, seen within the caller's jurisdiction",
    ("POST", "/api/simulation/runs"): "starts a simulator run of the caller's own, seen within the caller's "
    "jurisdiction",
}


def _form_pages() -> set[str]:
    """Pages listed under GET in the matrix whose view also takes a POST (a form that saves)."""
    out = set()
    for _route, name, callback in _walk(get_resolver().url_patterns):
        method, _kwargs, _rule = PAGES.get(name, ("", None, None))
        if method == "GET" and "request.method" in inspect.getsource(inspect.unwrap(callback)):
            out.add(name)
    return out


def page_writes() -> set[str]:
    return {n for n, (method, _k, _r) in PAGES.items() if method == "POST"} | _form_pages()


def api_writes() -> set[tuple[str, str]]:
    return {key for key in API if key[0] in ("POST", "PATCH", "PUT", "DELETE")}


def test_every_write_route_has_an_ownership_row() -> None:
    pages, routes = page_writes(), api_writes()
    assert pages - set(PAGE_OWNED) - set(NO_OWNER) == set(), "page writes without an ownership row"
    assert routes - set(API_OWNED) - set(NO_OWNER) == set(), "API writes without an ownership row"
    assert set(PAGE_OWNED) <= pages and set(API_OWNED) <= routes, "ownership rows for routes that are gone"
    assert not (set(PAGE_OWNED) | set(API_OWNED)) & set(NO_OWNER)


# --- The fixture city -----------------------------------------------------------------------------------------


def _more_objects(c: Any) -> None:
    """Besides the matrix's records: a contact of the case judged, a Changping order still in the queue, one
    with a room reserved, a second transfer under way, a mixed cluster (a Fengtai and a Changping case), a
    Changping-only cluster and a Fengtai case in none; tubes in use, sealed and received."""
    from cordon.apps.control import actions as control
    from cordon.apps.people import actions as people
    from cordon.apps.screening import actions as screening
    from cordon.apps.tracing import actions as tracing
    from cordon.apps.tracing.models import Contact
    from cordon.engine import identity

    c.contact = Contact.objects.get(person=c.cp_person)

    def person(name: str, n: int) -> Any:
        return people.create_person(
            actor=None,
            data=people.PersonData(
                name=name,
                national_id=identity.make("110114", dt.date(1990, 1, n), 500 + n),
                home_building=c.cp_building,
            ),
        )

    def contact_of(p: Any) -> Any:
        return Contact.objects.create(
            case=c.case,
            person=p,
            degree=1,
            contact_type="venue",
            jurisdiction=c.lx_grid,
            district=c.changping,
            status="confirmed",
        )

    q1, q2, q3 = person("赵一", 1), person("钱二", 2), person("孙三", 3)
    c.queued, c.reserved, moving = control.open_orders(
        actor=None, contacts=[contact_of(q1), contact_of(q2), contact_of(q3)]
    )
    rooms = control.add_rooms(actor=None, site=c.site, numbers="103-106")
    c.room2 = rooms[0]
    control.reserve_rooms(actor=None, assignments=[(c.reserved, rooms[1]), (moving, rooms[2])])
    c.transfer2 = control.create_transfer(
        actor=None, orders=[moving], data=control.TransferData("京A3", "三组", timezone.now())
    )
    c.member2 = c.transfer2.members.get()

    def report(p: Any) -> Any:
        return tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=p,
                onset_date=timezone.localdate() - dt.timedelta(days=1),
                sampled_at=timezone.now(),
                found_by="fever_clinic",
            ),
        )

    cp_case, cp_case2 = report(person("周四", 4)), report(person("吴五", 5))
    tracing.add_to_cluster(actor=None, cluster=c.cluster, cases=[cp_case])
    c.cp_cluster = tracing.create_cluster(actor=None, name="昌平聚集", cases=[cp_case2])
    c.ft_case2 = report(c.ft_person2)
    c.ft_person3 = people.create_person(
        actor=None,
        data=people.PersonData(
            name="郑六",
            national_id=identity.make("110106", dt.date(1991, 2, 3), 606),
            household=c.ft_household,
        ),
    )

    screening.issue_tubes(actor=None, site=c.sampling_site, barcodes="M003-M004")
    screening.bind_samples(
        actor=None,
        site=c.sampling_site,
        rows=[
            screening.BindingIn("M002", c.courier.national_id),
            screening.BindingIn("M003", c.cp_person.national_id),
            screening.BindingIn("M004", f"P{q1.pk}"),
        ],
    )
    from cordon.apps.screening.models import Tube

    for barcode in ("M003", "M004"):
        screening.seal_tube(actor=None, tube=Tube.objects.get(barcode=barcode))
    screening.receive_tubes(actor=None, lab=c.lab, barcodes=["M003"])


def _locked_sign_in(user: Any) -> None:
    """Failed sign-ins counted by django-axes against ``user`` (as a wrong password typed five times leaves)."""
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(
        username=user.username, ip_address="192.0.2.7", user_agent="test", failures_since_start=5,
        get_data="", post_data="", path_info="/login/",
    )  # fmt: skip


@pytest.fixture
def world(city: Any, make_user: Any) -> Any:
    _tracing_objects(city)
    _control_objects(city)
    _screening_objects(city)
    _zone_objects(city)
    _gridwork_objects(city)
    _more_objects(city)
    admin = make_user(Role.ADMINISTRATOR, city.city, username="job-owner")
    _locked_sign_in(make_user(Role.INVESTIGATOR, city.fengtai, username="ft-locked"))
    _job_objects(city, admin)
    return city


# --- The database, fingerprinted ------------------------------------------------------------------------------

# Not records of a level: sessions (signing in), the access log (reading a record is logged, refused or not)
# and the heads of the audit chains, which move with it (an audit entry itself is watched).
UNWATCHED = {"sessions.session", "audit.accesslog", "audit.chainhead"}
# A call that starts a job makes a job of the caller's own (and its queue row), refused when it runs or not: the
# records of a level are compared once the job has run; the job rows only where the job is the record.
JOB_ROWS = {"jobs.job", "jobs.jobprogress", "django_tasks_database.dbtaskresult"}


def _tables(jobs: bool) -> list[tuple[str, str, str]]:
    """(label, table, primary key column) of every model (many-to-many tables included) the fingerprint reads."""
    out = []
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if label in UNWATCHED or (not jobs and label in JOB_ROWS) or model._meta.proxy:
            continue
        out.append((label, model._meta.db_table, model._meta.pk.column))
    return out


def fingerprint(jobs: bool = True) -> dict[str, tuple[int, str]]:
    """Per model (many-to-many tables included): the number of rows and a hash of all of them; without the
    job rows and their audit rows unless ``jobs``. Plain SQL: it is read twice per call of the column."""
    from django.db import connection

    quote = connection.ops.quote_name
    out = {}
    with connection.cursor() as cursor:
        for label, table, pk in _tables(jobs):
            where = ""
            if not jobs and label == "audit.auditentry":
                where = f" WHERE {quote('model')} NOT LIKE 'jobs.%%'"
            cursor.execute(f"SELECT * FROM {quote(table)}{where} ORDER BY {quote(pk)}")
            rows = cursor.fetchall()
            out[label] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return out


def _diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return sorted(k for k in a if a[k] != b.get(k))


# --- The calls ------------------------------------------------------------------------------------------------


def _allowed_roles(rule: Any) -> list[str]:
    if rule in (PUBLIC, SIGNED_IN, OWN):
        return list(Role.values)
    return sorted(rule)


@dataclass
class Call:
    name: str
    method: str
    url: str
    data: Any
    api: bool

    def send(self, client: Client, worker: Any) -> Any:
        with worker():  # jobs the call starts are run, as a worker would, before the database is compared
            if not self.api:
                return client.post(self.url, self.data)
            if isinstance(self.data, dict) and "file" in self.data:
                return client.post(self.url, self.data)
            return client.generic(
                self.method, self.url, data=json.dumps(self.data), content_type="application/json"
            )


def _calls(c: Any) -> Iterator[tuple[Call, Owned, Any]]:
    for name, owned in PAGE_OWNED.items():
        method, kwargs, rule = PAGES[name]
        url = reverse(name, kwargs=(owned.kwargs or kwargs)(c))
        yield Call(name, "POST", url, owned.data, False), owned, rule
    for (method, template), owned in API_OWNED.items():
        params, _body, rule = API[(method, template)]
        url = template.format(**(owned.kwargs or params)(c))
        yield Call(f"{method} {template}", method, url, owned.data, True), owned, rule


def _said(response: Any) -> str:
    """What a response told the caller (its messages, or the error a form shows), for a failure's report."""
    import re

    told = [str(m) for m in get_messages(response.wsgi_request)]
    told += re.findall(
        r'class="(?:error|errors|flash error)[^"]*"[^>]*>([^<]+)', response.content.decode(errors="replace")
    )
    return "; ".join(told) or response.content.decode(errors="replace")[:200]


def _refused(call: Call, response: Any) -> bool:
    if response.status_code in (401, 403, 404, 422):
        return True
    if call.api and response.status_code == 202:  # the job it started was refused when it ran
        return getattr(response, "job_status", None) == "failed"
    if call.api or response.status_code >= 500:
        return False
    # A page that answers a refusal with a message and a redirect: no success message.
    return not any(m.level == SUCCESS for m in get_messages(response.wsgi_request))


class Users:
    def __init__(self, c: Any, make_user: Any) -> None:
        self.c, self.make_user = c, make_user
        self.clients: dict[tuple[str, str], Client] = {}
        self.nodes = {CITY: c.city, FT: c.fengtai, CP: c.changping}

    def client(self, role: str, where: str) -> Client:
        if (role, where) not in self.clients:
            client = Client(HTTP_ACCEPT_LANGUAGE="en")
            client.force_login(self.make_user(role, self.nodes[where]))
            self.clients[(role, where)] = client
        return self.clients[(role, where)]

    def owner(self, c: Any, owned: Owned) -> Client:
        if owned.owner == USER:
            client = Client(HTTP_ACCEPT_LANGUAGE="en")
            client.force_login(c.job.started_by)
            return client
        return self.client(owned.by, owned.owner)

    def outsiders(self, owned: Owned, rule: Any) -> list[tuple[str, str, Client]]:
        if (
            owned.owner == USER
        ):  # another user than the job's: of every other role at the city (an administrator
            # of the city sees every job), and administrators of a district (a level below the job's starter)
            others = [(role, CITY, self.client(role, CITY)) for role in _allowed_roles(rule) if role != ADM]
            return others + [(ADM, where, self.client(ADM, where)) for where in (FT, CP)]
        return [
            (role, where, self.client(role, where))
            for role in _allowed_roles(rule)
            for where in OUTSIDE[owned.owner]
        ]


def _try(call: Call, client: Client, worker: Any, c: Any, jobs: bool) -> tuple[Any, dict[str, Any]]:
    """Send the call in a savepoint; the response and the fingerprint as it left the database, rolled back."""
    client.cookies.pop("messages", None)  # only this call's messages count
    with transaction.atomic():
        data = call.data(c)
        response = Call(call.name, call.method, call.url, data, call.api).send(client, worker)
        if call.api and response.status_code == 202:  # a job started: how it ended, before the rollback
            from cordon.apps.jobs.models import Job

            response.job_status = Job.objects.get(pk=response.json()["id"]).status
        after = fingerprint(jobs)
        transaction.set_rollback(True)
    return response, after


def _column(kind: str, c: Any, make_user: Any, worker: Any) -> None:
    users = Users(c, make_user)
    plan = [
        (call, owned, rule, users.owner(c, owned), users.outsiders(owned, rule))
        for call, owned, rule in _calls(c)
        if call.api == (kind == "api")
    ]
    before = {jobs: fingerprint(jobs) for jobs in (True, False)}  # every user made and signed in
    problems, checked = [], 0
    for call, owned, _rule, owner, outsiders in plan:
        jobs = owned.owner == USER
        response, after = _try(call, owner, worker, c, jobs)
        if owned.changes and after == before[jobs]:
            problems.append(
                f"positive control: {owned.by} of {owned.owner} {call.name} changed nothing "
                f"({response.status_code}) {_said(response)}"
            )
        for role, where, client in outsiders:
            checked += 1
            response, after = _try(call, client, worker, c, jobs)
            if not _refused(call, response) or after != before[jobs]:
                problems.append(
                    f"{role} of {where} {call.name} ({owned.owner}'s): {response.status_code}, "
                    f"changed {_diff(before[jobs], after)}"
                )
    print(f"ownership column ({kind}): {len(plan)} writes, {checked} refused calls checked")
    assert not problems, "\n".join(problems)


def test_page_writes_refuse_the_wrong_owner_and_change_nothing(
    world: Any, make_user: Any, worker: Any
) -> None:
    _column("pages", world, make_user, worker)


def test_api_writes_refuse_the_wrong_owner_and_change_nothing(
    world: Any, make_user: Any, worker: Any
) -> None:
    _column("api", world, make_user, worker)
