"""Every write path of the tracing app runs under the audit watch (through the API or the pages where there is a
route, directly otherwise): reporting, the trajectory and the investigation, trace runs (new contacts with the
bulk writer, known contacts refreshed), judgment and cross-district handover, clusters, the scan store."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from django.utils import timezone

from architecture.audit_watch import WATCH as AUDIT_WATCH
from cordon.apps.audit.models import AuditEntry
from cordon.apps.tracing import actions
from cordon.apps.tracing.models import Case, Cluster, Contact, Investigation, Linkage, TrajectoryEntry
from cordon.apps.tracing.selectors import scan_store
from cordon.core import jobs

PREFIX = "cordon.apps.tracing.actions."
COVERS = {
    PREFIX + name
    for name in (
        "report_case",
        "set_imported",
        "update_investigation",
        "add_trajectory_entry",
        "delete_trajectory_entry",
        "autofill_trajectory",
        "trace_case",
        "trace_cases",
        "decide_contacts",
        "acknowledge_linkage",
        "create_cluster",
        "add_to_cluster",
        "merge_clusters",
        "ingest_scans",
        "purge_scans",
    )
}


def _ran(*names: str) -> None:
    for name in names:
        assert AUDIT_WATCH.seen[PREFIX + name], f"{name} did not run"


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _when(day: dt.date, hhmm: str) -> str:
    return f"{day} {hhmm}"


def _ingest(admin: Any, rows: list[tuple[Any, Any, str, str]]) -> dict[str, Any]:
    """Scans (person, venue, from, until) through the API, as a CSV file (loaded by a job)."""
    text = "person_id,venue_id,subarea,time_in,time_out\n" + "".join(
        f"{p.pk},{v.pk},,{a},{b}\n" for p, v, a, b in rows
    )
    upload = io.BytesIO(text.encode())
    upload.name = "scans.csv"
    r = admin.post("/api/scans", {"file": upload})
    assert r.status_code == 202, r.content
    jobs.execute(r.json()["id"])  # the job it queued, run here as a worker would
    job = admin.get(r.json()["url"]).json()
    assert job["status"] == "done", job["error"]
    return dict(job["result"])


def _report(client: Any, person: Any) -> dict[str, Any]:
    r = post(
        client,
        "/api/cases",
        {
            "person_id": person.pk,
            "onset_date": str(timezone.localdate() - dt.timedelta(days=1)),
            "sampled_at": timezone.now().replace(microsecond=0).isoformat(),
            "found_by": "fever_clinic",
        },
    )
    assert r.status_code == 201, r.content
    return dict(r.json())


def _audited(model: str, verb: str, pks: Any) -> dict[str, dict[str, Any]]:
    """The changes of each record's latest audit row of ``verb``, by primary key (as text)."""
    rows = AuditEntry.objects.filter(model=model, verb=verb, object_pk__in=[str(pk) for pk in pks]).order_by(
        "id"
    )
    return {r.object_pk: r.changes for r in rows}


def _world(city: Any, make_user: Any, client_for: Any) -> tuple[Any, Any, dict[str, Any], dt.date]:
    """Scans at the Fengtai hotel (the case 张伟; 李娜 and the courier 刘洋 of Changping at the same time),
    loaded through the API; the case reported by a Fengtai investigator."""
    admin = client_for(make_user("administrator", city.city))
    ft = client_for(make_user("investigator", city.fengtai))
    day = timezone.localdate() - dt.timedelta(days=1)
    hotel = city.ft_venue
    report = _ingest(
        admin,
        [
            (city.ft_person, hotel, _when(day, "08:00"), _when(day, "10:00")),
            (city.cp_person, hotel, _when(day, "08:30"), _when(day, "09:30")),
            (city.courier, hotel, _when(day, "09:00"), _when(day, "09:40")),
        ],
    )
    assert report["added"] == 3
    return admin, ft, _report(ft, city.ft_person), day


def test_reporting_the_trajectory_and_trace_runs_are_audited(
    city: Any, make_user: Any, client_for: Any, api_job: Any
) -> None:
    admin, ft, body, day = _world(city, make_user, client_for)
    case = Case.objects.get(pk=body["id"])
    inv = Investigation.objects.get(case=case)
    assert _audited("tracing.case", "create", [case.pk]) and _audited(
        "tracing.investigation", "create", [inv.pk]
    )

    # The trajectory: filled in from the case's scans (each entry audited, and the note), typed in, deleted.
    assert post(ft, f"/api/cases/{case.pk}/trajectory/autofill", {}).json() == {"added": 1}
    filled = TrajectoryEntry.objects.get(case=case, from_scan=True)
    assert _audited("tracing.trajectoryentry", "create", [filled.pk])
    noted = _audited("tracing.investigation", "update", [inv.pk])[str(inv.pk)]["notes"]
    assert noted[0] == "" and noted[1] == Investigation.objects.get(pk=inv.pk).notes != ""
    trip = {
        "kind": "transport",
        "place": "地铁9号线",
        "time_in": f"{day}T07:00:00+08:00",
        "time_out": f"{day}T07:40:00+08:00",
    }
    r = post(ft, f"/api/cases/{case.pk}/trajectory", trip)
    assert r.status_code == 201, r.content
    entry_id = r.json()["id"]
    actions.delete_trajectory_entry(actor=None, entry=TrajectoryEntry.objects.get(pk=entry_id))
    assert not TrajectoryEntry.objects.filter(pk=entry_id).exists()
    assert _audited("tracing.trajectoryentry", "delete", [entry_id])

    # The investigation through its page.
    inv.refresh_from_db()  # the version the case page shows now (the autofill above wrote the notes)
    form = {"notes": "问询完毕", "action": "complete", "version": inv.version}
    r = ft.post(f"/tracing/cases/{case.pk}/investigation/", form)
    assert r.status_code == 302
    inv.refresh_from_db()
    assert inv.notes == "问询完毕" and inv.completed_at is not None

    # The imported flag through its page and the API: each change audited with its values.
    assert ft.post(f"/tracing/cases/{case.pk}/imported/", {"imported": "on"}).status_code == 302
    assert _audited("tracing.case", "update", [case.pk])[str(case.pk)]["imported"] == [False, True]
    assert post(ft, f"/api/cases/{case.pk}/imported", {"imported": False}).json()["imported"] is False
    case.refresh_from_db()
    assert case.imported is False

    # The first trace: every new contact written with the bulk writer has its audit row, with its values.
    traced = api_job(ft, f"/api/cases/{case.pk}/trace")["result"]  # a job, run as a worker would
    contacts = {c.person_id: c for c in Contact.objects.filter(case=case)}
    assert traced["added"] == len(contacts) == 3  # 王芳 (household), 李娜 and 刘洋 (the hotel)
    created = _audited("tracing.contact", "create", [c.pk for c in contacts.values()])
    assert len(created) == 3
    lina = contacts[city.cp_person.pk]
    assert created[str(lina.pk)]["person_id"] == [None, city.cp_person.pk]
    assert created[str(lina.pk)]["status"] == [None, "candidate"]
    assert created[str(lina.pk)]["evidence"] == [None, lina.evidence]
    assert "traced_at" in _audited("tracing.case", "update", [case.pk])[str(case.pk)]

    # A re-trace with nothing new writes no contact; new scans refresh the contacts they change (audited).
    before = AuditEntry.objects.filter(model="tracing.contact").count()
    assert ft.post(f"/tracing/cases/{case.pk}/trace/").status_code == 302
    assert AuditEntry.objects.filter(model="tracing.contact").count() == before
    _ingest(admin, [(city.cp_person, city.ft_venue, _when(day, "09:35"), _when(day, "09:55"))])
    again = api_job(ft, f"/api/cases/{case.pk}/trace")["result"]
    assert again["added"] == 0 and again["updated"] == 3
    updated = _audited("tracing.contact", "update", [lina.pk])[str(lina.pk)]
    assert updated["shared_stays"] == [1, 2]
    lina.refresh_from_db()
    assert lina.shared_stays == 2 and len(lina.evidence) == 2 and updated["evidence"][1] == lina.evidence

    # A batch of cases traced at once; then the store purged.
    (result,) = actions.trace_cases(actor=None, cases=[case])
    assert result.added == 0 and result.total == 3
    purged = actions.purge_scans(actor=None, keep_days=1, today=timezone.localdate() + dt.timedelta(days=30))
    assert purged.dates and scan_store().count() == 0
    _ran(
        "ingest_scans",
        "report_case",
        "set_imported",
        "autofill_trajectory",
        "add_trajectory_entry",
        "delete_trajectory_entry",
        "update_investigation",
        "trace_case",
        "trace_cases",
        "purge_scans",
    )


def test_judgment_and_handover_are_audited(city: Any, make_user: Any, client_for: Any, api_job: Any) -> None:
    _admin, ft, body, _day = _world(city, make_user, client_for)
    cp = client_for(make_user("investigator", city.changping))
    api_job(ft, f"/api/cases/{body['id']}/trace")
    lina = Contact.objects.get(case_id=body["id"], person=city.cp_person)
    courier = Contact.objects.get(case_id=body["id"], person=city.courier)
    url = f"/api/cases/{body['id']}/contacts/decide"

    # Confirmed contacts of Changping go to Changping's inbox; each decision and handover audited.
    assert post(ft, url, {"contacts": [lina.pk, courier.pk], "decision": "confirmed"}).json() == {
        "changed": 2
    }
    assert len(_audited("tracing.contact", "update", [lina.pk, courier.pk])) == 2
    links = {link.contact_id: link for link in Linkage.objects.filter(contact__in=[lina, courier])}
    assert len(_audited("tracing.linkage", "create", [link.pk for link in links.values()])) == 2
    r = post(cp, f"/api/linkage/{links[lina.pk].pk}/acknowledge", {})
    assert r.status_code == 200 and r.json()["acknowledged_at"]
    assert (
        "acknowledged_at"
        in _audited("tracing.linkage", "update", [links[lina.pk].pk])[str(links[lina.pk].pk)]
    )

    # Dismissed: the handover not yet acknowledged is taken back (audited as a delete).
    assert post(ft, url, {"contacts": [courier.pk], "decision": "dismissed"}).json() == {"changed": 1}
    assert not Linkage.objects.filter(contact=courier).exists()
    assert _audited("tracing.linkage", "delete", [links[courier.pk].pk])
    _ran("decide_contacts", "acknowledge_linkage")


def test_clusters_are_audited(city: Any, make_user: Any, client_for: Any) -> None:
    admin = client_for(make_user("administrator", city.city))
    codes = [
        _report(admin, p)["code"] for p in (city.ft_person, city.cp_person, city.courier, city.ft_person2)
    ]
    made = []
    for name, code in zip(("甲", "乙", "丙"), codes, strict=False):
        r = post(admin, "/api/clusters", {"name": name, "cases": [code]})
        assert r.status_code == 201, r.content
        made.append(r.json()["code"])
    a, b, c = made
    assert len(_audited("tracing.cluster", "create", Cluster.objects.values_list("pk", flat=True))) == 3

    # 丙 into 乙, then 乙 into 甲: 丙, merged into 乙 before, now points at 甲 too (audited).
    assert post(admin, f"/api/clusters/{b}/merge", {"clusters": [c]}).json()["cases"] == 2
    assert post(admin, f"/api/clusters/{a}/merge", {"clusters": [b]}).json()["cases"] == 3
    target, third = Cluster.objects.get(code=a), Cluster.objects.get(code=c)
    assert third.merged_into == target
    assert _audited("tracing.cluster", "update", [third.pk])[str(third.pk)]["merged_into_id"][1] == target.pk

    # A fourth case added to it.
    r = post(admin, f"/api/clusters/{a}/cases", {"cases": [codes[3]]})
    assert r.json()["cases"] == 4
    fourth = Case.objects.get(code=codes[3])
    assert _audited("tracing.case", "update", [fourth.pk])[str(fourth.pk)]["cluster_id"] == [None, target.pk]
    _ran("create_cluster", "add_to_cluster", "merge_clusters")
