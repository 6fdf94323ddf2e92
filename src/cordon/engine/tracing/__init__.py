"""Automatic contact tracing: from cases and venue check-in scans to close contacts, secondary contacts and
risk-venue visitors, each with its evidence and a risk score (no Django; numpy + pyarrow).

Times are whole minutes since 1970-01-01 in local wall-clock time.

Rules
-----
- **Exposure window** (:func:`exposure_window`): from ``days_before`` days before onset (before the first
  positive sample when there is no onset: asymptomatic) until isolation (or ``now`` when not isolated).
- **Case stays**: the case's scans overlapping its window, plus :class:`Visit` entries typed in by an
  investigator, each **clipped to the window**: only the part of a stay inside the exposure window counts
  (a stay from before the window's start counts from the start; one past its end, until the end; a visit
  wholly outside counts not at all). Evidence shows the clipped case stay (``case_in``, ``case_out``). So the
  scans any case stay can meet overlap ``[start - margin, end + margin]`` and began at the earliest
  ``start - margin - MAX_STAY_MINUTES`` (the longest stay the scan store keeps): every path reads back that
  far (:func:`cordon.engine.scanstore.days_holding`), and no further.
- **Overlap**: a case stay ``[a_in, a_out]`` and a stay ``[b_in, b_out]`` at the same venue overlap when
  ``b_in <= a_out + margin`` and ``b_out >= a_in - margin`` (closed intervals: touching stays count).
  Minutes together = ``max(0, min(a_out, b_out) - max(a_in, b_in))``. The case's own scans never make the case
  its own contact; other cases can be contacts.
- **Types and degrees**: degree 1 (close): ``household`` (same household), ``work_unit`` (same work unit or
  school class), ``venue`` (co-presence from a scan), ``trajectory`` (co-presence from a typed-in visit).
  Co-presence is not close when both sub-areas are known and differ. At a **hub venue** it is close only with
  the same known sub-area (both known and equal) or at least ``hub_min_overlap_minutes`` together; at other
  venues it needs at least ``min_overlap_minutes`` together (default 0). Co-presence that is not close is
  degree 0, ``risk_venue`` (screening, not quarantine).
  Degree 2 (``secondary_household``, ``secondary_work_unit``): household and unit members of every close
  contact (``via_id``), when a register is given and ``secondary`` is on.
- **One pair, one finding**: a (case, contact) pair keeps its strongest type: degree 1 before 2 before 0, and
  household > work_unit > venue > trajectory; evidence rows of weaker degrees are dropped for that pair.
- **Score** (0..1): household 1.0; work_unit 0.8; venue and trajectory ``1 - exp(-minutes / 30)`` times 1.0
  (same sub-area) or 0.7 (not both known); secondary 0.5 times the best score of
  the close contact it comes through; risk_venue 0.1.

How it is fast: :class:`ScanIndex` sorts the scans once by a packed key ``venue << 32 | (t_in - t0)``. Each case
stay then needs two binary searches (its venue from ``a_in - margin - longest stay at that venue`` to
``a_out + margin``); the ranges of all stays of all cases are expanded and filtered with vectorised numpy (in
chunks that bound memory), never a Python loop per stay or per case.

The modules: :mod:`.model` (the inputs, contact types and rules), :mod:`.index` (scans as arrays and the
index), :mod:`.core` (a batch of cases in blocks on threads), :mod:`.kernels` (the compiled inner loops,
imported on first use through :mod:`.lazy`), :mod:`.links` (household and work-unit links) and :mod:`.results`
(the evidence and pair tables).
"""

from __future__ import annotations

from cordon.engine.scanstore import MAX_STAY_MINUTES

from .core import trace, trace_blocks
from .index import ScanArrays, ScanIndex
from .model import CONTACT_TYPES, CaseWindow, Register, Rules, Visit, exposure_window
from .results import Contacts

__all__ = [
    "CONTACT_TYPES",
    "MAX_STAY_MINUTES",
    "CaseWindow",
    "Contacts",
    "Register",
    "Rules",
    "ScanArrays",
    "ScanIndex",
    "Visit",
    "exposure_window",
    "trace",
    "trace_blocks",
]
