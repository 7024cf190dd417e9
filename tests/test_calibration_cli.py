"""`vdto calibrate|validate` and `vdto compare --posterior` as a user runs them."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from .conftest import run_here, write_posterior


def _one_error_line(res) -> str:
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


def _posterior(tmp_path, scenario: str = "default"):
    return write_posterior(tmp_path / "posterior.parquet", scenario)


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("--from", "1985", "--to", "1990"), "--from"),
        (("--from", "2010", "--to", "2025"), "--to"),
        (("--from", "2012", "--to", "2010"), "--to"),
    ],
)
def test_calibrate_refuses_years_without_data(tmp_path, args, names):
    res = run_here("calibrate", "default", *args, "--out", str(tmp_path / "p.parquet"))
    line = _one_error_line(res)
    assert names in line
    assert not (tmp_path / "p.parquet").exists()


def test_calibrate_refuses_the_synthetic_world(tmp_path):
    line = _one_error_line(run_here("calibrate", "small", "--out", str(tmp_path / "p.parquet")))
    assert "world.kind" in line


def test_validate_refuses_a_file_that_is_not_a_posterior(tmp_path):
    bad = tmp_path / "x.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(bad)
    line = _one_error_line(run_here("validate", str(bad)))
    assert str(bad) in line


def test_compare_refuses_a_posterior_of_another_scenario(tmp_path):
    _posterior(tmp_path, scenario="small")
    res = run_here("compare", "default", "--posterior", str(tmp_path / "posterior.parquet"), "-r", "4",
                   "--months", "12")  # fmt: skip
    line = _one_error_line(res)
    assert "--posterior" in line and "another scenario" in line


def test_compare_over_the_posterior_carries_it_in_the_provenance(tmp_path):
    _posterior(tmp_path)
    out = tmp_path / "runs.parquet"
    res = run_here("compare", "default", "--posterior", str(tmp_path / "posterior.parquet"), "--draws", "3",
                   "-r", "6", "--months", "14", "--policies", "none,targeted", "-f", "json", "--out", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["meta"]["posterior_draws"] == 3 and doc["meta"]["posterior_fit"] == "2007-2012"
    assert doc["meta"]["replicates"] == 6  # 3 draws x 2 replicates each
    rows = {r["policy"]: r for r in doc["rows"]}
    assert set(rows) == {"none", "targeted"}
    assert all(r["deaths_per_month"] > 0 for r in rows.values())
    frame = pq.read_table(out).to_pandas()
    assert frame["replicate"].nunique() == 6


@pytest.mark.slow
def test_the_calibration_figures_script_writes_every_table(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    res = subprocess.run(
        [sys.executable, str(root / "docs" / "calibration_figures.py"), str(tmp_path), "--population", "10",
         "--generations", "1", "--trajectories", "2", "--sobol-n", "4"],
        capture_output=True, text=True, cwd=root, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "calibration-tables.md").read_text(encoding="utf-8")
    for heading in ("## Sensitivity", "## Posterior", "## Fit inside the calibration window: 2007-2012",
                    "## Held-out years: 2013-2023"):  # fmt: skip
        assert heading in text
    assert "| 2023 | SESNSP | 30,572 |" in text  # the real value of a held-out year, as registered
    assert (tmp_path / "posterior.parquet").exists()
