"""One rule for the exposure window's edges in every path: only the part of a case's stay inside its window
counts, and every path reads other people's scans back far enough (the window's start less the margin and the
longest stay the store keeps). The web path (``trace_case``), the batch path (``trace_cases``) and
``cordon trace`` run on the same store and must find the same pairs, minutes and evidence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cordon import cli
from cordon.apps.people import actions as people
from cordon.apps.tracing import actions
from cordon.apps.tracing.models import Case, Contact
from cordon.apps.tracing.store import local_naive, scan_store, to_minutes
from cordon.apps.venues.models import HUB_TYPES, Venue
from cordon.engine import identity
from cordon.engine.scanstore import MAX_STAY_HOURS

MAX_STAY = MAX_STAY_HOURS * 60


def _persons(city: Any, n: int) -> list[Any]:
    """Persons with no household or work unit: every contact between them comes from co-presence."""
    return [
        people.create_person(
            actor=None,
            data=people.PersonData(
                name=f"测试{i}",
                national_id=identity.make("110106", dt.date(1970 + i, 1, 1), 700 + i),
                home_building=city.ft_building,
            ),
        )
        for i in range(n)
    ]


def _scans(rows: list[tuple[Any, ...]]) -> pa.Table:
    """Scans from (person, venue, time in, time out) or (person, venue, sub-area, time in, time out)."""
    rows = [r if len(r) == 5 else (r[0], r[1], None, r[2], r[3]) for r in rows]
    return pa.table({
        "person_id": pa.array([r[0] for r in rows], pa.int64()),
        "venue_id": pa.array([r[1] for r in rows], pa.int64()),
        "subarea": pa.array([r[2] for r in rows], pa.int16()),
        "time_in": pa.array([r[3] for r in rows], pa.timestamp("ms")),
        "time_out": pa.array([r[4] for r in rows], pa.timestamp("ms")),
    })  # fmt: skip


def _report(person: Any, window_start: dt.datetime, window_days: float) -> Case:
    """An asymptomatic case whose window starts at ``window_start`` (the sample, 4 days later) and ends with
    its isolation ``window_days`` after the start."""
    sampled = window_start + dt.timedelta(days=4)
    return actions.report_case(
        actor=None,
        data=actions.CaseData(
            person=person, classification="asymptomatic", sampled_at=sampled, found_by="fever_clinic",
            reported_at=sampled, control="isolation", isolated_at=window_start + dt.timedelta(days=window_days),
        ),
    )  # fmt: skip


def _minutes_of(text: str) -> int:
    return to_minutes(dt.datetime.fromisoformat(text))


def _db_contacts(case: Case) -> dict[int, tuple[Any, ...]]:
    """The case's contacts as written: type, degree, minutes together, stays shared, score, evidence."""
    out = {}
    for c in Contact.objects.filter(case=case):
        ev = sorted(
            (e["type"], e["venue"], _minutes_of(e["case_in"]), _minutes_of(e["case_out"]),
             _minutes_of(e["contact_in"]), _minutes_of(e["contact_out"]), e["overlap_minutes"])
            for e in c.evidence
        )  # fmt: skip
        out[c.person_id] = (
            c.contact_type,
            c.degree,
            c.overlap_minutes,
            c.shared_stays,
            round(c.score, 4),
            ev,
        )
    return out


def _cli_contacts(case: Case, margin: int, tmp: Path) -> dict[int, tuple[Any, ...]]:
    """``cordon trace`` on the store folder, the case's window given, as :func:`_db_contacts` reads."""
    start, end = (local_naive(t) for t in (case.window_start, case.window_end))
    cases, venues = tmp / "cases.parquet", tmp / "venues.parquet"
    pq.write_table(pa.table({
        "case_id": [case.pk], "person_id": [case.person_id],
        "window_start": pa.array([start], pa.timestamp("ms")), "window_end": pa.array([end], pa.timestamp("ms")),
    }), cases)  # fmt: skip
    rows = list(Venue.objects.values_list("pk", "venue_type"))
    pq.write_table(
        pa.table({"venue_id": [r[0] for r in rows], "hub": [r[1] in HUB_TYPES for r in rows]}), venues
    )
    out, evidence = tmp / "pairs.parquet", tmp / "evidence.parquet"
    code = cli.main(["trace", "--scans", str(scan_store().root), "--cases", str(cases), "--venues", str(venues),
                     "--margin", str(margin), "--out", str(out), "--evidence", str(evidence)])  # fmt: skip
    assert code == 0
    stays: dict[int, list[tuple[Any, ...]]] = {}
    for e in pq.read_table(evidence).to_pylist():
        stays.setdefault(e["contact_id"], []).append(
            (e["contact_type"], e["venue_id"], e["case_in"], e["case_out"], e["contact_in"], e["contact_out"],
             e["overlap_minutes"])
        )  # fmt: skip
    return {
        p["contact_id"]: (
            p["contact_type"],
            p["degree"],
            p["total_overlap_minutes"],
            p["shared_stays"],
            round(p["score"], 4),
            sorted(stays[p["contact_id"]]),
        )
        for p in pq.read_table(out).to_pylist()
    }


def _every_path(case: Case, margin: int, tmp: Path, settings_: Any) -> dict[str, dict[int, tuple[Any, ...]]]:
    """The case traced by the web path, the batch path and the command line."""
    settings_.CORDON_TRACE_MARGIN_MINUTES = margin
    actions.trace_case(actor=None, case=case)
    case.refresh_from_db()
    web = _db_contacts(case)
    Contact.objects.filter(case=case).delete()
    actions.trace_cases(actor=None, cases=[case])
    batch = _db_contacts(case)
    return {"web": web, "batch": batch, "cli": _cli_contacts(case, margin, tmp)}


def _same(found: dict[str, dict[int, tuple[Any, ...]]]) -> None:
    """Every path found the same pairs, minutes and evidence (the web and batch paths keep the longest
    EVIDENCE_PER_CONTACT stays of a pair: beyond that, only their minutes are compared)."""
    web, batch, cli_ = found["web"], found["batch"], found["cli"]
    assert web == batch
    assert web.keys() == cli_.keys()
    for person, (*head, ev) in web.items():
        *cli_head, cli_ev = cli_[person]
        assert head == cli_head, person
        if len(cli_ev) <= actions.EVIDENCE_PER_CONTACT:
            assert ev == cli_ev, person
        else:
            longest = sorted((e[-1] for e in cli_ev), reverse=True)[: actions.EVIDENCE_PER_CONTACT]
            assert sorted((e[-1] for e in ev), reverse=True) == longest, person


def test_a_case_stay_across_the_window_start_counts_only_inside_the_window(
    city: Any, tmp_path: Path, settings: Any
) -> None:
    """The case was at the hotel from two hours before its window until an hour into it. Someone who left an
    hour before the window started is no contact (in any path); someone there across the start shares the 30
    minutes inside the window, not the 90 of the whole stay (score (1 - exp(-30 / 30)) * 0.7, sub-areas not known)."""
    case_p, before, across = _persons(city, 3)
    start = local_naive(timezone.now()).replace(second=0, microsecond=0) - dt.timedelta(days=6)
    hotel = city.ft_venue.pk
    minute = dt.timedelta(minutes=1)
    scan_store().ingest(_scans([
        (case_p.pk, hotel, start - 120 * minute, start + 60 * minute),
        (before.pk, hotel, start - 180 * minute, start - 60 * minute),
        (across.pk, hotel, start - 60 * minute, start + 30 * minute),
    ]))  # fmt: skip
    case = _report(case_p, timezone.make_aware(start), 2)
    found = _every_path(case, 0, tmp_path, settings)
    _same(found)
    w = to_minutes(timezone.make_aware(start))
    assert found["web"] == {
        across.pk: ("venue", 1, 30, 1, 0.4425, [("venue", hotel, w, w + 60, w - 60, w + 30, 30)]),
    }


def test_a_day_long_stay_that_began_two_days_before_the_window_is_read(
    city: Any, tmp_path: Path, settings: Any
) -> None:
    """The window starts ten minutes after midnight and the margin is 30 minutes: a contact whose 24-hour stay
    began at 23:50 two days before (and left 20 minutes before the window, within the margin) is found by
    every path, though its scan lies in a partition two days before the window's."""
    case_p, long_stay = _persons(city, 2)
    day = timezone.localdate() - dt.timedelta(days=6)
    start = dt.datetime.combine(day, dt.time(0, 10))
    hotel = city.ft_venue.pk
    scan_store().ingest(_scans([
        (case_p.pk, hotel, start - dt.timedelta(minutes=70), start + dt.timedelta(minutes=50)),
        (long_stay.pk, hotel, start - dt.timedelta(hours=24, minutes=20), start - dt.timedelta(minutes=20)),
    ]))  # fmt: skip
    case = _report(case_p, timezone.make_aware(start), 1)
    found = _every_path(case, 30, tmp_path, settings)
    _same(found)
    assert set(found["cli"]) == {long_stay.pk}


# --- the property: random stores, the three paths agree --------------------------------------------------------


@st.composite
def _stays(draw: Any, n_persons: int) -> list[tuple[int, int, int | None, str, int, int]]:
    """Stays (person, venue, sub-area, edge, minutes from the edge, length) near the window's start and end
    and a midnight inside the window, from 0 minutes to the longest the store keeps."""
    return [
        (
            draw(st.integers(0, n_persons - 1)),
            draw(st.integers(0, 2)),
            draw(st.sampled_from([None, 0, 1])),
            draw(st.sampled_from(["start", "end", "midnight"])),
            draw(st.integers(-MAX_STAY - 120, 240)),
            draw(st.one_of(st.integers(0, 180), st.integers(MAX_STAY - 240, MAX_STAY))),
        )
        for _ in range(draw(st.integers(1, 14)))
    ]


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    start_minute=st.integers(0, 1439),
    window_minutes=st.integers(60, 3 * 1440),
    margin=st.sampled_from([0, 15, 90]),
)
def test_web_batch_and_cli_find_the_same_contacts(
    city: Any, tmp_path_factory: Any, settings: Any, data: Any, start_minute: int, window_minutes: int,
    margin: int,
) -> None:  # fmt: skip
    """On a random store (stays across midnight, across date partitions and both window edges, up to the
    longest stay the store keeps, at a hub, an ordinary venue and one with sub-areas), the three paths find
    the same contacts."""
    from cordon.apps.venues import actions as venue_actions

    tmp = tmp_path_factory.mktemp("edges")
    settings.CORDON_SCAN_DIR = tmp / "scans"
    day = timezone.localdate() - dt.timedelta(days=8)
    start = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=start_minute)
    edges = {
        "start": start,
        "end": start + dt.timedelta(minutes=window_minutes),
        "midnight": dt.datetime.combine(day + dt.timedelta(days=1), dt.time()),
    }
    with transaction.atomic():
        persons = _persons(city, 5)
        station = venue_actions.create_venue(
            actor=None,
            data=venue_actions.VenueData(
                code="V-EDGE-METRO", name="边界地铁站", venue_type="transit", building=city.ft_building,
                sub_areas=["A口", "B口"],
            ),
        )  # fmt: skip
        venues = [city.ft_venue.pk, city.cp_venue.pk, station.pk]
        rows = []
        for person, venue, sub, edge, at, length in data.draw(_stays(len(persons))):
            t_in = edges[edge] + dt.timedelta(minutes=at)
            rows.append((persons[person].pk, venues[venue], None if venue == 0 else sub, t_in,
                         t_in + dt.timedelta(minutes=length)))  # fmt: skip
        report = scan_store().ingest(_scans(rows))
        assert report.rejected_total == 0
        case = _report(persons[0], timezone.make_aware(start), window_minutes / 1440)
        _same(_every_path(case, margin, tmp, settings))
        transaction.set_rollback(True)


def test_a_stay_longer_than_the_longest_is_refused_with_a_row_error_in_both_languages(
    city: Any, make_user: Any, client_for: Any, worker: Any
) -> None:
    """The store keeps stays of at most MAX_STAY_HOURS; a longer one is skipped, counted and shown by row, in
    the page's language: the loading job's result, and the batch list of the scans page."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    admin = client_for(make_user("administrator", city.city))
    t = dt.datetime.combine(timezone.localdate() - dt.timedelta(days=3), dt.time(8))
    rows = [t + dt.timedelta(hours=MAX_STAY_HOURS), t + dt.timedelta(hours=MAX_STAY_HOURS, minutes=1)]
    text = "person_id,venue_id,time_in,time_out\n" + "".join(
        f"{city.ft_person.pk},{city.ft_venue.pk},{t:%Y-%m-%d %H:%M},{out:%Y-%m-%d %H:%M}\n" for out in rows
    )
    for lang, reason in (
        (
            "en",
            f"stay longer than {MAX_STAY_HOURS} hours, the longest the scan store keeps (split longer stays)",
        ),
        ("zh-hans", f"停留超过 {MAX_STAY_HOURS} 小时，超过扫码库保存的最长停留（请拆分为较短的停留）"),
    ):
        admin.cookies["django_language"] = lang
        upload = SimpleUploadedFile(f"scans-{lang}.csv", text.encode(), content_type="text/csv")
        with worker():
            response = admin.post("/tracing/scans/", {"file": upload})
        page = admin.get(response["Location"]).content.decode()
        assert f"{reason}: 1" in page  # counted by reason
        assert f"3 ({reason})" in page  # the row: line 3 of the file
        assert f"{reason}: 1" in admin.get("/tracing/scans/").content.decode()  # and in the list of batches
    assert scan_store().count() == 1


def test_cordon_trace_refuses_a_folder_with_a_stay_longer_than_the_longest(
    tmp_path: Path, capsys: Any
) -> None:
    """A folder not written by ingestion may hold longer stays, which could begin before the first day read:
    ``cordon trace`` refuses it rather than give contacts that depend on what it read."""
    t = dt.datetime(2026, 11, 20, 8)
    folder = tmp_path / "scans" / "date=2026-11-20"
    folder.mkdir(parents=True)
    pq.write_table(_scans([(1, 5, t, t + dt.timedelta(hours=MAX_STAY_HOURS, minutes=1)), (2, 5, t, t)]),
                   folder / "part-0.parquet")  # fmt: skip
    cases = tmp_path / "cases.csv"
    cases.write_text("person_id,window_start,window_end\n1,2026-11-20 09:00:00,2026-11-21 09:00:00\n")
    out = tmp_path / "pairs.csv"
    code = cli.main(["trace", "--scans", str(tmp_path / "scans"), "--cases", str(cases), "--out", str(out)])
    assert code == 2 and not out.exists()
    assert f"1 scans last longer than {MAX_STAY_HOURS} hours" in capsys.readouterr().err
