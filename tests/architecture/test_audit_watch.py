"""The audit watch itself: it fails an action that writes without audit rows, and passes one that audits."""

from __future__ import annotations

from typing import Any

import pytest

from architecture.audit_watch import AuditGap
from cordon.apps.audit import actions as audit
from cordon.apps.people.models import Person
from cordon.core.actions import action


@action
def _rename_without_audit(person: Person, name: str) -> None:
    Person.objects.filter(pk=person.pk).update(name=name)


@action
def _rename_with_audit(person: Person, name: str) -> None:
    audit.change(None, person, source="test", name=name)


@action
def _rename_all_but_audit_one(persons: list[Person]) -> None:
    Person.objects.filter(pk__in=[p.pk for p in persons]).update(occupation="courier")
    audit.change(None, persons[0], source="test", occupation="courier")


def test_an_unaudited_update_fails_the_action_and_changes_nothing(city: Any) -> None:
    with pytest.raises(AuditGap, match=r"people\.person"):
        _rename_without_audit(city.ft_person, "改名")
    city.ft_person.refresh_from_db()
    assert city.ft_person.name != "改名"


def test_an_audited_update_passes(city: Any) -> None:
    _rename_with_audit(city.ft_person, "改名")
    city.ft_person.refresh_from_db()
    assert city.ft_person.name == "改名"


def test_a_bulk_update_needs_a_row_per_record(city: Any) -> None:
    with pytest.raises(AuditGap, match="up to 3 updated in one statement, but audit rows for 1 records"):
        _rename_all_but_audit_one([city.ft_person, city.ft_person2, city.cp_person])


@action
def _retag_without_bumping(persons: list[Person]) -> None:
    """A bulk write of versioned records, audited, that forgets their version (an editor's stale form would
    then pass as fresh)."""
    changes = [(p, audit.snapshot(p)) for p in persons]
    for p in persons:
        p.occupation = "courier"
    Person.objects.filter(pk__in=[p.pk for p in persons]).update(occupation="courier")
    audit.record_bulk_update(None, changes, source="test")


@action
def _retag_with_change_many(persons: list[Person]) -> None:
    audit.change_many(None, persons, source="test", occupation="courier")


def test_a_write_of_versioned_records_must_bump_their_version(city: Any) -> None:
    persons = [city.ft_person, city.ft_person2]
    with pytest.raises(
        AuditGap, match=r"people\.person: up to 2 updated in one statement, but the version bumped"
    ):
        _retag_without_bumping(persons)
    _retag_with_change_many([Person.objects.get(pk=p.pk) for p in persons])
    assert sorted(
        Person.objects.filter(pk__in=[p.pk for p in persons]).values_list("version", flat=True)
    ) == [2, 2]
