"""Grid management's write paths under the audit watch (tests/test_gridwork.py runs them through the API and the
pages)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from architecture.audit_watch import WATCH
from cordon.apps.audit.models import AuditEntry
from cordon.apps.gridwork import actions
from cordon.apps.zones.models import Zone

GRIDWORK = "cordon.apps.gridwork.actions"
COVERS = {
    f"{GRIDWORK}.{name}"
    for name in ("create_post", "set_post_active", "assign_duty", "set_plan", "record_patrol")
}

pytestmark = pytest.mark.django_db


def test_every_grid_management_write_is_audited(city: Any, make_user: Any) -> None:
    today = timezone.localdate()
    zone = Zone.objects.create(
        code="Z-W", name="写入", kind="controlled", state="in_force", owner=city.changping, starts_on=today
    )
    boss = make_user("district_commander", city.changping)
    worker = make_user("grid_worker", city.lx_grid)
    post = actions.create_post(actor=boss, zone=zone, name="北门", building=city.cp_building)
    now = timezone.now()
    actions.assign_duty(
        actor=boss, post=post, user=worker, starts_at=now, ends_at=now + dt.timedelta(hours=8)
    )
    actions.set_plan(actor=boss, post=post, every_hours=6, active_from=today - dt.timedelta(days=2))
    actions.set_plan(actor=boss, post=post, times="09:00", active_from=today)  # ends the one before
    photo = SimpleUploadedFile("a.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32, content_type="image/jpeg")
    actions.record_patrol(actor=worker, post=post, findings="all_clear", photo=photo)
    actions.set_post_active(actor=boss, post=post, active=False)
    models = set(AuditEntry.objects.filter(model__startswith="gridwork.").values_list("model", "verb"))
    assert models == {
        ("gridwork.dutypost", "create"),
        ("gridwork.dutypost", "update"),
        ("gridwork.dutyshift", "create"),
        ("gridwork.patrolplan", "create"),
        ("gridwork.patrolplan", "update"),
        ("gridwork.patrol", "create"),
    }
    assert all(WATCH.seen[name] for name in COVERS)
