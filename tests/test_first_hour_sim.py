"""What a new user meets in the simulator's first hour: sweep grids and files, the game's data and
provenance, the units every simulated number carries, and a policy chart that can be read."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyarrow.parquet as pq
import pytest

from vdto.errors import VdtoError
from vdto.sim.engine import simulate
from vdto.sim.params import Scenario, load_scenario
from vdto.sim.results import PEOPLE, deaths_chart, provenance
from vdto.sim.world import grid_world

from .conftest import assert_one_line_exit_2, run_here

ROOT = Path(__file__).parents[1]
FAST = ("-r", "2", "--months", "2", "--workers", "1")
WIDE = {**os.environ, "COLUMNS": "300", "VDTO_COLUMNS": "300"}  # a terminal wide enough for every column


# ------------------------------------------------------------------------------------ sweep


def test_sweep_prints_grid_values_as_written(tmp_path):
    grid = tmp_path / "g.toml"
    grid.write_text('[grid]\n"enforcement.capacity" = [0.02, 1.25]\n')
    res = run_here("sweep", "small", "--grid", str(grid), *FAST, env=WIDE)
    assert res.returncode == 0, res.stderr
    cells = {c.strip() for line in res.stdout.splitlines() for c in line.split("│")}
    assert {"0.02", "1.25"} <= cells and "1.2" not in cells  # not rounded to one decimal
    assert "Sweep: homicides (people) over replicates" in res.stdout
    head = " ".join(line for line in res.stdout.splitlines() if line.startswith("┃"))
    assert "median" in head and "90% interval" in head and "mean" in head  # (long heads fold)


def test_out_format_follows_the_suffix_or_fails_in_one_line():
    from vdto.cli.options import _out_format

    assert [_out_format(None, Path(f"x{s}")) for s in (".csv", ".JSON", ".parquet")] == [
        "csv",
        "json",
        "parquet",
    ]
    assert _out_format(None, None) == "table" and _out_format("json", Path("x.csv")) == "json"
    with pytest.raises(VdtoError) as caught:
        _out_format(None, Path("sweep.txt"))
    assert caught.value.place() == "--out" and ".csv, .json or .parquet" in caught.value.line()
    with pytest.raises(VdtoError, match="xml"):
        _out_format("xml", None)


def test_sweep_out_without_format_writes_the_file_its_suffix_names(tmp_path):
    out = tmp_path / "sweep.csv"
    res = run_here("sweep", "small", "--grid", str(ROOT / "examples" / "grid.toml"), *FAST, "--out", str(out))
    assert res.returncode == 0, res.stderr
    frame = pd.read_csv(out)
    assert frame[["enforcement.capacity", "policy"]].values.tolist() == [
        [200.0, "volume"], [200.0, "targeted"], [800.0, "volume"], [800.0, "targeted"],
    ]  # fmt: skip
    assert len(frame["meta_vdto_version"].unique()) == 1 and frame["deaths_by_2"].notna().all()
    bad = tmp_path / "sweep.txt"
    res = run_here("sweep", "small", "--grid", str(ROOT / "examples" / "grid.toml"), *FAST, "--out", str(bad))
    assert_one_line_exit_2(res, "--out", "sweep.txt", ".csv")
    assert not bad.exists()


def test_grid_help_shows_a_grid_that_sweep_accepts(tmp_path):
    from vdto.cli.sim import _grid

    res = run_here("sweep", "--help", env={**os.environ, "COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    assert res.returncode == 0, res.stderr
    text = " ".join(res.stdout.split())
    example = '[grid] "enforcement.capacity" = [200.0, 800.0]'
    assert example in text and "examples/grid.toml" in text
    written = tmp_path / "help.toml"
    written.write_text(example.replace("] ", "]\n", 1))
    assert _grid(written, load_scenario("small")) == {"enforcement.capacity": [200.0, 800.0]}


def test_example_grid_is_accepted_by_the_documented_command():
    from vdto.cli.sim import _grid

    axes = _grid(ROOT / "examples" / "grid.toml", load_scenario("small"))
    assert len(axes) == 1 and len(next(iter(axes.values()))) == 2  # tiny: two points
    args = ("sweep", "small", "--grid", "examples/grid.toml", "--policies", "volume,targeted")
    res = run_here(*args, *FAST, "-f", "json", cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert [r["policy"] for r in json.loads(res.stdout)["rows"]] == ["volume", "targeted"] * 2


# ------------------------------------------------------------------------------------- game


def test_game_data_keep_the_whole_path_and_carry_provenance(tmp_path):
    from vdto.sim.game import short_path, summary

    full = " ".join(str(v) for v in range(40, -1, -3)) + " 0"  # 40 37 ... 1 0
    assert summary(40, 3, 1.0, 1.5)["violators_path"].iloc[1] == full
    assert short_path(full) == "40 37 34 31 28 25 22 19 16 13 ... 0"

    csv = run_here("game", "--n", "40", "--k", "3", "-f", "csv")
    assert csv.returncode == 0, csv.stderr
    rows = pd.read_csv(io.StringIO(csv.stdout))
    assert rows.loc[1, "violators_path"] == full and "..." not in csv.stdout
    assert rows.loc[0, "meta_vdto_version"] and len(rows.loc[0, "meta_settings_sha256"]) == 64
    assert rows.loc[0, "meta_n"] == 40 and rows.loc[0, "meta_sanction"] == 1.5

    doc = json.loads(run_here("game", "--n", "40", "--k", "3", "-f", "json").stdout)
    assert doc["rows"][1]["violators_path"] == full
    assert doc["meta"]["settings_sha256"] == rows.loc[0, "meta_settings_sha256"]
    other = json.loads(run_here("game", "--n", "40", "--k", "2", "-f", "json").stdout)
    assert other["meta"]["settings_sha256"] != doc["meta"]["settings_sha256"]

    table = run_here("game", "--n", "40", "--k", "3", env=WIDE)
    assert "40 37 34 31 28 25 22 19 16 13 ... 0" in table.stdout and "settings sha256:" in table.stdout


def test_game_writes_parquet_with_out(tmp_path):
    help_text = " ".join(run_here("game", "--help", env={**os.environ, "COLUMNS": "400"}).stdout.split())
    assert "--out" in help_text and "parquet" in help_text
    out = tmp_path / "game.parquet"
    res = run_here("game", "--n", "30", "--k", "1", "--out", str(out))  # the suffix picks the format
    assert res.returncode == 0, res.stderr
    table = pq.read_table(out)
    meta = json.loads(table.schema.metadata[b"vdto"])
    assert meta["n"] == 30 and len(meta["settings_sha256"]) == 64
    assert table.to_pandas()["violators_path"].iloc[1] == " ".join(str(v) for v in range(30, -1, -1))


# ------------------------------------------------------------------------------------ units


@pytest.fixture(scope="module")
def grid_runs():
    sc = Scenario.model_validate(
        {"name": "tiny", "run": {"months": 8, "replicates": 4}, "world": {"kind": "grid"},
         "enforcement": {"start_month": 3}}
    )  # fmt: skip
    world = grid_world(4, 4, 2)
    runs = {p: simulate(world, sc, p) for p in ("none", "volume", "targeted")}
    return runs, provenance(sc, world)


def test_the_grid_counts_homicides_in_people(grid_runs):
    """The synthetic grid runs the same engine: its deaths are people (docs/model.md: Units)."""
    _, meta = grid_runs
    assert meta["unit"] == PEOPLE and meta["world"].startswith("grid")


def test_policy_headline_names_the_policies_run_and_the_unit(grid_runs):
    from vdto.services.report.data import SimResults, _policy_line, _sim_note

    runs, meta = grid_runs
    line = _policy_line(SimResults(runs, meta, start_month=3))
    assert "among the 3 policies compared here (none, volume, targeted)" in line
    assert "fewest homicides" in line and " people (90% interval" in line and "deaths" not in line
    assert "a policy not run here may do better" in line
    old = _policy_line(SimResults(runs, {}, start_month=3))  # a file from before people were counted
    assert "model units of violence" in old and "homicides" not in old and "deaths" not in old

    note = _sim_note(SimResults(runs, meta, start_month=3))
    assert "organizations alive at the end are means" in note and "synthetic world" in note
    assert "model units of violence" in _sim_note(SimResults(runs, {}, start_month=3))


def test_report_policy_table_says_each_statistic_and_unit(grid_runs):
    from vdto.services.report.data import SimResults
    from vdto.services.report.page import _policies

    runs, meta = grid_runs
    page = _policies(SimpleNamespace(sim=SimResults(runs, meta, start_month=3), sim_note=""))  # type: ignore[arg-type]
    titles = [t for _, t, _ in page["columns"]]  # type: ignore[index]
    assert titles[1] == "Homicides (people) by month 8: median (90% interval)"
    assert "Organizations alive at the end: mean" in titles
    page = _policies(SimpleNamespace(sim=SimResults(runs, {}, start_month=3), sim_note=""))  # type: ignore[arg-type]
    old = [t for _, t, _ in page["columns"]]  # type: ignore[index]
    assert not any("Homicides" in t or "deaths" in t.lower() for t in old)


def test_cli_compare_table_heads_say_mean_where_a_column_is_a_mean(grid_runs, monkeypatch):
    from vdto.cli import console, sim
    from vdto.sim.results import compare_table

    runs, meta = grid_runs
    shown: list = []
    monkeypatch.setattr(sim, "emit", lambda frame, fmt, title: shown.append((frame, title)))
    with console.out.capture():
        sim._show(compare_table(runs, start_month=3), meta, "Policies")
    frame, title = shown[0]
    assert title.startswith("Policies: homicides (people) over replicates")
    assert "medians and 90% intervals" not in title  # no heading calls the means medians
    assert list(frame.columns) == [
        "policy", "by month 8: median", "90% interval", "per month: mean", "per month, last year: median",
        "organizations at end: mean", "P(below volume)", "focal plazas vs none",
    ]  # fmt: skip
    assert (
        frame["organizations at end: mean"].tolist()
        == compare_table(runs, start_month=3)["alive_end"].round(1).tolist()
    )


# ------------------------------------------------------------------------------------ chart


def _marks(spec: dict) -> list[dict]:
    """Every unit spec (one with a mark) under ``spec``."""
    found = [spec] if "mark" in spec else []
    for key in ("layer", "vconcat", "hconcat", "concat"):
        for part in spec.get(key, []):
            found += _marks(part)
    if "spec" in spec:
        found += _marks(spec["spec"])
    return found


def _mark(unit: dict) -> str:
    m = unit["mark"]
    return m if isinstance(m, str) else m["type"]


def test_policy_chart_lines_panels_start_rule_and_domain(grid_runs):
    runs, meta = grid_runs
    spec = deaths_chart(runs, meta).to_dict()
    top, panels = spec["vconcat"]
    # above: lines only, and the legend is the lines' colour scale
    top_marks = _marks(top)
    assert {_mark(u) for u in top_marks} == {"line", "rule", "text"}
    line = next(u for u in top_marks if _mark(u) == "line")
    assert line["encoding"]["color"].get("legend", {}) is not None
    assert line["encoding"]["color"]["scale"]["domain"] == ["none", "volume", "targeted"]
    assert "(people)" in line["encoding"]["y"]["title"]
    # below: one panel per policy with its band, no second legend, each panel its own y axis
    assert panels["facet"]["field"] == "policy" and panels["resolve"]["scale"]["y"] == "independent"
    band = next(u for u in _marks(panels) if _mark(u) == "area")
    assert band["encoding"]["color"]["legend"] is None and band["encoding"]["y2"]["field"] == "hi90"
    assert band["encoding"]["color"]["scale"] == line["encoding"]["color"]["scale"]
    # the x axis runs over the run's months, exactly
    for unit in (line, band):
        assert unit["encoding"]["x"]["scale"]["domain"] == [1, 8]
    # the policies' start is marked after the warm-up, with a label
    rule = next(u for u in top_marks if _mark(u) == "rule")
    text = next(u for u in top_marks if _mark(u) == "text")
    assert rule["encoding"]["x"]["datum"] == 3.5
    assert "policies start: month 4" in text["encoding"]["text"]["datum"]
    assert any(_mark(u) == "rule" for u in _marks(panels))


def test_policy_chart_of_model_units_never_says_deaths(grid_runs):
    runs, _ = grid_runs
    spec = json.dumps(deaths_chart(runs, {}).to_dict()["vconcat"][0]["layer"][0]["encoding"])
    assert "model units" in spec and "homicides" not in spec and "deaths" not in spec
