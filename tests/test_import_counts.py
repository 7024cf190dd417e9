"""Region-month counts: the real SESNSP victims file and vdto's own counts layout."""

from __future__ import annotations

import pandas as pd
import pytest

from vdto.errors import InputFileError, RowErrors
from vdto.events.ingest import import_counts_file
from vdto.store import Store


@pytest.fixture(scope="module")
def sesnsp_store(tmp_path_factory, sesnsp_file):
    db = tmp_path_factory.mktemp("sesnsp") / "s.duckdb"
    result = import_counts_file(db, sesnsp_file)
    return db, result


@pytest.fixture(scope="module")
def sesnsp_raw(sesnsp_file) -> pd.DataFrame:
    return pd.read_csv(sesnsp_file, dtype={"cve_ent": str, "n_month": str})


@pytest.mark.slow
def test_all_rows_read_and_totals_kept(sesnsp_store, sesnsp_raw):
    db, result = sesnsp_store
    assert result.record.rows_read == 927_360 == len(sesnsp_raw)
    assert result.record.rows_rejected == 0
    with Store(db, read_only=True) as store:
        total = store.query("SELECT sum(count) AS n FROM region_counts")["n"].iloc[0]
    assert total == sesnsp_raw["n_victimas"].sum()


@pytest.mark.slow
@pytest.mark.parametrize(("year", "expected"), [(2019, 34_723), (2023, 29_721), (2024, 30_046)])
def test_national_homicide_victims(sesnsp_store, year, expected):
    db, _ = sesnsp_store
    with Store(db, read_only=True) as store:
        n = store.query(
            "SELECT sum(count) AS n FROM region_counts WHERE measure = 'homicidio_doloso' AND year(period) = ?",
            [year],
        )["n"].iloc[0]
    assert n == expected


@pytest.mark.slow
def test_states_with_most_homicide_victims_2019_match_a_direct_sum(sesnsp_store, sesnsp_raw):
    raw = sesnsp_raw[(sesnsp_raw["subtipo_de_delito"] == "Homicidio doloso") & (sesnsp_raw["n_year"] == 2019)]
    direct = raw.groupby("cve_ent")["n_victimas"].sum().sort_values(ascending=False)
    db, _ = sesnsp_store
    with Store(db, read_only=True) as store:
        got = store.query(
            """SELECT state_code, sum(count) AS n FROM region_counts
               WHERE measure = 'homicidio_doloso' AND year(period) = 2019 GROUP BY 1 ORDER BY n DESC, state_code"""
        )
    assert got["state_code"].head(5).tolist() == direct.index[:5].tolist()
    assert got["n"].head(5).tolist() == direct.head(5).tolist()
    # Guanajuato (11) had the most intentional-homicide victims in 2019
    assert got["state_code"].iloc[0] == "11"


def test_reimport_replaces_instead_of_adding(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        "region_code,period,measure,count\n11,2020-01-01,homicidio,5\n11017,2020-01,homicidio,2\n"
    )
    db = tmp_path / "t.duckdb"
    first = import_counts_file(db, path)
    again = import_counts_file(db, path)
    assert (first.record.rows_imported, again.record.rows_imported, again.record.rows_duplicate) == (2, 0, 2)
    path.write_text("region_code,period,measure,count\n11,2020-01-01,homicidio,7\n")
    import_counts_file(db, path)
    with Store(db, read_only=True) as store:
        rows = store.query("SELECT region_code, level, count FROM region_counts ORDER BY region_code")
    assert rows.to_dict("list") == {
        "region_code": ["11", "11017"],
        "level": ["state", "municipality"],
        "count": [7, 2],
    }


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("99,2020-01-01,homicidio,5", 1, "is not an INEGI state or municipality code"),
        ("11,2020-31-01,homicidio,5", 2, "is not a date"),
        ("11,2020-01-01,homicidio,-5", 4, "is below 0"),
        ("11,2020-01-01,,5", 3, "is empty"),
    ],
)
def test_bad_count_rows(tmp_path, line, column, message):
    path = tmp_path / "c.csv"
    path.write_text(f"region_code,period,measure,count\n11,2020-01-01,homicidio,5\n{line}\n")
    db = tmp_path / "t.duckdb"
    with pytest.raises(RowErrors) as info:
        import_counts_file(db, path)
    assert f"c.csv:3:{column}" in str(info.value) and message in str(info.value)
    assert not db.exists()


def test_unknown_layout(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputFileError, match="missing column 'region_code'"):
        import_counts_file(tmp_path / "t.duckdb", path)
