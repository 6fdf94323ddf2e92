"""The open-items board counted in the database equals plain references that work things out in Python (the
previous implementations), on random data: the case clocks (counted partly in the database; the reference reads
every contact into Python), and the releases due (one query; the reference works out every order's schedule)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

import pytest
from django.db.models import Min
from django.template import Context, Template
from django.utils import timezone, translation

from cordon.apps.control.models import ControlOrder, OrderStatus
from cordon.apps.control.selectors import case_clocks
from cordon.apps.people import actions as people
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Case, Contact, Decision
from cordon.engine import identity

pytestmark = pytest.mark.django_db


def reference(cases: list[Case]) -> dict[int, tuple[Any, ...]]:
    """The clocks as the board computed them before: every contact of the cases read into Python."""
    contacts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in Contact.objects.filter(case__in=cases, degree__gt=0).values(
        "case_id", "person_id", "degree", "status", "decided_at"
    ):
        contacts[row["case_id"]].append(dict(row))
    people_ids = {r["person_id"] for rows in contacts.values() for r in rows}
    controlled = dict(
        ControlOrder.objects.filter(person_id__in=people_ids, controlled_at__isnull=False)
        .values("person_id")
        .annotate(first=Min("controlled_at"))
        .values_list("person_id", "first")
    )
    converted = set(
        ControlOrder.objects.filter(person_id__in=people_ids, status=OrderStatus.CONVERTED).values_list(
            "person_id", flat=True
        )
    )
    out = {}
    for case in cases:
        rows = contacts.get(case.pk, [])
        to_judge = sum(1 for r in rows if r["status"] == Decision.CANDIDATE)
        decided = [r["decided_at"] for r in rows if r["status"] != Decision.CANDIDATE and r["decided_at"]]
        judged = (max(decided) if decided else case.traced_at) if case.traced_at and not to_judge else None
        confirmed = [r for r in rows if r["status"] == Decision.CONFIRMED]
        close = [r for r in confirmed if r["degree"] == 1]

        def done(rs: list[dict[str, Any]]) -> tuple[int, dt.datetime | None]:
            times = [controlled.get(r["person_id"]) for r in rs]
            n = sum(1 for t, r in zip(times, rs, strict=True) if t is not None or r["person_id"] in converted)
            known = [t for t in times if t is not None]
            return n, (max(known) if known else None) if n == len(rs) else None

        n_close, t_close = done(close)
        n_all, t_all = done(confirmed)
        if judged is None:
            t_close = t_all = None
        transferred = (t_close or judged) if judged else None
        isolated = (t_all or judged) if judged and (t_all or not confirmed) else None
        if confirmed and t_all is None:
            isolated = None
        if close and t_close is None:
            transferred = None
        out[case.pk] = (judged, transferred, isolated, to_judge, len(close), n_close, len(confirmed), n_all)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_case_clocks_equal_the_reference(city: Any, seed: int) -> None:
    rng = random.Random(seed)
    now = timezone.now()
    persons = [
        people.create_person(
            actor=None,
            data=people.PersonData(
                name=f"居民{i}",
                national_id=identity.make("110106", dt.date(1970, 1, 1) + dt.timedelta(days=i), 500 + i),
                phone=f"1390000{i:04d}",
                jurisdiction=city.zgz_grid,
            ),
        )
        for i in range(24)
    ]
    cases = []
    for i in range(6):
        case = tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=persons[i],
                onset_date=timezone.localdate() - dt.timedelta(days=2),
                sampled_at=now - dt.timedelta(hours=30),
                found_by="fever_clinic",
            ),
        )
        if i != 5:  # one case not traced yet
            Case.objects.filter(pk=case.pk).update(traced_at=now - dt.timedelta(hours=rng.randrange(1, 20)))
        cases.append(case)
    for n, case in enumerate(cases):
        judged_all = n % 2 == 0  # half the cases have every contact judged, half some still to judge
        for person in rng.sample(persons[6:], rng.randrange(0, 10)):
            status = rng.choice(
                [Decision.CANDIDATE, Decision.CONFIRMED, Decision.CONFIRMED, Decision.DISMISSED]
            )
            decided = (
                None
                if status == Decision.CANDIDATE or rng.random() < 0.2
                else now - dt.timedelta(hours=rng.randrange(1, 24))
            )
            Contact.objects.create(
                case=case, person=person, degree=rng.choice([1, 1, 2]), contact_type="venue", status=status,
                jurisdiction=city.zgz_grid, district=city.fengtai, decided_at=decided,
            )  # fmt: skip
        if judged_all:  # also the household candidates the report itself listed
            Contact.objects.filter(case=case, status=Decision.CANDIDATE).update(
                status=Decision.DISMISSED, decided_at=now - dt.timedelta(hours=1)
            )
    confirmed = list(Contact.objects.filter(status=Decision.CONFIRMED))
    from cordon.apps.control import actions as control

    orders = control.open_orders(actor=None, contacts=confirmed)
    for order in orders:
        roll = rng.random()
        if roll < 0.5:
            ControlOrder.objects.filter(pk=order.pk).update(
                controlled_at=now - dt.timedelta(hours=rng.randrange(1, 10))
            )
        elif roll < 0.65:
            ControlOrder.objects.filter(pk=order.pk).update(status=OrderStatus.CONVERTED)
    cases = list(Case.objects.filter(pk__in=[c.pk for c in cases]))
    expected = reference(cases)
    got = {
        pk: (c.judged_at, c.transferred_at, c.isolated_at, c.to_judge, c.close_confirmed, c.close_transferred,
             c.confirmed, c.controlled)
        for pk, c in case_clocks(cases).items()
    }  # fmt: skip
    assert got == expected
    assert any(v[0] is not None for v in expected.values()) and any(v[3] for v in expected.values())
    # The rows the board and the clocks page show, built in Python, equal those the template language wrote.
    clocks = [(c, k) for c in Case.objects.select_related("district") for k in [case_clocks([c])[c.pk]]]
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for link in (True, False):
                context = {"clocks": clocks, "caps": {"view_cases": link}}
                rows = Template("{% load control_tags %}{% clock_rows clocks caps.view_cases %}").render(
                    Context(context)
                )
                assert rows == Template(REFERENCE_ROWS).render(Context(context))
                assert rows.count('data-testid="clock-row"') == len(cases)


# The template's rows before they were built in Python.
REFERENCE_ROWS = """{% load i18n %}{% for case, k in clocks %}<tr data-testid="clock-row" data-case="{{ case.code }}">
      <td class="mono">{% if caps.view_cases %}<a href="{% url 'tracing:case' case.pk %}">{{ case.code }}</a>{% else %}{{ case.code }}{% endif %}</td>
      <td>{{ case.district|local }}</td><td>{{ k.confirmed_at|date:"m-d H:i" }}</td>
      <td class="num" data-clock="judged">{% if k.judge_hours is not None %}{{ k.judge_hours }} h{% elif not k.traced %}<span class="pill warn">{% translate "not traced" %}</span>{% else %}<span class="pill warn">{% blocktranslate with n=k.to_judge %}{{ n }} to judge{% endblocktranslate %}</span>{% endif %}</td>
      <td class="num" data-clock="transferred">{% if k.transfer_hours is not None %}{{ k.transfer_hours }} h{% else %}<span class="pill warn">{{ k.close_transferred }}/{{ k.close_confirmed }}</span>{% endif %}</td>
      <td class="num" data-clock="isolated">{% if k.isolate_hours is not None %}{{ k.isolate_hours }} h{% else %}<span class="pill warn">{% translate "open" %}</span>{% endif %}</td>
      <td class="num">{{ k.controlled }}/{{ k.confirmed }}</td></tr>{% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("seed", [1, 2])
def test_releases_due_in_one_query_equal_the_schedules_worked_out_one_by_one(
    city: Any, make_user: Any, seed: int
) -> None:
    """Releases due, counted in the database (a plan's last day is a fixed offset from its first), equal the
    schedules worked out order by order, on random plans, extensions, start days and statuses."""
    from cordon.apps.control import actions as control
    from cordon.apps.control import selectors
    from cordon.apps.control.models import QuarantinePlan

    rng = random.Random(seed)
    now = timezone.now()
    persons = [
        people.create_person(
            actor=None,
            data=people.PersonData(
                name=f"隔离{i}",
                national_id=identity.make("110106", dt.date(1960, 1, 1) + dt.timedelta(days=i), 700 + i),
                phone=f"1370000{i:04d}",
                jurisdiction=city.zgz_grid,
            ),
        )
        for i in range(40)
    ]
    case = tracing.report_case(
        actor=None,
        data=tracing.CaseData(person=city.ft_person, onset_date=timezone.localdate(), sampled_at=now,
                              found_by="fever_clinic"),
    )  # fmt: skip
    contacts = [
        Contact.objects.create(
            case=case,
            person=p,
            degree=rng.choice([1, 2]),
            contact_type="venue",
            status=Decision.CONFIRMED,
            jurisdiction=city.zgz_grid,
            district=city.fengtai,
            decided_at=now,
        )
        for p in persons
    ]
    orders = control.open_orders(actor=None, contacts=contacts)
    plans = list(QuarantinePlan.objects.all())
    assert len(plans) >= 2
    today = timezone.localdate()
    for order in orders:
        ControlOrder.objects.filter(pk=order.pk).update(
            plan=rng.choice(plans),
            extension_days=rng.choice([0, 0, 1, 3, 7]),
            start_date=today - dt.timedelta(days=rng.randrange(0, 30)),
            status=rng.choice(
                [OrderStatus.ISOLATED, OrderStatus.HOME, OrderStatus.HOME, OrderStatus.RELEASED]
            ),
        )
    commander = make_user("city_commander", city.city)
    for day in (today, today + dt.timedelta(days=5)):
        expected = {
            o.pk
            for o in ControlOrder.objects.filter(status__in=[OrderStatus.ISOLATED, OrderStatus.HOME])
            if o.start_date <= day and (s := o.schedule()) is not None and s.last_day <= day
        }
        got = {o.pk for o in selectors.releases_due(commander, day)}
        assert got == expected and expected
        by_district = selectors.releases_by_district(
            commander, timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
        )
        assert sum(n for n, _late in by_district.values()) == len(expected)
