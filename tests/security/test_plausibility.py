"""One bad cell must not name the target: implausible dates and places are refused at the door
by every importer (issue: hardening, item 1), and the default analysis window never ends at an
outlier."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from vdto.data import bundled

from ..conftest import assert_one_line_exit_2, run_here

DATA = Path(__file__).parents[1] / "data"


def _ucdp(tmp_path: Path, row: int, **cells: str) -> Path:
    f = pd.read_csv(bundled("ucdp"), nrows=20, dtype=str, keep_default_na=False)
    for k, v in cells.items():
        f.loc[row, k] = v
    out = tmp_path / "ged.csv"
    f.to_csv(out, index=False)
    return out


def _acled(tmp_path: Path, **cells: str) -> Path:
    rows = list(csv.DictReader((DATA / "acled_sample.csv").open(encoding="utf-8")))
    rows[0].update(cells)
    out = tmp_path / "acled.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return out


def _agency(tmp_path: Path, fecha: str) -> Path:
    text = (DATA / "agency_sample.csv").read_text(encoding="utf-8").splitlines()
    cells = text[1].split(",")
    cells[1] = fecha
    out = tmp_path / "agency.csv"
    out.write_text("\n".join([text[0], ",".join(cells), *text[2:]]) + "\n", encoding="utf-8")
    return out


def _counts(tmp_path: Path, period: str) -> Path:
    out = tmp_path / "counts.csv"
    out.write_text(
        f"region_code,period,measure,count\n14,2019-01,homicidio_doloso,3\n14,{period},homicidio_doloso,9\n"
    )
    return out


def _events(db: Path) -> int:
    if not db.exists():
        return 0
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM events").fetchone()[0])


def test_a_ucdp_row_dated_9999_cannot_name_the_target(tmp_path):
    db = tmp_path / "s.duckdb"
    f = _ucdp(tmp_path, 3, date_start="9999-12-31", date_end="9999-12-31")
    res = run_here("import", "ucdp", str(f), "--db", str(db))
    assert_one_line_exit_2(res, f"{f}:5:", "date_start", "outside the plausible dates", "--dates")
    assert _events(db) == 0  # nothing half-written


@pytest.mark.parametrize("year", ["0001", "1066", "2199", "9999"])
@pytest.mark.parametrize("kind", ["ucdp", "acled", "csv", "counts"])
def test_every_importer_refuses_impossible_years(tmp_path, kind, year):
    day = f"{year}-06-15"
    if kind == "ucdp":
        f, args, where = _ucdp(tmp_path, 0, date_start=day, date_end=day), [], ":2:"
    elif kind == "acled":
        f, args, where = _acled(tmp_path, event_date=day), [], ":2:"
    elif kind == "csv":
        f, args, where = (
            _agency(tmp_path, f"15/06/{year}"),
            ["--mapping", str(DATA / "agency_mapping.toml")],
            ":2:",
        )
    else:
        f, args, where = _counts(tmp_path, f"{year}-06"), [], ":3:"
    res = run_here("import", kind, str(f), *args, "--db", str(tmp_path / "s.duckdb"))
    assert_one_line_exit_2(res, f"{f}{where}")
    assert _events(tmp_path / "s.duckdb") == 0


def test_coordinates_in_sydney_are_not_a_mexican_event(tmp_path):
    db = tmp_path / "s.duckdb"
    f = _ucdp(tmp_path, 2, latitude="-33.8688", longitude="151.2093")
    res = run_here("import", "ucdp", str(f), "--db", str(db))
    assert_one_line_exit_2(res, f"{f}:4:", "latitude", "outside Mexico", "--anywhere")
    assert _events(db) == 0


def test_coordinates_far_from_the_named_state_are_refused(tmp_path):
    # Ciudad Juárez's coordinates on a row that names Yucatán
    f = _acled(tmp_path, latitude="31.72", longitude="-106.46", admin1="Yucatan")
    res = run_here("import", "acled", str(f), "--db", str(tmp_path / "s.duckdb"))
    assert_one_line_exit_2(res, f"{f}:2:", "from the state the row names")


def test_an_explicit_option_lets_them_in_and_is_recorded(tmp_path):
    db = tmp_path / "s.duckdb"
    f = _ucdp(
        tmp_path, 2, latitude="-33.8688", longitude="151.2093", date_start="2199-01-01", date_end="2199-01-01"
    )
    res = run_here(
        "import", "ucdp", str(f), "--db", str(db), "--anywhere", "--dates", "1989-01-01..2200-12-31"
    )
    assert res.returncode == 0, res.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        options = con.execute("SELECT options FROM imports").fetchone()[0]
    assert json.loads(options) == {"anywhere": True, "dates": "1989-01-01..2200-12-31"}
    # the default window ends at the last event up to today, never at the outlier
    from vdto.scoring.engine import resolve_window
    from vdto.scoring.rubric import Rubric
    from vdto.store import Store

    with Store(db, read_only=True) as store:
        _, end = resolve_window(None, None, Rubric.default(), store)
        # the other 19 rows are of 1989-1996: the window ends at the last of them
        assert end == date(1996, 3, 20) and store.events.last_date() == date(2199, 1, 1)
    bad = run_here("import", "ucdp", str(f), "--db", str(db), "--dates", "2030..2020")
    assert_one_line_exit_2(bad, "--dates")


def test_the_bundled_data_pass_the_checks(tmp_path):
    res = run_here("import", "ucdp", str(bundled("ucdp")), "--db", str(tmp_path / "s.duckdb"))
    assert res.returncode == 0, res.stderr
    assert "imported 18,957" in res.stdout


def test_the_store_is_readable_by_its_owner_only(tmp_path):
    from vdto.store import Store

    with Store(tmp_path / "new.duckdb"):
        pass
    assert (tmp_path / "new.duckdb").stat().st_mode & 0o777 == 0o600


def test_a_version_3_store_is_migrated_and_keeps_its_imports(tmp_path, ucdp_store_copy):
    with duckdb.connect(str(ucdp_store_copy)) as con:
        con.execute("ALTER TABLE imports DROP COLUMN options")
        con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    res = run_here("events", "--db", str(ucdp_store_copy))
    assert_one_line_exit_2(res, "schema version 3", "open it once for writing")
    from vdto.store import Store

    with Store(ucdp_store_copy) as store:
        assert len(store.imports.frame()) == 1
    assert run_here("events", "--db", str(ucdp_store_copy)).returncode == 0
