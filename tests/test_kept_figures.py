"""The kept figures beside the roll-ups (``rollups.Group``): the home page's special groups and the menu badges'
counts per jurisdiction. On random data, what a city, district, street or grid user reads from the kept counts
equals what is counted now; each user sees only their own territory; stale or sector-limited reads are counted
now; the nightly reconciliation finds and repairs a corrupted count; workers run the refreshes on a clock."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.command import figures
from cordon.apps.geo import actions as geo
from cordon.apps.geo import selectors as geo_reads
from cordon.apps.geo.models import Level, RollupTally
from cordon.apps.people import actions as people
from cordon.apps.people import selectors as people_reads
from cordon.apps.people.models import SpecialGroup
from cordon.apps.screening import selectors as screening
from cordon.apps.screening.models import TemporaryControl
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing import selectors as tracing_reads
from cordon.apps.tracing.models import Contact, Linkage
from cordon.apps.zones import selectors as zone_reads
from cordon.core import badges, periodic
from cordon.engine import identity
from test_authorization_matrix import _screening_objects

pytestmark = pytest.mark.django_db

BADGES = ("cases", "linkage", "positives")


def _random_world(city: Any, seed: int) -> list[Any]:
    """More grids under both districts, persons with random special groups at random grids, some of them
    reported as cases today or yesterday, handovers (some acknowledged) and temporary controls (some lifted)."""
    rng = random.Random(seed)
    _screening_objects(city)
    grids = [city.zgz_grid, city.lx_grid]
    for i, community in enumerate([city.zhangguozhuang, city.longxiang] * 2):
        grids.append(
            geo.create_jurisdiction(
                actor=None,
                code=f"{community.code}-9{i}",
                name=f"网格{i}",
                level=Level.GRID,
                parent=community,
            )
        )
    persons = []
    for i in range(40):
        tags = rng.sample(SpecialGroup.values, rng.choice([0, 0, 1, 2, 3]))
        persons.append(
            people.create_person(
                actor=None,
                data=people.PersonData(
                    name=f"随机{i}",
                    national_id=identity.make("110106", dt.date(1970 + i % 40, 1 + i % 12, 1), 500 + i),
                    jurisdiction=rng.choice(grids),
                    tags=tags,
                ),
            )
        )
    now = timezone.now()
    cases = []
    for p in rng.sample(persons, 6):
        reported = now - dt.timedelta(days=rng.choice([0, 0, 1]), minutes=1)
        data = tracing.CaseData(
            person=p,
            sampled_at=reported - dt.timedelta(hours=2),
            found_by="fever_clinic",
            reported_at=reported,
            onset_date=timezone.localdate(reported) - dt.timedelta(days=1),
        )
        cases.append(tracing.report_case(actor=None, data=data))
    for p in rng.sample(persons, 12):
        contact = Contact.objects.create(
            case=rng.choice(cases), person=p, degree=1, contact_type="venue",
            jurisdiction=p.jurisdiction, district=p.jurisdiction.parent.parent.parent, status="confirmed",
        )  # fmt: skip
        Linkage.objects.create(
            contact=contact, from_district=city.fengtai, to_district=contact.district,
            acknowledged_at=now if rng.random() < 0.3 else None,
        )  # fmt: skip
    for p in rng.sample(persons, 10):
        TemporaryControl.objects.create(
            person=p, jurisdiction=p.jurisdiction, district=p.jurisdiction.parent.parent.parent,
            round=city.round, tube=city.tube, lifted_at=now if rng.random() < 0.3 else None,
        )  # fmt: skip
    return grids


def _users(city: Any, make_user: Any, grids: list[Any]) -> list[Any]:
    return [
        make_user("city_commander", city.city),
        make_user("district_commander", city.fengtai),
        make_user("district_commander", city.changping),
        make_user("street_officer", city.beigong),
        make_user("street_officer", city.huilongguan),
        make_user("grid_worker", grids[0]),
        make_user("grid_worker", grids[-1]),
        make_user("investigator", city.changping),
    ]


def _badges(user: Any) -> dict[str, int]:
    return {b.key: n for b, n in badges.for_actor(user) if b.key in BADGES}


def _live_badges(user: Any) -> dict[str, int]:
    """The badges as counted now, straight from the scoped selectors."""
    shown = _badges(user)
    live = {
        "cases": lambda: tracing_reads.cases_reported_today(user),
        "linkage": lambda: tracing_reads.linkage_inbox(user, pending_only=True).count(),
        "positives": lambda: screening.temporary_controls(user).count(),
    }
    return {k: live[k]() for k in shown}


def _groups(user: Any) -> dict[str, int]:
    return {tag: n for tag, _label, n in people_reads.special_group_counts(user)}


def _kept_everything() -> None:
    geo.refresh_rollups()
    geo.refresh_fast_rollups()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_figures_equal_those_counted_now(city: Any, make_user: Any, seed: int) -> None:
    grids = _random_world(city, seed)
    users = _users(city, make_user, grids)
    for user in users:  # nothing kept yet: counted now
        assert geo_reads.kept_group(user, people_reads.SPECIAL_GROUPS) is None
    live = [(_groups(u), _live_badges(u)) for u in users]
    assert sum(n for groups, _ in live for n in groups.values()) > 0
    assert sum(n for _, b in live for n in b.values()) > 0
    _kept_everything()
    for user, (groups, live_badges) in zip(users, live, strict=True):
        assert geo_reads.kept_group(user, people_reads.SPECIAL_GROUPS) == groups
        assert _badges(user) == live_badges
        for group in (tracing_reads.CASES_TODAY, tracing_reads.LINKAGE_PENDING, screening.POSITIVES):
            kept = geo_reads.kept_group(user, group)
            assert kept is None or set(kept) == {group}
    # the badges read kept counts for the users who see them (not counted now)
    commander = users[2]
    assert geo_reads.kept_group(commander, tracing_reads.LINKAGE_PENDING) is not None
    assert geo_reads.kept_group(commander, screening.POSITIVES) is not None


def test_each_user_reads_only_their_own_territory(city: Any, make_user: Any) -> None:
    grids = _random_world(city, 7)
    _kept_everything()
    whole = make_user("city_commander", city.city)
    fengtai = make_user("district_commander", city.fengtai)
    changping = make_user("district_commander", city.changping)
    for group in (people_reads.SPECIAL_GROUPS, screening.POSITIVES, tracing_reads.CASES_TODAY):
        a, b, c = (geo_reads.kept_group(u, group) for u in (whole, fengtai, changping))
        assert a is not None and b is not None and c is not None
        assert {k: b[k] + c[k] for k in a} == a  # the two districts make the city, each its own part
    # a district's figure is its own subtree's kept row, whatever another district holds
    a, c = (
        geo_reads.kept_group(whole, screening.POSITIVES),
        geo_reads.kept_group(changping, screening.POSITIVES),
    )
    other = RollupTally.objects.get(figure=screening.POSITIVES, jurisdiction=city.fengtai)
    RollupTally.objects.filter(pk=other.pk).update(n=other.n + 1000)
    assert geo_reads.kept_group(changping, screening.POSITIVES) == c
    assert geo_reads.kept_group(whole, screening.POSITIVES) == a  # and the city's is its own row
    assert len(grids) == 6


def test_stale_daily_and_sector_limited_reads_are_counted_now(
    city: Any, make_user: Any, settings: Any
) -> None:
    _random_world(city, 3)
    now = timezone.now()
    geo.refresh_rollups(now=now)
    geo.refresh_fast_rollups(now=now)
    street = make_user("street_officer", city.beigong)
    assert geo_reads.kept_group(street, people_reads.SPECIAL_GROUPS, now) is not None
    later = now + dt.timedelta(seconds=settings.CORDON_ROLLUP_STALE_SECONDS + 1)
    assert geo_reads.kept_group(street, people_reads.SPECIAL_GROUPS, later) is None
    fast_later = now + dt.timedelta(seconds=settings.CORDON_TALLY_STALE_SECONDS + 1)
    assert geo_reads.kept_group(street, screening.POSITIVES, fast_later) is None
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(
        days=1
    )
    geo.refresh_fast_rollups(now=midnight - dt.timedelta(seconds=5))  # counted just before the day turned
    at = midnight + dt.timedelta(seconds=5)
    assert geo_reads.kept_group(street, screening.POSITIVES, at) is not None
    assert geo_reads.kept_group(street, tracing_reads.CASES_TODAY, at) is None  # yesterday's count: not read
    regulator = make_user("industry_regulator", city.city, sector=city.courier_sector)
    assert geo_reads.kept_group(regulator, people_reads.SPECIAL_GROUPS) is None
    lab = make_user("lab_staff", city.city)  # without the capability: never read from kept counts
    assert geo_reads.kept_group(lab, people_reads.SPECIAL_GROUPS) is None


def test_the_reconciliation_finds_and_repairs_a_corrupted_count(city: Any, make_user: Any) -> None:
    _random_world(city, 5)
    _kept_everything()
    assert geo.reconcile_rollups() == []  # nothing drifted
    street = make_user("street_officer", city.beigong)
    right = _groups(street)
    row = RollupTally.objects.filter(figure="pregnant", jurisdiction=city.beigong).first()
    if row is None:
        row = RollupTally.objects.create(
            figure="pregnant", jurisdiction=city.beigong, n=0, counted_at=timezone.now()
        )
    RollupTally.objects.filter(pk=row.pk).update(n=row.n + 500)
    assert _groups(street)["pregnant"] == right["pregnant"] + 500  # the home page shows the corrupted count
    (drift,) = geo.reconcile_rollups()
    assert (drift.figure, drift.jurisdiction_id, drift.kept, drift.actual) == (
        "pregnant",
        city.beigong.pk,
        row.n + 500,
        row.n,
    )
    assert _groups(street) == right


def test_a_new_case_reaches_the_badge_at_the_next_fast_refresh(city: Any, make_user: Any) -> None:
    grids = _random_world(city, 9)
    _kept_everything()
    officer = make_user("street_officer", city.beigong)
    before = _badges(officer)["cases"]
    person = people.create_person(
        actor=None, data=people.PersonData(name="新病例", jurisdiction=grids[0], tags=[])
    )
    tracing.report_case(
        actor=None,
        data=tracing.CaseData(person=person, sampled_at=timezone.now() - dt.timedelta(hours=1),
                              found_by="fever_clinic", onset_date=timezone.localdate()),
    )  # fmt: skip
    assert _badges(officer)["cases"] == before  # kept: not yet
    geo.refresh_fast_rollups()
    assert _badges(officer)["cases"] == before + 1


def test_workers_refresh_the_groups_on_their_clocks(settings: Any) -> None:
    settings.CORDON_TALLY_SECONDS = 7
    settings.CORDON_ROLLUP_SECONDS = 45
    tasks = {t.name: t for t in periodic.tasks()}
    assert tasks["geo.rollups_fast"].every() == 7
    assert tasks["geo.rollups"].every() == 45
    assert tasks["geo.reconcile"].every() == 24 * 3600


def test_each_refresh_replaces_only_its_own_rows(city: Any, make_user: Any) -> None:
    _random_world(city, 11)
    geo.refresh_rollups()
    slow = set(RollupTally.objects.values_list("figure", "jurisdiction_id", "n"))
    geo.refresh_fast_rollups()
    fast = set(RollupTally.objects.values_list("figure", "jurisdiction_id", "n")) - slow
    assert {f for f, _j, _n in fast} == {
        tracing_reads.CASES_TODAY,
        tracing_reads.LINKAGE_PENDING,
        screening.POSITIVES,
        *figures.CASES_FIGURES.values(),
        *zone_reads.IN_FORCE_FIGURES.values(),
        *screening.COVERAGE_TODAY_FIGURES.values(),
    }
    geo.refresh_fast_rollups()
    geo.refresh_rollups()
    assert set(RollupTally.objects.values_list("figure", "jurisdiction_id", "n")) == slow | fast
    commander = make_user("district_commander", city.changping)  # the jurisdiction pages: figures, no groups
    kept = geo_reads.kept_subtree_counts(commander, city.changping)
    counted = geo_reads.counted_subtree_counts(commander, city.changping)
    assert kept is not None and kept == {node: counted[node] for node in kept}
    assert set(kept[city.changping.pk]) == {"persons", "households", "buildings", "venues"}
