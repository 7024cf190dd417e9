"""The generic importer's mapping language: sums of columns, SQL expressions (and what they may
not do), INEGI codes in two columns, numbers in any spelling, missing-value markers, older
official municipality names and the revision column. Every file is written here, as a foreign
agency would export it."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vdto.errors import ConfigError, InputFileError, RowErrors
from vdto.events import generic
from vdto.events.ingest import import_events
from vdto.geography import geography
from vdto.orgs import Registry
from vdto.store import Store

from .conftest import assert_one_line_exit_2, run_here

HEADER = ["folio", "fecha", "cve_ent", "cve_mun", "municipio", "tipo", "muertos", "pol_federal", "pol_estatal",
          "pol_ministerial", "pol_municipal", "ejercito", "marina", "civiles", "grupo"]  # fmt: skip
# a state prosecutor's export: police and military victims split by force, codes written as
# floats, "NA" for nothing, and a municipality under the name INEGI published until 2015
ROWS = [
    ["CH-1", "2021-03-01", "8.0", "8.0", "Batopilas", "Enfrentamiento", "5.0", "1.0", "NA", "0", "2", "NA", "NA", "2", "CJNG"],
    ["CH-2", "2021-03-02", " 08 ", "19", "Chihuahua", "Ejecución", "3", "NA", "NA", "NA", "NA", "1", "2.0", "0", "NA"],
    ["CH-3", "2021-03-03", "16.00", "053", "Morelia", "Ejecución", "1", "0", "0", "0", "0", "0", "0", "1", "Cártel de Sinaloa"],
    ["CH-4", "2021-03-04", "16", "53.0", "morelia", "Ejecución", "4", "1", "1", "1", "1", "NA", "NA", "NA", "NA"],
]  # fmt: skip
POLICE = [3, 0, 0, 4]
MILITARY = [0, 3, 0, 0]
MUN = ["08008", "08019", "16053", "16053"]

MAPPING = """\
source = "fiscalia-chih"
missing = ["NA"]

[columns]
source_id = "folio"
date = "fecha"
state = "cve_ent"
{municipality}
category = "tipo"
deaths = "muertos"
perpetrator = "grupo"

[categories]
"Ejecución" = "homicide"
"Enfrentamiento" = "armed_clash"

[victims]
police = ["pol_federal", "pol_estatal", "pol_ministerial", "pol_municipal"]
military = ["ejercito", "marina"]
civilian = "civiles"
"""
BY_CODE = 'municipality = { state = "cve_ent", code = "cve_mun" }'
BY_NAME = 'municipality = "municipio"'


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def run_import(db: Path, path: Path, mapping_path: Path, **options):
    spec, digest = generic.load_mapping(mapping_path)
    return import_events(db, "csv", path, generic.parse, mapping=spec, mapping_path=str(mapping_path),
                         mapping_sha256=digest, **options)  # fmt: skip


def stored(db: Path) -> pd.DataFrame:
    with Store(db, read_only=True) as store:
        return store.query("SELECT * FROM events ORDER BY source_id").set_index("source_id")


def counts(db: Path) -> tuple[int, int]:
    with Store(db, read_only=True) as store:
        return store.count("events"), store.count("imports")


@pytest.fixture
def split_file(tmp_path) -> Path:
    return write_csv(tmp_path / "chihuahua.csv", HEADER, ROWS)


@pytest.mark.parametrize("municipality", [BY_CODE, BY_NAME], ids=["two-code-columns", "names"])
def test_a_foreign_file_imports_through_a_mapping_alone(tmp_path, split_file, municipality):
    mapping = write(tmp_path / "m.toml", MAPPING.format(municipality=municipality))
    db = tmp_path / "s.duckdb"
    result = run_import(db, split_file, mapping)
    rec = result.record
    assert (rec.rows_read, rec.rows_imported, rec.rows_rejected) == (4, 4, 0)
    ev = stored(db)
    assert ev["victims_police"].tolist() == POLICE  # federal + state + ministerial + municipal
    assert ev["victims_military"].tolist() == MILITARY  # army + navy
    assert ev["victims_civilian"].tolist() == [2, 0, 1, 0]  # "NA" is no victim
    assert ev["mun_code"].tolist() == MUN
    assert ev["state_code"].tolist() == ["08", "08", "16", "16"]
    assert ev["deaths_best"].tolist() == [5, 3, 1, 4]


def test_the_older_official_name_is_known():
    geo = geography()
    assert geo.mun_code("08", "Batopilas") == "08008"
    assert geo.mun_code("08", "BATOPILAS DE MANUEL GÓMEZ MORÍN") == "08008"
    older = geo.historical_names
    row = older[older["mun_code"] == "08008"].iloc[0]
    assert row["name"] == "Batopilas"
    assert "INEGI" in row["source"]


def test_the_table_of_older_names_is_rebuilt_from_the_bundled_files(tmp_path):
    import importlib.util

    from vdto.data import bundled

    script = bundled("geography") / "build_historical_names.py"
    spec = importlib.util.spec_from_file_location("build_historical_names", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "names.csv"
    assert module.main(["--out", str(out)]) == 0
    assert out.read_bytes() == (bundled("geography") / "municipio_historical_names.csv").read_bytes()


# -- expressions ------------------------------------------------------------------------------

EXPR_FILE = ["folio,fecha,estado,tipo,muertos_h,muertos_m", "E-1,2022-05-01,Sinaloa,homicidio,2,1",
             "E-2,2022-05-02,Sinaloa,homicidio,,3", "E-3,2022-05-03,Sonora,homicidio,x,0"]  # fmt: skip
EXPR_MAPPING = """\
source = "fiscalia-sin"
default_category = "homicide"

[columns]
source_id = "folio"
date = "fecha"
state = "estado"
deaths = {{ sql = "{sql}" }}
"""


@pytest.fixture
def expr_file(tmp_path) -> Path:
    return write(tmp_path / "sinaloa.csv", "\n".join(EXPR_FILE) + "\n")


def test_a_valid_expression_computes_the_field(tmp_path, expr_file):
    sql = "coalesce(TRY_CAST(muertos_h AS INTEGER), 0) + coalesce(TRY_CAST(muertos_m AS INTEGER), 0)"
    mapping = write(tmp_path / "m.toml", EXPR_MAPPING.format(sql=sql))
    db = tmp_path / "s.duckdb"
    run_import(db, expr_file, mapping)
    assert stored(db)["deaths_best"].tolist() == [3, 3, 0]


BAD_EXPRESSIONS = {
    "invalid-sql": ("muertos_h +* 2", "+*"),
    "unknown-column": ("TRY_CAST(muertos_x AS INTEGER)", "muertos_h"),  # the suggestion
    "subquery": ("(SELECT max(muertos_h) FROM sinaloa)", "subquery"),
    "read-a-file": ("length(read_csv('/etc/passwd'))", "read_csv"),
    "table-function": ("(SELECT count(*) FROM read_text('/etc/passwd'))", "subquery"),
    "second-statement": ("1; DROP TABLE events", "; DROP TABLE events"),
    "aggregate": ("sum(TRY_CAST(muertos_h AS INTEGER))", "sum("),
    "setting": ("length(current_setting('threads'))", "current_setting"),
}


@pytest.mark.parametrize("case", list(BAD_EXPRESSIONS))
def test_a_bad_expression_is_one_line_exit_2_and_nothing_is_written(tmp_path, expr_file, case):
    sql, needle = BAD_EXPRESSIONS[case]
    mapping = write(tmp_path / "m.toml", EXPR_MAPPING.format(sql=sql.replace('"', '\\"')))
    db = tmp_path / "s.duckdb"
    res = run_here("import", "csv", str(expr_file), "--mapping", str(mapping), "--db", str(db))
    assert_one_line_exit_2(res, "columns.deaths", needle)
    assert not db.exists()


def test_a_bad_expression_leaves_a_store_as_it_was(tmp_path, expr_file, split_file):
    db = tmp_path / "s.duckdb"
    run_import(db, split_file, write(tmp_path / "good.toml", MAPPING.format(municipality=BY_CODE)))
    before = counts(db)
    mapping = write(tmp_path / "m.toml", EXPR_MAPPING.format(sql="(SELECT 1)"))
    res = run_here("import", "csv", str(expr_file), "--mapping", str(mapping), "--db", str(db))
    assert_one_line_exit_2(res, "columns.deaths", "subquery")
    assert counts(db) == before


def test_expressions_are_checked_before_any_file_is_opened(tmp_path):
    mapping = write(tmp_path / "m.toml", EXPR_MAPPING.format(sql="read_csv('/etc/passwd')"))
    with pytest.raises(ConfigError) as info:
        generic.load_mapping(mapping)
    assert info.value.where == f"{mapping}: columns.deaths"
    assert "read_csv('/etc/passwd')" in str(info.value)


def test_an_unknown_column_in_an_expression_suggests_the_nearest(tmp_path, expr_file):
    mapping = write(tmp_path / "m.toml", EXPR_MAPPING.format(sql="TRY_CAST(muertos_x AS INTEGER)"))
    spec, _ = generic.load_mapping(mapping)  # the header is needed to know the columns
    with pytest.raises(ConfigError) as info:
        generic.parse(expr_file, Registry.seed(), mapping=spec, mapping_path=str(mapping))
    text = str(info.value)
    assert "muertos_x" in text and "'muertos_h'" in text and "'muertos_m'" in text
    assert "\n" not in text


def test_an_expression_that_fails_on_a_row_names_the_row(tmp_path, expr_file):
    mapping = write(tmp_path / "m.toml", EXPR_MAPPING.format(sql="CAST(muertos_h AS INTEGER)"))
    with pytest.raises(InputFileError) as info:
        run_import(tmp_path / "s.duckdb", expr_file, mapping)
    assert info.value.where == f"{expr_file}:4"  # "x", the third record
    assert "columns.deaths" in str(info.value) and "TRY_CAST" in str(info.value)


def test_an_expression_whose_value_is_not_a_count_is_a_row_problem(tmp_path, expr_file):
    mapping = write(tmp_path / "m.toml", EXPR_MAPPING.format(sql="TRY_CAST(muertos_m AS DOUBLE) / 2"))
    with pytest.raises(RowErrors) as info:
        run_import(tmp_path / "s.duckdb", expr_file, mapping)
    found = [(p.row, p.column_name, p.value, p.message) for p in info.value.problems]
    assert found == [(2, "columns.deaths", "0.5", "is not a whole number"),
                     (3, "columns.deaths", "1.5", "is not a whole number")]  # fmt: skip


# -- sums, codes, numbers, markers --------------------------------------------------------------


def test_an_unknown_column_in_a_sum_names_the_key_and_the_nearest(tmp_path, split_file):
    text = MAPPING.format(municipality=BY_CODE).replace('"pol_estatal"', '"pol_estatl"')
    mapping = write(tmp_path / "m.toml", text)
    db = tmp_path / "s.duckdb"
    res = run_here("import", "csv", str(split_file), "--mapping", str(mapping), "--db", str(db))
    assert_one_line_exit_2(
        res, f"{split_file}:1", "missing column 'pol_estatl'", "victims.police", "'pol_estatal'"
    )
    assert not db.exists()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('date = ["fecha", "fecha2"]', "columns.date"),
        ('deaths = ["muertos", "muertos"]', "columns.deaths"),
        ('deaths = { state = "a", code = "b" }', "columns.deaths"),
        ("deaths = []", "columns.deaths"),
        ('deaths = { sql = "1", extra = 2 }', "columns.deaths"),
    ],
)
def test_a_form_a_field_does_not_take_names_the_key(tmp_path, text, key):
    body = MAPPING.format(municipality=BY_CODE)
    field = text.split(" = ")[0]
    body = "\n".join(text if line.startswith(f"{field} = ") else line for line in body.splitlines())
    mapping = write(tmp_path / "m.toml", body)
    with pytest.raises(ConfigError) as info:
        generic.load_mapping(mapping)
    assert info.value.where == f"{mapping}: {key}"


@pytest.mark.parametrize("spelling", ["16", "16.0", "16.00", " 016 ", "1.6e1", "+16"])
def test_a_state_code_in_any_numeric_spelling(tmp_path, spelling):
    path = write_csv(tmp_path / "f.csv", ["id", "fecha", "ent", "mun", "n"],
                     [["a", "2020-01-01", spelling, "53", "3.0"]])  # fmt: skip
    mapping = write(tmp_path / "m.toml", 'source = "x"\ndefault_category = "homicide"\n[columns]\nsource_id = "id"\n'
                    'date = "fecha"\nstate = "ent"\nmunicipality = { state = "ent", code = "mun" }\ndeaths = "n"\n')  # fmt: skip
    batch = generic.parse(path, Registry.seed(), mapping=generic.load_mapping(mapping)[0])
    assert not batch.problems
    assert batch.events[["state_code", "mun_code", "deaths_best"]].values.tolist() == [["16", "16053", 3.0]]


def test_codes_written_as_floats_in_parquet(tmp_path):
    frame = pd.DataFrame({"id": ["a", "b"], "fecha": pd.to_datetime(["2020-01-01", "2020-02-01"]),
                          "ent": [16.0, 8.0], "mun": [53.0, 8.0], "n": [3.0, 1.0]})  # fmt: skip
    path = tmp_path / "f.parquet"
    frame.to_parquet(path, index=False)
    mapping = write(tmp_path / "m.toml", 'source = "x"\ndefault_category = "homicide"\n[columns]\nsource_id = "id"\n'
                    'date = "fecha"\nmunicipality = { state = "ent", code = "mun" }\ndeaths = "n"\n')  # fmt: skip
    batch = generic.parse(path, Registry.seed(), mapping=generic.load_mapping(mapping)[0])
    assert not batch.problems
    assert batch.events[["state_code", "mun_code"]].values.tolist() == [["16", "16053"], ["08", "08008"]]


@pytest.mark.parametrize(
    ("cells", "bad"),
    [
        (["3.5", "2"], [(2, "pol_federal", "3.5", "is not a whole number")]),
        (["-1", "2"], [(2, "pol_federal", "-1", "is below 0")]),
        (["1_000", "2"], [(2, "pol_federal", "1_000", "is not a number")]),
        (
            ["NA", "x"],
            [(2, "pol_federal", "NA", "is not a number"), (2, "pol_estatal", "x", "is not a number")],
        ),
        (["inf", ""], [(2, "pol_federal", "inf", "is not a number")]),
    ],
)
def test_bad_cells_in_a_sum_are_reported_on_their_own_column(tmp_path, cells, bad):
    path = write_csv(
        tmp_path / "f.csv", ["id", "fecha", "pol_federal", "pol_estatal"], [["a", "2020-01-01", *cells]]
    )
    mapping = write(tmp_path / "m.toml", 'source = "x"\ndefault_category = "homicide"\n[columns]\nsource_id = "id"\n'
                    'date = "fecha"\n[victims]\npolice = ["pol_federal", "pol_estatal"]\n')  # fmt: skip
    batch = generic.parse(path, Registry.seed(), mapping=generic.load_mapping(mapping)[0])
    assert [(p.row, p.column_name, p.value, p.message) for p in batch.problems.to_list()] == bad


def test_missing_markers_are_blank_cells(tmp_path):
    rows = [["a", "2020-01-01", "s/d", "2"], ["b", "s/d", "1", "s/d"], ["c", "2020-01-03", "s/d", "s/d"]]
    path = write_csv(tmp_path / "f.csv", ["id", "fecha", "muertos", "civiles"], rows)
    text = ('source = "x"\ndefault_category = "homicide"\n[columns]\nsource_id = "id"\ndate = "fecha"\n'
            'deaths = ["muertos", "civiles"]\n')  # fmt: skip
    refused = generic.parse(
        path, Registry.seed(), mapping=generic.load_mapping(write(tmp_path / "a.toml", text))[0]
    )
    assert {p.message for p in refused.problems.to_list()} == {"is not a number", "is not a date"}
    spec = generic.load_mapping(write(tmp_path / "b.toml", 'missing = ["s/d"]\n' + text))[0]
    batch = generic.parse(path, Registry.seed(), mapping=spec)
    found = [(p.row, p.column_name, p.message) for p in batch.problems.to_list()]
    # a blank date is empty; a sum of blank cells only is empty; one blank cell in a sum counts 0
    assert found == [(3, "fecha", "is empty"), (4, "columns.deaths", "is empty")]
    assert batch.events["deaths_best"].tolist()[:2] == [2.0, 1.0]


def test_a_marker_is_compared_after_trimming(tmp_path):
    with pytest.raises(ConfigError) as info:
        text = MAPPING.format(municipality=BY_CODE).replace('missing = ["NA"]', 'missing = [" NA"]')
        generic.load_mapping(write(tmp_path / "m.toml", text))
    assert info.value.where.endswith(": missing")


def test_a_misspelt_municipality_suggests_the_nearest_names_of_its_state(tmp_path, split_file):
    rows = [r.copy() for r in ROWS]
    rows[0][4] = "Batopylas"
    path = write_csv(tmp_path / "bad.csv", HEADER, rows)
    mapping = write(tmp_path / "m.toml", MAPPING.format(municipality=BY_NAME))
    db = tmp_path / "s.duckdb"
    res = run_here("import", "csv", str(path), "--mapping", str(mapping), "--db", str(db))
    assert_one_line_exit_2(res, f"{path}:2:5", "municipio", "Batopylas", "nearest in Chihuahua: Batopilas")
    assert not db.exists()


def test_a_municipality_code_that_is_not_inegis_is_a_row_problem(tmp_path):
    path = write_csv(tmp_path / "f.csv", ["id", "fecha", "ent", "mun"],
                     [["a", "2020-01-01", "8", "999"], ["b", "2020-01-01", "33", "1"]])  # fmt: skip
    mapping = write(tmp_path / "m.toml", 'source = "x"\ndefault_category = "homicide"\n[columns]\nsource_id = "id"\n'
                    'date = "fecha"\nmunicipality = { state = "ent", code = "mun" }\n')  # fmt: skip
    batch = generic.parse(path, Registry.seed(), mapping=generic.load_mapping(mapping)[0])
    found = [(p.row, p.column_name, p.message) for p in batch.problems.to_list()]
    assert found == [
        (2, "mun", "is not a municipality of that state"),
        (3, "ent", "is not an INEGI state code"),
    ]


# -- revision -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["3", "2.5", ""], [3.0, 2.5, np.nan]),
        (["2021-03-05", "2021-03-05 10:00:00", ""], [1614902400.0, 1614938400.0, np.nan]),
        (["2021-03-05T10:00:00+02:00", "NA", ""], [1614931200.0, np.nan, np.nan]),
    ],
    ids=["numbers", "dates", "offsets"],
)
def test_the_revision_column_is_a_float(tmp_path, cells, expected):
    rows = [[f"r{i}", "2021-03-01", c] for i, c in enumerate(cells)]
    path = write_csv(tmp_path / "f.csv", ["id", "fecha", "actualizado"], rows)
    mapping = write(tmp_path / "m.toml", 'source = "x"\nmissing = ["NA"]\ndefault_category = "homicide"\n[columns]\n'
                    'source_id = "id"\ndate = "fecha"\nrevision = "actualizado"\n')  # fmt: skip
    batch = generic.parse(path, Registry.seed(), mapping=generic.load_mapping(mapping)[0])
    assert not batch.problems
    assert batch.events["revision"].dtype == np.float64
    np.testing.assert_array_equal(batch.events["revision"].to_numpy(), np.array(expected))
    assert batch.where["revision"] == "actualizado"


def test_a_revision_that_is_neither_number_nor_date_is_a_row_problem(tmp_path):
    rows = [["a", "2021-03-01", "2021-03-05"], ["b", "2021-03-01", "ayer"]]
    path = write_csv(tmp_path / "f.csv", ["id", "fecha", "actualizado"], rows)
    mapping = write(tmp_path / "m.toml", 'source = "x"\ndefault_category = "homicide"\n[columns]\n'
                    'source_id = "id"\ndate = "fecha"\nrevision = "actualizado"\n')  # fmt: skip
    batch = generic.parse(path, Registry.seed(), mapping=generic.load_mapping(mapping)[0])
    assert [(p.row, p.column_name, p.value) for p in batch.problems.to_list()] == [(3, "actualizado", "ayer")]


def test_no_revision_column_without_a_mapping(tmp_path, split_file):
    spec = generic.load_mapping(write(tmp_path / "m.toml", MAPPING.format(municipality=BY_CODE)))[0]
    assert "revision" not in generic.parse(split_file, Registry.seed(), mapping=spec).events.columns


def test_an_older_mapping_keeps_its_digest(tmp_path):
    # the keys added since (missing, columns.revision) do not enter the digest at their defaults
    path = Path(__file__).parent / "data" / "agency_mapping.toml"
    digest = generic.load_mapping(path)[1]
    with_defaults = write(tmp_path / "m.toml", "missing = []\n" + path.read_text(encoding="utf-8"))
    assert generic.load_mapping(with_defaults)[1] == digest
    with_marker = write(tmp_path / "n.toml", 'missing = ["NA"]\n' + path.read_text(encoding="utf-8"))
    assert generic.load_mapping(with_marker)[1] != digest


def test_empty_and_missing_cells_of_a_parquet_file_are_one_blank(tmp_path):
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "fecha": ["2020-01-01"] * 4,
                          "estado": ["Jalisco", None, "", "Jalisco"], "municipio": [None, "", "Zapopan", None],
                          "grupo": [None, "", "CJNG", ""], "tipo": ["", None, "homicide", None]})  # fmt: skip
    path = tmp_path / "f.parquet"
    frame.to_parquet(path, index=False)
    mapping = write(tmp_path / "m.toml", 'source = "x"\ndefault_category = "homicide"\n[columns]\nsource_id = "id"\n'
                    'date = "fecha"\nstate = "estado"\nmunicipality = "municipio"\nperpetrator = "grupo"\n'
                    'category = "tipo"\n')  # fmt: skip
    batch = generic.parse(path, Registry.seed(), mapping=generic.load_mapping(mapping)[0])
    assert not batch.problems
    assert batch.events["source_id"].tolist() == ["a", "b", "c", "d"]
    assert batch.events["state_code"].tolist()[0] == "14"
    assert batch.perpetrators["source_id"].tolist() == ["c"]
