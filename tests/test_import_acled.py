"""The ACLED importer on tests/data/acled_sample.csv (21 rows written from ACLED's codebook columns)."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from vdto.errors import InputFileError, RowErrors, VdtoError
from vdto.events import acled
from vdto.events.ingest import import_events
from vdto.orgs import Registry
from vdto.store import Store

SAMPLE = Path(__file__).parent / "data" / "acled_sample.csv"
NOT_SCORED_IDS = {"MEX10006", "MEX10007", "MEX10016", "MEX10021"}  # 2 Protests, 2 Riots
ALL_IDS = {f"MEX100{i:02d}" for i in range(1, 22)}


def org(name: str) -> str:
    """The registry id a name resolves to (so the tests follow the seed registry)."""
    org_id = Registry.seed().resolve(name).org_id
    assert org_id is not None, name
    return org_id


def read_rows(path: Path = SAMPLE) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, rows: list[dict[str, str]], fieldnames: list[str] | None = None) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=fieldnames or list(rows[0]), lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
    return path


def variant(tmp_path: Path, changes: dict[str, dict[str, str]], name: str = "variant.csv") -> Path:
    """The sample with some cells changed: {event_id_cnty: {column: value}}."""
    rows = read_rows()
    for row in rows:
        row.update(changes.get(row["event_id_cnty"], {}))
    return write_rows(tmp_path / name, rows)


def query(db: Path, sql: str) -> pd.DataFrame:
    with Store(db, read_only=True) as store:
        return store.query(sql)


@pytest.fixture
def imported(tmp_path):
    db = tmp_path / "t.duckdb"
    result = import_events(db, "acled", SAMPLE, acled.parse)
    return db, result


def event(db: Path, source_id: str) -> pd.Series:
    frame = query(db, f"SELECT * FROM events WHERE source_id = '{source_id}'")
    assert len(frame) == 1, source_id
    return frame.iloc[0]


def perpetrators(db: Path, source_id: str) -> dict[str | None, float]:
    frame = query(db, f"SELECT org_id, probability FROM perpetrators WHERE source_id = '{source_id}'")
    return {
        (None if pd.isna(o) else o): p for o, p in zip(frame["org_id"], frame["probability"], strict=True)
    }


# -- what is imported and what is skipped -------------------------------------------------


def test_violent_rows_imported_and_protests_riots_skipped(imported):
    db, result = imported
    rec = result.record
    assert (rec.rows_read, rec.rows_imported, rec.rows_duplicate, rec.rows_rejected) == (21, 17, 0, 0)
    assert rec.rows_skipped == 4
    assert result.skipped == Counter(
        {"event_type 'Protests' is not scored": 2, "event_type 'Riots' is not scored": 2}
    )
    imports = query(db, "SELECT kind, source, rows_read, rows_imported, rows_skipped FROM imports")
    assert imports.to_dict("records") == [
        {"kind": "acled", "source": "acled", "rows_read": 21, "rows_imported": 17, "rows_skipped": 4}
    ]
    stored = set(query(db, "SELECT source_id FROM events")["source_id"])
    assert stored == ALL_IDS - NOT_SCORED_IDS
    assert not NOT_SCORED_IDS & set(query(db, "SELECT source_id FROM perpetrators")["source_id"])


def test_actors_of_skipped_rows_are_not_reported_unresolved(imported):
    _, result = imported
    assert "Protesters (Mexico)" not in result.unresolved
    assert "Rioters (Mexico)" not in result.unresolved


def test_rows_outside_mexico_are_skipped_and_counted(tmp_path):
    path = variant(tmp_path, {"MEX10018": {"country": "Guatemala", "iso": "320"}})
    db = tmp_path / "t.duckdb"
    result = import_events(db, "acled", path, acled.parse)
    assert result.record.rows_imported == 16
    assert result.skipped["country is not Mexico"] == 1
    assert result.record.rows_skipped == 5
    assert "MEX10018" not in set(query(db, "SELECT source_id FROM events")["source_id"])


# -- categories and victims ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_id", "category"),
    [
        ("MEX10001", "armed_clash"),  # Battles, CJNG vs Sinaloa Cartel
        ("MEX10012", "armed_clash"),  # Battles, CJNG vs Santa Rosa de Lima
        ("MEX10008", "armed_clash"),  # Battles, military vs Sinaloa Cartel
        ("MEX10003", "attack_security_forces"),  # Battles, gunmen vs municipal police
        ("MEX10013", "attack_security_forces"),  # Battles, CJNG vs state police
        ("MEX10020", "attack_security_forces"),  # IED on an army vehicle
        ("MEX10004", "attack_journalist"),  # civilians, assoc_actor_2 Journalists (Mexico)
        ("MEX10014", "attack_official"),  # civilians, assoc_actor_2 Government of Mexico
        ("MEX10002", "attack_civilians"),
        ("MEX10010", "attack_civilians"),  # drone strike on houses
        ("MEX10005", "kidnapping"),  # Abduction/forced disappearance
        ("MEX10015", "kidnapping"),
    ],
)
def test_category(imported, source_id, category):
    db, _ = imported
    assert event(db, source_id)["category"] == category


@pytest.mark.parametrize("source_id", ["MEX10005", "MEX10015"])
def test_abduction_is_kidnapping_with_a_victim_and_no_deaths(imported, source_id):
    db, _ = imported
    ev = event(db, source_id)
    assert ev["category"] == "kidnapping"
    assert ev["deaths_best"] == 0
    assert ev["victims_civilian"] >= 1


@pytest.mark.parametrize(
    ("source_id", "kind", "n"),
    [
        ("MEX10002", "civilian", 3),
        ("MEX10003", "police", 2),
        ("MEX10004", "journalist", 1),
        ("MEX10014", "official", 1),
        ("MEX10020", "military", 2),
        ("MEX10001", "dto_member", 4),  # Battles: actor2 is a cartel
        ("MEX10019", "unknown", 7),  # Battles: actor2 is an unidentified group
    ],
)
def test_victims_take_their_kind_from_actor2(imported, source_id, kind, n):
    db, _ = imported
    ev = event(db, source_id)
    victims = {c.removeprefix("victims_"): int(ev[c]) for c in ev.index if c.startswith("victims_")}
    assert victims == {k: (n if k == kind else 0) for k in victims}


def test_deaths_are_acled_fatalities(imported):
    db, _ = imported
    frame = query(db, "SELECT source_id, deaths_best, deaths_low, deaths_high FROM events")
    fatalities = {r["event_id_cnty"]: int(r["fatalities"]) for r in read_rows()}
    for row in frame.itertuples():
        assert row.deaths_best == row.deaths_low == row.deaths_high == fatalities[row.source_id]


def test_dates(imported):
    db, _ = imported
    ev = event(db, "MEX10012")
    assert ev["date_start"] == pd.Timestamp("2023-04-09") == ev["date_end"]


# -- perpetrators -------------------------------------------------------------------------


def test_battle_between_two_cartels_splits_half_and_half(imported):
    db, _ = imported
    assert perpetrators(db, "MEX10001") == {org("CJNG: Jalisco New Generation Cartel"): 0.5, "sinaloa": 0.5}
    assert org("Sinaloa Cartel") == "sinaloa"
    assert perpetrators(db, "MEX10012") == {"cjng": 0.5, org("Santa Rosa de Lima Cartel"): 0.5}
    assert perpetrators(db, "MEX10017") == {org("Gulf Cartel"): 0.5, org("CDN: Northeast Cartel"): 0.5}


@pytest.mark.parametrize(
    ("source_id", "actor1"),
    [
        ("MEX10002", "Santa Rosa de Lima Cartel"),  # Violence against civilians
        ("MEX10005", "CDN: Northeast Cartel"),  # abduction
        ("MEX10018", "Sinaloa Cartel"),
        ("MEX10010", "CJNG: Jalisco New Generation Cartel"),  # Explosions/Remote violence
        ("MEX10020", "CJNG: Jalisco New Generation Cartel"),
    ],
)
def test_one_sided_violence_goes_to_actor1(imported, source_id, actor1):
    db, _ = imported
    assert perpetrators(db, source_id) == {org(actor1): 1.0}


@pytest.mark.parametrize("source_id", ["MEX10004", "MEX10014", "MEX10015"])
def test_unidentified_actor1_gives_no_perpetrator(imported, source_id):
    db, _ = imported
    assert perpetrators(db, source_id) == {}


def test_unidentified_side_of_a_battle_leaves_its_half_unknown(imported):
    db, _ = imported
    # La Familia Michoacana vs Unidentified Armed Group: 0.5 stays unknown
    assert perpetrators(db, "MEX10019") == {org("La Familia Michoacana"): 0.5}
    # Unidentified Armed Group vs police: only the police side is stored
    assert perpetrators(db, "MEX10003") == {org("Police Forces of Mexico"): 0.5}
    unidentified = query(db, "SELECT count(*) AS n FROM perpetrators WHERE raw_name ILIKE 'unidentified%'")
    assert unidentified["n"][0] == 0


def test_period_suffix_is_dropped_from_raw_names(imported):
    db, _ = imported
    names = set(query(db, "SELECT raw_name FROM perpetrators")["raw_name"])
    assert "Police Forces of Mexico" in names
    assert "Military Forces of Mexico" in names
    assert not any("(2018-2024)" in n for n in names)


def test_probabilities_sum_to_at_most_one(imported):
    db, _ = imported
    total = query(db, "SELECT source_id, sum(probability) AS p FROM perpetrators GROUP BY source_id")
    assert (total["p"] <= 1 + 1e-9).all()
    assert (total["p"] > 0).all()


def test_unresolved_name_is_kept_and_reported(imported):
    db, result = imported
    assert result.unresolved == Counter({"Los Nuevos Ficticios": 2})
    rows = query(
        db,
        "SELECT source_id, org_id, probability FROM perpetrators WHERE raw_name = 'Los Nuevos Ficticios' ORDER BY source_id",
    )
    assert rows["source_id"].tolist() == ["MEX10009", "MEX10011"]
    assert rows["org_id"].isna().all()
    assert rows["probability"].tolist() == [1.0, 1.0]
    with Store(db, read_only=True) as store:
        unresolved = store.events.unresolved_names()
    assert unresolved.to_dict("records") == [{"raw_name": "Los Nuevos Ficticios", "events": 2}]


# -- places -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_id", "state", "mun"),
    [
        ("MEX10002", "11", "11007"),  # Guanajuato, Celaya
        ("MEX10003", "11", "11027"),  # Guanajuato, Salamanca
        ("MEX10001", "32", "32010"),  # Zacatecas, Fresnillo
        ("MEX10004", "12", "12001"),  # Guerrero, Acapulco de Juarez
        ("MEX10008", "25", "25006"),  # Sinaloa, Culiacan
        ("MEX10019", "15", "15082"),  # "Mexico" is the State of Mexico
        ("MEX10015", "14", "14098"),  # Jalisco, San Pedro Tlaquepaque
    ],
)
def test_admin1_admin2_resolve_to_inegi_codes(imported, source_id, state, mun):
    db, _ = imported
    ev = event(db, source_id)
    assert (ev["state_code"], ev["mun_code"]) == (state, mun)


def test_every_event_is_placed(imported):
    db, _ = imported
    frame = query(db, "SELECT state_code, mun_code, latitude, longitude FROM events")
    assert frame["state_code"].notna().all()
    assert frame["mun_code"].notna().all()
    assert (frame["mun_code"].str[:2] == frame["state_code"]).all()
    assert frame["latitude"].between(14, 33).all()
    assert frame["longitude"].between(-118, -86).all()


# -- importing twice ----------------------------------------------------------------------


def test_second_import_adds_nothing(imported):
    db, first = imported
    before_events = query(db, "SELECT * FROM events ORDER BY source_id")
    before_perps = query(db, "SELECT * FROM perpetrators ORDER BY source_id, raw_name")
    second = import_events(db, "acled", SAMPLE, acled.parse)
    assert second.record.rows_imported == 0
    assert second.record.rows_duplicate == first.record.rows_imported == 17
    assert second.record.rows_skipped == 4
    pd.testing.assert_frame_equal(query(db, "SELECT * FROM events ORDER BY source_id"), before_events)
    pd.testing.assert_frame_equal(
        query(db, "SELECT * FROM perpetrators ORDER BY source_id, raw_name"), before_perps
    )
    imports = query(db, "SELECT import_id, rows_imported, rows_duplicate FROM imports ORDER BY import_id")
    assert imports.values.tolist() == [[1, 17, 0], [2, 0, 17]]


# -- bad input ----------------------------------------------------------------------------


def test_missing_required_column_names_it(tmp_path):
    rows = read_rows()
    fields = [c for c in rows[0] if c != "fatalities"]
    path = write_rows(tmp_path / "nofat.csv", [{k: r[k] for k in fields} for r in rows], fields)
    with pytest.raises(InputFileError) as info:
        acled.parse(path, Registry.seed())
    assert "'fatalities'" in str(info.value)
    assert f"{path}:1" in str(info.value)


def test_bad_cells_are_located(tmp_path):
    path = variant(tmp_path, {"MEX10002": {"fatalities": "-3"}, "MEX10012": {"event_date": "2023-04-31"}})
    db = tmp_path / "t.duckdb"
    with pytest.raises(RowErrors) as info:
        import_events(db, "acled", path, acled.parse)
    header = list(read_rows()[0])
    located = {(p.row, p.column, p.column_name) for p in info.value.problems}
    assert located == {
        (3, header.index("fatalities") + 1, "fatalities"),
        (13, header.index("event_date") + 1, "event_date"),
    }
    assert str(info.value).startswith(f"{path}:3:{header.index('fatalities') + 1}: ")
    assert not db.exists()


def test_unknown_event_type_is_rejected_and_counted(tmp_path):
    path = variant(tmp_path, {"MEX10002": {"event_type": "Violence against civilianz"}})
    with pytest.raises(RowErrors) as info:
        import_events(tmp_path / "a.duckdb", "acled", path, acled.parse)
    assert [(p.row, p.column_name) for p in info.value.problems] == [(3, "event_type")]
    result = import_events(tmp_path / "b.duckdb", "acled", path, acled.parse, skip_bad_rows=True)
    rec = result.record
    assert (rec.rows_imported, rec.rows_rejected, rec.rows_skipped) == (16, 1, 4)
    assert rec.rows_read == rec.rows_imported + rec.rows_duplicate + rec.rows_rejected + rec.rows_skipped


def test_skip_bad_rows_accounts_for_every_row(tmp_path):
    path = variant(tmp_path, {"MEX10002": {"fatalities": "tres"}, "MEX10017": {"actor1": ""}})
    db = tmp_path / "t.duckdb"
    result = import_events(db, "acled", path, acled.parse, skip_bad_rows=True)
    rec = result.record
    assert (rec.rows_imported, rec.rows_rejected) == (15, 2)
    assert rec.rows_read == rec.rows_imported + rec.rows_duplicate + rec.rows_rejected + rec.rows_skipped
    stored = set(query(db, "SELECT source_id FROM events")["source_id"])
    assert not {"MEX10002", "MEX10017"} & stored
    assert not {"MEX10002", "MEX10017"} & set(query(db, "SELECT source_id FROM perpetrators")["source_id"])


def test_fatalities_beyond_the_integer_range_are_a_row_problem(tmp_path):
    path = variant(tmp_path, {"MEX10001": {"fatalities": "3000000000"}})
    db = tmp_path / "t.duckdb"
    with pytest.raises(VdtoError):
        import_events(db, "acled", path, acled.parse)


@pytest.mark.parametrize("value", ["2023-01-14T10:00+05:00", "14 January 2023 10:00 +0500"])
def test_date_with_utc_offset_is_a_row_problem_or_a_date(tmp_path, value):
    path = variant(tmp_path, {"MEX10001": {"event_date": value}})
    db = tmp_path / "t.duckdb"
    try:
        import_events(db, "acled", path, acled.parse)
    except RowErrors as exc:
        assert {(p.row, p.column_name) for p in exc.problems} == {(2, "event_date")}
    else:
        assert event(db, "MEX10001")["date_start"] == pd.Timestamp("2023-01-14")


# -- command line -------------------------------------------------------------------------


def vdto(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vdto.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_cli_imports_the_sample(tmp_path):
    db = tmp_path / "t.duckdb"
    done = vdto("import", "acled", str(SAMPLE), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert "imported 17" in done.stdout
    assert "Los Nuevos Ficticios" in done.stdout
    assert query(db, "SELECT count(*) AS n FROM events")["n"][0] == 17


def test_cli_bad_row_is_one_line_and_exit_2(tmp_path):
    path = variant(tmp_path, {"MEX10008": {"fatalities": "-3"}})
    db = tmp_path / "t.duckdb"
    done = vdto("import", "acled", str(path), "--db", str(db))
    assert done.returncode == 2
    column = list(read_rows()[0]).index("fatalities") + 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert f"{path}:9:{column}" in lines[0]
    assert "Traceback" not in done.stderr
    assert not db.exists()
