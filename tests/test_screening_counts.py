"""Screening's kept sample counters (``RoundCount`` per round and jurisdiction, ``SiteDayCount`` per site and
day), kept by the binding action in the samples' transaction: on random batches the coverage a city, district or
street user reads and a site's samples of the day equal those counted from the samples themselves; a district
sees only its own part; the nightly reconciliation finds and repairs corrupted counters."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.utils import timezone

from cordon.apps.geo.models import Jurisdiction
from cordon.apps.people import actions as people
from cordon.apps.screening import actions, selectors
from cordon.apps.screening.models import Binding, RoundCount, SiteDayCount
from cordon.core import periodic
from cordon.core.scoping import NotFound
from cordon.engine import identity

pytestmark = pytest.mark.django_db


def _world(city: Any, seed: int) -> Any:
    """A round over Fengtai (Changping's residents are sampled too, flagged outside its scope), a site in each
    district, and random batches of samples, some taken yesterday (the city's day)."""
    rng = random.Random(seed)
    grids = [city.zgz_grid, city.lx_grid]
    persons = [
        people.create_person(
            actor=None,
            data=people.PersonData(
                name=f"筛查{i}",
                national_id=identity.make("110106", dt.date(1960 + i % 50, 1 + i % 12, 2), 600 + i),
                jurisdiction=rng.choice(grids),
            ),
        )
        for i in range(60)
    ]
    now = timezone.now()
    rnd = actions.create_round(
        actor=None,
        data=actions.RoundData(
            code=f"R-C{seed}", name="计数", owner=city.city, starts_at=now - dt.timedelta(days=2),
            ends_at=now + dt.timedelta(hours=8), jurisdictions=[city.fengtai],
        ),
    )  # fmt: skip
    sites = [
        actions.add_site(actor=None, round=rnd, data=actions.SiteData(f"S-{g.pk}", "点", g)) for g in grids
    ]
    for n, site in enumerate(sites):
        actions.issue_tubes(actor=None, site=site, barcodes=f"C{seed}{n}001-C{seed}{n}020")
    yesterday = timezone.localtime(now).replace(hour=12, minute=0) - dt.timedelta(days=1)
    pool = list(persons)
    rng.shuffle(pool)
    for b in range(6):
        n = rng.randrange(len(sites))
        batch, pool = pool[:8], pool[8:]
        when = yesterday if rng.random() < 0.4 else None
        rows = [actions.BindingIn(f"C{seed}{n}{b + 1:03d}", p.national_id, when) for p in batch]
        res = actions.bind_samples(actor=None, site=sites[n], rows=rows)
        assert res.bound and not res.refused, res.refused
    rnd.sites_ = sites
    return rnd


def _reference(rnd: Any, node: Jurisdiction) -> tuple[dict[str, int], int, int]:
    """Coverage counted from the samples: first samples in scope per child of ``node``, in all, and outside."""
    first = Binding.objects.filter(round=rnd, resample__isnull=True, jurisdiction__path__startswith=node.path)
    per_child: dict[str, int] = {}
    for child in node.children.all():
        n = first.filter(jurisdiction__path__startswith=child.path, out_of_scope=False).count()
        if n:
            per_child[child.code] = n
    return per_child, first.filter(out_of_scope=False).count(), first.filter(out_of_scope=True).count()


def _read(user: Any, rnd: Any, code: str = "") -> tuple[dict[str, int], int, int]:
    node = selectors.coverage_node(user, rnd, code)
    cov = selectors.coverage(user, rnd, node)
    assert cov.total is not None
    return (
        {r.jurisdiction.code: r.sampled for r in cov.rows if r.sampled},
        cov.total.sampled,
        cov.outside_scope,
    )


def _site_days(site: Any) -> dict[dt.date, int]:
    out: dict[dt.date, int] = {}
    for b in Binding.objects.filter(site=site):
        day = timezone.localdate(b.bound_at)
        out[day] = out.get(day, 0) + 1
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_coverage_and_site_days_equal_the_samples(city: Any, make_user: Any, seed: int) -> None:
    rnd = _world(city, seed)
    users = [
        (make_user("city_commander", city.city), city.city),
        (make_user("district_commander", city.fengtai), city.fengtai),
        (make_user("district_commander", city.changping), city.changping),
        (make_user("street_officer", city.beigong), city.beigong),
        (make_user("street_officer", city.huilongguan), city.huilongguan),
    ]
    assert Binding.objects.filter(round=rnd).count() > 0
    for user, node in users:
        assert _read(user, rnd) == _reference(rnd, node)
    for site in rnd.sites_:
        days = _site_days(site)
        assert {c.day: c.sampled for c in SiteDayCount.objects.filter(site=site)} == days
        assert selectors.site_status(site)["today"] == days.get(timezone.localdate(), 0)
    assert actions.reconcile_counts() == []


def test_a_district_sees_only_its_own_coverage(city: Any, make_user: Any) -> None:
    rnd = _world(city, 4)
    fengtai = make_user("district_commander", city.fengtai)
    assert selectors.coverage_node(fengtai, rnd).pk == city.fengtai.pk
    with pytest.raises(NotFound):
        selectors.coverage_node(fengtai, rnd, city.changping.code)
    rows, total, outside = _read(fengtai, rnd)
    assert (rows, total, outside) == _reference(rnd, city.fengtai)
    changping_total = _reference(rnd, city.changping)
    whole = _reference(rnd, city.city)
    assert whole[1] == total + changping_total[1] and whole[2] == outside + changping_total[2]


def test_the_reconciliation_finds_and_repairs_corrupted_counters(city: Any, make_user: Any) -> None:
    rnd = _world(city, 5)
    commander = make_user("city_commander", city.city)
    right = _read(commander, rnd)
    count = RoundCount.objects.filter(round=rnd).order_by("jurisdiction_id").first()
    assert count is not None
    RoundCount.objects.filter(pk=count.pk).update(sampled=count.sampled + 7)
    site = rnd.sites_[0]
    SiteDayCount.objects.filter(site=site).delete()  # a whole counter lost
    assert _read(commander, rnd) != right
    drift = actions.reconcile_counts()
    rounds = [d for d in drift if d.counter == "round"]
    assert [(d.key, d.kept, d.actual) for d in rounds] == [
        ((rnd.pk, count.jurisdiction_id), (count.sampled + 7, count.outside), (count.sampled, count.outside))
    ]
    lost = {d.key: d.actual for d in drift if d.counter == "site_day"}
    assert lost == {(site.pk, day): (n,) for day, n in _site_days(site).items()}
    assert _read(commander, rnd) == right
    assert {c.day: c.sampled for c in SiteDayCount.objects.filter(site=site)} == _site_days(site)
    assert actions.reconcile_counts() == []


def test_the_reconciliation_runs_nightly() -> None:
    tasks = {t.name: t for t in periodic.tasks()}
    assert tasks["screening.reconcile"].every() == 24 * 3600
