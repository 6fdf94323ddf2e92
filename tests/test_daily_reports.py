"""The daily situation report (apps/command): the page and the PDF show the same figures (the PDF's text read
back with pypdf), a district's report holds its district only and another district's report is not found, a
past report shows the same numbers after new cases arrive (and is not made again), a past day without a report
is computed as of its end, and the clock makes the reports of the city and each district once a day."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader

from cordon.apps.command import hooks, pdf
from cordon.apps.command.models import DailyReport
from cordon.apps.jobs.models import Job
from cordon.apps.tracing.models import Case
from cordon.core import jobs as core_jobs
from test_command import _at, outbreak  # noqa: F401  (outbreak: a fixture, cases over three weeks)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(outbreak: list[Case]) -> list[Case]:  # noqa: F811  (test_command's fixture, imported above)
    """test_command's cases over the last three weeks in both districts, a cluster growing this week."""
    return outbreak


def _make(client: Any, worker: Any, area: str, day: dt.date) -> DailyReport:
    with worker():
        r = client.post("/command/reports/make/", {"area": area, "day": day.isoformat()})
    assert r.status_code == 302 and r["Location"].startswith("/jobs/"), r
    job = Job.objects.get(pk=int(r["Location"].split("/")[2]))
    assert job.status == Job.Status.DONE, job.error
    return DailyReport.objects.get(pk=job.result["report"])


def _page_figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'<dd data-figure="([a-z_0-9]+)">([^<]*)</dd>', html))


def _pdf_text(content: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).replace("\x00", "")


def _cases(path: str, until: dt.datetime) -> list[Case]:
    return list(Case.objects.filter(jurisdiction__path__startswith=path, reported_at__lt=until))


def test_the_page_and_the_pdf_show_the_same_figures(
    city: Any, make_user: Any, client_for: Any, worker: Any, cases: list[Case]
) -> None:
    user = make_user("city_commander", city.city)
    client = client_for(user)
    today = timezone.localdate()
    report = _make(client, worker, city.city.code, today)
    f = report.figures
    # The headline is a recount of the cases.
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    new = [c for c in cases if c.reported_at >= start]
    assert f["headline"]["new"] == len(new) == f["curve"]["community"][-1] + f["curve"]["control"][-1]
    assert f["headline"]["community"] == sum(c.control == "community" for c in new)
    assert f["headline"]["cumulative"] == len(cases)
    assert f["pending"] is not None and not f["reconstructed"]
    rows = [row for s in pdf.sections(f) for row in s.rows]
    page = client.get(f"/command/reports/{report.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _page_figures(page) == {row.key: row.value for row in rows}
    text = _pdf_text(client.get(f"/command/reports/{report.pk}/pdf/").content)
    lines = text.splitlines()
    for row in rows:  # each printed row: the Chinese label, the English one and the value on one line
        assert any(row.en in line and line.rstrip().endswith(row.value) for line in lines), (row, text)
    assert "疫情防控日报" in text and "daily situation report" in text
    assert "北宫聚集" in text  # the growing cluster
    # The list shows it; the API gives the same stored figures.
    assert f'data-report="{report.pk}"' in client.get("/command/reports/").content.decode()
    assert client.get(f"/api/command/reports/{report.pk}").json()["figures"] == f


def test_a_district_report_holds_its_district_only(
    city: Any, make_user: Any, client_for: Any, worker: Any, cases: list[Case]
) -> None:
    ft_user, cp_user = (
        make_user("district_commander", city.fengtai),
        make_user("district_commander", city.changping),
    )
    ft, cp = client_for(ft_user), client_for(cp_user)
    city_client = client_for(make_user("city_commander", city.city))
    today = timezone.localdate()
    ft_report = _make(ft, worker, "", today)
    cp_report = _make(cp, worker, city.changping.code, today)
    city_report = _make(city_client, worker, city.city.code, today)
    assert ft_report.jurisdiction == city.fengtai
    now = timezone.now()
    assert ft_report.figures["headline"]["cumulative"] == len(_cases(city.fengtai.path, now))
    assert cp_report.figures["headline"]["cumulative"] == len(_cases(city.changping.path, now))
    assert (
        ft_report.figures["headline"]["cumulative"] + cp_report.figures["headline"]["cumulative"]
        == city_report.figures["headline"]["cumulative"]
    )
    ft_cases = {c.pk for c in _cases(city.fengtai.path, now)}
    in_cluster = Case.objects.filter(cluster__name="北宫聚集")
    assert [c["last_7"] for c in ft_report.figures["clusters"]] == [
        in_cluster.filter(pk__in=ft_cases).count()
    ]
    # Another district's report and the city's are not found, on the page, the PDF and the API.
    for other in (cp_report, city_report):
        assert ft.get(f"/command/reports/{other.pk}/").status_code == 404
        assert ft.get(f"/command/reports/{other.pk}/pdf/").status_code == 404
        assert ft.get(f"/api/command/reports/{other.pk}").status_code == 404
    assert [r["id"] for r in ft.get("/api/command/reports").json()] == [ft_report.pk]
    listed = ft.get("/command/reports/").content.decode()
    assert f'data-report="{ft_report.pk}"' in listed and f'data-report="{cp_report.pk}"' not in listed
    # A district cannot ask for the city's report or another district's.
    assert ft.post("/api/command/reports", {"area": city.city.code, "day": today.isoformat()},
                   content_type="application/json").status_code == 404  # fmt: skip
    assert ft.post("/api/command/reports", {"area": city.changping.code, "day": today.isoformat()},
                   content_type="application/json").status_code == 404  # fmt: skip
    assert DailyReport.objects.count() == 3


def test_a_past_report_keeps_its_numbers_and_a_missing_day_is_computed_as_of_its_end(
    city: Any, make_user: Any, client_for: Any, worker: Any, cases: list[Case], settings: Any
) -> None:
    user = make_user("city_commander", city.city)
    client = client_for(user)
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    settings.CORDON_DAILY_REPORT_HOUR = 0
    made = hooks.make_due_reports()
    stored = next(r for r in made if r.jurisdiction == city.city)
    before = dict(stored.figures)
    first_pdf = _pdf_text(client.get(f"/command/reports/{stored.pk}/pdf/").content)
    # New data: a late case reported today, not in yesterday's report.
    _late_case(city, _at(today, 0) + (timezone.now() - _at(today, 0)) / 2)
    core_jobs.discard_file(stored.file)  # the kept PDF lost: drawn again from the stored figures
    stored.refresh_from_db()
    assert stored.figures == before
    again = _pdf_text(client.get(f"/command/reports/{stored.pk}/pdf/").content)
    numbers = [line for line in first_pdf.splitlines() if "Made" not in line]
    assert numbers == [line for line in again.splitlines() if "Made" not in line]
    assert client.get(f"/api/command/reports/{stored.pk}").json()["figures"] == before
    # A past day that has its report is not made again.
    r = client.post("/api/command/reports", {"area": city.city.code, "day": yesterday.isoformat()},
                    content_type="application/json")  # fmt: skip
    assert r.status_code == 422
    # A past day without one is computed as of its end: the cases reported before it, no open work kept.
    old = today - dt.timedelta(days=4)
    report = _make(client, worker, city.city.code, old)
    end = timezone.make_aware(dt.datetime.combine(old + dt.timedelta(days=1), dt.time.min))
    assert report.figures["headline"]["cumulative"] == len(_cases(city.city.path, end))
    assert report.figures["curve"]["dates"][-1] == old.isoformat()
    assert report.figures["reconstructed"] and report.figures["pending"] is None
    page = client.get(f"/command/reports/{report.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="report-reconstructed"' in page
    assert "补做" in _pdf_text(client.get(f"/command/reports/{report.pk}/pdf/").content)


def _late_case(city: Any, reported: dt.datetime) -> Case:
    from cordon.apps.people import actions as people_actions
    from cordon.apps.tracing import actions as tracing
    from cordon.engine import identity

    person = people_actions.create_person(
        actor=None,
        data=people_actions.PersonData(
            name="晚报病例", national_id=identity.make("110106", dt.date(1990, 1, 1), 901), phone="13900000901",
            home_building=city.ft_building,
        ),
    )  # fmt: skip
    return tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=person, onset_date=None, sampled_at=reported - dt.timedelta(hours=2), reported_at=reported,
            found_by="fever_clinic", classification="asymptomatic", control="community", code="C-LATE",
        ),
    )  # fmt: skip


def test_the_clock_makes_each_areas_report_once_a_day(city: Any, cases: list[Case], settings: Any) -> None:
    settings.CORDON_DAILY_REPORT_HOUR = 7
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    assert hooks.make_due_reports(dt.datetime.combine(today, dt.time(6, 59), tzinfo=tz)) == []
    at = dt.datetime.combine(today, dt.time(7, 5), tzinfo=tz)
    made = hooks.make_due_reports(at)
    yesterday = today - dt.timedelta(days=1)
    assert {(r.jurisdiction.code, r.day) for r in made} == {
        (city.city.code, yesterday), (city.fengtai.code, yesterday), (city.changping.code, yesterday),
    }  # fmt: skip
    assert all(r.scheduled and r.generated_by is None and r.file for r in made)
    assert hooks.make_due_reports(at + dt.timedelta(hours=3)) == []
    assert DailyReport.objects.filter(scheduled=True).count() == 3
    # Yesterday's figures: the cases reported before today.
    start = dt.datetime.combine(today, dt.time.min, tzinfo=tz)
    city_report = next(r for r in made if r.jurisdiction == city.city)
    assert city_report.figures["headline"]["cumulative"] == len(_cases(city.city.path, start))
