"""Concurrent edits of shared records (optimistic concurrency, ``cordon.core.versions``).

The class of defect: two people edit one record at once and the last to submit silently wins. Every edit form
and API edit of a shared record is listed in ``EDITS``; each is run as: read (the version the editor sees), a
concurrent change by someone else, the stale submit (409 in the API with the current state, the conflict message
on the page; the database unchanged by it), then a fresh submit that passes. Beside it: every write path bumps
the version (bulk helpers, the placement hot path, a re-trace's refresh of known contacts), and two truly
simultaneous judgments of one contact on PostgreSQL end with exactly one winner.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, models
from django.test import Client
from django.utils import timezone, translation

from cordon.apps.audit import actions as audit
from cordon.apps.audit.models import AuditEntry
from cordon.apps.control import actions as control
from cordon.apps.control import selectors as control_selectors
from cordon.apps.control.models import ControlOrder, HealthRecord, QuarantinePlan, Room, RoomStatus
from cordon.apps.geo import selectors as geo_selectors
from cordon.apps.people import actions as people
from cordon.apps.people.forms import PersonForm
from cordon.apps.people.models import Person
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.actions.contacts import _update_contacts
from cordon.apps.tracing.models import Case, Contact, Decision, Investigation
from cordon.core.versions import Conflict, Versioned

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
CONFLICT = "Someone else changed this record while you were editing it"


class Ctx:
    """The city, the editors (a street officer and an investigator of Fengtai, a quarantine officer of the city)
    and a case of 张伟."""

    def __init__(self, city: Any, make_user: Any, client_for: Any) -> None:
        self.city = city
        self.officer = client_for(make_user("street_officer", city.fengtai))
        self.investigator = client_for(make_user("investigator", city.fengtai))
        self.quarantine = client_for(make_user("quarantine_officer", city.city))
        self.admin = client_for(make_user("administrator", city.city))
        self.case = tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=city.ft_person,
                onset_date=timezone.localdate() - dt.timedelta(days=1),
                sampled_at=timezone.now(),
                found_by="fever_clinic",
            ),
        )

    def contact(self, person: Any, degree: int = 1) -> Contact:
        return Contact.objects.create(
            case=self.case, person=person, degree=degree, contact_type="venue", jurisdiction=person.jurisdiction,
            district=geo_selectors.district_of(person.jurisdiction),
        )  # fmt: skip

    def order_at_home(self) -> ControlOrder:
        """李娜 confirmed as a secondary contact (her order opens) and quarantined at home (under control)."""
        c = self.contact(self.city.cp_person, degree=2)
        tracing.decide_contacts(actor=None, case=self.case, contact_ids=[c.pk], decision="confirmed")
        order = ControlOrder.objects.get(contact=c)
        control.place_at_home(actor=None, orders=[order])
        return ControlOrder.objects.get(pk=order.pk)

    def alert(self) -> HealthRecord:
        """A fever recorded today for a person at home: an open alert."""
        order = self.order_at_home()
        return control.record_health(actor=None, order=order, day=None, temperature="38.2")

    def room(self) -> Room:
        site = control.save_site(
            actor=None, data=control.SiteData(code="S-V1", name="酒店", jurisdiction=self.city.fengtai)
        )
        return control.add_rooms(actor=None, site=site, numbers="501")[0]


def _api(client: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    send = client.patch if method == "patch" else client.post
    return send(url, json.dumps(body), content_type="application/json", **EN)


def _person_form(person: Person, version: int, occupation: str) -> dict[str, Any]:
    initial = PersonForm.initial_of(person)
    form = {k: ("" if v is None else v) for k, v in initial.items()}
    return form | {"occupation": occupation, "version": version}


def _stored(record: models.Model) -> tuple[dict[str, Any], int]:
    """A versioned record's values and version as stored."""
    fresh = type(record)._default_manager.get(pk=record.pk)
    assert isinstance(fresh, Versioned)
    return audit.snapshot(fresh), fresh.version


def _plan_in_force(plan: QuarantinePlan) -> tuple[dict[str, Any], int]:
    """A plan is edited by putting a new version in force: the shared record is the plan in force."""
    now = QuarantinePlan.objects.get(profile=plan.profile, applies_to=plan.applies_to, in_force=True)
    return now.definition, now.version


def _close_plan() -> QuarantinePlan:
    return QuarantinePlan.objects.get(
        profile=control_selectors.profile_id(), applies_to="close", in_force=True
    )


def _days(plan: QuarantinePlan, days: int) -> dict[str, Any]:
    return {
        **plan.definition,
        "stages": [{"kind": "centralized", "days": days}],
        "tests": [{"stage": 1, "day": days}],
    }


@dataclass(frozen=True)
class Edit:
    """One edit of a shared record: ``record`` makes it, ``other`` is someone else's concurrent change (an
    action), ``submit`` is the editor's submit with the version they saw (``n`` tells two submits apart),
    ``client`` the editor's client (its name on ``Ctx``), ``state`` the record's values and version as stored."""

    name: str
    record: Callable[[Ctx], models.Model]
    other: Callable[[Ctx, Any], None]
    submit: Callable[[Ctx, Any, int, int], Any]
    api: bool
    client: str
    state: Callable[[Any], tuple[Any, int]] = _stored
    shows: str = ""  # what the page shows of the current state (default: the form's version, now the new one)


def _other_person(ctx: Ctx, p: Person) -> None:
    people.update_person(actor=None, person=Person.objects.get(pk=p.pk), changes={"phone": "13811119999"})


def _other_judgment(ctx: Ctx, c: Contact) -> None:
    tracing.decide_contacts(actor=None, case=ctx.case, contact_ids=[c.pk], decision="dismissed")


def _other_extension(ctx: Ctx, o: ControlOrder) -> None:
    control.extend(actor=None, order=ControlOrder.objects.get(pk=o.pk), days=2, reason="同住人阳性")


EDITS = [
    Edit(
        "person page",
        lambda ctx: ctx.city.ft_person,
        _other_person,
        lambda ctx, p, v, n: ctx.officer.post(
            f"/persons/{p.pk}/edit/", _person_form(Person.objects.get(pk=p.pk), v, f"厨师{n}"), **EN
        ),
        api=False,
        client="officer",
    ),
    Edit(
        "person API",
        lambda ctx: ctx.city.ft_person,
        _other_person,
        lambda ctx, p, v, n: _api(
            ctx.officer, "patch", f"/api/persons/{p.pk}", {"occupation": f"厨师{n}", "version": v}
        ),
        api=True,
        client="officer",
    ),
    Edit(
        "contact decision page",
        lambda ctx: ctx.contact(ctx.city.cp_person),
        _other_judgment,
        lambda ctx, c, v, n: ctx.investigator.post(
            f"/tracing/cases/{ctx.case.pk}/decide/",
            {"contact": [c.pk], "decision": "confirmed", f"v{c.pk}": v, "note": f"n{n}"},
            **EN,
        ),
        api=False,
        client="investigator",
    ),
    Edit(
        "contact decision API",
        lambda ctx: ctx.contact(ctx.city.cp_person),
        _other_judgment,
        lambda ctx, c, v, n: _api(
            ctx.investigator,
            "post",
            f"/api/cases/{ctx.case.pk}/contacts/decide",
            {"contacts": [c.pk], "decision": "confirmed", "versions": {str(c.pk): v}, "note": f"n{n}"},
        ),
        api=True,
        client="investigator",
    ),
    Edit(
        "investigation page",
        lambda ctx: Investigation.objects.get(case=ctx.case),
        lambda ctx, inv: tracing.update_investigation(actor=None, case=ctx.case, notes="另一位流调员的记录"),
        lambda ctx, inv, v, n: ctx.investigator.post(
            f"/tracing/cases/{ctx.case.pk}/investigation/", {"notes": f"问询{n}", "version": v}, **EN
        ),
        api=False,
        client="investigator",
    ),
    Edit(
        "order extension page",
        lambda ctx: ctx.order_at_home(),
        _other_extension,
        lambda ctx, o, v, n: ctx.quarantine.post(
            f"/control/orders/{o.pk}/extend/", {"days": "1", "reason": f"复核{n}", "version": v}, **EN
        ),
        api=False,
        client="quarantine",
    ),
    Edit(
        "order extension API",
        lambda ctx: ctx.order_at_home(),
        _other_extension,
        lambda ctx, o, v, n: _api(
            ctx.quarantine,
            "post",
            f"/api/control/orders/{o.pk}/extend",
            {"days": 1, "reason": f"复核{n}", "version": v},
        ),
        api=True,
        client="quarantine",
    ),
    Edit(
        "room status page",
        lambda ctx: ctx.room(),
        lambda ctx, r: control.set_room_status(actor=None, room=r, status=RoomStatus.OUT_OF_SERVICE),
        lambda ctx, r, v, n: ctx.quarantine.post(
            f"/control/rooms/{r.pk}/status/",
            {"status": RoomStatus.CLEANING if n == 1 else RoomStatus.AVAILABLE, "version": v},
            **EN,
        ),
        api=False,
        client="quarantine",
    ),
    Edit(
        "alert handling page",
        lambda ctx: ctx.alert(),
        lambda ctx, h: control.handle_alert(actor=None, record=h, handling="另一位同事已送发热门诊"),
        lambda ctx, h, v, n: ctx.quarantine.post(
            f"/control/health/{h.pk}/handle/", {"handling": f"已电话随访{n}", "version": v}, **EN
        ),
        api=False,
        client="quarantine",
        shows="另一位同事已送发热门诊",
    ),
    Edit(
        "plan edit page",
        lambda ctx: _close_plan(),
        lambda ctx, plan: control.save_plan_version(
            actor=None, applies_to="close", definition=_days(plan, 9), note="另一位管理员"
        ),
        lambda ctx, plan, v, n: ctx.admin.post(
            "/control/plans/close/edit/",
            {"definition": json.dumps(_days(plan, 5 + n)), "note": f"改{n}", "based_on": v},
            **EN,
        ),
        api=False,
        client="admin",
        state=_plan_in_force,
    ),
    Edit(
        "plan API",
        lambda ctx: _close_plan(),
        lambda ctx, plan: control.save_plan_version(
            actor=None, applies_to="close", definition=_days(plan, 9), note="另一位管理员"
        ),
        lambda ctx, plan, v, n: _api(
            ctx.admin,
            "post",
            "/api/control/plans",
            {"applies_to": "close", "definition": _days(plan, 5 + n), "note": f"改{n}", "based_on": v},
        ),
        api=True,
        client="admin",
        state=_plan_in_force,
    ),
]


def _state(edit: Edit, record: models.Model) -> tuple[Any, int, int]:
    """The record's values and version as stored, and the number of audit rows (a stale submit adds none)."""
    values, version = edit.state(record)
    return values, version, AuditEntry.objects.count()


@pytest.mark.parametrize("edit", EDITS, ids=[e.name for e in EDITS])
def test_a_stale_edit_is_refused_with_the_current_state_and_changes_nothing(
    edit: Edit, city: Any, make_user: Any, client_for: Any
) -> None:
    ctx = Ctx(city, make_user, client_for)
    record = edit.record(ctx)
    seen = edit.state(record)[1]  # the editor opens the form
    edit.other(ctx, record)  # someone else saves first
    before = _state(edit, record)
    assert before[1] > seen

    stale = edit.submit(ctx, record, seen, 1)
    if edit.api:
        assert stale.status_code == 409, stale.content
        body = stale.json()
        assert CONFLICT in body["detail"]
        assert list(body["versions"].values()) == [before[1]]
        current = body["current"][0] if isinstance(body["current"], list) else body["current"]
        assert current["version"] == before[1]
    else:
        assert stale.status_code in (302, 409), stale.content[:500]
        editor: Client = getattr(ctx, edit.client)
        page = stale if stale.status_code == 409 else editor.get(stale["Location"], **EN)
        text = page.content.decode()
        assert CONFLICT in text
        # The page shows the record as it is now: the form with the new version, or what the other one wrote.
        assert (edit.shows or f'value="{before[1]}"') in text
    assert _state(edit, record) == before  # the stale submit wrote nothing, not even an audit row

    fresh = edit.submit(ctx, record, before[1], 2)
    assert fresh.status_code in (200, 201, 302), fresh.content[:500]
    after = _state(edit, record)
    assert after[1] == before[1] + 1 and after[0] != before[0]


def test_a_page_form_without_its_version_is_refused_as_stale(
    city: Any, make_user: Any, client_for: Any
) -> None:
    """Pages require the version: an edit posted without it (an old tab, a hand-made post) overwrites nothing."""
    ctx = Ctx(city, make_user, client_for)
    contact = ctx.contact(city.cp_person)
    r = ctx.investigator.post(
        f"/tracing/cases/{ctx.case.pk}/decide/", {"contact": [contact.pk], "decision": "confirmed"}, **EN
    )
    assert CONFLICT in ctx.investigator.get(r["Location"], **EN).content.decode()
    assert Contact.objects.get(pk=contact.pk).status == Decision.CANDIDATE


def test_the_api_decision_without_versions_still_works_for_older_clients(
    city: Any, make_user: Any, client_for: Any
) -> None:
    ctx = Ctx(city, make_user, client_for)
    contact = ctx.contact(city.cp_person)
    url = f"/api/cases/{ctx.case.pk}/contacts/decide"
    r = _api(ctx.investigator, "post", url, {"contacts": [contact.pk], "decision": "confirmed"})
    assert r.status_code == 200 and r.json() == {"changed": 1}
    listed = ctx.investigator.get(f"/api/cases/{ctx.case.pk}/contacts").json()
    assert [(c["id"], c["status"], c["version"]) for c in listed] == [(contact.pk, "confirmed", 2)]


def test_a_bulk_decision_with_one_stale_contact_is_refused_whole(
    city: Any, make_user: Any, client_for: Any
) -> None:
    ctx = Ctx(city, make_user, client_for)
    a, b = ctx.contact(city.cp_person), ctx.contact(city.courier)
    _other_judgment(ctx, b)
    r = _api(
        ctx.investigator,
        "post",
        f"/api/cases/{ctx.case.pk}/contacts/decide",
        {"contacts": [a.pk, b.pk], "decision": "confirmed", "versions": {str(a.pk): 1, str(b.pk): 1}},
    )
    assert r.status_code == 409
    assert r.json()["versions"] == {str(b.pk): 2}
    assert sorted(c["id"] for c in r.json()["current"]) == sorted([a.pk, b.pk])
    assert Contact.objects.get(pk=a.pk).status == Decision.CANDIDATE
    assert Contact.objects.get(pk=b.pk).status == Decision.DISMISSED


def test_every_write_path_bumps_the_version(city: Any) -> None:
    """So a form read before a bulk or background write is found stale: ``change``, ``change_many``,
    ``change_each``, control's placement hot path, a re-trace's refresh of known contacts."""
    p1, p2 = Person.objects.get(pk=city.ft_person.pk), Person.objects.get(pk=city.ft_person2.pk)
    assert (p1.version, p2.version) == (1, 1)
    audit.change(None, p1, source="web", occupation="司机")
    audit.change_many(None, [p1, p2], source="web", workplace_name="车队")
    audit.change_each(None, [p1, p2], lambda p: {"work_unit": f"{p.pk}组"}, source="web")
    assert list(
        Person.objects.filter(pk__in=[p1.pk, p2.pk]).order_by("pk").values_list("version", flat=True)
    ) == [
        4,
        3,
    ]
    assert (p1.version, p2.version) == (4, 3)  # kept in step in memory too

    ctx_case = tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=city.ft_person,
            onset_date=timezone.localdate(),
            sampled_at=timezone.now(),
            found_by="fever_clinic",
        ),
    )
    contact = Contact.objects.create(
        case=ctx_case, person=city.cp_person, degree=2, contact_type="venue",
        jurisdiction=city.cp_person.jurisdiction, district=geo_selectors.district_of(city.cp_person.jurisdiction),
    )  # fmt: skip
    tracing.decide_contacts(actor=None, case=ctx_case, contact_ids=[contact.pk], decision="confirmed")
    assert Contact.objects.get(pk=contact.pk).version == 2
    order = ControlOrder.objects.get(contact=contact)
    seen = order.version
    control.place_at_home(actor=None, orders=[order])  # the placement path writes orders with one UPDATE
    assert ControlOrder.objects.get(pk=order.pk).version > seen
    # A re-trace refreshes the known contacts' figures with one UPDATE of its own.
    _update_contacts([(2, "household", None, 0.5, 30, 1, "[]", contact.pk)])
    refreshed = Contact.objects.get(pk=contact.pk)
    assert (refreshed.degree, refreshed.version) == (2, 3)


def test_the_version_is_neither_in_the_audit_values_nor_in_the_forms(city: Any) -> None:
    assert "version" not in audit.snapshot(city.ft_person)
    assert "version" in PersonForm.base_fields and PersonForm.base_fields["version"].widget.is_hidden


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="simultaneous writers need PostgreSQL")
def test_two_simultaneous_judgments_of_one_contact_end_with_exactly_one_winner(city: Any) -> None:
    """One investigator confirms while another dismisses, both from the same page: exactly one wins, the other
    is told the contact changed; the stored judgment is the winner's and the version went up once."""
    case = tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=city.ft_person,
            onset_date=timezone.localdate(),
            sampled_at=timezone.now(),
            found_by="fever_clinic",
        ),
    )
    contact = Contact.objects.create(
        case=case, person=city.cp_person, degree=1, contact_type="venue",
        jurisdiction=city.cp_person.jurisdiction, district=geo_selectors.district_of(city.cp_person.jurisdiction),
    )  # fmt: skip
    seen = contact.version
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def judge(decision: str) -> None:
        try:
            barrier.wait()
            with translation.override("en"):
                tracing.decide_contacts(
                    actor=None,
                    case=Case.objects.get(pk=case.pk),
                    contact_ids=[contact.pk],
                    decision=decision,
                    versions={contact.pk: seen},
                )
            outcomes[decision] = "won"
        except Conflict:
            outcomes[decision] = "conflict"
        finally:
            connection.close()

    threads = [threading.Thread(target=judge, args=(d,)) for d in ("confirmed", "dismissed")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["conflict", "won"], outcomes
    winner = next(d for d, o in outcomes.items() if o == "won")
    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.status, stored.version) == (winner, seen + 1)
    assert (
        AuditEntry.objects.filter(model="tracing.contact", object_pk=str(contact.pk), verb="update").count()
        == 1
    )


def test_the_api_documents_the_409_of_every_checked_edit(city: Any, make_user: Any, client_for: Any) -> None:
    schema = json.loads(client_for(make_user("administrator", city.city)).get("/api/openapi.json").content)
    checked = [
        ("/api/persons/{person_id}", "patch"),
        ("/api/cases/{case_id}/contacts/decide", "post"),
        ("/api/control/orders/{order_id}/extend", "post"),
        ("/api/control/plans", "post"),
    ]
    for path, method in checked:
        assert "409" in schema["paths"][path][method]["responses"], path
