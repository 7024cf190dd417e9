"""`vdto simulate|compare|sweep|game` as a user runs them: outputs, provenance, bad input."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from vdto.sim.params import Scenario

from .conftest import run_cli, run_here

META = {"vdto_version", "scenario_sha256", "world_sha256", "seed"}


def test_simulate_writes_parquet_with_provenance(tmp_path):
    out = tmp_path / "x.parquet"
    res = run_here(
        "simulate", "small", "--policy", "targeted", "-r", "20", "--months", "24", "--out", str(out)
    )
    assert res.returncode == 0, res.stderr
    assert "targeted" in res.stdout and "seed 1" in res.stdout
    table = pq.read_table(out)
    meta = json.loads(table.schema.metadata[b"vdto"])
    assert meta.keys() >= META
    assert meta["seed"] == 1 and meta["replicates"] == 20 and meta["months"] == 24
    assert len(meta["scenario_sha256"]) == 64 and len(meta["world_sha256"]) == 64
    frame = table.to_pandas()
    assert len(frame) == 20 * 24
    assert set(frame["policy"]) == {"targeted"}
    assert (frame["scenario_sha256"] == meta["scenario_sha256"]).all()
    assert frame["deaths"].sum() > 0
    kinds = [c for c in frame.columns if c.startswith("deaths_") and c != "deaths_by"]
    assert abs(frame[kinds].sum(axis=1) - frame["deaths"]).max() < 1e-6


def test_compare_json_and_chart(tmp_path):
    chart = tmp_path / "c.png"
    args = ("compare", "small", "--policies", "none,volume,targeted", "-r", "20", "--months", "24")
    res = run_here(*args, "--chart", str(chart), "-f", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["meta"].keys() >= META
    assert [r["policy"] for r in doc["rows"]] == ["none", "volume", "targeted"]
    assert all(r["deaths_by_24_lo90"] <= r["deaths_by_24"] <= r["deaths_by_24_hi90"] for r in doc["rows"])
    # homicides in people per month, each policy's mean over replicates and months
    assert all(r["deaths_per_month"] == pytest.approx(r["deaths_total"] / 24, rel=0.5) for r in doc["rows"])
    assert all(
        r["deaths_per_month_lo90"] <= r["deaths_per_month"] <= r["deaths_per_month_hi90"] for r in doc["rows"]
    )
    assert doc["meta"]["unit"] == "homicides (people) per month"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the same command, the same numbers and the same hashes (in a process of its own)
    again = json.loads(run_cli(*args, "-f", "json", "--workers", "1").stdout)
    assert again == doc


def test_compare_scenario_file_and_hash(tmp_path):
    sc = tmp_path / "mine.toml"
    sc.write_text('name = "mine"\n[run]\nmonths = 6\nreplicates = 4\nseed = 9\n[world]\nkind = "grid"\n')
    res = run_here("compare", str(sc), "--policies", "none,kingpin", "-f", "json", "--workers", "1")
    assert res.returncode == 0, res.stderr
    meta = json.loads(res.stdout)["meta"]
    expected = Scenario.model_validate(
        {"name": "mine", "run": {"months": 6, "replicates": 4, "seed": 9}, "world": {"kind": "grid"}}
    )
    assert meta["scenario_sha256"] == expected.sha256() and meta["seed"] == 9


def test_sweep_grid(tmp_path):
    grid = tmp_path / "g.toml"
    grid.write_text('[grid]\n"enforcement.capacity" = [0.02, 0.06]\n')
    res = run_here("sweep", "small", "--grid", str(grid), "-r", "10", "--months", "12", "-f", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["meta"].keys() >= META
    rows = doc["rows"]
    assert len(rows) == 2 * 2  # two values x the default policies volume, targeted
    assert [(r["enforcement.capacity"], r["policy"]) for r in rows] == [
        (0.02, "volume"),
        (0.02, "targeted"),
        (0.06, "volume"),
        (0.06, "targeted"),
    ]
    assert rows[0]["scenario_sha256"] != rows[2]["scenario_sha256"]


def test_game_json():
    res = run_here("game", "--n", "2", "--k", "1", "--cost", "1", "--sanction", "1.5", "-f", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert (
        doc["meta"]["n"] == 2 and doc["meta"]["sanction"] == 1.5 and len(doc["meta"]["settings_sha256"]) == 64
    )
    rows = {r["regime"]: r for r in doc["rows"]}
    assert rows["uniform"]["equilibria"] == "0, 2" and not rows["uniform"]["unique_compliance"]
    assert rows["priority"]["equilibria"] == "0" and rows["priority"]["unique_compliance"]
    assert rows["priority"]["final_violators"] == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("simulate", "small", "--policy", "bogus"), "bogus"),
        (("compare", "small", "--policies", "none,nope"), "nope"),
        (("compare", "small", "--policies", "none+volume"), "none"),
        (("sweep", "small", "--grid", "{bad_grid}"), "enforcement.nope"),
        (("sweep", "small", "--grid", "{bad_value}"), "capacity"),
        (("sweep", "small", "--grid", "{tmp}/missing-grid.toml"), "not found"),
        (("simulate", "{tmp}/missing.toml"), "not found"),
        (("simulate", "{bad_scenario}"), "violence.bogus"),
        (("simulate", "{negative_members}"), "people.members"),
        (("simulate", "{early_start}"), "world.start_year"),
        (("compare", "{unknown_key}"), "people.bogus"),
        (("compare", "small", "--chart", "{tmp}/c.gif"), ".gif"),
        (("simulate", "small", "--months", "-1"), "--months"),
        (("simulate", "small", "-r", "0"), "--replicates"),
        (("simulate", "small", "-f", "xml"), "xml"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, needle):
    (tmp_path / "bad_grid.toml").write_text('[grid]\n"enforcement.nope" = [1]\n')
    (tmp_path / "bad_value.toml").write_text('[grid]\n"enforcement.capacity" = [-1.0]\n')
    (tmp_path / "bad_scenario.toml").write_text("[violence]\nbogus = 1\n")
    (tmp_path / "negative_members.toml").write_text("[people]\nmembers = -100.0\n")
    (tmp_path / "early_start.toml").write_text("[world]\nstart_year = 1985\n")
    (tmp_path / "unknown_key.toml").write_text("[people]\nbogus = 2\n")
    paths = {
        "negative_members": str(tmp_path / "negative_members.toml"),
        "early_start": str(tmp_path / "early_start.toml"),
        "unknown_key": str(tmp_path / "unknown_key.toml"),
        "tmp": str(tmp_path),
        "bad_grid": str(tmp_path / "bad_grid.toml"),
        "bad_value": str(tmp_path / "bad_value.toml"),
        "bad_scenario": str(tmp_path / "bad_scenario.toml"),
    }
    argv = [a.format(**paths) for a in args]
    if args[0] == "sweep":
        argv += ["-r", "2", "--months", "2"]  # a sweep that got past its grid would stay small
    res = run_here(*argv)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert needle in lines[0]
    assert not (tmp_path / "c.gif").exists()
