"""Safe output (issue: hardening, item 6): what vdto prints is never markup, and what it writes
as CSV is never a formula."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from ..conftest import run_here

MAPPING = """source = "fiscalia-x"
default_category = "homicide"
[columns]
source_id = "id"
date = "date"
state = "state"
deaths = "deaths"
perpetrator = "group"
notes = "notes"
[victims]
civilian = "deaths"
"""
HOSTILE = ["[/bold]", "[link=http://evil.example]click[/link]", '=HYPERLINK("http://evil.example","x")']


@pytest.fixture
def hostile_store(tmp_path):
    rows = ["id,date,state,deaths,group,notes"]
    for i, name in enumerate(HOSTILE):
        quoted = '"' + name.replace('"', '""') + '"'
        rows.append(f"x{i},2023-0{i + 1}-10,14,{i + 1},{quoted},{quoted}")
    rows.append("x9,2023-05-10,14,2,CJNG,+SUM(1;1)")
    f = tmp_path / "hostile.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "m.toml").write_text(MAPPING)
    db = tmp_path / "s.duckdb"
    res = run_here("import", "csv", str(f), "--mapping", str(tmp_path / "m.toml"), "--db", str(db))
    assert res.returncode == 0, res.stderr
    assert "[/bold]" in res.stdout and "Traceback" not in res.stderr
    return db


@pytest.mark.parametrize(
    "args",
    [
        ["orgs", "unresolved"],
        ["events", "--by", "org"],
        ["orgs", "list"],
        ["score", "--from", "2023", "--to", "2023"],
    ],
)
def test_names_that_look_like_markup_print_as_they_are(hostile_store, args):
    res = run_here(*args, "--db", str(hostile_store))
    assert res.returncode == 0, res.stderr
    if args[0] == "orgs" and args[1] == "unresolved":
        assert "[/bold]" in res.stdout and "[link=http://evil.example]" in res.stdout
    assert "\x1b]8;" not in res.stdout  # no terminal hyperlink


def _cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def test_csv_cells_are_never_formulas(hostile_store, tmp_path):
    res = run_here("events", "--db", str(hostile_store), "--by", "org", "--format", "csv")
    assert res.returncode == 0, res.stderr
    listing = run_here("orgs", "unresolved", "--db", str(hostile_store), "--format", "csv")
    assert listing.returncode == 0, listing.stderr
    cells = _cells(listing.stdout)
    assert any(c.startswith("'=HYPERLINK(") for c in cells), cells
    for c in _cells(res.stdout) + cells:
        assert not c.startswith(("=", "+", "@")), c


def test_the_problem_report_neutralises_values(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text('id,date,state,deaths,group,notes\nx1,=HYPERLINK("http://e"),14,1,CJNG,n\n')
    (tmp_path / "m.toml").write_text(MAPPING)
    report = tmp_path / "problems.csv"
    res = run_here("import", "csv", str(f), "--mapping", str(tmp_path / "m.toml"), "--db", str(tmp_path / "s.duckdb"),
                   "--report", str(report))  # fmt: skip
    assert res.returncode == 2
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert rows and rows[0]["value"].startswith("'=HYPERLINK(")


def test_every_csv_writer_goes_through_the_neutraliser():
    # the writers of CSV in the package: each one passes its frame or cells through vdto.files
    src = Path(__file__).parents[2] / "src" / "vdto"
    writers = [p for p in src.rglob("*.py") if ".to_csv(" in p.read_text() or "csv.writer(" in p.read_text()]
    assert writers
    for p in writers:
        text = p.read_text()
        assert "csv_safe(" in text or "safe_cell(" in text, p
