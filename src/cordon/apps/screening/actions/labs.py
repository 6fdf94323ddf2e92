"""Labs: registering one, receiving tubes by manifest, reading a lab's result file (CSV or XLSX, through the
one table reader). Recording the results, and what follows from a positive, is in ``positives``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import Jurisdiction
from cordon.core import tables
from cordon.core.actions import action
from cordon.core.actors import Actor

from ..models import Lab, Tube, TubeStatus


@action
def create_lab(
    *, actor: Actor | None, code: str, name: str, jurisdiction: Jurisdiction | None, source: str = "web"
) -> Lab:
    errors: dict[str, str] = {}
    if not code.strip():
        errors["code"] = _("A code is required.")
    elif Lab.objects.filter(code=code.strip()).exists():
        errors["code"] = _("This code is already used.")
    if not name.strip():
        errors["name"] = _("A name is required.")
    if jurisdiction is None:
        errors["jurisdiction"] = _("Unknown jurisdiction.")
    if errors:
        raise ValidationError(errors)
    assert jurisdiction is not None
    return audit.create(
        actor, Lab, source=source, code=code.strip(), name=name.strip(), jurisdiction=jurisdiction
    )


@dataclass
class RowReport:
    done: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, message)
    positive_pools: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)


@action
def receive_tubes(
    *, actor: Actor | None, lab: Lab, barcodes: Sequence[str], source: str = "web"
) -> RowReport:
    """A manifest: the tubes arriving at a lab. Unknown, empty or already received tubes are reported per row;
    each tube received has its audit row (inserted in bulk)."""
    report = RowReport()
    codes = [b.strip() for b in barcodes if b.strip()]
    tubes = {t.barcode: t for t in Tube.objects.select_for_update().filter(barcode__in=codes)}
    ok: list[Tube] = []
    received: set[str] = set()
    for n, code in enumerate(codes, start=1):
        t = tubes.get(code)
        if t is None:
            report.errors.append((n, _("Unknown tube %(t)s.") % {"t": code}))
        elif t.bound == 0:
            report.errors.append((n, _("Tube %(t)s holds no sample.") % {"t": code}))
        elif code in received or (t.lab_id == lab.pk and t.status != TubeStatus.OPEN):
            report.unchanged += 1  # listed again, or received by this lab before
        elif t.status in (TubeStatus.RECEIVED, TubeStatus.RESULTED):
            report.errors.append((n, _("Tube %(t)s was already received by another lab.") % {"t": code}))
        else:
            received.add(code)
            ok.append(t)
    audit.change_many(
        actor, ok, source=source, status=TubeStatus.RECEIVED, lab=lab, received_at=timezone.now()
    )
    report.done = len(ok)
    return report


@dataclass(frozen=True)
class ResultIn:
    tube: str
    result: str
    ct: dict[str, float] = field(default_factory=dict)


RESULT_COLUMNS = ("barcode", "result", "ct_orf1ab", "ct_n")


def parse_results_file(data: bytes, filename: str = "") -> tuple[list[ResultIn], list[tuple[int, str]]]:
    """A CSV or XLSX file with the columns ``barcode,result,ct_orf1ab,ct_n`` (Ct values optional), read by the
    one table reader (``cordon.core.tables``: row numbers as a spreadsheet shows them, the header is row 1).
    Rows that cannot be read are returned as (row, message), a file that cannot be read at all as row 0; the
    others are returned to record."""
    try:
        header, body = tables.read_table(data, filename)
    except tables.FileProblem as exc:
        problem = str(exc)
        return [], [(0, problem[:1].upper() + problem[1:])]
    if not {"barcode", "result"} <= {h.strip().lower() for h in header}:
        return [], [(1, _("The file needs the columns barcode and result."))]
    rows: list[ResultIn] = []
    errors: list[tuple[int, str]] = []
    for line, rec in tables.records(header, body):
        ct: dict[str, float] = {}
        bad = False
        for col, gene in (("ct_orf1ab", "ORF1ab"), ("ct_n", "N")):
            if rec.get(col):
                try:
                    ct[gene] = float(rec[col])
                except ValueError:
                    errors.append((line, _("Ct value %(v)s is not a number.") % {"v": rec[col]}))
                    bad = True
        if not bad:
            rows.append(ResultIn(rec.get("barcode", ""), rec.get("result", "").lower(), ct))
    return rows, errors
