"""`vdto persons` as an analyst runs it: key, generate, import, score, list, audit, export (csv and
i2), forget (by pseudonym, by identifier on stdin, past retention); provenance, reproducibility
from the seed, the audit trail of every command and an import with another key."""

from __future__ import annotations

import getpass
import json
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import vdto
from vdto.persons.keys import read_key
from vdto.store import Store

from .conftest import assert_one_line_exit_2, run_here

pytestmark = pytest.mark.slow  # a dozen commands on the real UCDP events

WINDOW = ("--from", "2021", "--to", "2021", "--draws", "200")
AGENCY = "default"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _ok(*args: str) -> subprocess.CompletedProcess:
    res = run_here("persons", *args)
    assert res.returncode == 0, (args, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    return res


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _audit(db: Path) -> pd.DataFrame:
    with Store(db, read_only=True) as store:
        return store.query(
            "SELECT seq, request_id, actor, agency, method, path, action, outcome, detail FROM api_audit ORDER BY seq"
        )


@pytest.fixture
def cases(tmp_path, ucdp_store_copy) -> tuple[Path, Path, Path]:
    """(store, key file, synthetic case files of 2021)."""
    db = ucdp_store_copy
    key = tmp_path / "mx.key"
    res = _ok("key", "--out", str(key))
    assert "fingerprint" in res.stdout and read_key(key).fingerprint in res.stdout
    folder = tmp_path / "case-files"
    res = _ok(
        "generate",
        "--out",
        str(folder),
        "--from",
        "2021",
        "--to",
        "2021",
        "--persons",
        "150",
        "--db",
        str(db),
    )
    assert "wrote synthetic case files" in res.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["cells.csv", "links.csv", "persons.csv", "ties.csv"]
    return db, key, folder


def test_key_file(tmp_path):
    key = tmp_path / "agency.key"
    _ok("key", "--out", str(key))
    assert _mode(key) == 0o600
    text = key.read_text(encoding="ascii")
    assert len(text.strip()) == 64
    res = run_here("persons", "key", "--out", str(key))
    assert_one_line_exit_2(res, "already there")
    assert key.read_text(encoding="ascii") == text  # never overwritten
    key.chmod(0o644)
    res = run_here("persons", "import", str(tmp_path), "--key", str(key), "--db", str(tmp_path / "x.duckdb"))
    assert_one_line_exit_2(res, "can be read by other users", "chmod 600")
    (tmp_path / "bad.key").write_text("not a key\n", encoding="ascii")
    res = run_here(
        "persons",
        "import",
        str(tmp_path),
        "--key",
        str(tmp_path / "bad.key"),
        "--db",
        str(tmp_path / "x.duckdb"),
    )
    assert_one_line_exit_2(res, "not a person key")
    res = run_here("persons", "score", "--db", str(tmp_path / "typo.duckdb"))
    assert_one_line_exit_2(res, "no store at")
    assert not (tmp_path / "typo.duckdb").exists()  # a mistyped --db leaves no empty store behind


def test_import_score_list_audit_export_forget(tmp_path, cases):
    db, key, folder = cases
    dbs = str(db)
    persons_csv = _csv(folder / "persons.csv")
    res = _ok("import", str(folder), "--key", str(key), "--db", dbs)
    assert f"{persons_csv['person'].nunique():,} persons ({len(persons_csv):,} memberships)" in res.stdout
    assert "pseudonymised" in res.stdout

    # score: a table with the provenance line
    res = _ok("score", "--target", "CJNG", *WINDOW, "--db", dbs, "--top", "5")
    for needle in (
        f"vdto {vdto.__version__}",
        "seed 7",
        "200 draws",
        "data sha256:",
        "records sha256:",
        "org:cjng (asked)",
    ):
        assert needle in " ".join(res.stdout.split()), needle  # the line may wrap
    scored = json.loads(_ok("score", "--target", "CJNG", *WINDOW, "--db", dbs, "-f", "json").stdout)
    assert scored["meta"]["target"] == "org:cjng" and scored["persons"]

    # list: reproducible from its seed
    args = ("list", "--target", "CJNG", *WINDOW, "--db", dbs, "-f", "json", "--top", "10")
    first, again = _ok(*args).stdout, _ok(*args).stdout
    assert first == again
    doc = json.loads(first)
    meta = doc["meta"]
    assert meta["vdto_version"] == vdto.__version__ and meta["seed"] == 7 and meta["draws"] == 200
    assert len(meta["data_sha256"]) == 64 and len(meta["records_sha256"]) == 64
    listed = pd.DataFrame(doc["persons"])
    assert len(listed) == 10 and listed["person"].str.fullmatch(r"p_[0-9a-f]{24}").all()
    assert set(pd.DataFrame(doc["evidence"])["person"]) <= set(listed["person"])
    other = pd.DataFrame(json.loads(_ok("list", "--target", "CJNG", *WINDOW, "--seed", "8", "--db", dbs, "-f", "json", "--top", "10").stdout)["persons"])  # fmt: skip
    a, b = listed.set_index("person"), other.set_index("person")
    both = a.index.intersection(b.index)
    assert len(both) >= 5
    pd.testing.assert_series_equal(a.loc[both, "score"], b.loc[both, "score"], check_exact=False, rtol=1e-12)
    assert not a.loc[both, ["lo90", "hi90", "p_rank1"]].equals(b.loc[both, ["lo90", "hi90", "p_rank1"]])
    table = _ok("list", *WINDOW, "--db", dbs, "--top", "3")  # default target: the ranking's first
    assert "(ranking)" in table.stdout and "links of evidence" in table.stdout

    # the group audit
    audit = json.loads(_ok("audit", "--target", "CJNG", *WINDOW, "--db", dbs, "-f", "json").stdout)
    assert audit["meta"]["seed"] == 7 and audit["components"] and audit["people"]
    assert "allies" in audit and "rivals" in audit
    res = _ok("audit", "--target", "CJNG", *WINDOW, "--db", dbs, "--top", "3")
    assert "records sha256:" in " ".join(res.stdout.split())

    # export: csv and i2, files readable by the owner only, provenance on every row
    out_csv, out_i2 = tmp_path / "csv", tmp_path / "i2"
    _ok("export", "--out", str(out_csv), "--target", "CJNG", *WINDOW, "--db", dbs, "--top", "10")
    _ok("export", "--out", str(out_i2), "-f", "i2", "--target", "CJNG", *WINDOW, "--db", dbs, "--top", "3")
    assert sorted(p.name for p in out_csv.iterdir()) == ["cells.csv", "evidence.csv", "persons.csv"]
    assert sorted(p.name for p in out_i2.iterdir()) == ["entities.csv", "links.csv"]
    for path in [*out_csv.iterdir(), *out_i2.iterdir()]:
        assert _mode(path) == 0o600, path
        frame = _csv(path)
        assert (frame["vdto_version"] == vdto.__version__).all() and (frame["seed"] == "7").all()
        assert (frame["data_sha256"] == meta["data_sha256"]).all() and (
            frame["records_sha256"] == meta["records_sha256"]
        ).all()
    exported = _csv(out_csv / "persons.csv")
    assert list(exported["person"]) == list(listed["person"])
    entities, links = _csv(out_i2 / "entities.csv"), _csv(out_i2 / "links.csv")
    assert entities["Entity ID"].is_unique and links["Link ID"].is_unique
    ends = set(links["From Entity ID"]) | set(links["To Entity ID"])
    assert ends <= set(entities["Entity ID"]), sorted(ends - set(entities["Entity ID"]))[:5]
    assert set(entities.loc[entities["Entity Type"] == "Person", "Entity ID"]) == set(
        listed["person"].head(3)
    )
    assert {"Member of"} < set(links["Link Type"])

    # forget by pseudonym: gone from the records, the list and a later export
    top = str(listed["person"].iloc[0])
    res = _ok("forget", "--pseudonym", top, "--db", dbs)
    assert top in res.stdout and "deleted" in res.stdout
    relisted = json.loads(_ok(*args).stdout)
    assert top not in {p["person"] for p in relisted["persons"]} and top not in json.dumps(relisted)
    again_csv = tmp_path / "csv2"
    _ok("export", "--out", str(again_csv), "--target", "CJNG", *WINDOW, "--db", dbs, "--top", "10")
    assert all(top not in p.read_text(encoding="utf-8-sig") for p in again_csv.iterdir())
    res = run_here("persons", "forget", "--pseudonym", top, "--db", dbs)
    assert_one_line_exit_2(res, "holds no records of that person")
    assert_one_line_exit_2(
        run_here("persons", "forget", "--pseudonym", "SYN-0000001", "--db", dbs), "not a pseudonym"
    )

    # forget by identifier, read from stdin with the key (never on the command line)
    raw = str(persons_csv["person"].iloc[-1])
    pseudonym = read_key(key).pseudonym(AGENCY, raw)
    res = subprocess.run(
        [sys.executable, "-m", "vdto.cli", "persons", "forget", "--identifier", "--key", str(key), "--db", dbs],
        input=raw + "\n", capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert pseudonym in res.stdout and raw not in res.stdout + res.stderr
    with Store(db, read_only=True) as store:
        forgotten = set(store.query("SELECT person FROM person_forgotten")["person"])
        assert not store.persons.known(AGENCY, pseudonym)
    assert forgotten == {top, pseudonym}
    assert_one_line_exit_2(
        run_here("persons", "forget", "--identifier", "--db", dbs), "no identifier on standard input"
    )

    # every command left a started and an ok row, by cli:<user>
    log = _audit(db)
    assert (log["actor"] == f"cli:{getpass.getuser()}").all() and (log["method"] == "CLI").all()
    assert (log["agency"] == AGENCY).all()
    for action in ("persons.import", "persons.score", "persons.list", "persons.audit", "persons.export.csv",
                   "persons.export.i2", "persons.forget"):  # fmt: skip
        rows = log[log["action"] == action]
        assert "started" in set(rows["outcome"]) and "ok" in set(rows["outcome"]), action
        for _, pair in rows.groupby("request_id"):
            assert list(pair["outcome"])[:1] == ["started"] and len(pair) == 2, action
    deletions = log[(log["action"] == "persons.forget") & (log["outcome"] == "ok")]
    # the audit log (an admin reads it) says how many were deleted, never who
    assert deletions["detail"].str.contains("deleted").all()
    assert not log["detail"].fillna("").str.contains(top).any()
    assert not log["detail"].fillna("").str.contains(pseudonym).any()
    assert not log["detail"].fillna("").str.contains(raw).any()
    assert (log.loc[log["path"] == "persons forget", "outcome"] == "failed").sum() >= 1  # the second deletion


def test_expired_and_another_key(tmp_path, cases):
    db, key, folder = cases
    dbs = str(db)
    _ok("import", str(folder), "--key", str(key), "--db", dbs, "--retention-days", "30")
    persons = _csv(folder / "persons.csv")
    still = set(persons.loc[persons["end"] == "", "person"])
    secret = read_key(key)
    want = sorted(secret.pseudonym(AGENCY, p) for p in set(persons["person"]) - still)  # every end is in 2021
    assert want
    res = _ok("forget", "--expired", "--db", dbs)
    assert f"of {len(want):,} person(s)" in res.stdout
    with Store(db, read_only=True) as store:
        assert sorted(store.query("SELECT person FROM person_forgotten")["person"]) == want
        left = set(store.query("SELECT DISTINCT person FROM person_members")["person"])
        assert store.persons.setting(AGENCY, "retention_days") == "30"
        options = json.loads(store.persons.imports(AGENCY)["options"].iloc[-1])
    assert left == {secret.pseudonym(AGENCY, p) for p in still}
    assert options == {"keep_identities": False, "retention_days": 30}
    res = _ok("forget", "--expired", "--db", dbs)
    assert "nothing to delete" in res.stdout
    log = _audit(db)
    assert set(log.loc[log["action"] == "persons.forget.expired", "outcome"]) == {"started", "ok"}

    # another key: refused in one line, nothing changed
    other = tmp_path / "other.key"
    _ok("key", "--out", str(other))
    with Store(db, read_only=True) as store:
        before = store.query("SELECT * FROM person_members ORDER BY ALL")
    res = run_here("persons", "import", str(folder), "--key", str(other), "--db", dbs)
    assert_one_line_exit_2(res, "not the key")
    with Store(db, read_only=True) as store:
        pd.testing.assert_frame_equal(store.query("SELECT * FROM person_members ORDER BY ALL"), before)
    res = subprocess.run(
        [sys.executable, "-m", "vdto.cli", "persons", "forget", "--identifier", "--key", str(other), "--db", dbs],
        input=str(persons["person"].iloc[0]) + "\n", capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert_one_line_exit_2(res, "not the key")
    log = _audit(db)
    assert (log.loc[log["action"] == "persons.import", "outcome"] == "failed").sum() == 1
    assert str(persons["person"].iloc[0]) not in res.stderr
