"""Stays across midnight in the benchmarks' synthetic scans.

The simulator's stays all end the day they begin; real check-ins do not (night shifts, hotels, hospitals), and
tracing must read back across date partitions for them (docs/tracing.md, "The window's edges"). The tracing
benchmarks therefore lengthen a fixed share of the stays, chosen by a hash of the scan (the same on every run),
to end after the next midnight: at a random minute of the next 12 hours, never more than the longest stay the
scan store keeps after they began.
"""

from __future__ import annotations

from cordon.engine.scanstore import MAX_STAY_MINUTES

SHARE_PERCENT = 2


def time_out_sql(share_percent: int = SHARE_PERCENT) -> str:
    """A DuckDB expression for ``time_out`` over columns person_id, venue_id, time_in, time_out: the stay as
    it is, or (for about ``share_percent`` % of the scans) lengthened past the next midnight."""
    return (
        f"CASE WHEN hash(person_id, venue_id, time_in) % 100 < {int(share_percent)} THEN greatest(time_out, "
        f"least(time_in + INTERVAL {MAX_STAY_MINUTES} MINUTE, date_trunc('day', time_in) + INTERVAL 1 DAY "
        f"+ to_minutes(CAST(hash(time_in, person_id) % 720 AS BIGINT) + 1))) ELSE time_out END"
    )
