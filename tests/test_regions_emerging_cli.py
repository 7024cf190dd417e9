"""`vdto regions cube` and `vdto regions emerging`: a cube saved and read back gives the same
patterns as one built in one go; options are checked before any data is read; the pattern map
and the chart per class are written; `regions target` and `regions hotspots` show the patterns."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import assert_one_line_exit_2, run_here
from vdto.regional.cube import VALUES, SpaceTimeCube
from vdto.regional.emerging import CLASSES, COLD_CLASSES, HOT_CLASSES, WINDOWS

#: INEGI homicide deaths by state, 2010-2012 in quarters: 32 x 12 cells, fast to test.
SPAN = ("--source", "inegi", "--level", "state", "--bin", "quarter", "--from", "2010", "--to", "2012")
FAST = ("--permutations", "199", "--seed", "1")


@pytest.fixture(scope="module")
def cube_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cube") / "states.parquet"
    res = run_here("regions", "cube", *SPAN, "--out", str(path))
    assert res.returncode == 0, res.stderr
    return path, res.stdout


@pytest.fixture(scope="module")
def in_one_go() -> dict:
    res = run_here("regions", "emerging", *SPAN, *FAST, "-f", "json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_cube_command_saves_the_cube_and_says_what_it_holds(cube_file):
    path, printed = cube_file
    cube = SpaceTimeCube.load(path)
    assert cube.counts.shape == (32, 12) and cube.bin == "quarter" and cube.level == "state"
    line = " ".join(printed.split())
    assert "32 states x 12 quarters" in line and "2010-01-01 to 2012-12-31" in line
    assert f"{cube.counts.sum():,.0f} homicide deaths" in line
    assert str(path) in line and f"sha256:{cube.sha256[:12]}" in line


def test_a_saved_cube_gives_the_same_patterns_as_one_built_in_one_go(cube_file, in_one_go):
    path, _ = cube_file
    res = run_here("regions", "emerging", "--cube", str(path), *FAST, "-f", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["rows"] == in_one_go["rows"] and doc["counts"] == in_one_go["counts"]
    assert doc["meta"] == in_one_go["meta"]
    meta = doc["meta"]
    assert meta["cube_sha256"] == SpaceTimeCube.load(path).sha256
    assert (meta["bins"], meta["k"], meta["window"], meta["permutations"]) == (12, 1, "cube", 199)
    assert meta["unit"] == "homicide deaths per quarter"
    # every region once, every class counted (zeros too), the classes ESRI's
    assert len(doc["rows"]) == 32 and list(doc["counts"]) == list(CLASSES)
    assert sum(doc["counts"].values()) == 32
    assert {r["pattern"] for r in doc["rows"]} <= set(CLASSES)


def test_the_table_lists_hot_and_cold_patterns_by_class_with_units_and_provenance(cube_file, in_one_go):
    path, _ = cube_file
    res = run_here("regions", "emerging", "--cube", str(path), *FAST, "--top", "4")
    assert res.returncode == 0, res.stderr
    text = " ".join(res.stdout.split())  # lines folded to the terminal's width, put back together
    assert (
        "Gi* of homicide deaths per quarter" in text and "total: homicide deaths in the 12 quarters" in text
    )
    found = [r for r in in_one_go["rows"] if r["pattern"] in HOT_CLASSES + COLD_CLASSES]
    order = {c: i for i, c in enumerate(CLASSES)}
    first = sorted(found, key=lambda r: (order[r["pattern"]], -abs(r["last_z"]), r["region_code"]))[:4]
    rows = [line for line in res.stdout.splitlines() if line.startswith("│")]
    assert [r["name"] for r in first] == [line.split("│")[1].strip() for line in rows[:4]]
    # the counts of the 17 classes, zeros included, then the regions with none
    cells = {c[0]: c[1:3] for c in ([x.strip() for x in line.split("│")[1:-1]] for line in rows)}
    for kind in ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating",
                 "historical"):  # fmt: skip
        counts = in_one_go["counts"]
        assert cells[kind] == [str(counts[f"{kind} hot spot"]), str(counts[f"{kind} cold spot"])], kind
    assert f"{in_one_go['counts']['no pattern detected']} states with no pattern detected" in text
    for part in ("vdto ", f"cube sha256:{in_one_go['meta']['cube_sha256'][:12]}", "2010-01-01 to 2012-12-31",
                 "12 quarter bins", "count (homicide deaths per quarter)", "lag 1", "global window cube",
                 "199 permutations", "seed 1", "alpha 0.05", "FDR no"):  # fmt: skip
        assert part in text, part


def test_too_few_bins_fail_in_one_line_before_any_data_is_read(tmp_path):
    res = run_here("regions", "emerging", "--source", "inegi", "--level", "state", "--bin", "year",
                   "--from", "2010", "--to", "2012")  # fmt: skip
    assert_one_line_exit_2(res, "--bin", "at least 10 time bins", "has 3")
    # the store is never opened: the same error, not a missing store
    missing = tmp_path / "missing.duckdb"
    res = run_here("regions", "emerging", "--source", "events", "--db", str(missing), "--bin", "year",
                   "--from", "2010", "--to", "2012")  # fmt: skip
    assert_one_line_exit_2(res, "--bin", "at least 10 time bins")
    assert not missing.exists()


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["--value", "deaths"], "--value"),
        (["--window", "decade"], "--window"),
        (["--lag", "-1"], "--lag"),
        (["--lag", "12"], "--lag"),
        (["--trend-alpha", "1.5"], "--trend-alpha"),
        (["--islands", "sink"], "--islands"),
        (["--permutations", "10"], "--permutations"),
        (["--alpha", "0"], "--alpha"),
    ],
)
def test_bad_options_get_one_line_and_exit_2(args, where):
    assert_one_line_exit_2(run_here("regions", "emerging", *SPAN, *args), where)


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_TEXT.filter(lambda v: v not in VALUES), window=_TEXT.filter(lambda w: w not in WINDOWS))
def test_unknown_values_and_windows_are_refused(value, window):
    assert_one_line_exit_2(run_here("regions", "emerging", *SPAN, f"--value={value}"), "--value")
    assert_one_line_exit_2(run_here("regions", "emerging", *SPAN, f"--window={window}"), "--window")


@settings(max_examples=15, deadline=None)
@given(
    lag=st.one_of(st.integers(max_value=-1), st.integers(min_value=12, max_value=10**6)),
    trend_alpha=st.floats(allow_nan=False, allow_infinity=False).filter(lambda a: not 0 < a < 1),
)
def test_bad_lags_and_trend_alphas_are_refused(lag, trend_alpha):
    assert_one_line_exit_2(run_here("regions", "emerging", *SPAN, f"--lag={lag}"), "--lag")
    assert_one_line_exit_2(
        run_here("regions", "emerging", *SPAN, f"--trend-alpha={trend_alpha!r}"), "--trend-alpha"
    )


def test_cube_and_file_errors_are_one_line(tmp_path, cube_file):
    path, _ = cube_file
    res = run_here("regions", "cube", *SPAN, "--out", str(tmp_path / "cube.csv"))
    assert_one_line_exit_2(res, "cube.csv", ".parquet")
    assert_one_line_exit_2(run_here("regions", "cube", *SPAN), "--out")
    assert_one_line_exit_2(run_here("regions", "emerging"), "--cube", "--source")
    assert_one_line_exit_2(run_here("regions", "emerging", "--cube", str(path), "--bin", "year"), "--bin")
    assert_one_line_exit_2(
        run_here("regions", "emerging", "--cube", str(tmp_path / "no.parquet")), "file not found"
    )
    res = run_here(
        "regions", "emerging", "--cube", str(path), "-f", "table", "--out", str(tmp_path / "t.csv")
    )
    assert_one_line_exit_2(res, "--out", "a table is for the terminal")
    res = run_here("regions", "emerging", "--cube", str(path), "--map", str(tmp_path / "m.gif"))
    assert_one_line_exit_2(res, "m.gif", ".png")
    assert list(tmp_path.iterdir()) == []


def test_the_pattern_map_and_the_chart_per_class_are_written(tmp_path, cube_file, in_one_go):
    path, _ = cube_file
    png, html, svg = tmp_path / "map.png", tmp_path / "map.html", tmp_path / "chart.svg"
    res = run_here("regions", "emerging", "--cube", str(path), *FAST, "--map", str(png), "--chart", str(svg))
    assert res.returncode == 0, res.stderr
    assert f"Map written to {png}" in " ".join(res.stdout.split())
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    present = {c for c, n in in_one_go["counts"].items() if n}
    # the chart: one panel per hot or cold class present, titled with its count of regions
    text = " ".join(t.text or "" for t in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}text"))
    for c in present - {"no pattern detected"}:
        n = in_one_go["counts"][c]
        assert f"{c} ({n} region" in text, c
    res = run_here("regions", "emerging", "--cube", str(path), *FAST, "-f", "csv", "--map", str(html))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("region_code,name,pattern")  # the CSV alone on standard output
    page = html.read_text(encoding="utf-8")
    for c in present:
        assert f'"{c}"' in page, c
    from vdto.regional.emerging import CLASSES

    absent = sorted(set(CLASSES) - present)
    assert absent and all(f'"{c}"' not in page for c in absent)  # legend: present only


def test_target_shows_the_pattern_and_its_order(ucdp_store):
    db = str(ucdp_store[0])
    res = run_here("regions", "target", "--from", "2019", "--to", "2019", "--level", "state", "--db", db,
                   "--permutations", "199")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "pattern" in res.stdout.splitlines()[2]  # the table's header
    assert "ordered by the group of their emerging pattern" in " ".join(res.stdout.split())
    res = run_here("regions", "target", "--from", "2019", "--to", "2019", "--level", "state", "--db", db,
                   "--permutations", "199", "-f", "json")  # fmt: skip
    doc = json.loads(res.stdout)
    assert doc["rows"] and all(r["pattern"] in CLASSES for r in doc["rows"])
    assert "by the group of their emerging pattern, then score" in doc["reason"]


def test_hotspots_show_patterns_or_say_why_not(ucdp_store):
    db = str(ucdp_store[0])
    res = run_here(
        "regions", "hotspots", "--from", "2019", "--to", "2019", "--db", db, "--permutations", "199"
    )
    assert res.returncode == 0, res.stderr
    text = " ".join(res.stdout.split())
    assert "Emerging patterns (12 monthly bins (11 classified), lag 1 month, global window cube):" in text
    assert "states with no pattern" in text
    res = run_here("regions", "hotspots", "--from", "2019-01", "--to", "2019-06", "--db", db,
                   "--permutations", "199", "-f", "json")  # fmt: skip
    doc = json.loads(res.stdout)
    assert "pattern" not in doc["rows"][0] and "6 months" in doc["meta"]["patterns"]
    res = run_here("regions", "hotspots", "--windows", "3", "--db", db)
    assert res.returncode == 2 and "--windows" in res.stderr  # the old option is gone
