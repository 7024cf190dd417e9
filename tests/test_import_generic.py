"""The generic importer: tests/data/agency_sample.csv (a Spanish-language agency spreadsheet) and its
mapping tests/data/agency_mapping.toml, read as CSV and as the same data in a typed Parquet file."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from vdto.errors import ConfigError, InputFileError, RowErrors, VdtoError
from vdto.events import generic
from vdto.events.ingest import import_events
from vdto.orgs import Registry
from vdto.store import Store

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "agency_sample.csv"
MAPPING = DATA / "agency_mapping.toml"
HEADER = ["folio", "fecha", "estado", "municipio", "tipo", "muertos", "civiles", "policias", "grupo", "tortura", "notas"]  # fmt: skip


def col(name: str) -> int:
    """1-based column number in the sample's header."""
    return HEADER.index(name) + 1


def org(name: str) -> str:
    org_id = Registry.seed().resolve(name).org_id
    assert org_id is not None, name
    return org_id


def sample_frame() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


def write_parquet(path: Path) -> Path:
    """The sample as an agency would export it to Parquet: real dates, integers and booleans."""
    frame = sample_frame()
    frame["fecha"] = pd.to_datetime(frame["fecha"], format="%d/%m/%Y")
    for c in ("muertos", "civiles", "policias"):
        frame[c] = frame[c].astype("int64")
    frame["tortura"] = frame["tortura"].str.casefold().isin(["si", "sí"])
    frame.to_parquet(path, index=False)
    return path


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
    return path


def variant(tmp_path: Path, changes: dict[str, dict[str, str]], name: str = "agency.csv") -> Path:
    """The sample CSV with cells changed: {folio: {column: value}}."""
    with open(SAMPLE, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row.update(changes.get(row["folio"], {}))
    return write_csv(tmp_path / name, rows)


def run_import(db: Path, path: Path, mapping_path: Path = MAPPING, **options):
    spec, digest = generic.load_mapping(mapping_path)
    return import_events(
        db,
        "csv",
        path,
        generic.parse,
        mapping=spec,
        mapping_path=str(mapping_path),
        mapping_sha256=digest,
        **options,
    )


def query(db: Path, sql: str) -> pd.DataFrame:
    with Store(db, read_only=True) as store:
        return store.query(sql)


def mapping_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- one fixture, two representations -----------------------------------------------------


@pytest.fixture(params=["csv", "parquet"])
def agency_file(request, tmp_path) -> Path:
    if request.param == "csv":
        return SAMPLE
    return write_parquet(tmp_path / "agency_sample.parquet")


@pytest.fixture
def imported(agency_file, tmp_path):
    db = tmp_path / "t.duckdb"
    return db, run_import(db, agency_file)


def events(db: Path) -> pd.DataFrame:
    return query(db, "SELECT * FROM events ORDER BY source_id").set_index("source_id")


def perpetrators(db: Path, folio: str) -> dict[str | None, float]:
    frame = query(db, f"SELECT org_id, probability FROM perpetrators WHERE source_id = '{folio}'")
    return {
        (None if pd.isna(o) else o): p for o, p in zip(frame["org_id"], frame["probability"], strict=True)
    }


def test_every_row_imported(imported):
    db, result = imported
    rec = result.record
    assert (rec.rows_read, rec.rows_imported, rec.rows_rejected, rec.rows_skipped) == (12, 12, 0, 0)
    assert rec.source == "fiscalia-gto"
    stored = query(db, "SELECT kind, source, mapping_sha256 FROM imports").iloc[0]
    assert stored["kind"] == "csv"
    assert stored["source"] == "fiscalia-gto"
    assert stored["mapping_sha256"] == generic.load_mapping(MAPPING)[1]
    assert len(stored["mapping_sha256"]) == 64
    assert set(events(db).index) == set(sample_frame()["folio"])


def test_categories_are_mapped(imported):
    db, _ = imported
    cats = events(db)["category"]
    assert cats["GTO-2023-0001"] == "homicide"  # Ejecución
    assert cats["GTO-2023-0002"] == "armed_clash"  # Enfrentamiento
    assert cats["GTO-2023-0003"] == "kidnapping"  # Secuestro
    assert cats["GTO-2023-0004"] == "attack_security_forces"  # Ataque a policías
    assert Counter(cats) == Counter(
        {"homicide": 6, "armed_clash": 2, "kidnapping": 2, "attack_security_forces": 2}
    )


def test_dates_are_day_first(imported):
    db, _ = imported
    ev = events(db)
    # 05/01/2023 is the 5th of January, not the 1st of May
    assert ev.loc["GTO-2023-0001", "date_start"] == pd.Timestamp("2023-01-05")
    assert ev.loc["GTO-2023-0002", "date_start"] == pd.Timestamp("2023-01-13")
    assert ev.loc["GTO-2023-0004", "date_start"] == pd.Timestamp("2023-01-31")
    assert (ev["date_end"] == ev["date_start"]).all()


def test_victims_by_kind_and_deaths(imported):
    db, _ = imported
    ev = events(db)
    assert ev.loc["GTO-2023-0004", ["victims_police", "victims_civilian", "deaths_best"]].tolist() == [
        3,
        0,
        3,
    ]
    assert ev.loc["GTO-2023-0007", ["victims_police", "victims_civilian", "deaths_best"]].tolist() == [
        1,
        0,
        5,
    ]
    assert ev.loc["GTO-2023-0010", ["victims_civilian", "deaths_best"]].tolist() == [3, 3]
    # a kidnapping: victims without deaths
    assert ev.loc["GTO-2023-0008", ["victims_civilian", "deaths_best"]].tolist() == [2, 0]
    for kind in ("military", "official", "journalist", "dto_member", "unknown"):
        assert (ev[f"victims_{kind}"] == 0).all(), kind
    assert (ev["deaths_low"] == ev["deaths_best"]).all()
    assert (ev["deaths_high"] == ev["deaths_best"]).all()


def test_states_and_municipalities(imported):
    db, _ = imported
    ev = events(db)
    assert ev.loc["GTO-2023-0001", ["state_code", "mun_code"]].tolist() == ["11", "11007"]  # Celaya
    assert ev.loc["GTO-2023-0005", ["state_code", "mun_code"]].tolist() == ["11", "11020"]  # León
    assert ev.loc["GTO-2023-0006", ["state_code", "mun_code"]].tolist() == ["11", "11044"]  # Villagrán
    assert ev.loc["GTO-2023-0010", ["state_code", "mun_code"]].tolist() == ["14", "14053"]  # Lagos de Moreno


def test_torture_flag(imported):
    db, _ = imported
    flagged = set(events(db).query("torture_display").index)
    assert flagged == {"GTO-2023-0005", "GTO-2023-0006"}  # "sí" and "si"


def test_notes_are_kept(imported):
    db, _ = imported
    assert events(db).loc["GTO-2023-0004", "notes"] == "Emboscada a una patrulla municipal"


def test_explicit_probabilities_become_one_row_each(imported):
    db, _ = imported
    split = perpetrators(db, "GTO-2023-0002")  # CJNG:0.6;Cártel de Sinaloa:0.4
    assert split == {org("CJNG"): 0.6, org("Cártel de Sinaloa"): 0.4}
    assert sum(split.values()) == pytest.approx(1.0)
    assert perpetrators(db, "GTO-2023-0007") == {org("Cártel de Santa Rosa de Lima"): 0.7, "cjng": 0.3}


def test_names_without_probabilities_share_equally(imported):
    db, _ = imported
    assert perpetrators(db, "GTO-2023-0006") == {"cjng": 0.5, "csrl": 0.5}
    assert perpetrators(db, "GTO-2023-0001") == {"cjng": 1.0}


@pytest.mark.parametrize("folio", ["GTO-2023-0003", "GTO-2023-0005", "GTO-2023-0009", "GTO-2023-0011"])
def test_unknown_perpetrator_gives_no_row(imported, folio):
    db, _ = imported  # "desconocido", an empty cell, "N/D"
    assert perpetrators(db, folio) == {}


def test_unknown_share_with_a_probability_stays_unknown(imported):
    db, result = imported  # CJNG:0.6;desconocido:0.4
    assert perpetrators(db, "GTO-2023-0012") == {"cjng": 0.6}
    assert "desconocido" not in result.unresolved
    assert query(db, "SELECT count(*) AS n FROM perpetrators WHERE raw_name ILIKE 'desconocido'")["n"][0] == 0


def test_unresolved_name_is_kept_and_reported(imported):
    db, result = imported
    assert result.unresolved == Counter({"Los Nuevos Ficticios": 1})
    row = query(db, "SELECT source_id, org_id, probability FROM perpetrators WHERE org_id IS NULL")
    assert row.values.tolist() == [["GTO-2023-0008", None, 1.0]]


def test_csv_and_parquet_store_the_same_events(tmp_path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    run_import(a, SAMPLE)
    run_import(b, write_parquet(tmp_path / "agency.parquet"))
    pd.testing.assert_frame_equal(events(a), events(b))
    sql = "SELECT * FROM perpetrators ORDER BY source_id, raw_name"
    pd.testing.assert_frame_equal(query(a, sql), query(b, sql))


def test_second_import_adds_nothing(imported, agency_file):
    db, _ = imported
    before = events(db)
    again = run_import(db, agency_file)
    assert (again.record.rows_imported, again.record.rows_duplicate) == (0, 12)
    pd.testing.assert_frame_equal(events(db), before)
    assert query(db, "SELECT count(*) AS n FROM perpetrators")["n"][0] == 11


# -- perpetrator cells that are wrong -----------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("CJNG:0.6;Cártel de Sinaloa", "gives probabilities for some names but not others"),
        ("CJNG;desconocido:0.4", "gives probabilities for some names but not others"),
        ("CJNG:0.7;Cártel de Sinaloa:0.5", "adds up to more than 1"),
        ("CJNG:1.5", "is not a probability"),
    ],
)
def test_bad_perpetrator_cell_is_a_row_problem(tmp_path, cell, message):
    path = variant(tmp_path, {"GTO-2023-0006": {"grupo": cell}})
    with pytest.raises(RowErrors) as info:
        run_import(tmp_path / "t.duckdb", path)
    assert {(p.row, p.column, p.column_name) for p in info.value.problems} == {(7, col("grupo"), "grupo")}
    assert any(message in p.message for p in info.value.problems)


# -- mapping files ------------------------------------------------------------------------

GOOD = MAPPING.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (GOOD.replace('notes = "notas"', 'notes = "notas"\nfecha2 = "x"'), "columns.fecha2"),
        (GOOD.replace('"Secuestro" = "kidnapping"', '"Secuestro" = "secuestro"'), "categories.Secuestro"),
        (GOOD.replace('source_id = "folio"\n', ""), "columns.source_id"),
        (GOOD.replace('civilian = "civiles"', 'civiles = "civiles"'), "victims.civiles"),
        (GOOD.replace('source = "fiscalia-gto"', 'source = "fiscalia-gto"\nsheet = 1'), "sheet"),
        (GOOD.replace('source = "fiscalia-gto"', 'source = "  "'), "source"),
        (GOOD.replace('date_format = "%d/%m/%Y"', 'date_format = "%d/%Q/%Y"'), "date_format"),
        (GOOD.replace('date_format = "%d/%m/%Y"', 'delimiter = ";;"'), "delimiter"),
        (GOOD.replace('category = "tipo"\n', ""), "columns.category"),
    ],
    ids=[
        "unknown-column-key",
        "not-a-category",
        "no-source-id",
        "not-a-victim-kind",
        "unknown-top-key",
        "blank-source",
        "bad-date-format",
        "bad-delimiter",
        "no-category",
    ],
)
def test_bad_mapping_names_the_key(tmp_path, text, key):
    assert text != GOOD
    path = mapping_file(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        generic.load_mapping(path)
    assert info.value.where == f"{path}: {key}"
    assert str(info.value).startswith(f"{path}: {key}: ")
    assert "\n" not in str(info.value)


def test_not_a_category_says_what_it_got(tmp_path):
    path = mapping_file(tmp_path, GOOD.replace('"Secuestro" = "kidnapping"', '"Secuestro" = "secuestro"'))
    with pytest.raises(ConfigError) as info:
        generic.load_mapping(path)
    assert "'secuestro'" in str(info.value)
    assert "kidnapping" in str(info.value)  # the allowed values are listed


def test_bad_toml_syntax(tmp_path):
    path = mapping_file(tmp_path, GOOD.replace('source_id = "folio"', 'source_id = "folio'))
    with pytest.raises(ConfigError) as info:
        generic.load_mapping(path)
    text = str(info.value)
    assert text.startswith(f"{path}: invalid TOML")
    assert "line 6" in text
    assert "\n" not in text


def test_missing_mapping_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        generic.load_mapping(tmp_path / "nowhere.toml")
    assert "not found" in str(info.value)


def test_mapping_digest_ignores_comments_and_layout(tmp_path):
    path = mapping_file(tmp_path, "# another comment\n" + GOOD.replace(" = ", "="))
    assert generic.load_mapping(path)[1] == generic.load_mapping(MAPPING)[1]
    changed = mapping_file(tmp_path, GOOD.replace('"Ejecución" = "homicide"', '"Ejecución" = "massacre"'))
    assert generic.load_mapping(changed)[1] != generic.load_mapping(MAPPING)[1]


@pytest.mark.parametrize(
    ("old", "new", "column", "key"),
    [
        ('deaths = "muertos"', 'deaths = "muertes"', "muertes", "columns.deaths"),
        ('police = "policias"', 'police = "policías"', "policías", "victims.police"),
    ],
)
def test_mapped_column_absent_from_file(tmp_path, agency_file, old, new, column, key):
    path = mapping_file(tmp_path, GOOD.replace(old, new))
    db = tmp_path / "t.duckdb"
    with pytest.raises(InputFileError) as info:
        run_import(db, agency_file, path)
    text = str(info.value)
    assert f"missing column {column!r}" in text
    assert f"mapped by {key} in {path}" in text
    assert text.startswith(f"{agency_file}:1: ")
    assert not db.exists()


def test_semicolon_delimited_file(tmp_path):
    frame = sample_frame()
    path = tmp_path / "agency_semicolon.csv"
    frame.to_csv(path, sep=";", index=False)
    mapping = mapping_file(tmp_path, 'delimiter = ";"\n' + GOOD)
    db = tmp_path / "t.duckdb"
    run_import(db, path, mapping)
    reference = tmp_path / "r.duckdb"
    run_import(reference, SAMPLE)
    pd.testing.assert_frame_equal(events(db), events(reference))


def test_default_category_fills_blank_cells(tmp_path):
    path = variant(tmp_path, {"GTO-2023-0001": {"tipo": ""}})
    with pytest.raises(RowErrors):
        run_import(tmp_path / "a.duckdb", path)
    mapping = mapping_file(tmp_path, 'default_category = "massacre"\n' + GOOD)
    db = tmp_path / "b.duckdb"
    run_import(db, path, mapping)
    assert events(db).loc["GTO-2023-0001", "category"] == "massacre"
    assert events(db).loc["GTO-2023-0002", "category"] == "armed_clash"


# -- bad rows through the command line ----------------------------------------------------

# the header is row 1: GTO-2023-0003 is row 4, GTO-2023-0006 row 7, GTO-2023-0008 row 9
PLANTED = {
    "GTO-2023-0003": {"muertos": "-3"},
    "GTO-2023-0006": {"fecha": "31/02/2023"},
    "GTO-2023-0008": {"estado": "Guanajuatoo"},
}
PLANTED_AT = {(4, col("muertos"), "muertos"), (7, col("fecha"), "fecha"), (9, col("estado"), "estado")}


def vdto(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vdto.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_library_locates_every_planted_problem(tmp_path):
    path = variant(tmp_path, PLANTED)
    with pytest.raises(RowErrors) as info:
        run_import(tmp_path / "t.duckdb", path)
    assert {(p.row, p.column, p.column_name) for p in info.value.problems} == PLANTED_AT
    values = {p.column_name: p.value for p in info.value.problems}
    assert values == {"muertos": "-3", "fecha": "31/02/2023", "estado": "Guanajuatoo"}


def test_cli_bad_rows_one_line_exit_2(tmp_path):
    path = variant(tmp_path, PLANTED)
    db = tmp_path / "t.duckdb"
    done = vdto("import", "csv", str(path), "--mapping", str(MAPPING), "--db", str(db))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert f"{path}:4:{col('muertos')}:" in lines[0]
    assert "muertos" in lines[0]
    assert "2 more problems" in lines[0]
    assert "Traceback" not in done.stderr
    assert not db.exists() or query(db, "SELECT count(*) AS n FROM events")["n"][0] == 0


def test_cli_report_lists_every_problem(tmp_path):
    path = variant(tmp_path, PLANTED)
    db, report = tmp_path / "t.duckdb", tmp_path / "problems.csv"
    done = vdto(
        "import", "csv", str(path), "--mapping", str(MAPPING), "--db", str(db), "--report", str(report)
    )
    assert done.returncode == 2
    assert str(report) in done.stderr
    listed = pd.read_csv(report, dtype=str, keep_default_na=False)
    assert list(listed.columns) == ["file", "row", "column", "column_name", "value", "problem", "fix"]
    assert {(int(r.row), int(r.column), r.column_name) for r in listed.itertuples()} == PLANTED_AT
    assert set(listed["file"]) == {str(path)}
    assert (listed["fix"] != "").all()
    assert not db.exists() or query(db, "SELECT count(*) AS n FROM events")["n"][0] == 0


def test_cli_skip_bad_rows_imports_the_good_ones(tmp_path):
    path = variant(tmp_path, PLANTED)
    db = tmp_path / "t.duckdb"
    done = vdto("import", "csv", str(path), "--mapping", str(MAPPING), "--db", str(db), "--skip-bad-rows")
    assert done.returncode == 0, done.stderr
    rec = query(db, "SELECT rows_read, rows_imported, rows_rejected FROM imports").iloc[0]
    assert (rec["rows_read"], rec["rows_imported"], rec["rows_rejected"]) == (12, 9, 3)
    stored = set(query(db, "SELECT source_id FROM events")["source_id"])
    assert stored == set(sample_frame()["folio"]) - set(PLANTED)
    assert not set(PLANTED) & set(query(db, "SELECT source_id FROM perpetrators")["source_id"])


def test_cli_bad_mapping_one_line_exit_2(tmp_path):
    mapping = mapping_file(tmp_path, GOOD.replace('notes = "notas"', 'notes = "notas"\nfecha2 = "x"'))
    db = tmp_path / "t.duckdb"
    done = vdto("import", "csv", str(SAMPLE), "--mapping", str(mapping), "--db", str(db))
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "columns.fecha2" in done.stderr
    assert "Traceback" not in done.stderr
    assert not db.exists()


# -- Parquet specifics --------------------------------------------------------------------


def test_parquet_rows_are_counted_from_1(tmp_path):
    frame = sample_frame()
    frame.loc[2, "muertos"] = "-3"  # the third record
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path, index=False)
    with pytest.raises(RowErrors) as info:
        run_import(tmp_path / "t.duckdb", path)
    assert [(p.row, p.column_name) for p in info.value.problems] == [(3, "muertos")]


def test_parquet_that_is_not_parquet(tmp_path):
    path = tmp_path / "agency.parquet"
    path.write_bytes(SAMPLE.read_bytes())
    with pytest.raises(VdtoError) as info:
        run_import(tmp_path / "t.duckdb", path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


# -- values past what the store can hold ------------------------------------------------------------


@pytest.mark.parametrize("column", ["muertos", "civiles"])
def test_counts_beyond_the_integer_range_are_a_row_problem(tmp_path, column):
    path = variant(tmp_path, {"GTO-2023-0001": {column: "3000000000"}})
    db = tmp_path / "t.duckdb"
    with pytest.raises(RowErrors) as info:
        run_import(db, path)
    assert [(p.row, p.column_name) for p in info.value.problems] == [(2, column)]
    assert not db.exists()


def test_parquet_binary_column_that_is_not_utf8(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(sample_frame(), preserve_index=False)
    notes = pa.array([b"\xff\xfe"] * table.num_rows, pa.binary())
    table = table.set_column(table.schema.get_field_index("notas"), "notas", notes)
    path = tmp_path / "binary.parquet"
    pq.write_table(table, path)
    with pytest.raises(VdtoError) as info:
        run_import(tmp_path / "t.duckdb", path)
    assert "\n" not in str(info.value)


# -- the same rows however the file is written ------------------------------------------------


@pytest.mark.parametrize("how", ["gzip", "latin-1", "crlf-and-bom", "relative-path"])
def test_every_way_of_writing_the_file_stores_the_same_events(tmp_path, monkeypatch, how):
    """DuckDB reads plain UTF-8 files; compressed and other encodings go through the Python
    reader: the events are the same."""
    import gzip

    text = SAMPLE.read_text(encoding="utf-8")
    mapping = MAPPING
    if how == "gzip":
        path = tmp_path / "agency.csv.gz"
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    elif how == "latin-1":
        path = tmp_path / "agency.csv"
        path.write_bytes(text.encode("latin-1"))
        mapping = mapping_file(tmp_path, 'encoding = "latin-1"\n' + GOOD)
    elif how == "crlf-and-bom":
        path = tmp_path / "agency.csv"
        path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    else:
        monkeypatch.chdir(SAMPLE.parent)
        path = Path(SAMPLE.name)
    db, reference = tmp_path / "t.duckdb", tmp_path / "r.duckdb"
    run_import(db, path, mapping)
    run_import(reference, SAMPLE)
    pd.testing.assert_frame_equal(events(db), events(reference))
    sql = "SELECT * FROM perpetrators ORDER BY source_id, raw_name"
    pd.testing.assert_frame_equal(query(db, sql), query(reference, sql))
