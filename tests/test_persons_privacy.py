"""Privacy of person records: without --keep-identities no raw identifier (the generator's
``SYN-`` person ids, a hand-made distinctive id) or name reaches the store (any table, the DuckDB
file and its WAL), the exports, the commands' output or the audit log; with it they are in
``person_identities`` only; forgetting removes a person everywhere and keeps them out of later
imports, recognised only through the agency's key.

Cell ids (``SYN-C-...``) are not person identifiers: they are stored and shown by design.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from vdto.errors import VdtoError
from vdto.persons.keys import read_key
from vdto.services.persons import generate_case_files
from vdto.store import Store
from vdto.store import db as db_module
from vdto.store.persons import PERSON_COLUMNS, RECORD_TABLES

from .conftest import run_here

pytestmark = pytest.mark.slow  # several commands on the real UCDP events

AGENCY = "default"
RAW = "AP-ZQX-7731"
NAME = "Xochiquetzal Quintanilla"
#: A person identifier of the generator (cell ids are SYN-C-...).
SYN = re.compile(r"SYN-\d{5,}")
WINDOW = ("--from", "2021", "--to", "2021", "--draws", "200", "--target", "CJNG")


def _ok(outputs: list[str], *args: str) -> subprocess.CompletedProcess:
    res = run_here("persons", *args)
    assert res.returncode == 0, (args, res.stdout, res.stderr)
    outputs += [res.stdout, res.stderr]
    return res


def _forget_identifier(raw: str, key: Path, db: Path) -> subprocess.CompletedProcess:
    """`vdto persons forget --identifier` with the identifier on standard input."""
    return subprocess.run(
        [sys.executable, "-m", "vdto.cli", "persons", "forget", "--identifier", "--key", str(key), "--db", str(db)],
        input=raw + "\n", capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def _leaks(text: str) -> list[str]:
    found = SYN.findall(text)[:3]
    return found + [s for s in (RAW, NAME) if s in text]


def _tables(db: Path) -> dict[str, str]:
    """Every table of the store, every column, as text."""
    with Store(db, read_only=True) as store:
        names = [
            r[0] for r in store.con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        return {
            t: store.con.execute(f'SELECT * FROM "{t}"').df().astype(str).to_csv(index=False) for t in names
        }


def _file_bytes(db: Path) -> bytes:
    parts = [db.read_bytes()]
    wal = Path(str(db) + ".wal")
    if wal.exists():
        parts.append(wal.read_bytes())
    return b"".join(parts)


@pytest.fixture
def case(tmp_path, ucdp_store_copy) -> tuple[Path, Path, Path]:
    """(store, key, case files): synthetic 2021 case files plus one hand-made person with a
    distinctive identifier and a name, in a CJNG cell, convicted of a CJNG-linked event."""
    db = ucdp_store_copy
    key = tmp_path / "k.key"
    assert run_here("persons", "key", "--out", str(key)).returncode == 0
    with Store(db, read_only=True) as store:
        generated = generate_case_files(store, date(2021, 1, 1), date(2021, 12, 31), seed=11, persons=150)
    folder = tmp_path / "cf"
    generated.write(folder)
    cells = pd.read_csv(folder / "cells.csv", dtype=str, keep_default_na=False)
    persons = pd.read_csv(folder / "persons.csv", dtype=str, keep_default_na=False)
    links = pd.read_csv(folder / "links.csv", dtype=str, keep_default_na=False)
    cjng = persons.loc[persons["cell"].isin(cells.loc[cells["organization"] == "cjng", "cell"]), "person"]
    event = links[links["person"].isin(cjng)].iloc[0]
    pd.concat([cells, pd.DataFrame([{"cell": "HAND-1", "organization": "CJNG", "name": "", "region": "14"}])]).to_csv(folder / "cells.csv", index=False)  # fmt: skip
    pd.concat([persons, pd.DataFrame([{"person": RAW, "cell": "HAND-1", "role": "leader", "start": "2020-01-01", "end": "", "name": NAME}])]).to_csv(folder / "persons.csv", index=False)  # fmt: skip
    pd.concat([links, pd.DataFrame([{"person": RAW, "source": event["source"], "source_id": event["source_id"], "kind": "convicted", "confidence": "1"}])]).to_csv(folder / "links.csv", index=False)  # fmt: skip
    with (folder / "ties.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"{RAW},{event['person']},2\n")
    text = "".join(p.read_text(encoding="utf-8") for p in folder.iterdir())
    assert SYN.search(text) and RAW in text and NAME in text  # the check below can see them
    return db, key, folder


def test_no_raw_identifier_anywhere(tmp_path, case):
    db, key, folder = case
    outputs: list[str] = []
    res = _ok(outputs, "import", str(folder), "--key", str(key), "--db", str(db))
    assert "names in persons.csv were not stored" in res.stdout
    _ok(outputs, "score", *WINDOW, "--db", str(db), "-f", "json")
    _ok(outputs, "score", *WINDOW, "--db", str(db), "-f", "csv")
    listed = json.loads(_ok(outputs, "list", *WINDOW, "--db", str(db), "-f", "json", "--top", "200").stdout)
    assert read_key(key).pseudonym(AGENCY, RAW) in {
        p["person"] for p in listed["persons"]
    }  # the hand-made person is there
    _ok(outputs, "list", *WINDOW, "--db", str(db))
    _ok(outputs, "audit", *WINDOW, "--db", str(db), "-f", "json")
    _ok(outputs, "audit", *WINDOW, "--db", str(db))
    _ok(outputs, "export", "--out", str(tmp_path / "csv"), *WINDOW, "--db", str(db), "--top", "200")
    _ok(
        outputs, "export", "--out", str(tmp_path / "i2"), "-f", "i2", *WINDOW, "--db", str(db), "--top", "200"
    )
    _ok(outputs, "forget", "--pseudonym", listed["persons"][-1]["person"], "--db", str(db))
    res = _forget_identifier("SYN-0000001", key, db)
    assert res.returncode in (0, 2) and "Traceback" not in res.stderr
    outputs += [res.stdout, res.stderr]
    res = run_here("persons", "import", str(folder), "--key", str(tmp_path / "nokey"), "--db", str(db))
    assert res.returncode == 2
    outputs += [res.stdout, res.stderr]

    for i, text in enumerate(outputs):
        assert not _leaks(text), (i, _leaks(text))
    exported = [*(tmp_path / "csv").iterdir(), *(tmp_path / "i2").iterdir()]
    assert len(exported) == 5
    for path in exported:
        assert not _leaks(path.read_text(encoding="utf-8-sig")), path
    tables = _tables(db)
    assert {"person_members", "person_links", "person_ties", "api_audit"} <= set(tables)
    for table, text in tables.items():
        assert not _leaks(text), (table, _leaks(text))
    assert "persons.forget" in tables["api_audit"] and "persons.export.i2" in tables["api_audit"]
    raw = _file_bytes(db)
    for needle in (b"SYN-0", RAW.encode(), NAME.encode()):
        assert needle not in raw, needle


def test_keep_identities_only_in_person_identities(case):
    db, key, folder = case
    outputs: list[str] = []
    res = _ok(outputs, "import", str(folder), "--key", str(key), "--db", str(db), "--keep-identities")
    assert "--keep-identities" in res.stdout
    _ok(outputs, "list", *WINDOW, "--db", str(db), "-f", "json", "--top", "200")
    for text in outputs:
        assert not _leaks(text)
    tables = _tables(db)
    assert (
        SYN.search(tables["person_identities"])
        and RAW in tables["person_identities"]
        and NAME in tables["person_identities"]
    )
    for table, text in tables.items():
        if table != "person_identities":
            assert not _leaks(text), (table, _leaks(text))
    with Store(db, read_only=True) as store:
        imports = store.persons.imports(AGENCY)
        ident = store.persons.frame("person_identities", AGENCY)
        audit = store.query("SELECT detail FROM api_audit WHERE action = 'persons.import' AND outcome = 'ok'")
    assert json.loads(imports["options"].iloc[-1])["keep_identities"] is True
    assert audit["detail"].str.contains("keep_identities").all()
    secret = read_key(key)
    row = ident[ident["raw_id"] == RAW].iloc[0]
    assert row["person"] == secret.pseudonym(AGENCY, RAW) and row["name"] == NAME
    assert (ident["person"] == [secret.pseudonym(AGENCY, r) for r in ident["raw_id"]]).all()
    # a later import without the option drops them again
    _ok(outputs, "import", str(folder), "--key", str(key), "--db", str(db))
    with Store(db, read_only=True) as store:
        assert store.count("person_identities") == 0
        assert json.loads(store.persons.imports(AGENCY)["options"].iloc[-1])["keep_identities"] is False


def test_forget_everywhere_and_in_later_imports(tmp_path, case, ucdp_store):
    db, key, folder = case
    outputs: list[str] = []
    secret = read_key(key)
    gone = secret.pseudonym(AGENCY, RAW)
    _ok(outputs, "import", str(folder), "--key", str(key), "--db", str(db), "--keep-identities")
    res = _forget_identifier(RAW, key, db)
    assert res.returncode == 0, res.stderr
    assert gone in res.stdout and RAW not in res.stdout + res.stderr

    def absent_from_records() -> None:
        with Store(db, read_only=True) as store:
            for table, cols in PERSON_COLUMNS.items():
                for col in cols:
                    n = store.con.execute(
                        f'SELECT count(*) FROM {table} WHERE "{col}" = ?', [gone]
                    ).fetchone()
                    assert n == (0,), (table, col)
            for table in RECORD_TABLES:
                text = store.con.execute(f"SELECT * FROM {table}").df().astype(str).to_csv()
                assert gone not in text and RAW not in text and NAME not in text, table
            assert set(store.query("SELECT person FROM person_forgotten")["person"]) == {gone}

    absent_from_records()
    listed = _ok(outputs, "list", *WINDOW, "--db", str(db), "-f", "json", "--top", "500").stdout
    assert gone not in listed
    _ok(
        outputs, "export", "--out", str(tmp_path / "i2"), "-f", "i2", *WINDOW, "--db", str(db), "--top", "500"
    )
    assert all(gone not in p.read_text(encoding="utf-8-sig") for p in (tmp_path / "i2").iterdir())
    with Store(db, read_only=True) as store:
        log = store.query("SELECT action, outcome, detail FROM api_audit ORDER BY seq")
    deletion = log[(log["action"] == "persons.forget") & (log["outcome"] == "ok")]
    assert (
        len(deletion) == 1
        and gone not in deletion["detail"].iloc[0]  # the audit log says how many, never who
        and "deleted 4 rows" in deletion["detail"].iloc[0]
    )
    assert not log["detail"].fillna("").str.contains(RAW).any()

    # the same case files again: the forgotten person's rows are left out, and said so
    res = _ok(outputs, "import", str(folder), "--key", str(key), "--db", str(db), "--keep-identities")
    assert "3 rows naming forgotten persons were left out" in res.stdout  # membership, link, tie
    absent_from_records()
    with Store(db, read_only=True) as store:
        assert store.persons.imports(AGENCY)["forgotten_rows"].iloc[-1] == 3
    for text in outputs:
        assert RAW not in text and NAME not in text

    # recognised only through the key: another agency's store and key make another pseudonym
    other_db = tmp_path / "other.duckdb"
    shutil.copy(ucdp_store[0], other_db)
    other_key = tmp_path / "other.key"
    assert run_here("persons", "key", "--out", str(other_key)).returncode == 0
    res = _ok(outputs, "import", str(folder), "--key", str(other_key), "--db", str(other_db))
    assert "forgotten" not in res.stdout
    theirs = read_key(other_key).pseudonym(AGENCY, RAW)
    assert theirs != gone
    with Store(other_db, read_only=True) as store:
        members = set(store.query("SELECT person FROM person_members")["person"])
    assert theirs in members and gone not in members


def test_forgotten_identity_leaves_the_file(case):
    """DuckDB does not blank a deleted row's space: forgetting compacts the store, so the raw
    identifier kept with --keep-identities is gone from the file's bytes too."""
    db, key, folder = case
    assert (
        run_here(
            "persons", "import", str(folder), "--key", str(key), "--db", str(db), "--keep-identities"
        ).returncode
        == 0
    )
    assert _forget_identifier(RAW, key, db).returncode == 0
    assert RAW.encode() not in _file_bytes(db)


def test_an_import_without_identities_removes_the_earlier_ones_from_the_file(case):
    db, key, folder = case
    common = ("--key", str(key), "--db", str(db))
    assert run_here("persons", "import", str(folder), *common, "--keep-identities").returncode == 0
    assert RAW.encode() in _file_bytes(db)  # stored, as asked
    assert run_here("persons", "import", str(folder), *common).returncode == 0
    assert RAW.encode() not in _file_bytes(db)
    with Store(db, read_only=True) as store:
        assert store.count("person_identities") == 0


# ------------------------------------------------------------------------- compaction of the file


def _store_with_deleted_rows(db: Path) -> Store:
    """A store whose file still holds deleted raw identifiers in freed blocks (open for writing)."""
    store = Store(db)
    store.con.execute("CREATE TABLE scratch (x VARCHAR)")
    store.con.execute(f"INSERT INTO scratch SELECT '{RAW}-' || i FROM range(2000) r(i)")
    store.con.execute("CHECKPOINT")
    store.con.execute("DELETE FROM scratch")
    store.con.execute("CHECKPOINT")
    assert RAW.encode() in _file_bytes(db)  # the check below can see them
    return store


def test_compact_through_a_symlink_cleans_the_target(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    target = real / "s.duckdb"
    Store(target).close()
    link = tmp_path / "link.duckdb"
    link.symlink_to(target)
    store = _store_with_deleted_rows(link)
    target.chmod(0o640)  # looser than 0600: the copy is 0600
    try:
        store.compact()
        assert store.con.execute("SELECT count(*) FROM scratch").fetchone() == (0,)
    finally:
        store.close()
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert RAW.encode() not in _file_bytes(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in real.iterdir()) == ["s.duckdb"]  # no temporary folder left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.duckdb", "real"]


def test_compact_keeps_stricter_bits_and_writes_in_a_private_folder(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    store = _store_with_deleted_rows(db)
    db.chmod(0o400)  # stricter than 0600 (root may still write it): kept
    seen: list[tuple[int, int]] = []
    replace = os.replace

    def inspect(src, dst):
        seen.append((stat.S_IMODE(os.stat(Path(src).parent).st_mode), stat.S_IMODE(os.stat(src).st_mode)))
        assert Path(src).parent.parent == tmp_path and Path(dst) == db.resolve()
        return replace(src, dst)

    monkeypatch.setattr(os, "replace", inspect)
    try:
        store.compact()
    finally:
        monkeypatch.undo()
        store.close()
    assert seen == [(0o700, 0o400)]
    assert stat.S_IMODE(db.stat().st_mode) == 0o400
    assert RAW.encode() not in _file_bytes(db)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.duckdb"]


def test_compact_quotes_the_catalog_name(tmp_path):
    db = tmp_path / 'we"ird.duckdb'  # the catalog is named after the file
    store = _store_with_deleted_rows(db)
    try:
        store.compact()
        assert store.con.execute("SELECT count(*) FROM scratch").fetchone() == (0,)
    finally:
        store.close()
    assert RAW.encode() not in _file_bytes(db)


@pytest.mark.skipif(db_module.fcntl is None, reason="no advisory locks here")
def test_an_opener_waits_for_the_swap_and_sees_the_compacted_file(tmp_path, monkeypatch):
    """While compact swaps the file (closed, replaced, not yet reopened) a Store being opened
    waits on the folder's lock, then opens the compacted file."""
    db = tmp_path / "s.duckdb"
    store = _store_with_deleted_rows(db)
    store.con.execute("INSERT INTO scratch VALUES ('kept')")
    trying, opened = threading.Event(), threading.Event()
    found: list[object] = []
    flock = db_module.fcntl.flock

    def watched_flock(fd, op):
        if op == db_module.fcntl.LOCK_SH:
            trying.set()  # the opener is about to wait for the lock
        return flock(fd, op)

    def open_store() -> None:
        other = Store(db)
        opened.set()
        try:
            found.append(other.con.execute("SELECT list(x) FROM scratch").fetchone())
        finally:
            other.close()

    opener = threading.Thread(target=open_store, daemon=True)
    replace = os.replace
    before = db.stat().st_ino

    def mid_swap(src, dst):
        opener.start()
        assert trying.wait(30), "the opener never reached the lock"
        assert not opened.is_set()  # it waits while the file is swapped
        return replace(src, dst)

    monkeypatch.setattr(db_module.fcntl, "flock", watched_flock)
    monkeypatch.setattr(os, "replace", mid_swap)
    try:
        store.compact()
    finally:
        monkeypatch.undo()
        store.close()
    opener.join(timeout=60)
    assert not opener.is_alive() and opened.is_set()
    assert found == [(["kept"],)]
    assert db.stat().st_ino != before  # it opened the compacted file (it could not before the swap)
    assert RAW.encode() not in _file_bytes(db)


@pytest.mark.skipif(db_module.fcntl is None, reason="no advisory locks here")
def test_store_open_takes_the_shared_lock(tmp_path, monkeypatch):
    """An exclusive lock on the store's folder (what compact holds) makes an opener wait."""
    db = tmp_path / "s.duckdb"
    Store(db).close()
    fd = os.open(tmp_path, os.O_RDONLY)
    trying, opened = threading.Event(), threading.Event()
    flock = db_module.fcntl.flock

    def watched_flock(fd, op):
        if op == db_module.fcntl.LOCK_SH:
            trying.set()
        return flock(fd, op)

    def open_store() -> None:
        with Store(db, read_only=True):
            opened.set()

    monkeypatch.setattr(db_module.fcntl, "flock", watched_flock)
    try:
        flock(fd, db_module.fcntl.LOCK_EX)
        opener = threading.Thread(target=open_store, daemon=True)
        opener.start()
        assert trying.wait(30), "the opener never reached the lock"
        opener.join(timeout=1)  # bounded: it is still waiting
        assert opener.is_alive() and not opened.is_set()
    finally:
        os.close(fd)  # releases the lock
    opener.join(timeout=60)
    assert opened.is_set() and not opener.is_alive()


def test_failed_reopen_after_compact_is_one_line(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    store = _store_with_deleted_rows(db)
    connect = duckdb.connect

    def refuse(*args, **kwargs):
        raise duckdb.IOException("IO Error: cannot open file\nsecond line")

    monkeypatch.setattr(db_module.duckdb, "connect", refuse)
    with pytest.raises(VdtoError) as info:
        store.compact()
    monkeypatch.setattr(db_module.duckdb, "connect", connect)
    line = info.value.line()
    assert "\n" not in line and line.startswith(str(db)) and "cannot open the store again" in line
    assert RAW.encode() not in _file_bytes(db)  # the compacted file is in place
    Store(db).close()
