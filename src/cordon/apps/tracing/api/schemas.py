"""The API's schemas: what each operation takes and returns, each output built by its one constructor
(``CaseOut.of(case)``), so the JSON shape is written once."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Schema

from cordon.apps.geo.models import Jurisdiction
from cordon.apps.people import selectors as people
from cordon.apps.venues.models import Venue
from cordon.core.actors import Actor
from cordon.core.inputs import EventDate, EventTime, text, words
from cordon.core.paging import Paging

from .. import selectors
from ..models import Case, Cluster, Contact, Linkage, RiskVenue, TrajectoryEntry


class CaseOut(Schema):
    id: int
    code: str
    person_id: int
    name: str
    classification: str
    onset_date: dt.date | None
    sampled_at: dt.datetime
    reported_at: dt.datetime
    found_by: str
    control: str
    under_control: bool
    isolated_at: dt.datetime | None
    imported: bool = Field(
        description="An imported case (infected elsewhere): a source for Rt, not counted in it"
    )
    jurisdiction: str
    district: str
    workplace: str | None
    cluster: str | None
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    traced_at: dt.datetime | None

    @classmethod
    def of(cls, c: Case) -> CaseOut:
        return cls(
            id=c.pk,
            code=c.code,
            person_id=c.person_id,
            name=c.person.name,
            classification=c.classification,
            onset_date=c.onset_date,
            sampled_at=c.sampled_at,
            reported_at=c.reported_at,
            found_by=c.found_by,
            control=c.control,
            under_control=c.under_control,
            isolated_at=c.isolated_at,
            imported=c.imported,
            jurisdiction=c.jurisdiction.code,
            district=c.district.code,
            workplace=c.workplace.code if c.workplace_id and c.workplace else None,
            cluster=c.cluster.code if c.cluster_id and c.cluster else None,
            window_start=c.window_start,
            window_end=c.window_end,
            traced_at=c.traced_at,
        )


class CaseSummaryOut(Schema):
    total: int
    community: int
    controlled: int


class CaseIn(Schema):
    person_id: int | None = None
    national_id: Annotated[str, words()] | None = None  # normalised and checked by the action
    classification: Annotated[str, text(Case, "classification")] = "confirmed"
    onset_date: EventDate | None = None
    sampled_at: EventTime | None = None
    reported_at: EventTime | None = None
    found_by: Annotated[str, text(Case, "found_by")] = ""
    control: Annotated[str, text(Case, "control")] = "community"
    isolated_at: EventTime | None = None
    imported: bool = False


class CaseFilter(Paging):
    q: Annotated[str, words()] = ""
    district: Annotated[str, text(Jurisdiction, "code")] = ""
    since: EventDate | None = None
    control: Annotated[str, text(Case, "control")] = ""


class ContactOut(Schema):
    id: int
    person_id: int
    name: str
    national_id: str
    district: str
    district_name: str
    degree: int
    contact_type: str
    via: str | None
    score: float
    overlap_minutes: int
    shared_stays: int
    evidence: list[dict[str, Any]]
    status: str
    decided_by: str | None
    decided_at: dt.datetime | None
    version: int = Field(description="The contact's version: send it back with a decision (`versions`).")

    @classmethod
    def of(cls, user: Actor, c: Contact) -> ContactOut:
        return cls(
            id=c.pk,
            person_id=c.person_id,
            name=c.person.name,
            national_id=people.national_id_for(user, c.person, listed=True),
            district=c.district.code,
            district_name=c.district.name,
            degree=c.degree,
            contact_type=c.contact_type,
            via=c.via.name if c.via_id and c.via else None,
            score=round(c.score, 3),
            overlap_minutes=c.overlap_minutes,
            shared_stays=c.shared_stays,
            evidence=c.evidence,
            status=c.status,
            decided_by=c.decided_by.username if c.decided_by_id and c.decided_by else None,
            decided_at=c.decided_at,
            version=c.version,
        )


class ContactFilter(Paging):
    status: Annotated[str, text(Contact, "status")] = ""
    degree: int | None = None
    limit: int = Field(200, ge=1, description="How many rows to return (lowered to the operation's cap).")


class DecideIn(Schema):
    contacts: list[int]
    decision: Annotated[str, text(Contact, "status")]
    note: Annotated[str, text(Contact, "note")] = ""
    versions: dict[int, int] | None = Field(
        None,
        description="Contact id -> the contact's `version` the caller saw. When given, a decision on a contact "
        "judged, re-traced or changed since is refused whole with 409 and the current state of the contacts "
        "chosen, changing nothing. Omitted: no check (older clients; the last decision wins).",
    )


class ChangedOut(Schema):
    changed: int


class TrajectoryIn(Schema):
    kind: Annotated[str, text(TrajectoryEntry, "kind")] = "venue"
    venue: Annotated[str, text(Venue, "code")] | None = None  # place code
    subarea: int | None = None
    place: Annotated[str, text(TrajectoryEntry, "place")] = ""
    address: Annotated[str, text(TrajectoryEntry, "address")] = ""
    time_in: EventTime
    time_out: EventTime


class TrajectoryOut(Schema):
    id: int
    kind: str
    venue: str | None
    venue_name: str | None
    subarea: int | None
    place: str
    address: str
    time_in: dt.datetime
    time_out: dt.datetime
    from_scan: bool

    @classmethod
    def of(cls, e: TrajectoryEntry) -> TrajectoryOut:
        return cls(
            id=e.pk,
            kind=e.kind,
            venue=e.venue.code if e.venue else None,
            venue_name=e.venue.name if e.venue else None,
            subarea=e.subarea,
            place=e.place,
            address=e.address,
            time_in=e.time_in,
            time_out=e.time_out,
            from_scan=e.from_scan,
        )


class EntryCreatedOut(Schema):
    id: int


class AddedOut(Schema):
    added: int


class AssociationOut(Schema):
    case: str
    district: str
    visible: bool
    cluster: str | None
    links: list[dict[str, str]]

    @classmethod
    def of(cls, a: dict[str, Any]) -> AssociationOut:
        return cls(
            case=a["case"].code,
            district=a["case"].district.code,
            visible=a["visible"],
            cluster=a["cluster"].code if a["cluster"] else None,
            links=a["links"],
        )


class LinkageOut(Schema):
    id: int
    contact_id: int
    person_id: int
    name: str
    case: str
    from_district: str
    to_district: str
    contact_type: str
    status: str
    created_at: dt.datetime
    due_at: dt.datetime
    overdue: bool
    acknowledged_at: dt.datetime | None

    @classmethod
    def of(cls, link: Linkage) -> LinkageOut:
        c = link.contact
        return cls(
            id=link.pk,
            contact_id=c.pk,
            person_id=c.person_id,
            name=c.person.name,
            case=c.case.code,
            from_district=link.from_district.code,
            to_district=link.to_district.code,
            contact_type=c.contact_type,
            status=c.status,
            created_at=link.created_at,
            due_at=link.due_at,
            overdue=link.overdue(),
            acknowledged_at=link.acknowledged_at,
        )


CaseCode = Annotated[str, text(Case, "code")]


class ClusterIn(Schema):
    name: Annotated[str, text(Cluster, "name")]
    cases: list[CaseCode]
    note: Annotated[str, text(Cluster, "note")] = ""


class CasesIn(Schema):
    cases: list[CaseCode]


class MergeIn(Schema):
    clusters: list[Annotated[str, text(Cluster, "code")]]


class ClusterOut(Schema):
    id: int
    code: str
    name: str
    cases: int
    merged_into: str | None

    @classmethod
    def of(cls, c: Cluster) -> ClusterOut:
        return cls(
            id=c.pk,
            code=c.code,
            name=c.name,
            cases=getattr(c, "n_cases", None) or selectors.cluster_size(c),
            merged_into=c.merged_into.code if c.merged_into_id and c.merged_into else None,
        )


class RiskVenueOut(Schema):
    venue: str
    venue_name: str
    venue_type: str
    jurisdiction: str
    latitude: float | None
    longitude: float | None
    case: str
    first_in: dt.datetime
    last_out: dt.datetime
    visits: int

    @classmethod
    def of(cls, r: RiskVenue) -> RiskVenueOut:
        building = r.venue.building
        return cls(
            venue=r.venue.code,
            venue_name=r.venue.name,
            venue_type=r.venue.venue_type,
            jurisdiction=r.venue.jurisdiction.code,
            latitude=building.latitude if building else None,
            longitude=building.longitude if building else None,
            case=r.case.code,
            first_in=r.first_in,
            last_out=r.last_out,
            visits=r.visits,
        )


class ImportedIn(Schema):
    imported: bool
