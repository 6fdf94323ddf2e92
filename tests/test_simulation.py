"""Simulator runs from the browser and the API: started as a background job, run by a worker to the same numbers
as the engine and ``cordon sim run`` give for the same scenario and seed, cancelled between days, failing with a
reason, bounded in size, seen only within the starter's territory, compared side by side; in both languages."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from django.utils.translation import override

from cordon import cli
from cordon.apps.jobs import run as job_run
from cordon.apps.jobs.models import Job
from cordon.apps.simulation.models import SimulationRun
from cordon.core import jobs
from cordon.core.jobs import JobCancelled
from cordon.engine import zones
from cordon.engine.sim.strategy import Scenario, Strategy, outcome

pytestmark = pytest.mark.django_db

FORM = {
    "title": "Basic response",
    "preset": "demo",
    "population": "3000",
    "days": "20",
    "seed": "7",
    "profile": "covid19-omicron",
    "isolate_cases": "on",
    "isolation_days": "14",
    "quarantine_contacts": "on",
    "quarantine_days": "7",
    "lockdown_level": "4",
    "screening_every": "3",
    "screening_from": "7",
    "pool_size": "10",
}
SCENARIO = Scenario(
    preset="demo", population=3000, days=20, seed=7,
    strategy=Strategy(
        isolate_cases=True, isolation_days=14, quarantine_contacts=True,
        # the form names the zone rules in force as the zones app stores them
        zone_rules="ninth-edition v1", zone_rules_definition=zones.rules_to_json(zones.NINTH_EDITION),
    ),
)  # fmt: skip


def _english(client: Any) -> Any:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _engine(scenario: Scenario) -> Any:
    sim = scenario.simulation()
    sim.run(scenario.days)
    return outcome(sim)


def test_a_run_started_from_the_page_is_run_by_a_worker_to_the_engines_numbers(
    city: Any, make_user: Any, client_for: Any, worker: Any
) -> None:
    commander = make_user("city_commander", city.city)
    client = _english(client_for(commander))
    page = client.get("/simulation/").content.decode()
    assert 'data-testid="run-form"' in page and 'data-testid="no-runs"' in page and "/simulation/" in page

    # Queued: the request answers at once with the run's page and its job's progress; nothing recorded yet.
    r = client.post("/simulation/", FORM)
    run = SimulationRun.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/simulation/{run.pk}/"
    job = Job.objects.get()
    assert (job.kind, job.params, job.started_by, job.status) == (
        "simulation.run",
        {"run": run.pk},
        commander,
        "queued",
    )
    assert not run.recorded and Scenario.of(run.scenario) == SCENARIO
    page = client.get(r["Location"]).content.decode()
    assert (
        'data-testid="job-progress"' in page
        and 'hx-trigger="every 1s"' in page
        and "Waiting for a worker" in page
    )
    # One run at a time per person: a second start is refused while the first is queued.
    refused = client.post("/simulation/", FORM)
    assert refused.status_code == 422 and "already have a simulator run" in refused.content.decode()
    assert SimulationRun.objects.count() == 1
    Job.objects.filter(pk=job.pk).delete()  # make room (the queued one never runs in this test)
    SimulationRun.objects.filter(pk=run.pk).delete()

    with worker():
        r = client.post("/simulation/", FORM)
    run = SimulationRun.objects.get()
    job = Job.objects.get()
    assert job.status == "done" and job.result["link"] == f"/simulation/{run.pk}/"
    assert job.progress.done == job.progress.total == 20
    expected = _engine(SCENARIO)
    assert run.recorded and run.series == expected.series and run.summary == expected.summary
    assert run.summary["infections"] > 6 and len(run.series["date"]) == 20

    page = client.get(r["Location"]).content.decode()
    assert 'data-testid="run-summary"' in page and 'data-testid="sim-chart"' in page
    assert "/static/vendor/echarts/echarts.min.js" in page and "/static/simulation/charts.js" in page
    assert "isolate every reported case for 14 days" in page and f"{run.summary['cases']:,}" in page
    assert "Run time" in page and 'data-testid="run-days"' in page

    # In Chinese for a Chinese reader.
    zh = client.get(r["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "模拟" in zh and "Summary" not in zh and "Infections" not in zh


def test_the_command_line_and_the_job_give_the_same_numbers(
    city: Any,
    make_user: Any,
    client_for: Any,
    worker: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every path agrees: a run started from the page with the zones app's stored rule set, and ``cordon sim
    run`` with the same rule set by its code, the same scenario and seed, give the same summary (zone-days and
    lifts included) and the same daily figures; another rule set on the same seed gives other zone-days."""
    commander = make_user("district_commander", city.fengtai)
    client = _english(client_for(commander))
    form = {
        **FORM, "population": "2500", "days": "30", "seed": "11", "r0": "4", "isolate_cases": "",
        "quarantine_contacts": "",
        "lockdown_areas": "on", "lockdown_level": "4", "lockdown_kind": "sealed", "lockdown_outer": "controlled",
        "zone_rules": "sealed-then-monitored:1", "screening": "on", "screening_every": "4",
    }  # fmt: skip
    page = client.get("/simulation/").content.decode()
    assert 'value="sealed-then-monitored:1"' in page and 'value="ninth-edition:1" selected' in page
    with worker():
        assert client.post("/simulation/", form).status_code == 302
    run = SimulationRun.objects.get()
    assert run.recorded and run.scenario["strategy"]["zone_rules"] == "sealed-then-monitored v1"
    assert run.summary["zones"] > 0 and run.summary["zones_lifted"] > 0
    out = tmp_path / "cli"
    code = cli.main([
        "sim", "run", "--preset", "demo", "--population", "2500", "--days", "30", "--seed", "11", "--r0", "4",
        "--interventions", "lockdown-areas,screening", "--lockdown-level", "4", "--lockdown-outer", "controlled",
        "--zone-rules", "sealed-then-monitored", "--screening-every", "4", "--format", "csv", "--no-city",
        "--out", str(out),
    ])  # fmt: skip
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["interventions"] == ["lockdown-areas", "screening"]
    for key, value in run.summary.items():
        assert printed[key] == value, key
    with (out / "daily.csv").open(encoding="utf-8") as f:
        daily = list(csv.DictReader(f))
    assert [d["date"] for d in daily] == run.series["date"]
    for key in ("new_infections", "infectious", "new_cases", "isolated", "locked_down", "in_venue"):
        assert [int(d[key]) for d in daily] == run.series[key], key

    # The 9th edition on the same seed, by the API: other zone-days (the rules differ, the city is the same).
    body = {
        "population": 2500, "days": 30, "seed": 11, "r0": 4,
        "strategy": {"lockdown_areas": True, "lockdown_outer": "controlled", "zone_rules": "ninth-edition",
                     "screening": True, "screening_every": 4},
    }  # fmt: skip
    with worker():
        r = client.post("/api/simulation/runs", json.dumps(body), content_type="application/json")
    assert r.status_code == 202
    ninth = SimulationRun.objects.get(pk=r.json()["id"])
    assert ninth.scenario["strategy"]["zone_rules"] == "ninth-edition v1"
    assert ninth.summary["zone_days"] != run.summary["zone_days"]
    assert ninth.summary["zone_days"]["controlled"] < run.summary["zone_days"]["controlled"]
    page = client.get(f"/simulation/compare/?a={run.pk}&b={ninth.pk}").content.decode()
    assert "Zone-days: sealed / controlled / prevention / lifted but guarded" in page
    assert "7 days sealed, then 7 days of home monitoring" in page and "controlled zone" in page
    unknown = client.post(
        "/api/simulation/runs",
        json.dumps({"strategy": {"lockdown_areas": True, "zone_rules": "atlantis"}}),
        content_type="application/json",
    )
    assert unknown.status_code == 422 and "zone_rules" in unknown.json()["errors"]
    stricter = client.post(
        "/simulation/", {**form, "lockdown_kind": "controlled", "lockdown_outer": "controlled"}
    )
    assert stricter.status_code == 422 and 'data-testid="error-lockdown_outer"' in stricter.content.decode()


def test_a_running_simulation_stops_between_days_when_cancelled(
    city: Any, make_user: Any, client_for: Any, settings: Any
) -> None:
    """The cancel is asked from the job page while the worker has the job; the runner stops at its next day's
    report, and nothing of the run is recorded."""
    from cordon.apps.jobs import actions as job_actions
    from cordon.apps.simulation import actions

    settings.CORDON_JOB_PROGRESS_SECONDS = 0
    commander = make_user("city_commander", city.city)
    client = _english(client_for(commander))
    run = actions.start_run(actor=commander, scenario=SCENARIO)
    job = Job.objects.get()
    assert job_actions.claim(job_id=job.pk, worker=job_run.worker_name()) is not None
    assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 302
    progress = job_run.Reporter(job.pk, every=0)
    kind = jobs.kind("simulation.run")
    assert kind is not None
    with pytest.raises(JobCancelled):
        kind.run(progress, job.params, commander)
    assert progress.done < SCENARIO.days
    job_actions.finish(job_id=job.pk, status=Job.Status.CANCELLED, result={"done": progress.done})
    run.refresh_from_db()
    assert not run.recorded and run.summary == {} and run.series == {}
    page = client.get(f"/simulation/{run.pk}/").content.decode()
    assert 'data-status="cancelled"' in page and "Cancelled" in page


def test_a_run_refused_by_its_worker_fails_with_a_reason_and_records_nothing(
    city: Any, make_user: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    """The bound is checked again when the run starts: a limit lowered since it was queued fails the job with a
    sentence a person can act on."""
    from cordon.apps.simulation import actions

    commander = make_user("city_commander", city.city)
    client = _english(client_for(commander))
    with worker(), override("en"):
        run = actions.start_run(actor=commander, scenario=SCENARIO)
        settings.CORDON_SIM_MAX_POPULATION = 1000  # lowered after the run was queued, before a worker took it
    job = Job.objects.get()
    assert job.status == "failed" and "at most 1,000 residents" in job.error and "3,000" in job.error
    run.refresh_from_db()
    assert not run.recorded
    page = client.get(f"/simulation/{run.pk}/").content.decode()
    assert 'role="alert"' in page and "CORDON_SIM_MAX_POPULATION" in page and "Failed" in page


def test_runs_are_bounded_and_checked_before_anything_is_queued(
    city: Any, make_user: Any, client_for: Any
) -> None:
    client = _english(client_for(make_user("city_commander", city.city)))
    big = client.post("/simulation/", {**FORM, "preset": "beijing", "population": ""})
    assert big.status_code == 422 and "at most 1,000,000 residents" in big.content.decode()
    bad = client.post("/simulation/", {**FORM, "days": "0", "seed_infections": "5000"})
    assert bad.status_code == 422 and 'data-testid="error-days"' in bad.content.decode()
    seeds = client.post("/simulation/", {**FORM, "seed_infections": "5000"})
    assert seeds.status_code == 422 and "seed infections must be between 0 and 3000" in seeds.content.decode()
    assert not SimulationRun.objects.exists() and not Job.objects.exists()


def test_runs_are_seen_within_the_starters_territory_and_compared(
    city: Any, make_user: Any, client_for: Any, worker: Any
) -> None:
    from cordon.apps.simulation import actions

    fengtai, changping = (
        make_user("district_commander", city.fengtai),
        make_user("district_commander", city.changping),
    )
    commander = make_user("city_commander", city.city)
    with worker():
        a = actions.start_run(actor=fengtai, scenario=SCENARIO, title="Fengtai basic")
        b = actions.start_run(
            actor=commander,
            scenario=Scenario(preset="demo", population=3000, days=20, seed=7),
            title="City none",
        )
    for run in (a, b):
        run.refresh_from_db()
        assert run.recorded
    ft, cp, cc = (_english(client_for(u)) for u in (fengtai, changping, commander))
    assert cp.get(f"/simulation/{a.pk}/").status_code == 404
    assert ft.get(f"/simulation/{b.pk}/").status_code == 404  # the city's run is the city's
    assert "Fengtai basic" not in cp.get("/simulation/").content.decode()
    assert cp.get(f"/simulation/compare/?a={a.pk}&b={b.pk}").status_code == 404
    listing = cc.get("/simulation/").content.decode()
    assert "Fengtai basic" in listing and "City none" in listing
    page = cc.get(f"/simulation/compare/?a={a.pk}&b={b.pk}").content.decode()
    # A chart per compared figure, but none for sealing (nobody sealed at home in either run).
    assert 'data-testid="compare-table"' in page and page.count('data-testid="sim-chart"') == 3
    assert f"{a.summary['infections']:,}" in page and f"{b.summary['infections']:,}" in page
    assert "no intervention" in page and "quarantine household and colleagues for 7 days" in page
    # The API: the same runs, the same scope.
    assert [r["id"] for r in cc.get("/api/simulation/runs").json()] == [b.pk, a.pk]
    assert [r["id"] for r in cp.get("/api/simulation/runs").json()] == []
    detail = cc.get(f"/api/simulation/runs/{a.pk}").json()
    assert detail["status"] == "done" and detail["series"] == a.series and detail["summary"] == a.summary
    assert cp.get(f"/api/simulation/runs/{a.pk}").status_code == 404
    # Run again with a setting changed: the form comes filled in with the run's scenario.
    form = cc.get(f"/simulation/?from={a.pk}").content.decode()
    assert 'value="Fengtai basic"' in form and 'name="isolate_cases" id="id_isolate_cases" checked' in form


def test_the_api_starts_a_run_with_202_and_refuses_what_the_page_refuses(
    city: Any, make_user: Any, client_for: Any, worker: Any
) -> None:
    client = _english(client_for(make_user("city_commander", city.city)))
    body = {
        "title": "API",
        "population": 2000,
        "days": 10,
        "seed": 3,
        "strategy": {"screening": True, "pool_size": 5},
    }
    with worker():
        r = client.post("/api/simulation/runs", json.dumps(body), content_type="application/json")
    assert r.status_code == 202
    started = r.json()
    assert started["status"] == "queued" and started["job_id"] == Job.objects.get().pk
    run = SimulationRun.objects.get(pk=started["id"])
    expected = _engine(
        Scenario(population=2000, days=10, seed=3, strategy=Strategy(screening=True, pool_size=5))
    )
    assert run.summary == expected.summary and run.summary["tests"] > 0
    assert client.get(f"/api/simulation/runs/{run.pk}").json()["status"] == "done"
    too_big = client.post(
        "/api/simulation/runs", json.dumps({"preset": "beijing"}), content_type="application/json"
    )
    assert too_big.status_code == 422 and "population" in too_big.json()["errors"]
    unknown = client.post(
        "/api/simulation/runs", json.dumps({"preset": "atlantis"}), content_type="application/json"
    )
    assert unknown.status_code == 422 and "preset" in unknown.json()["errors"]
    assert SimulationRun.objects.count() == 1


def test_a_strategy_bundle_is_the_engines_bundle() -> None:
    from cordon.engine.sim import built_in

    for name in ("none", "isolate", "basic", "zero-covid"):
        assert Strategy.bundle(name).interventions() == built_in(name)
        assert Strategy.named(name) == Strategy.bundle(name)
    assert Scenario.of(SCENARIO.as_dict()) == SCENARIO


@pytest.mark.db_clock
def test_a_run_whose_worker_was_lost_is_failed_then_run_again_to_its_results(
    city: Any, make_user: Any, client_for: Any, worker: Any
) -> None:
    """A worker killed half way: the reaper fails its job (nothing of the run was written: it writes only at the
    end), the run's page says so, and running the job again records the run whole."""
    import datetime as dt

    from django.utils import timezone

    from cordon.apps.jobs import actions as job_actions
    from cordon.apps.jobs.models import JobProgress
    from cordon.apps.simulation import actions

    commander = make_user("city_commander", city.city)
    client = _english(client_for(commander))
    with override("en"):
        run = actions.start_run(actor=commander, scenario=SCENARIO)
    job = Job.objects.get()
    job_actions.claim(job_id=job.pk, worker="elsewhere:1")
    JobProgress.objects.filter(job=job).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=5))
    assert job_actions.reap(stale_after=dt.timedelta(minutes=2)) == [job.pk]
    run.refresh_from_db()
    assert not run.recorded
    page = client.get(f"/simulation/{run.pk}/").content.decode()
    assert 'data-status="failed"' in page and "Run it again" in page and 'data-testid="job-again"' in page
    # A new run may start now that the lost one has ended; running the lost one again records it.
    with worker():
        r = client.post(f"/jobs/{job.pk}/again/")
    assert r.status_code == 302
    again = Job.objects.exclude(pk=job.pk).get()
    run.refresh_from_db()
    assert again.status == "done" and again.params == {"run": run.pk} and again.retry_of == job
    assert run.recorded and run.summary == _engine(SCENARIO).summary
    assert 'data-testid="run-summary"' in client.get(f"/simulation/{run.pk}/").content.decode()
    assert client.get(f"/api/simulation/runs/{run.pk}").json()["job_id"] == again.pk


@pytest.mark.db_clock
def test_running_a_run_again_keeps_one_run_at_a_time(city: Any, make_user: Any, client_for: Any) -> None:
    """Running a finished simulator job again from its job page is refused while another run the same person
    started is queued, as starting a new one is. Nothing more is queued."""
    import datetime as dt

    from django.utils import timezone

    from cordon.apps.jobs import actions as job_actions
    from cordon.apps.jobs.models import JobProgress
    from cordon.apps.simulation import actions

    commander = make_user("city_commander", city.city)
    client = _english(client_for(commander))
    with override("en"):
        actions.start_run(actor=commander, scenario=SCENARIO)
    lost = Job.objects.get()
    job_actions.claim(job_id=lost.pk, worker="elsewhere:1")
    JobProgress.objects.filter(job=lost).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=5))
    assert job_actions.reap(stale_after=dt.timedelta(minutes=2)) == [lost.pk]
    with override("en"):
        actions.start_run(actor=commander, scenario=SCENARIO)  # a new run, queued
    r = client.post(f"/jobs/{lost.pk}/again/", follow=True)
    assert r.status_code == 200 and "already have a job of this kind queued or running" in r.content.decode()
    assert Job.objects.count() == 2
