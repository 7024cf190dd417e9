"""INEGI homicide deaths by municipality (the 26 bundled yearly files, read as INEGI exported them),
CONAPO's municipal population, and municipal scores from both."""

from __future__ import annotations

import bz2
import csv
import io
import re
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import assert_one_line_exit_2, run_here
from vdto.data import bundled
from vdto.errors import InputFileError, RowErrors, VdtoError
from vdto.events import inegi
from vdto.geography import geography
from vdto.regional.panel import population, score_store
from vdto.scoring.rubric import Rubric
from vdto.services.imports import import_file, import_inegi
from vdto.store import Store

FOLDER = bundled("inegi")
YEARS = list(range(1990, 2016))
MEASURE = inegi.MEASURE


def no_decay() -> Rubric:
    r = Rubric.default()
    return r.model_copy(update={"time": r.time.model_copy(update={"half_life_days": 0})})


def original(year: int) -> bytes:
    """A yearly file's bytes as INEGI exported them (the bundled copy, decompressed)."""
    return bz2.decompress((FOLDER / f"{year}.csv.bz2").read_bytes())


def stored(db: Path) -> pd.DataFrame:
    with Store(db, read_only=True) as store:
        return store.query(
            """SELECT source, level, region_code, state_code, period, measure, modality, count
               FROM region_counts ORDER BY ALL"""
        )


@pytest.fixture(scope="module")
def inegi_store(tmp_path_factory) -> tuple[Path, object]:
    """A store holding the 26 bundled files (read-only use)."""
    db = tmp_path_factory.mktemp("inegi") / "inegi.duckdb"
    return db, import_inegi(db)


# ---------------------------------------------------------------- the bundled files


def test_the_bundle_is_the_26_files_byte_for_byte():
    names = sorted(p.name for p in FOLDER.glob("*.csv.bz2"))
    assert names == [f"{y}.csv.bz2" for y in YEARS]
    listed = dict(
        re.findall(
            r"^\| (\d{4}\.csv) \| [\d,]+ \| [\d,]+ \| ([0-9a-f]{64}) \|$",
            (FOLDER / "SOURCE.md").read_text(),
            re.M,
        )
    )
    assert len(listed) == 26
    import hashlib

    for y in YEARS:
        assert hashlib.sha256(original(y)).hexdigest() == listed[f"{y}.csv"]


def test_all_26_years_import_and_add_up_to_inegis_national_totals(inegi_store):
    db, result = inegi_store
    files = result.files
    assert files["year"].tolist() == YEARS
    rec = result.record
    assert (rec.kind, rec.source, rec.file_name, rec.rows_rejected) == (
        "inegi",
        inegi.SOURCE,
        "inegi_homicidios/",
        0,
    )
    # the folder's digest is that of `sha256sum *.csv` over the originals
    assert rec.sha256 == "2580363c9b6695e581abd176622de8571ac09f263e50cb4d7487f91e2a6f4e74"
    with Store(db, read_only=True) as store:
        by_year = store.query(
            """SELECT year(period) AS year, sum(count) AS deaths, count(DISTINCT region_code) AS rows_,
                      count(DISTINCT region_code) FILTER (WHERE region_code NOT LIKE '%999') AS municipalities
               FROM region_counts WHERE measure = ? GROUP BY 1 ORDER BY 1""",
            [MEASURE],
        ).set_index("year")
        levels = store.query("SELECT DISTINCT level, source, modality FROM region_counts")
    assert levels.to_dict("records") == [{"level": "municipality", "source": inegi.SOURCE, "modality": "all"}]
    # each year's municipal rows (999 and abroad included) add up to the file's national row
    assert by_year["deaths"].astype(int).tolist() == files["deaths"].tolist()
    assert by_year["rows_"].tolist() == files["municipal_rows"].tolist()
    # INEGI's published yearly homicides
    assert {y: int(by_year.loc[y, "deaths"]) for y in (2007, 2010, 2015)} == {
        2007: 8_867,
        2010: 25_757,
        2015: 20_762,
    }
    # municipal rows with at least one homicide, as the source notes count them (999 and abroad included) ...
    assert {y: int(by_year.loc[y, "rows_"]) for y in (2007, 2010, 2015)} == {
        2007: 1_299,
        2010: 1_438,
        2015: 1_559,
    }
    # ... and the municipalities proper
    assert {y: int(by_year.loc[y, "municipalities"]) for y in (2007, 2010, 2015)} == {
        2007: 1_293,
        2010: 1_431,
        2015: 1_540,
    }
    assert int(by_year["deaths"].sum()) == 404_015


def test_codes_not_specified_and_abroad_keep_their_own_codes(inegi_store):
    db, _ = inegi_store
    rows = stored(db)
    codes = set(rows["region_code"])
    assert {"33999", "34999", "35999", "08999"} <= codes
    abroad = rows[rows["state_code"].isin(["33", "34", "35"])]
    assert set(abroad["region_code"]) == {"33999", "34999", "35999"}
    y1990 = rows[rows["period"].dt.year == 1990]
    assert int(y1990.loc[y1990["state_code"].isin(["33", "34", "35"]), "count"].sum()) == 67
    # every other code is a municipality of the INEGI catalog, with a polygon
    real = codes - {c for c in codes if c.endswith("999")}
    assert real <= set(geography().municipality_shapes()[0])


def test_the_record_says_what_the_measure_is_and_that_the_month_is_of_registration(inegi_store):
    db, _ = inegi_store
    with Store(db, read_only=True) as store:
        info = store.counts.measure_info(MEASURE)
    assert len(info) == 1
    row = info.iloc[0]
    assert (row["source"], row["unit"]) == (inegi.SOURCE, "deaths")
    assert "REGISTRATION" in row["period_meaning"] and "not the month of death" in row["period_meaning"]
    assert "OCCURRENCE" in row["description"] and "999" in row["description"]


def test_sesnsp_imports_record_their_measures_too(tmp_path, sesnsp_file):
    # the vdto layout and SESNSP go through the same path; a small vdto-layout file is quick
    path = tmp_path / "c.csv"
    path.write_text("region_code,period,measure,count\n11,2020-01-01,Homicidio doloso,5\n")
    db = tmp_path / "t.duckdb"
    import_file(db, "counts", path)
    with Store(db, read_only=True) as store:
        info = store.counts.measure_info()
    assert info[["measure", "source", "unit"]].to_dict("records") == [
        {"measure": "homicidio_doloso", "source": "counts", "unit": "count"}
    ]
    from vdto.events import counts

    head = tmp_path / "sesnsp_head.csv"
    with bz2.open(sesnsp_file, "rt", encoding="utf-8") as fh:
        head.write_text("".join(fh.readline() for _ in range(400)), encoding="utf-8")
    read = counts.parse(head)
    hom = read.measures.set_index("measure").loc["homicidio_doloso"]
    assert hom["unit"] == "victims" and "investigation file" in hom["period_meaning"]
    assert "'Homicidio doloso'" in hom["description"]
    import_file(db, "counts", head)
    with Store(db, read_only=True) as store:
        assert "sesnsp-victimas" in set(store.counts.measure_info()["source"])


# ---------------------------------------------------------------- re-imports


def test_reimporting_the_same_file_changes_nothing(tmp_path):
    db = tmp_path / "r.duckdb"
    path = tmp_path / "2010.csv"
    path.write_bytes(original(2010))
    first = import_inegi(db, path)
    before = stored(db)
    again = import_inegi(db, path)
    after = stored(db)
    pd.testing.assert_frame_equal(before, after)
    assert first.record.rows_imported == len(before) == 5_799
    assert (again.record.rows_imported, again.record.rows_duplicate) == (0, 5_799)
    assert int(after["count"].sum()) == 25_757
    # the compressed copy is the same file: same digest, nothing changes either
    import_inegi(db, FOLDER / "2010.csv.bz2")
    pd.testing.assert_frame_equal(before, stored(db))
    with Store(db, read_only=True) as store:
        assert store.imports.frame()["sha256"].nunique() == 1


def test_a_revised_year_replaces_the_old_figures(tmp_path):
    db = tmp_path / "r.duckdb"
    path = tmp_path / "2010.csv"
    path.write_bytes(original(2010))
    import_inegi(db, path)
    # move El Llano's two May deaths to the capital: the state's sums are unchanged
    text = original(2010).decode("latin-1")
    llano = '" 01 010 ","El Llano","2","","","","","2","","","","","","",""\r\n'
    capital = '" 01 001 ","Aguascalientes","62","4","3","3","2","1","5","3","9","9","7","9","7"'
    assert llano in text and capital in text
    text = text.replace(llano, "").replace(
        capital, '" 01 001 ","Aguascalientes","64","4","3","3","2","3","5","3","9","9","7","9","7"'
    )
    path.write_bytes(text.encode("latin-1"))
    import_inegi(db, path)
    rows = stored(db)
    assert "01010" not in set(rows["region_code"])
    may = rows[(rows["region_code"] == "01001") & (rows["period"] == pd.Timestamp("2010-05-01"))]
    assert may["count"].tolist() == [3]
    assert int(rows["count"].sum()) == 25_757


# ---------------------------------------------------------------- mangled copies


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def _mangled(kind: str) -> tuple[bytes, str, str]:
    """(bytes, the row:column of the error, a word the error line must hold) for 2010.csv."""
    raw = original(2010)
    text = raw.decode("latin-1")
    if kind == "cut":
        cut = raw[: len(raw) * 3 // 5]
        last = cut.rstrip(b"\r\n").count(b"\n") + 1
        return cut, f"{last}:1", "cut short"
    if kind == "utf8":
        return text.encode("utf-8"), "2:3", "UTF-8"
    if kind == "shifted":
        return (
            _replace(text, '" 01 002 ","Asientos","1",', '" 01 002 ","Asientos","","1",').encode("latin-1"),
            "10:16",
            "one cell too many",
        )
    if kind == "month":
        return (
            _replace(text, '" 01 002 ","Asientos","1","","1"', '" 01 002 ","Asientos","1","","2"').encode(
                "latin-1"
            ),
            "10:3",
            "sum of the row's months (2)",
        )
    if kind == "code":
        return _replace(text, '" 01 004 ","Cos', '" 01 0X4 ","Cos').encode("latin-1"), "11:1", "not a number"
    if kind == "state":
        old = '" 01 004 ","Cosío","2","","","","","","","","","","","2",""'
        new = '" 01 004 ","Cosío","3","","","","","","","","","","","3",""'
        return _replace(text, old, new).encode("latin-1"), "8:3", "municipal rows (76)"
    if kind == "no_december":
        lines = text.split("\r\n")
        head = lines[5].rsplit(",", 2)[0] + ',""'
        assert head.endswith('"Noviembre",""')
        return "\r\n".join([*lines[:5], head, *lines[6:]]).encode("latin-1"), "6:15", "months missing"
    raise AssertionError(kind)


@pytest.fixture(scope="module")
def seeded_store(tmp_path_factory) -> Path:
    """A store holding 2007 (so that "unchanged" is not just "empty")."""
    db = tmp_path_factory.mktemp("seeded") / "s.duckdb"
    path = db.parent / "2007.csv"
    path.write_bytes(original(2007))
    import_inegi(db, path)
    return db


@pytest.mark.parametrize("kind", ["cut", "utf8", "shifted", "month", "code", "state", "no_december"])
def test_a_mangled_file_fails_with_one_line_and_the_store_is_unchanged(kind, tmp_path, seeded_store):
    db = tmp_path / "s.duckdb"
    shutil.copy(seeded_store, db)
    before = stored(db)
    data, place, word = _mangled(kind)
    path = tmp_path / "2010.csv"
    path.write_bytes(data)
    res = run_here("import", "inegi", str(path), "--db", str(db))
    assert_one_line_exit_2(res, f"{path}:{place}", word)
    assert "--skip-bad-rows" not in res.stderr  # a year is imported whole or not at all
    pd.testing.assert_frame_equal(before, stored(db))
    with Store(db, read_only=True) as store:
        assert len(store.imports.frame()) == 1


def test_a_latin1_file_read_as_utf8_names_the_byte(tmp_path):
    path = tmp_path / "2010.csv"
    path.write_bytes(original(2010))
    res = run_here("import", "inegi", str(path), "--encoding", "utf-8", "--db", str(tmp_path / "x.duckdb"))
    assert_one_line_exit_2(res, f"{path}:2:3", "0xF1", "--encoding latin-1")
    # and a UTF-8 copy imports when its encoding is given
    path.write_bytes(original(2010).decode("latin-1").encode("utf-8"))
    res = run_here("import", "inegi", str(path), "--encoding", "utf-8", "--db", str(tmp_path / "x.duckdb"))
    assert res.returncode == 0, res.stderr
    assert "25,757 homicide deaths" in res.stdout


def test_one_bad_year_in_a_folder_writes_nothing(tmp_path):
    folder = tmp_path / "years"
    folder.mkdir()
    for y in (2008, 2009, 2010):
        (folder / f"{y}.csv").write_bytes(original(y))
    (folder / "2010.csv").write_bytes(_mangled("month")[0])
    db = tmp_path / "f.duckdb"
    res = run_here("import", "inegi", str(folder), "--db", str(db))
    assert_one_line_exit_2(res, f"{folder / '2010.csv'}:10:3")
    assert not db.exists() or len(stored(db)) == 0
    # two files of one year, and a file named for another year
    shutil.copy(folder / "2009.csv", folder / "2009-copy.csv")
    (folder / "2010.csv").write_bytes(original(2010))
    with pytest.raises(InputFileError, match="already in"):
        import_inegi(db, folder)
    (folder / "2009-copy.csv").unlink()
    (folder / "2011.csv").write_bytes(original(2012))
    with pytest.raises(InputFileError, match="named for 2011"):
        import_inegi(db, folder)


def test_the_report_lists_every_problem_of_every_file(tmp_path):
    path = tmp_path / "2010.csv"
    text = _mangled("month")[0].decode("latin-1")
    path.write_bytes(_replace(text, '" 01 004 ","Cos', '" 01 0X4 ","Cos').encode("latin-1"))
    report = tmp_path / "problems.csv"
    with pytest.raises(RowErrors) as err:
        import_inegi(tmp_path / "x.duckdb", path, report=report)
    assert "1 more problem" in err.value.line()
    rows = pd.read_csv(report)
    assert rows[["row", "column"]].values.tolist() == [[10, 3], [11, 1]]


# hypothesis: random edits of cells, rows and ends give a clean import or one line, never a traceback

_RECORDS = list(csv.reader(io.StringIO(original(2007).decode("latin-1"), newline="")))
_CELL_TEXT = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=255, exclude_categories=("Cs",)), max_size=12),
    st.sampled_from(["", " ", "1", "12", "1,257", "1.257", "-3", "x", " 01 001 ", " 01 0X1 ", "=CONCATENAR(0,01) ",
                     "Total", "99999999999", "ñ", '"', "\r\n"]),
)  # fmt: skip


def _serialise(records: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(records)
    return out.getvalue().encode("latin-1")


@st.composite
def _edits(draw) -> bytes:
    records = [list(r) for r in _RECORDS]
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(["cell", "cell", "cell", "drop_cell", "add_cell", "drop_row", "copy_row", "cut"])
        )
        i = draw(st.integers(0, len(records) - 1))
        row = records[i]
        j = draw(st.integers(0, max(len(row) - 1, 0)))
        if op == "cell" and row:
            row[j] = draw(_CELL_TEXT)
        elif op == "drop_cell" and row:
            del row[j]
        elif op == "add_cell":
            row.insert(j, draw(_CELL_TEXT))
        elif op == "drop_row":
            del records[i]
        elif op == "copy_row":
            records.insert(i, list(row))
        elif op == "cut":
            return _serialise(records)[: draw(st.integers(0, 60_000))]
    return _serialise(records)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_edits())
def test_random_edits_give_a_clean_import_or_one_line(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "2007.csv"
    path.write_bytes(data)
    try:
        (table,) = inegi.read(path)
    except VdtoError as exc:
        line = exc.line()
        assert "\n" not in line and str(path) in line
        return
    if table.problems:
        err = RowErrors(str(path), table.problems)
        assert "\n" not in err.line() and re.search(rf"{re.escape(str(path))}:\d+:\d+", err.line())
        return
    # accepted: then the counts still add up to the file's national row
    assert int(table.counts["count"].sum()) == table.deaths


def test_a_random_edit_through_the_command_line_is_one_line(tmp_path):
    records = [list(r) for r in _RECORDS]
    records[40][5] = "tres"
    path = tmp_path / "2007.csv"
    path.write_bytes(_serialise(records))
    res = run_here("import", "inegi", str(path), "--db", str(tmp_path / "x.duckdb"))
    assert_one_line_exit_2(res, f"{path}:41:6", "is not a count")


# ---------------------------------------------------------------- CONAPO municipal population


@pytest.mark.parametrize(
    ("year", "people", "municipalities"),
    [
        (1990, 83_971_014, 2_454),
        (2010, 114_255_551, 2_457),
        (2015, 121_005_812, 2_457),
        (2020, 127_091_644, 2_457),
    ],
)
def test_conapo_municipal_population_reproduces_the_published_totals(year, people, municipalities):
    pop = geography().municipal_population(year)
    assert int(pop.sum()) == people and len(pop) == municipalities
    males, females = (geography().municipal_population(year, s) for s in ("Males", "Females"))
    assert abs(int(males.sum() + females.sum()) - people) <= 100  # CONAPO rounds each sex


def test_2007_to_2009_are_interpolated_between_2006_and_2010():
    g = geography()
    table = g.municipal_populations
    assert set(table.loc[table["filled"], "year"]) == {2007, 2008, 2009}
    p06, p10 = g.municipal_population(2006), g.municipal_population(2010)
    common = p06.index
    for k, year in enumerate((2007, 2008, 2009), start=1):
        got = g.municipal_population(year)
        assert list(got.index) == list(common)  # the 2,454 municipalities of 2006
        expected = np.round(p06 + (p10.reindex(common) - p06) * k / 4)
        assert (got == expected.astype(np.int64)).all()
    # Juárez, Chihuahua: 1,334,864 (2006) and 1,378,110 (2010)
    assert [int(g.municipal_population(y)["08037"]) for y in (2006, 2007, 2008, 2009, 2010)] == [
        1_334_864, 1_345_676, 1_356_487, 1_367_298, 1_378_110,  # halves round to even
    ]  # fmt: skip
    with pytest.raises(VdtoError, match="1990 to 2030"):
        g.municipal_population(2031)
    with pytest.raises(VdtoError, match="Total, Males, Females"):
        g.municipal_population(2010, "Both")


def test_the_state_population_is_unchanged():
    pop = geography().population
    assert len(pop) == 23_424 and set(pop.columns) == {"state_code", "date", "population"}


# ---------------------------------------------------------------- municipal scores


def test_a_2010_municipal_score_places_inegi_counts_on_municipalities(inegi_store):
    db, _ = inegi_store
    with Store(db, read_only=True) as store:
        res = score_store(
            store,
            date(2010, 1, 1),
            date(2010, 12, 31),
            level="municipality",
            measure=MEASURE,
            rubric=no_decay(),
        )
    table = res.table.set_index("region_code")
    top = res.table.head(5)
    assert top["region_code"].tolist() == ["08037", "02004", "08019", "25006", "12001"]
    assert top["counted"].tolist() == [3_766, 1_257, 1_100, 802, 467]
    assert top["name"].iloc[0] == "Juárez, Chihuahua"
    # without decay and without events the score is the count; the rate uses CONAPO's 2010 population
    assert table.loc["08037", "score"] == 3_766
    assert table.loc["08037", "per100k"] == pytest.approx(3_766 / 1_378_110 * 1e5)
    assert round(table.loc["08037", "per100k"], 1) == 273.3
    # the 21 deaths of "municipality not specified" have no municipality to go to
    assert res.meta["counted_in_window"] == 25_736 and res.meta["counted_unplaced"] == 21
    assert res.meta["counted_in_window"] + res.meta["counted_unplaced"] == 25_757
    assert (table["counted"] > 0).sum() == 1_431
    # at the state level the municipal counts are summed to their states
    with Store(db, read_only=True) as store:
        states = score_store(
            store, date(2010, 1, 1), date(2010, 12, 31), level="state", measure=MEASURE, rubric=no_decay()
        ).table.set_index("region_code")
    assert states.loc["08", "counted"] == 6_421 and states["counted"].sum() == 25_757


def test_municipal_rates_through_the_command_line(inegi_store, tmp_path):
    db, _ = inegi_store
    r = run_here("regions", "score", "--level", "municipality", "--measure", MEASURE, "--from", "2010", "--to", "2010",
                 "--db", str(db), "-f", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    import json

    doc = json.loads(r.stdout)
    first = doc["rows"][0]
    assert first["region_code"] == "08037" and first["counted"] == 3_766
    assert round(first["score"], 1) == 2_138.3 and round(first["per100k"], 1) == 155.2
    assert doc["meta"]["measure"] == MEASURE
    out = tmp_path / "rates.svg"
    r = run_here("regions", "map", "--level", "municipality", "--value", "per100k", "--measure", MEASURE,
                 "--from", "2010", "--to", "2010", "--permutations", "99", "--db", str(db), "--out", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert out.exists() and out.stat().st_size > 10_000


def test_municipal_population_over_a_window_is_the_mean_of_its_months():
    pop = population("municipality", date(2009, 7, 1), date(2010, 6, 30))
    g = geography()
    assert pop["08037"] == pytest.approx(
        (g.municipal_population(2009)["08037"] + g.municipal_population(2010)["08037"]) / 2
    )
    assert pop["23009"] == g.municipal_population(2010)["23009"]  # Tulum exists from 2010 only
    assert population("municipality", date(2040, 1, 1), date(2040, 12, 31)).empty


def test_several_sources_are_each_summed_before_the_largest_is_taken():
    from vdto.regional.panel import count_frame

    counts = pd.DataFrame(
        {
            "source": ["inegi", "inegi", "other"],
            "level": ["municipality", "municipality", "state"],
            "region_code": ["14039", "14120", "14"],
            "state_code": ["14", "14", "14"],
            "period": ["2010-01-01"] * 3,
            "count": [3, 4, 5],
        }
    )
    # the state: INEGI's municipalities sum to 7, the other source says 5: 7 (not the largest row, 5)
    assert count_frame(counts, "state")[["region_code", "counted"]].to_dict("records") == [
        {"region_code": "14", "counted": 7}
    ]
    munis = count_frame(counts, "municipality").set_index("region_code")["counted"].to_dict()
    assert munis == {"14039": 3, "14120": 4}
