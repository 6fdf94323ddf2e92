"""What the demo loader reads, and the demo logins as a table. Unscoped: the loader runs as the system, over the
demo city only (everything under ``/<CITY_CODE>/``)."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.db.models import Avg, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.accounts.models import User
from cordon.apps.audit.models import AuditEntry
from cordon.apps.geo.models import Building, IndustrySector, Jurisdiction, Level
from cordon.apps.people.models import Person
from cordon.apps.screening.models import Lab, Tube, TubeStatus
from cordon.apps.tracing.models import Case, Contact, ContactType, Decision
from cordon.apps.zones.models import State, Zone
from cordon.core.roles import Role

from .scenario import CITY_CODE, LOGINS, OFFICER, PASSWORD, SOURCE, Login, Run

PREFIX = f"/{CITY_CODE}/"  # the materialized path under which everything of the demo city lies


def is_loaded() -> bool:
    return Jurisdiction.objects.filter(code=CITY_CODE).exists()


def data_outside_demo() -> bool:
    """Whether the database holds anything the demo loader did not make (then a reset, which discards the whole
    database, is refused): a root of the jurisdiction tree that the loader did not create (its creation is not
    in the audit trail with the demo's source), or a user who is not a demo login. A database where people
    worked in the demo city through the pages still counts as the demo's."""
    roots = [str(pk) for pk in Jurisdiction.objects.filter(parent__isnull=True).values_list("pk", flat=True)]
    made = AuditEntry.objects.filter(
        model="geo.jurisdiction", verb=AuditEntry.Verb.CREATE, source=SOURCE, object_pk__in=roots
    )
    return (
        made.count() < len(roots) or User.objects.exclude(username__in=[x.username for x in LOGINS]).exists()
    )


def persons_loaded() -> int:
    return Person.objects.filter(jurisdiction__path__startswith=PREFIX).count()


def demo_run() -> Run | None:
    """The demo outbreak as played so far (``run.json`` in ``CORDON_DEMO_DIR``), or None when the demo city is
    not loaded or was loaded before days could be played."""
    path = Path(settings.CORDON_DEMO_DIR) / "run.json"
    if not is_loaded() or not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Run(dt.date.fromisoformat(data["start"]), int(data["days"]), int(data["population"]))


def next_day_refusal() -> str:
    """Why the next day of the demo outbreak cannot be played now ("" when it can): the demo is not loaded, or
    its next day is after today (cases cannot be reported in the future)."""
    run = demo_run()
    if run is None:
        return _("The demo city is not loaded (run cordon demo first).")
    if run.next_date > timezone.localdate():
        return _(
            "The demo outbreak has been played up to today; its next day (%(date)s) can be played tomorrow."
        ) % {"date": run.next_date.isoformat()}
    return ""


def persons_by_pk(pks: Sequence[int]) -> dict[int, Person]:
    return {p.pk: p for p in Person.objects.filter(pk__in=list(pks))}


def existing_logins(logins: Sequence[Login]) -> set[str]:
    """Which of the logins are already users."""
    return set(
        User.objects.filter(username__in=[x.username for x in logins]).values_list("username", flat=True)
    )


def officer() -> User:
    """The administrator login, whose whole-city scope the loader reads through (control's queue)."""
    return User.objects.get(username=OFFICER)


def jurisdiction(code: str) -> Jurisdiction:
    return Jurisdiction.objects.get(code=code)


def sector(code: str) -> IndustrySector | None:
    return IndustrySector.objects.filter(code=code).first()


def districts() -> QuerySet[Jurisdiction]:
    return Jurisdiction.objects.filter(path__startswith=PREFIX, level=Level.DISTRICT).order_by("code")


def centre_of(district: Jurisdiction) -> tuple[float | None, float | None]:
    """The mean position of the district's buildings (where the demo puts its isolation hotel)."""
    where = Building.objects.filter(jurisdiction__path__startswith=district.path).aggregate(
        lat=Avg("latitude"), lon=Avg("longitude")
    )
    return where["lat"], where["lon"]


def recent_cases(count: int) -> list[Case]:
    return list(Case.objects.filter(jurisdiction__path__startswith=PREFIX).order_by("-reported_at")[:count])


def close_contacts(case: Case) -> list[int]:
    """The case's household and work-unit candidates, and the secondary household candidates reached through
    them (the ids of the contacts)."""
    close = Contact.objects.filter(
        case=case,
        status=Decision.CANDIDATE,
        contact_type__in=[ContactType.HOUSEHOLD, ContactType.WORK_UNIT],
    )
    close_people = list(close.values_list("person_id", flat=True))
    return list(close.values_list("pk", flat=True)) + list(
        Contact.objects.filter(
            case=case, status=Decision.CANDIDATE, contact_type=ContactType.SECONDARY_HOUSEHOLD,
            via_id__in=close_people,
        ).values_list("pk", flat=True)
    )  # fmt: skip


def national_ids_in(path: str, count: int) -> list[str | None]:
    """The national IDs of the first ``count`` registered persons under ``path`` (by id)."""
    return list(
        Person.objects.filter(jurisdiction__path__startswith=path)
        .exclude(national_id__isnull=True)
        .order_by("pk")
        .values_list("national_id", flat=True)[:count]
    )


# --- The logins as a table -----------------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def print_logins(logins: Sequence[Login] = LOGINS) -> None:
    """Print the demo logins with their role and scope (for ``cordon demo``)."""
    names = dict(
        Jurisdiction.objects.filter(code__in=[x.jurisdiction for x in logins]).values_list("code", "name")
    )
    rows = [
        (
            x.username,
            str(Role(x.role).label),
            f"{x.jurisdiction} {names.get(x.jurisdiction, '')}" + (f" / {x.sector}" if x.sector else ""),
        )
        for x in logins
    ]
    user_w = max(_width(r[0]) for r in [*rows, ("user", "", "")])
    role_w = max(_width(r[1]) for r in [*rows, ("", "role", "")])
    print(f"\nDemo logins (password for all: {PASSWORD})")
    print(f"  {_pad('user', user_w)}  {_pad('role', role_w)}  scope")
    for username, role, scope in rows:
        print(f"  {_pad(username, user_w)}  {_pad(role, role_w)}  {scope}")
    print()


def cases_living_in(node: Jurisdiction, limit: int = 50) -> list[Case]:
    """Cases whose person lives under ``node`` (the demo's zones name them as their cause)."""
    return list(Case.objects.filter(person__home_building__jurisdiction__path__startswith=node.path)[:limit])


def area_with_buildings(code: str) -> Jurisdiction | None:
    """The jurisdiction ``code`` when it exists and holds buildings (a zone is made of them), else ``None``."""
    node = Jurisdiction.objects.filter(code=code).first()
    if node is None or not Building.objects.filter(jurisdiction__path__startswith=node.path).exists():
        return None
    return node


def zones_in_force() -> list[Zone]:
    """The demo city's zones in force (the played day screens those its rules ask a round of)."""
    return list(Zone.objects.filter(state=State.IN_FORCE, owner__path__startswith=PREFIX).order_by("pk"))


def national_ids_living_in(building_ids: Sequence[int]) -> list[str]:
    """The national IDs of the persons living in the buildings, by id."""
    rows = (
        Person.objects.filter(home_building_id__in=list(building_ids))
        .exclude(national_id__isnull=True)
        .exclude(national_id="")
        .order_by("pk")
        .values_list("national_id", flat=True)
    )
    return [nid for nid in rows if nid]


def lab(code: str) -> Lab | None:
    return Lab.objects.filter(code=code).first()


def building(code: str) -> Building | None:
    return Building.objects.select_related("jurisdiction").filter(code=code).first()


def tubes_waiting_for_results() -> list[str]:
    """Barcodes of the demo's tubes received by a lab and still without a result."""
    return list(
        Tube.objects.filter(round__owner__path__startswith=PREFIX, status=TubeStatus.RECEIVED, result="")
        .order_by("barcode")
        .values_list("barcode", flat=True)
    )
