"""Bad input through the command line: one line naming file:row:column and the fix, exit 2,
no traceback, the store unchanged; and hypothesis-mangled files for the UCDP and counts importers."""

from __future__ import annotations

import gzip
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vdto.errors import VdtoError
from vdto.events import ucdp
from vdto.events.ingest import import_counts_file, import_events
from vdto.store import Store
from vdto.store.imports import ImportRepository

from .conftest import assert_one_line_exit_2, run_here


@pytest.fixture(scope="module")
def ged_sample(ucdp_file) -> pd.DataFrame:
    return pd.read_csv(ucdp_file, dtype=str, keep_default_na=False, nrows=40)


def _counts(db: Path) -> tuple[int, int, int]:
    with Store(db, read_only=True) as store:
        return store.count("events"), store.count("perpetrators"), store.count("imports")


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


CASES = {
    "missing column": (lambda f: f.drop(columns=["best"]), ["bad.csv:1:", "missing column 'best'"]),
    "unparsable date": (lambda f: f.assign(date_start=f["date_start"].where(f.index != 2, "31/02/2010")), ["bad.csv:4:39", "is not a date"]),
    "negative deaths": (lambda f: f.assign(deaths_a=f["deaths_a"].where(f.index != 0, "-1")), ["bad.csv:2:41", "is below 0"]),
    "unknown category": (lambda f: f.assign(type_of_violence=f["type_of_violence"].where(f.index != 5, "9")), ["bad.csv:7:6", "is not 1, 2 or 3"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_bad_cell_or_column(tmp_path, ucdp_store_copy, ged_sample, case):
    change, needles = CASES[case]
    path = _write(change(ged_sample.copy()), tmp_path / "bad.csv")
    before = _counts(ucdp_store_copy)
    res = run_here("import", "ucdp", str(path), "--db", str(ucdp_store_copy))
    assert_one_line_exit_2(res, *needles)
    assert _counts(ucdp_store_copy) == before


def test_cli_wrong_encoding(tmp_path, ged_sample):
    path = tmp_path / "bad.csv"
    text = ged_sample.to_csv(index=False)
    path.write_bytes(
        text.encode("utf-8")
        .replace("Cártel".encode(), "Cártel".encode("latin-1"))
        .replace(b"Mexico city", "México".encode("latin-1"))
    )
    db = tmp_path / "t.duckdb"
    res = run_here("import", "ucdp", str(path), "--db", str(db))
    assert_one_line_exit_2(res, "bad.csv:", "not valid utf-8", "--encoding")
    assert not db.exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        (b'{"id": 1, "side_a": "x"}\n', "missing column"),
        (b"id,type_of_violence\n1,2,3,4\n", "row has 4 fields but the header has 2"),
    ],
)
def test_cli_not_a_csv(tmp_path, content, needle):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    db = tmp_path / "t.duckdb"
    res = run_here("import", "ucdp", str(path), "--db", str(db))
    assert_one_line_exit_2(res, "bad.csv", needle)
    assert not db.exists()


def test_cli_missing_file_and_bad_gzip(tmp_path):
    res = run_here("import", "ucdp", str(tmp_path / "nope.csv"), "--db", str(tmp_path / "t.duckdb"))
    assert_one_line_exit_2(res, "nope.csv", "file not found")
    fake = tmp_path / "fake.csv.gz"
    fake.write_text("id,best\n1,2\n")
    res = run_here("import", "ucdp", str(fake), "--db", str(tmp_path / "t.duckdb"))
    assert_one_line_exit_2(res, "fake.csv.gz", "cannot decompress")


def test_report_lists_every_problem_and_skip_imports_the_rest(tmp_path, ged_sample):
    bad = ged_sample.copy()
    bad.loc[0, "best"] = "-2"
    bad.loc[3, "date_end"] = "yesterday"
    bad.loc[7, "type_of_violence"] = "4"
    path = _write(bad, tmp_path / "bad.csv")
    report = tmp_path / "problems.csv"
    db = tmp_path / "t.duckdb"
    res = run_here("import", "ucdp", str(path), "--db", str(db), "--report", str(report))
    assert_one_line_exit_2(res, "problems.csv")
    problems = pd.read_csv(report)
    assert set(problems["row"]) == {2, 5, 9}
    assert {"best", "date_end", "type_of_violence"} <= set(problems["column_name"])
    assert not db.exists()
    res = run_here("import", "ucdp", str(path), "--db", str(db), "--skip-bad-rows")
    assert res.returncode == 0, res.stderr
    with Store(db, read_only=True) as store:
        rec = store.imports.frame().iloc[0]
        assert store.count("events") == len(bad) - 3
    assert (rec["rows_read"], rec["rows_imported"], rec["rows_rejected"]) == (40, 37, 3)


def test_failure_inside_the_transaction_leaves_the_store_unchanged(
    ucdp_store_copy, ged_sample, tmp_path, monkeypatch
):
    fresh = ged_sample.copy()
    fresh["id"] = [str(10_000_000 + i) for i in range(len(fresh))]
    path = _write(fresh, tmp_path / "fresh.csv")
    before = _counts(ucdp_store_copy)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ImportRepository, "add", boom)  # fails after events and perpetrators were inserted
    with pytest.raises(RuntimeError):
        import_events(ucdp_store_copy, "ucdp", path, ucdp.parse)
    assert _counts(ucdp_store_copy) == before
    monkeypatch.undo()
    result = import_events(ucdp_store_copy, "ucdp", path, ucdp.parse)
    assert result.record.rows_imported == len(fresh)


# -- property-based: mangled files never crash and never half-write --------------------------

MUTATIONS = st.sampled_from(["truncate", "drop_column", "garbage_cell", "insert_bytes", "empty", "delimiter"])


def _mutate(data: bytes, kind: str, draw) -> bytes:
    lines = data.split(b"\n")
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data)))]
    if kind == "drop_column":
        header = lines[0].split(b",")
        i = draw(st.integers(0, len(header) - 1))
        lines[0] = b",".join(header[:i] + header[i + 1 :])
        return b"\n".join(lines)
    if kind == "garbage_cell":
        r = draw(st.integers(1, max(1, len(lines) - 2)))
        cells = lines[r].split(b",")
        c = draw(st.integers(0, len(cells) - 1))
        cells[c] = draw(st.text(max_size=12)).replace(",", "").replace("\n", "").replace('"', "").encode()
        lines[r] = b",".join(cells)
        return b"\n".join(lines)
    if kind == "insert_bytes":
        pos = draw(st.integers(0, len(data)))
        return data[:pos] + draw(st.binary(min_size=1, max_size=8)) + data[pos:]
    if kind == "empty":
        return draw(st.sampled_from([b"", b"\n", b"   \n\n"]))
    return data.replace(b",", b";")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), kind=MUTATIONS)
def test_mangled_ucdp_files(ucdp_store, ged_sample, data, kind):
    good = ged_sample.head(12).to_csv(index=False).encode()
    mangled = _mutate(good, kind, data.draw)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db = tmp / "t.duckdb"
        shutil.copy(ucdp_store[0], db)
        before = _counts(db)
        path = tmp / ("m.csv.gz" if data.draw(st.booleans()) else "m.csv")
        path.write_bytes(gzip.compress(mangled) if path.suffix == ".gz" else mangled)
        try:
            import_events(db, "ucdp", path, ucdp.parse)
        except VdtoError as exc:
            assert "\n" not in str(exc)
            assert _counts(db) == before
        else:
            assert _counts(db)[2] == before[2] + 1


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(data=st.data(), kind=MUTATIONS)
def test_mangled_counts_files(data, kind):
    good = b"region_code,period,measure,count\n11,2020-01-01,homicidio,5\n14039,2020-02-01,homicidio,3\n09,2021-03-15,secuestro,0\n"
    mangled = _mutate(good, kind, data.draw)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.csv"
        path.write_bytes(mangled)
        db = Path(tmp) / "t.duckdb"
        try:
            import_counts_file(db, path)
        except VdtoError as exc:
            assert "\n" not in str(exc)
            assert not db.exists()
        else:
            with Store(db, read_only=True) as store:
                assert store.count("imports") == 1
