"""`cordon sim generate|run` from the command line: outputs, progress and refusals before any work."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cordon import cli


def test_generate_writes_city_and_scans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "city"
    code = cli.main(["sim", "generate", "--preset", "demo", "--population", "3000", "--scan-days", "2",
                     "--start", "2022-11-20", "--out", str(out)])  # fmt: skip
    assert code == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["persons"] == 3000 and summary["scans"] > 6000
    assert "scans" in captured.err and "city" in captured.err  # progress bars on stderr
    for name in ("jurisdictions", "buildings", "households", "persons", "workplaces", "venues"):
        assert (out / f"{name}.parquet").exists()
    assert sorted(p.name for p in (out / "scans").iterdir()) == ["date=2022-11-20", "date=2022-11-21"]
    assert pq.read_table(out / "persons.parquet").num_rows == 3000


def test_run_writes_cases_and_tree_as_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    code = cli.main(["sim", "run", "--preset", "demo", "--population", "4000", "--days", "15",
                     "--interventions", "basic", "--format", "csv", "--out", str(out)])  # fmt: skip
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["infections"] > 6 and summary["profile"] == "covid19-omicron v1"
    header = (out / "infections.csv").read_text(encoding="utf-8").splitlines()[0]
    assert '"source_id"' in header and '"setting"' in header
    assert (out / "cases.csv").exists() and (out / "daily.csv").exists() and (out / "persons.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "atlantis"], "unknown preset 'atlantis'"),
        (["--population", "-3"], "population: must be a positive whole number"),
        (["--profile", "nope"], "unknown pathogen profile 'nope'"),
        (["--r0", "-1"], "r0: must be positive"),
        (["--interventions", "everything"], "unknown intervention set"),
        (["--days", "-2"], "--days must not be negative"),
        (["--start", "22/11/2022"], "--start: expected YYYY-MM-DD"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "nothing"
    assert cli.main(["sim", "run", "--out", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
