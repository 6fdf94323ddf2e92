"""Every write of mass screening, one module per sub-domain: ``rounds`` (rounds, their scope and target
population), ``sites`` (sampling sites, queues, tubes issued), ``stations`` (a scanner's batch of sample
bindings, sealing a tube), ``counts`` (the nightly reconciliation of the kept sample counters), ``labs`` (labs,
manifests, result files), ``positives`` (results and the follow-up of positives: temporary control, re-sample
tasks, confirmation, cases), ``industries`` (key-industry frequency rules).

Each public write is an ``@action``: one transaction that checks its input, refuses with
``ValidationError({field: message})`` and changes nothing when something is wrong, and audits every record it
writes. Two paths take many rows at once and answer per row instead: ``bind_samples`` (a scanner's batch: each
row bound or refused with its reason, the bound rows written with the bulk writer and one audit row for the
batch; one transaction per attempt, see its docstring) and ``record_results`` (a lab's list or file).

Other apps and the edges import this package and use the names below (``actions.bind_samples(...)``); the
sub-modules are private to the app.
"""

from __future__ import annotations

from .counts import Drift, reconcile_counts
from .industries import save_rule
from .labs import RESULT_COLUMNS, ResultIn, RowReport, create_lab, parse_results_file, receive_tubes
from .positives import record_results
from .rounds import RoundData, clean_round, close_round, create_round, recount_target, tube_size_of
from .sites import MAX_TUBES_PER_ISSUE, SiteData, add_site, issue_tubes, report_queue
from .stations import MAX_BATCH, PASS_PREFIX, BatchResult, BindingIn, bind_samples, seal_tube

__all__ = [
    "MAX_BATCH",
    "MAX_TUBES_PER_ISSUE",
    "PASS_PREFIX",
    "RESULT_COLUMNS",
    "BatchResult",
    "BindingIn",
    "Drift",
    "ResultIn",
    "RoundData",
    "RowReport",
    "SiteData",
    "add_site",
    "bind_samples",
    "clean_round",
    "close_round",
    "create_lab",
    "create_round",
    "issue_tubes",
    "parse_results_file",
    "receive_tubes",
    "reconcile_counts",
    "record_results",
    "recount_target",
    "report_queue",
    "save_rule",
    "seal_tube",
    "tube_size_of",
]
