"""Every write of case management and tracing, one module per sub-domain; callers use the names re-exported
here (``from cordon.apps.tracing import actions; actions.report_case(...)``).

- ``cases``: reporting a case (its investigation opens with it; ``CaseReported``) and the investigation;
- ``trajectory``: a case's activity trajectory, typed in or filled in from its check-in scans;
- ``tracing``: trace runs (``trace_case``, ``trace_cases``): the scan store and the engine outside any
  transaction, then each case's findings written in a transaction of its own, with ``register`` (the
  register rows a trace needs), ``evidence`` (the evidence JSON) and ``contacts`` (merging the findings into
  the case's contacts, every contact audited);
- ``judgment``: confirming and dismissing candidates (``ContactsJudged``), cross-district handovers;
- ``clusters``: clusters of cases;
- ``scans``: loading check-in scans into the scan store, purging old ones.

Tracing merges its findings into a case's contacts: new candidates are added, evidence of known ones is
refreshed, and no decision is ever changed by tracing.
"""

from .cases import CaseData, clean_case, report_case, set_imported, update_investigation
from .clusters import add_to_cluster, create_cluster, merge_clusters
from .evidence import EVIDENCE_PER_CONTACT
from .judgment import acknowledge_linkage, decide_contacts
from .scans import ingest_scans, purge_scans
from .tracing import TraceResult, trace_case, trace_cases
from .trajectory import (
    TrajectoryData,
    add_trajectory_entry,
    autofill_trajectory,
    clean_trajectory,
    delete_trajectory_entry,
)

__all__ = [
    "EVIDENCE_PER_CONTACT",
    "CaseData",
    "TraceResult",
    "TrajectoryData",
    "acknowledge_linkage",
    "add_to_cluster",
    "add_trajectory_entry",
    "autofill_trajectory",
    "clean_case",
    "clean_trajectory",
    "create_cluster",
    "decide_contacts",
    "delete_trajectory_entry",
    "ingest_scans",
    "merge_clusters",
    "purge_scans",
    "report_case",
    "set_imported",
    "trace_case",
    "trace_cases",
    "update_investigation",
]
