"""The UCDP GED importer on the real 1989-2023 Mexico file, and its attribution rule."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from vdto.events import ucdp
from vdto.events.ingest import import_events
from vdto.orgs import Registry
from vdto.store import Store

GED_EVENTS = 18_957
GED_DEATHS = 140_695


def test_real_file_imports_every_event_and_death(ucdp_store):
    db, result = ucdp_store
    assert result.record.rows_read == GED_EVENTS
    assert result.record.rows_imported == GED_EVENTS
    assert result.record.rows_rejected == 0
    with Store(db, read_only=True) as store:
        assert store.count("events") == GED_EVENTS
        assert store.query("SELECT sum(deaths_best) AS d FROM events")["d"].iloc[0] == GED_DEATHS
        # every event's perpetrator probabilities sum to exactly 1 (GED always names both sides)
        sums = store.query("SELECT source_id, sum(probability) AS p FROM perpetrators GROUP BY source_id")
        assert len(sums) == GED_EVENTS
        assert np.allclose(sums["p"], 1.0)


def test_every_ucdp_name_resolves(ucdp_store):
    db, result = ucdp_store
    assert result.unresolved == {}
    with Store(db, read_only=True) as store:
        assert store.count("perpetrators") > GED_EVENTS
        assert len(store.events.unresolved_names()) == 0


def test_reimport_changes_nothing(ucdp_store_copy, ucdp_file):
    with Store(ucdp_store_copy, read_only=True) as store:
        before = [store.count(t) for t in ("events", "perpetrators")]
    again = import_events(ucdp_store_copy, "ucdp", ucdp_file, ucdp.parse)
    assert again.record.rows_imported == 0
    assert again.record.rows_duplicate == GED_EVENTS
    with Store(ucdp_store_copy, read_only=True) as store:
        assert [store.count(t) for t in ("events", "perpetrators")] == before
        imports = store.imports.frame()
    assert list(imports["rows_imported"]) == [GED_EVENTS, 0]
    assert imports["sha256"].nunique() == 1 and len(imports["sha256"].iloc[0]) == 64


def test_import_record_is_complete(ucdp_store):
    db, _ = ucdp_store
    with Store(db, read_only=True) as store:
        rec = store.imports.frame().iloc[0]
    assert rec["file_name"] == "ged_mexico_1989_2023.csv.gz"
    assert rec["rows_read"] == GED_EVENTS and rec["rows_rejected"] == 0
    assert rec["vdto_version"] and rec["finished_at"] >= rec["started_at"]


def _event(store: Store, source_id: str) -> tuple[pd.Series, pd.DataFrame]:
    ev = store.query("SELECT * FROM events WHERE source_id = ?", [source_id]).iloc[0]
    perps = store.query(
        "SELECT raw_name, org_id, faction_id, faction, probability FROM perpetrators WHERE source_id = ? ORDER BY org_id",
        [source_id],
    )
    return ev, perps


def test_dyad_attribution_rule(ucdp_store):
    """Event 182027 (1992): Sinaloa vs Tijuana, 9 deaths on side B -> all to side A (Sinaloa)."""
    db, _ = ucdp_store
    with Store(db, read_only=True) as store:
        ev, perps = _event(store, "182027")
    assert ev["deaths_best"] == 9 and ev["victims_dto_member"] == 9
    assert ev["category"] == "armed_clash"
    assert dict(zip(perps["org_id"], perps["probability"], strict=True)) == {"sinaloa": 1.0}
    # event 182028: 6 unknown deaths -> split 0.5 / 0.5
    with Store(db, read_only=True) as store:
        ev, perps = _event(store, "182028")
    assert ev["victims_unknown"] == 6
    assert dict(zip(perps["org_id"], perps["probability"], strict=True)) == {"sinaloa": 0.5, "tijuana": 0.5}
    assert ev["state_code"] == "14" and ev["mun_code"] == "14067"  # Puerto Vallarta, Jalisco


def test_rule_matches_an_independent_computation(ucdp_file, ucdp_store):
    """Side shares recomputed with plain pandas from the raw file agree with the store."""
    raw = pd.read_csv(ucdp_file)
    shared = 0.5 * (raw["deaths_civilians"] + raw["deaths_unknown"])
    p_a = np.where(raw["best"] > 0, (raw["deaths_b"] + shared) / raw["best"].where(raw["best"] > 0, 1), 0.5)
    p_a = np.where(raw["type_of_violence"] == 3, 1.0, p_a)
    expected = pd.Series(p_a, index=raw["id"].astype(int).astype(str))
    # compare for single-group dyads only (multi-group sides split further)
    simple = (
        ~raw["side_a"].str.contains(",") & ~raw["side_b"].str.contains(",") & (raw["side_a"] != raw["side_b"])
    )
    ids = raw.loc[simple, "id"].astype(int).astype(str)
    reg = Registry.seed()
    db, _ = ucdp_store
    with Store(db, read_only=True) as store:
        perps = store.query("SELECT source_id, raw_name, probability FROM perpetrators")
    perps = perps[perps["source_id"].isin(set(ids))]
    side_a_name = raw.set_index(raw["id"].astype(int).astype(str))["side_a"]
    got_a = perps[perps["raw_name"] == perps["source_id"].map(side_a_name)].set_index("source_id")[
        "probability"
    ]
    exp_a = expected[got_a.index]
    assert len(got_a) > 15_000
    assert np.allclose(got_a.to_numpy(), exp_a.to_numpy())
    assert reg.resolve("Sinaloa Cartel").org_id == "sinaloa"


def test_multi_group_side_is_split_and_factions_kept(ucdp_store, ucdp_file):
    raw = pd.read_csv(ucdp_file)
    trio = raw[raw["side_a"] == "Gulf Cartel, La Familia, Sinaloa Cartel"].iloc[0]
    sid = str(int(trio["id"]))
    db, _ = ucdp_store
    with Store(db, read_only=True) as store:
        _, perps = _event(store, sid)
        chapitos = store.query(
            "SELECT DISTINCT org_id, faction_id, faction FROM perpetrators WHERE raw_name = 'Sinaloa Cartel - Los Chapitos'"
        )
    side_a = perps[perps["raw_name"].isin(["Gulf Cartel", "La Familia", "Sinaloa Cartel"])]
    # the side's share is split in three equal parts, one per named group
    assert len(side_a) == 3
    assert np.allclose(side_a["probability"], side_a["probability"].iloc[0])
    assert np.isclose(perps["probability"].sum(), 1.0)
    assert chapitos["org_id"].tolist() == ["sinaloa"]
    assert chapitos["faction_id"].notna().all() and chapitos["faction"].notna().all()


def test_state_actor_is_never_a_dto(ucdp_store):
    db, _ = ucdp_store
    reg = Registry.seed()
    with Store(db, read_only=True) as store:
        gov = store.query("SELECT DISTINCT org_id FROM perpetrators WHERE raw_name = 'Government of Mexico'")
        mil = store.query(
            """SELECT sum(victims_military) AS m FROM events e WHERE EXISTS (
                 SELECT 1 FROM perpetrators p WHERE p.source_id = e.source_id AND p.raw_name = 'Government of Mexico')"""
        )
    assert len(gov) == 1
    assert reg.get(gov["org_id"].iloc[0]).kind == "state"
    assert not reg.get(gov["org_id"].iloc[0]).is_dto
    assert mil["m"].iloc[0] > 0


def test_events_are_located(ucdp_store, ucdp_file):
    db, _ = ucdp_store
    raw = pd.read_csv(ucdp_file)
    with Store(db, read_only=True) as store:
        located = store.query(
            "SELECT count(state_code) AS s, count(mun_code) AS m, count(*) AS n FROM events"
        ).iloc[0]
        gto = store.query("SELECT count(*) AS n FROM events WHERE state_code = '11'")["n"].iloc[0]
    # every event with a named state gets a state code
    assert located["s"] >= raw["adm_1"].notna().sum()
    # and most events with a named municipality get a municipality code
    assert located["m"] >= 0.95 * raw["adm_2"].notna().sum()
    assert gto == (raw["adm_1"] == "Guanajuato state").sum()


def test_low_high_outside_best_are_widened_not_dropped(ucdp_store):
    db, result = ucdp_store
    assert result.adjusted["low/high widened to include best"] == 89
    with Store(db, read_only=True) as store:
        bad = store.query(
            "SELECT count(*) AS n FROM events WHERE deaths_low > deaths_best OR deaths_high < deaths_best"
        )
        ev = store.query(
            "SELECT deaths_low, deaths_best, deaths_high FROM events WHERE source_id = '229339'"
        ).iloc[0]
    assert bad["n"].iloc[0] == 0
    assert (ev["deaths_low"], ev["deaths_best"], ev["deaths_high"]) == (1286, 1286, 1286)


def test_gzip_and_plain_csv_give_the_same_events(tmp_path, ucdp_file):
    text = pd.read_csv(ucdp_file, dtype=str, keep_default_na=False, nrows=300).to_csv(index=False).encode()
    plain = tmp_path / "ged.csv"
    plain.write_bytes(text)
    zipped = tmp_path / "ged.csv.gz"
    zipped.write_bytes(gzip.compress(text))
    out = []
    for i, f in enumerate((plain, zipped)):
        db = tmp_path / f"{i}.duckdb"
        import_events(db, "ucdp", f, ucdp.parse)
        with Store(db, read_only=True) as store:
            out.append(store.query("SELECT * EXCLUDE (import_id) FROM events ORDER BY source_id"))
    assert len(out[0]) == 300
    pd.testing.assert_frame_equal(out[0], out[1])


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("best", "-3", "is below 0"),
        ("date_start", "1992-13-45", "is not a date"),
        ("type_of_violence", "7", "is not 1, 2 or 3"),
        ("deaths_a", "abc", "is not a number"),
    ],
)
def test_bad_cell_names_file_row_column(tmp_path, ucdp_file, column, value, message):
    frame = pd.read_csv(ucdp_file, dtype=str, keep_default_na=False, nrows=20)
    frame.loc[4, column] = value
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    db = tmp_path / "t.duckdb"
    from vdto.errors import RowErrors

    with pytest.raises(RowErrors) as info:
        import_events(db, "ucdp", path, ucdp.parse)
    col = list(frame.columns).index(column) + 1
    assert f"bad.csv:6:{col}" in str(info.value)
    assert message in str(info.value)
    assert not db.exists()
