"""Living data: ACLED revisions and deletions, the store's history, store states and precision.

Fixtures are written from ACLED's codebook columns (tests/data/acled_sample.csv and variants of
it): an export, a later export with revised fatalities (newer ``timestamp``), and ACLED's
deleted-events list (``event_id_cnty``, ``deleted_timestamp``).
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import assert_one_line_exit_2, run_here
from tests.test_import_acled import read_rows, variant, write_rows
from vdto.events import acled
from vdto.events.ingest import import_events
from vdto.orgs import Registry
from vdto.scoring import score
from vdto.services.imports import import_changes, import_file, retire_file
from vdto.services.publish import build_public_scorecard
from vdto.store import Store

START, END = date(2023, 1, 1), date(2023, 12, 31)
REVISED = "MEX10001"  # CJNG vs Sinaloa Cartel battle, 4 killed; the later export says 6
RETIRED = "MEX10002"  # Santa Rosa de Lima Cartel attack, 3 killed; ACLED deletes it
UNSTAMPED = "MEX10012"  # changed in the later export without a newer timestamp
NEW_STAMP = 1700000000


def stamp_of(event_id: str) -> int:
    return int(next(r["timestamp"] for r in read_rows() if r["event_id_cnty"] == event_id))


@pytest.fixture
def exports(tmp_path: Path) -> dict[str, Path]:
    """The first export, the later export and the deleted-events list."""
    first = write_rows(tmp_path / "acled_2023_v1.csv", read_rows())
    later = variant(
        tmp_path,
        {
            REVISED: {"fatalities": "6", "timestamp": str(NEW_STAMP)},
            UNSTAMPED: {"fatalities": "9"},
        },
        name="acled_2023_v2.csv",
    )
    deleted = tmp_path / "acled_deleted.csv"
    deleted.write_text(
        "event_id_cnty,deleted_timestamp\n"
        f"{RETIRED},{NEW_STAMP + 500}\n"
        "MEX99999,1700000600\n"  # never imported
        f"{REVISED},{NEW_STAMP - 10}\n"  # deleted before its revision: the revision stands
    )
    return {"first": first, "later": later, "deleted": deleted}


def scored(db: Path, state: int | None = None):
    with Store(db, read_only=True) as store:
        return score(store, START, END, draws=300, seed=3, state=state)


def card(db: Path, state: int | None = None) -> dict:
    with Store(db, read_only=True) as store:
        return build_public_scorecard(store, start=START, end=END, draws=300, seed=3, state=state).card


def deaths(db: Path, event_id: str) -> list[int]:
    with Store(db, read_only=True) as store:
        got = store.query("SELECT deaths_best FROM events WHERE source_id = ?", [event_id])
    return got["deaths_best"].tolist()


def test_revisions_and_deletions_reach_the_store_and_the_scores(tmp_path, exports):
    db = tmp_path / "s.duckdb"
    first = import_file(db, "acled", exports["first"])
    assert first.record.rows_revised == 0 and first.record.rows_imported == 17
    score_1, card_1 = scored(db), card(db)
    assert score_1.meta["store_state"] == 1

    later = import_file(db, "acled", exports["later"])
    assert later.record.rows_revised == 1  # the newer timestamp
    assert later.record.rows_imported == 0
    assert later.unstamped_changes == 1  # changed, but with the old stamp: the stored row is kept
    assert deaths(db, REVISED) == [6]
    assert deaths(db, UNSTAMPED) == [
        int(next(r["fatalities"] for r in read_rows() if r["event_id_cnty"] == UNSTAMPED))
    ]

    gone = import_file(db, "acled", exports["deleted"])
    assert gone.record.kind == "acled-deleted"
    assert gone.record.rows_retired == 1
    assert gone.not_held == 1 and gone.revised_after == 1
    assert deaths(db, RETIRED) == []
    assert deaths(db, REVISED) == [6]

    with Store(db, read_only=True) as store:
        history = store.query(
            "SELECT source_id, deaths_best, import_id, until_import, change FROM event_history ORDER BY source_id"
        )
        perps_now = store.query("SELECT count(*) AS n FROM perpetrators WHERE source_id = ?", [RETIRED])
    assert history.to_dict("records") == [
        {"source_id": REVISED, "deaths_best": 4, "import_id": 1, "until_import": 2, "change": "revised"},
        {"source_id": RETIRED, "deaths_best": 3, "import_id": 1, "until_import": 3, "change": "retired"},
    ]
    assert perps_now["n"].item() == 0

    # the retired event is out of every score; the revised one counts with its new toll
    now = scored(db)
    srl = Registry.seed().resolve("Santa Rosa de Lima Cartel").org_id
    assert RETIRED in set(score_1.events["source_id"]) and RETIRED not in set(now.events["source_id"])

    def events_of(result, org):
        return result.table.set_index("org").loc[org, "events"]

    assert events_of(now, srl) == pytest.approx(events_of(score_1, srl) - 1)
    assert now.meta["store_state"] == 3 and now.meta["data_sha256"] != score_1.meta["data_sha256"]

    # the scores and the scorecard of the first state recompute exactly
    again = scored(db, state=1)
    pd.testing.assert_frame_equal(again.table, score_1.table)
    assert again.meta == score_1.meta
    assert card(db, state=1) == card_1
    # ... and the intermediate state holds the revision but not yet the deletion
    middle = scored(db, state=2)
    assert RETIRED in set(middle.events["source_id"])
    assert middle.events.set_index("source_id").loc[REVISED, "deaths_best"] == 6
    assert middle.meta["data_sha256"] not in (score_1.meta["data_sha256"], now.meta["data_sha256"])


def test_diff_shows_what_each_import_added_revised_and_retired(tmp_path, exports):
    db = tmp_path / "s.duckdb"
    for name in ("first", "later", "deleted"):
        import_file(db, "acled", exports[name])
    changes, a, b = import_changes(db, 1, 3)
    assert (a, b) == (1, 3)
    assert changes[["change", "source_id"]].to_dict("records") == [
        {"change": "revised", "source_id": REVISED},
        {"change": "retired", "source_id": RETIRED},
    ]
    assert (
        changes.loc[0, "fields"]
        == "deaths_best: 4 -> 6; deaths_low: 4 -> 6; deaths_high: 4 -> 6; victims_dto_member: 4 -> 6"
    )
    first, _, _ = import_changes(db, 0, 1)
    assert set(first["change"]) == {"added"} and len(first) == 17
    assert import_changes(db)[0]["change"].tolist() == ["retired"]  # the last import alone

    res = run_here("imports", "diff", "1", "3", "--db", str(db))
    assert res.returncode == 0, res.stderr
    assert "added 0, revised 1, retired 1 events" in res.stdout
    csv = run_here("imports", "diff", "0", "2", "--db", str(db), "--format", "csv")
    table = pd.read_csv(pd.io.common.StringIO(csv.stdout))
    assert table["change"].value_counts().to_dict() == {
        "added": 17
    }  # from nothing: the revision is an addition
    bad = run_here("imports", "diff", "1", "9", "--db", str(db))
    assert_one_line_exit_2(bad, "no store state 9")
    listing = pd.read_csv(
        pd.io.common.StringIO(run_here("imports", "--db", str(db), "--format", "csv").stdout)
    )
    assert listing[["rows_imported", "rows_revised", "rows_retired"]].to_numpy().tolist() == [
        [17, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
    ]


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def store_rows(db: Path) -> tuple:
    with Store(db, read_only=True) as store:
        return tuple(
            store.query(f"SELECT * FROM {t} ORDER BY ALL").to_csv(index=False)
            for t in ("imports", "events", "perpetrators", "event_history")
        )


@pytest.fixture(scope="module")
def revised_store(tmp_path_factory) -> Path:
    """A store holding the first export and its revision (state 2)."""
    folder = tmp_path_factory.mktemp("revised")
    db = folder / "s.duckdb"
    import_file(db, "acled", write_rows(folder / "v1.csv", read_rows()))
    rows = read_rows()
    for r in rows:
        if r["event_id_cnty"] == REVISED:
            r.update(fatalities="6", timestamp=str(NEW_STAMP))
    import_file(db, "acled", write_rows(folder / "v2.csv", rows))
    return db


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(back=st.integers(min_value=1, max_value=NEW_STAMP), fatalities=st.integers(min_value=0, max_value=50))
def test_an_older_revision_is_refused_in_one_line_and_changes_nothing(
    revised_store, tmp_path_factory, back, fatalities
):
    folder = tmp_path_factory.mktemp("older")
    rows = read_rows()
    for r in rows:
        if r["event_id_cnty"] == REVISED:
            r.update(fatalities=str(fatalities), timestamp=str(NEW_STAMP - back))
    older = write_rows(folder / "older.csv", rows)
    db = folder / "s.duckdb"
    db.write_bytes(revised_store.read_bytes())
    before = store_rows(db)
    res = run_here("import", "acled", str(older), "--db", str(db))
    assert_one_line_exit_2(res, "timestamp", "older than the version the store holds", "import 2")
    assert store_rows(db) == before
    # leaving the row out imports the rest (all already present)
    ok = run_here("import", "acled", str(older), "--db", str(db), "--skip-bad-rows")
    assert ok.returncode == 0, ok.stderr
    assert deaths(db, REVISED) == [6]


def test_a_generic_retirement_list_and_its_bad_input(tmp_path, exports):
    db = tmp_path / "s.duckdb"
    import_file(db, "acled", exports["first"])
    gone = tmp_path / "gone.csv"
    gone.write_text("folio,cuando\nMEX10005,\nMEX10010,1800000000\n")
    r = retire_file(db, gone, source="acled", id_column="folio", stamp_column="cuando")
    assert r.record.rows_retired == 2 and r.record.kind == "retire"
    assert deaths(db, "MEX10005") == [] and deaths(db, "MEX10010") == []
    before = store_rows(db)
    res = run_here("import", "retire", str(gone), "--source", "acled", "--id-column", "id", "--db", str(db))
    assert_one_line_exit_2(res, "id")
    bad = tmp_path / "bad.csv"
    bad.write_text("folio,cuando\nMEX10006,ayer\n")
    res = run_here(
        "import",
        "retire",
        str(bad),
        "--source",
        "acled",
        "--id-column",
        "folio",
        "--stamp-column",
        "cuando",
        "--db",
        str(db),
    )
    assert_one_line_exit_2(res, "bad.csv:2", "cuando")
    assert store_rows(db) == before


def test_a_version_4_store_is_migrated_with_its_events_as_first_versions(tmp_path, exports):
    db = tmp_path / "old.duckdb"
    import_file(db, "acled", exports["first"])
    import duckdb

    con = duckdb.connect(str(db))  # take the store back to schema 4
    con.execute("DROP TABLE event_history; DROP TABLE perpetrator_history")
    con.execute("ALTER TABLE events DROP COLUMN revision")
    con.execute("ALTER TABLE imports DROP COLUMN rows_revised; ALTER TABLE imports DROP COLUMN rows_retired")
    con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    con.close()
    later = import_file(db, "acled", exports["later"])  # opening for writing migrates
    # a migrated store holds no stamps: every stamped row that differs is a revision (also the
    # one changed under its old stamp), the identical ones only take their stamps
    assert later.record.rows_revised == 2 and later.record.rows_duplicate == 15
    assert deaths(db, REVISED) == [6] and deaths(db, UNSTAMPED) == [9]
    changes, _, _ = import_changes(db, 1, 2)
    assert changes["change"].tolist() == ["revised", "revised"]
    with Store(db, read_only=True) as store:
        assert store.query("SELECT count(*) AS n FROM events WHERE revision IS NULL")["n"].item() == 0


def test_acled_precision_decides_placement_and_dates(tmp_path):
    path = variant(
        tmp_path,
        {
            "MEX10001": {"geo_precision": "3", "time_precision": "3"},  # Fresnillo, Zacatecas; only the month
            "MEX10002": {"geo_precision": "2", "time_precision": "2"},  # near Celaya; only the week
        },
    )
    db = tmp_path / "p.duckdb"
    import_events(db, "acled", path, acled.parse)
    with Store(db, read_only=True) as store:
        got = store.query(
            "SELECT source_id, state_code, mun_code, location_precision, date_start, date_end FROM events "
            "WHERE source_id IN ('MEX10001', 'MEX10002') ORDER BY source_id"
        )
    one, two = got.to_dict("records")
    assert (one["state_code"], one["location_precision"]) == ("32", 4) and pd.isna(one["mun_code"])
    assert (str(one["date_start"])[:10], str(one["date_end"])[:10]) == ("2023-01-01", "2023-01-31")
    assert two["mun_code"] == "11007" and two["location_precision"] == 2  # Celaya
    assert (str(two["date_start"])[:10], str(two["date_end"])[:10]) == ("2023-01-17", "2023-01-23")
    bad = variant(tmp_path, {"MEX10003": {"geo_precision": "4"}}, name="bad.csv")
    res = run_here("import", "acled", str(bad), "--db", str(tmp_path / "b.duckdb"))
    assert_one_line_exit_2(res, "geo_precision", "above 3")


def test_ucdp_where_prec_places_events_no_finer_than_known(ucdp_store):
    db, _ = ucdp_store
    with Store(db, read_only=True) as store:
        got = store.query(
            "SELECT location_precision AS p, count(*) AS n, count(mun_code) AS with_mun, count(state_code) AS with_state "
            "FROM events GROUP BY 1 ORDER BY 1"
        )
    by = got.set_index("p")
    assert by.loc[[4, 5, 6], "with_mun"].sum() == 0  # state (or wider) only: no municipality
    assert by.loc[6, "with_state"] == 0  # country only: no state
    assert by.loc[3, "with_mun"] / by.loc[3, "n"] > 0.95  # a municipality where the GED names one
    assert np.isclose(by["n"].sum(), 18957)
