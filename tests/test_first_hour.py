"""The first hour: what a new analyst, journalist and researcher meet following the README, with
every number right (one test per problem found, each failing on the code before the fix)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from vdto.cli.console import fit_widths
from vdto.events.split import split_agencies
from vdto.geography import geography, official_case
from vdto.render.fmt import cell, sig

from .conftest import assert_one_line_exit_2, run_cli, run_here

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def two_agencies(tmp_path_factory, ucdp_store) -> Path:
    """The UCDP store with the shipped mx split imported beside it (agencies default and mx)."""
    db = tmp_path_factory.mktemp("agencies") / "two.duckdb"
    shutil.copy(ucdp_store[0], db)
    done = run_here("import", "ucdp", str(EXAMPLES / "mx-events.csv.gz"), "--agency", "mx", "--db", str(db))
    assert done.returncode == 0, done.stderr
    return db


# 1. the CSV's events column is each organization's, not the window's total
@pytest.mark.parametrize("command", ["rank", "score"])
def test_csv_events_column_is_each_organizations(ucdp_store, command):
    db = str(ucdp_store[0])
    args = (command, "--from", "2023", "--to", "2023", "--draws", "200", "--db", db)
    as_csv = run_here(*args, "--format", "csv")
    as_json = run_here(*args, "--format", "json")
    assert as_csv.returncode == 0 and as_json.returncode == 0, as_csv.stderr + as_json.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    payload = json.loads(as_json.stdout)
    by_org = {r["org"]: r["events"] for r in payload["rows"]}
    assert len({r["events"] for r in rows}) > 5  # not one total repeated
    for r in rows:
        assert float(r["events"]) == pytest.approx(by_org[r["org"]])
        assert int(r["meta_events"]) == payload["meta"]["events"]  # the total, under its own name


# 2. one agency rule: explicit, shown, never summed
def test_report_takes_agency_and_says_so(two_agencies, tmp_path):
    bare = run_here(
        "report", "--db", str(two_agencies), "--out", str(tmp_path / "r"), "--no-sim", "--draws", "50"
    )
    assert_one_line_exit_2(bare, "several agencies", "default, mx", "--agency")
    done = run_here("report", "--db", str(two_agencies), "--out", str(tmp_path / "r"), "--no-sim", "--draws", "50",
                    "--agency", "mx", "--year", "2021")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "r" / "report.json").read_text())["provenance"]["agency"] == "mx"


def test_events_never_adds_agencies_together(two_agencies):
    assert_one_line_exit_2(run_here("events", "--db", str(two_agencies)), "several agencies", "--agency")
    mx = run_here("events", "--by", "year", "--agency", "mx", "--format", "json", "--db", str(two_agencies))
    both = {r["year"]: r["events"] for r in json.loads(mx.stdout)}
    assert both == {2021: 3047}  # the mx file alone, not added to default's 3,756
    table = run_here("events", "--by", "year", "--agency", "default", "--db", str(two_agencies))
    assert "agency default" in table.stdout and "2,006" not in table.stdout and "2006" in table.stdout


@pytest.mark.parametrize("command", [("rank",), ("regions", "score"), ("regions", "target")])
def test_every_command_names_the_agency_it_used(two_agencies, command):
    args = (*command, "--from", "2021", "--to", "2021", "--db", str(two_agencies))
    assert_one_line_exit_2(run_here(*args), "several agencies", "--agency")
    done = run_here(*args, "--agency", "mx")
    assert done.returncode == 0, done.stderr
    assert "agency mx" in done.stdout


@pytest.fixture(scope="module")
def counts_only(tmp_path_factory, sesnsp_file) -> tuple[Path, subprocess.CompletedProcess]:
    """A store holding the SESNSP counts alone, as `vdto import counts` makes it, and what it printed."""
    db = tmp_path_factory.mktemp("counts") / "counts.duckdb"
    return db, run_here("import", "counts", str(sesnsp_file), "--db", str(db))


def test_regions_score_on_counts_alone_picks_the_last_month_of_counts(counts_only):
    db, imported = counts_only
    assert imported.returncode == 0, imported.stderr
    done = run_here("regions", "score", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert "Region scores (state)" in done.stdout


# 5. the files the docs name exist; the agency split is reproducible and overlapping
def test_split_agencies_remakes_the_shipped_files(tmp_path):
    done = run_cli("split-agencies", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    for name in ("mx-events.csv.gz", "us-events.csv.gz"):
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes()
    mx, us = (pd.read_csv(tmp_path / f"{a}-events.csv.gz") for a in ("mx", "us"))
    both = set(mx["id"]) & set(us["id"])
    assert 0.5 < len(both) / len(mx) < 0.95 and set(mx["year"]) == {2021}


def test_split_does_not_depend_on_row_order():
    frame = pd.DataFrame({"id": range(500)})
    a = split_agencies(frame, ["mx", "us"], seed=3)["us"]["id"].tolist()
    b = sorted(
        split_agencies(frame.sample(frac=1, random_state=1), ["mx", "us"], seed=3)["us"]["id"].tolist()
    )
    assert a == b


def test_rubric_diff_names_the_argument_not_an_option():
    res = run_cli("rubric", "diff", "default-v1", "missing.toml")
    assert_one_line_exit_2(res, "missing.toml", "second RUBRIC argument")
    assert "--rubric" not in res.stderr
    ok = run_here("rubric", "diff", "default-v1", str(EXAMPLES / "my-rubric.toml"))
    assert "victims.civilian" in ok.stdout and "time.half_life_days" in ok.stdout


# 6. 80 columns: no number cut
def test_rank_at_80_columns_cuts_no_number(ucdp_store):
    db = str(ucdp_store[0])
    args = ("rank", "--from", "2023", "--to", "2023", "--draws", "200", "--db", db)
    table = run_here(*args, env=_env(80))
    rows = json.loads(run_here(*args, "--format", "json").stdout)["rows"][:10]
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert all("…" not in c for c in _score_cells(lines))  # score, lo90, hi90 never shortened
    for r in rows:
        assert f"{r['score']:,.1f}" in table.stdout and f"{r['hi90']:,.1f}" in table.stdout


def _score_cells(lines: list[str]) -> list[str]:
    return [c for line in lines for c in line.split("│")[4:7]]


def test_imports_at_80_columns_is_readable(ucdp_store):
    table = run_cli("imports", "--db", str(ucdp_store[0]), env=_env(80))
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "18,957" in table.stdout and "ged_mexico_1989" in table.stdout
    assert "--wide" in table.stdout  # says how to see the rest
    wide = run_here("imports", "--wide", "--db", str(ucdp_store[0]), env=_env(200))
    assert "vdto_version" in wide.stdout


def test_at_120_columns_names_stay_on_one_line(ucdp_store):
    table = run_here("rank", "--from", "2023", "--to", "2023", "--draws", "200", "--db", str(ucdp_store[0]),
                     env=_env(120))  # fmt: skip
    assert "Cártel Jalisco Nueva Generación" in table.stdout


def test_fit_widths_keeps_numbers_and_drops_from_the_right():
    widths, dropped = fit_widths({"a": 9, "b": 9}, {"name": 40}, 30, ["name", "a", "b"])
    assert widths.get("a") == 9 and "b" in dropped and widths["name"] >= 6


def _env(columns: int) -> dict:
    import os

    return {**os.environ, "VDTO_COLUMNS": str(columns)}


# 7. one formatting layer
def test_one_cell_rule():
    assert cell(2006, "year") == "2006" and cell(2006.0, "year") == "2006"
    assert cell("02004", "region_code") == "02004"
    assert cell(0.5, "top_org_share") == "50%" and cell(0.503, "top_org_share") == "50.3%"
    assert cell(565136292.9732497, "revenue_denied_usd") == "US$565.1 million"
    assert sig(2.1e-15) == "0" and sig(4.47e-06) == "0.00000447"
    assert cell(float("nan"), "per100k") == cell(None, "counted") == "—"


def test_municipality_names_in_inegis_capitalisation():
    names = geography().municipalities.set_index("mun_code")["name"]
    assert names["12001"] == "Acapulco de Juárez" and names["02005"] == "Playas de Rosarito"
    # every name INEGI's own homicide export writes, written the same way
    import bz2

    with bz2.open(ROOT / "src/vdto/data/real/inegi_homicidios/2015.csv.bz2") as f:
        text = f.read().decode("latin-1")
    official = {m[0] + m[1]: m[2] for m in re.findall(r'^" (\d{2}) (\d{3}) ","([^"]+)"', text, re.M)}
    same = [c for c in official if c in names.index and official[c] == names[c]]
    assert len(same) >= len([c for c in official if int(c[2:]) < 990]) - 1  # Batopilas was renamed since
    assert official_case("SAN PEDRO GARZA GARCÍA") == "San Pedro Garza García"


def test_regions_target_says_no_count_rather_than_zero(ucdp_store):
    done = run_here(
        "regions", "target", "--from", "2023", "--to", "2023", "--db", str(ucdp_store[0]), env=_env(120)
    )
    assert done.returncode == 0, done.stderr
    assert "no homicide counts reach this level" in done.stdout
    assert " 0%" not in done.stdout  # an organization with a share that prints as 0% is not listed
    assert "gi_z: Getis-Ord Gi*" in done.stdout and "low-high quiet among violent" in done.stdout


# 8. numbers that add up on screen
def test_counts_import_message_adds_up(counts_only):
    _, done = counts_only
    line = " ".join(done.stdout.split("\n(")[0].split())
    read, rejected, accepted, stored = (int(x.replace(",", "")) for x in re.findall(r"\d[\d,]*", line)[-4:])
    assert read - rejected == accepted and "add up to" in line and stored < accepted


def test_hotspots_explain_fdr(ucdp_store):
    done = run_here("regions", "hotspots", "--from", "2023", "--to", "2023", "--level", "municipality",
                    "--db", str(ucdp_store[0]), env=_env(120))  # fmt: skip
    assert "Benjamini-Hochberg" in done.stdout and "would pass by chance" in done.stdout
