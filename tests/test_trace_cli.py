"""`cordon trace` on the simulator's files (no database) and `cordon scans ingest|info|purge`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cordon import cli


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory: Any) -> Path:
    out = tmp_path_factory.mktemp("sim") / "run"
    code = cli.main(["sim", "run", "--preset", "demo", "--population", "4000", "--days", "15", "--scans",
                     "--interventions", "basic", "--out", str(out)])  # fmt: skip
    assert code == 0
    return out


def test_trace_finds_the_true_venue_transmissions(sim_run: Path, tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "pairs.csv"
    code = cli.main(["trace", "--scans", str(sim_run / "scans"), "--cases", str(sim_run / "cases.parquet"),
                     "--persons", str(sim_run / "persons.parquet"), "--venues", str(sim_run / "venues.parquet"),
                     "--out", str(out), "--evidence", str(tmp_path / "evidence.parquet")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    pairs = pacsv.read_csv(out)
    assert pairs.num_rows > 0
    assert {"case_id", "contact_id", "contact_type", "degree", "via_id", "venue_id", "overlap_minutes",
            "shared_stays", "total_overlap_minutes", "score"} <= set(pairs.column_names)  # fmt: skip
    found = set(zip(pairs.column("case_id").to_pylist(), pairs.column("contact_id").to_pylist(), strict=True))
    assert len(found) == pairs.num_rows  # one row per case-contact pair
    # Every infection by a reported case at a venue, a household or a work unit inside the case's exposure
    # window (4 days before onset or sample, until the end of the report day) is among the pairs.
    cases = pq.read_table(sim_run / "cases.parquet").to_pylist()
    window = {}
    for c in cases:
        anchor = c["onset_on"] or c["sampled_on"]
        window[c["person_id"]] = (anchor - dt.timedelta(days=4), c["reported_on"])
    tree = pq.read_table(sim_run / "infections.parquet")
    tree = tree.filter(
        pc.is_in(tree.column("setting").cast("string"), pc.cast(["venue", "household", "work"], "string"))
    )
    checked = 0
    for inf in tree.to_pylist():
        src = inf["source_id"]
        if src in window and window[src][0] <= inf["infected_on"] < window[src][1]:
            assert (src, inf["person_id"]) in found, inf
            checked += 1
    assert checked > 0
    assert (
        pq.read_table(tmp_path / "evidence.parquet").num_rows >= pairs.num_rows - 0
    )  # at least one row each


def test_trace_refuses_bad_input_before_work(sim_run: Path, tmp_path: Path, capsys: Any) -> None:
    base = ["trace", "--scans", str(sim_run / "scans"), "--cases", str(sim_run / "cases.parquet")]
    assert cli.main([*base, "--out", str(tmp_path / "x.txt")]) == 2
    assert cli.main(["trace", "--scans", str(tmp_path / "none"), "--cases", "x.csv", "--out", "o.csv"]) == 2
    assert (
        cli.main([*base, "--persons", str(tmp_path / "missing.parquet"), "--out", str(tmp_path / "o.csv")])
        == 2
    )
    bad = tmp_path / "cases.csv"
    bad.write_text("person_id\n1\n", encoding="utf-8")
    assert (
        cli.main(
            [
                "trace",
                "--scans",
                str(sim_run / "scans"),
                "--cases",
                str(bad),
                "--out",
                str(tmp_path / "o.csv"),
            ]
        )
        == 2
    )
    assert "window" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.django_db
def test_scans_ingest_info_purge(city: Any, make_user: Any, tmp_path: Path, capsys: Any) -> None:
    make_user("administrator", city.city, username="ops")
    make_user("investigator", city.city, username="inv")
    day = dt.date.today() - dt.timedelta(days=40)
    f = tmp_path / "scans.csv"
    f.write_text(
        "person_id,venue_id,time_in,time_out\n"
        f"{city.ft_person.pk},{city.ft_venue.pk},{day} 08:00,{day} 09:00\n"
        f"999999,{city.ft_venue.pk},{day} 08:00,{day} 09:00\n",
        encoding="utf-8",
    )
    assert cli.main(["scans", "ingest", str(f), "--user", "inv"]) == 2
    assert cli.main(["scans", "ingest", str(f), "--user", "ops"]) == 0
    out = capsys.readouterr().out
    assert "1 scan added" in out and "unknown person" in out
    assert cli.main(["scans", "info"]) == 0
    assert "1 scans on 1 days" in capsys.readouterr().out
    assert cli.main(["scans", "purge", "--user", "ops"]) == 0
    assert "holding 1 scan;" in capsys.readouterr().out
