"""The person-level endpoints (``/agencies/{agency}/persons/...``) in process (FastAPI's TestClient):
import, scores, group audit, list, export and forgetting for the owning agency's analysts; every
other token refused and audited; raw identifiers and the key kept out of every answer, the audit
log and the store; bad case files answered with one line that names file:row:column."""

from __future__ import annotations

import io
import json
import re
import shutil
import warnings
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from vdto.api.app import create_app
from vdto.persons.keys import read_key, write_key
from vdto.persons.synthetic import CaseFiles
from vdto.render.jsonout import records
from vdto.services.persons import Scope, generate_case_files, score
from vdto.store import Store
from vdto.store.persons import PERSON_COLUMNS, RECORD_TABLES

with warnings.catch_warnings():  # starlette's notice that its test client will move to httpx2
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ENDPOINTS = ("imports", "scores", "audit", "list", "export", "forget")
SCOPE = {"from": "2021-01-01", "to": "2021-12-31", "draws": 200, "seed": 11}
PSEUDONYM = re.compile(r"p_[0-9a-f]{24}")
RAW_ID = re.compile(r"SYN-\d")  # a person's identifier in the synthetic case files (cells are SYN-C-...)
PARTS = ("cells", "persons", "links", "ties")


class NoTrail:
    """An audit trail that records nothing (to call the service directly)."""

    def started(self, action: str, detail: str) -> None:
        pass

    def finished(self, outcome: str, detail: str) -> None:
        pass


@dataclass
class Case:
    folder: Path  # cells.csv, persons.csv, links.csv, ties.csv
    key: Path
    files: CaseFiles

    def form(self, folder: Path | None = None, key: Path | None = None, leave_out: str = "") -> dict:
        folder = folder or self.folder
        key = key or self.key
        form = {
            n: (f"{n}.csv", (folder / f"{n}.csv").read_bytes(), "text/csv") for n in PARTS if n != leave_out
        }
        if leave_out != "key":
            form["key"] = ("agency.key", key.read_bytes(), "application/octet-stream")
        return form

    @property
    def key_hex(self) -> str:
        return self.key.read_text().strip()


class Api:
    """A TestClient over a store file of its own."""

    def __init__(self, db: Path, tokens: dict, **options) -> None:
        self.db = db
        self.tokens = tokens
        self.app = create_app(db, **options)
        self.client = TestClient(self.app)

    def head(self, agency: str = "mx", role: str = "analyst") -> dict:
        return {"Authorization": f"Bearer {self.tokens[agency, role]}"}

    def post(self, endpoint: str, who: tuple[str, str] | None = ("mx", "analyst"), agency: str = "mx", **kw):
        headers = self.head(*who) if who else {}
        return self.client.post(f"/agencies/{agency}/persons/{endpoint}", headers=headers, **kw)

    def audit_rows(self) -> list[dict]:
        with Store(self.db, read_only=True) as store:
            return [e.as_dict() for e in store.audit.all()]

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the store."""
        with Store(self.db, read_only=True) as store:
            names = store.query(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            )
            return {t: store.query(f'SELECT * FROM "{t}"') for t in names["table_name"]}

    def person_tables(self) -> dict[str, pd.DataFrame]:
        return {t: f for t, f in self.tables().items() if t.startswith("person_")}


def _text(frame: pd.DataFrame) -> str:
    return frame.astype(str).to_csv(index=False)


def _unzip(content: bytes) -> dict[str, pd.DataFrame]:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        return {
            n: pd.read_csv(io.BytesIO(zf.read(n)), encoding="utf-8-sig", dtype=str) for n in zf.namelist()
        }


def _zip_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        return "".join(zf.read(n).decode("utf-8-sig") for n in zf.namelist())


def _one_line(res) -> str:
    detail = res.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail, res.text
    return detail


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def case(wb_data, tmp_path_factory) -> Case:
    """Synthetic case files of agency mx linked to its real 2021 events, and the agency's key."""
    folder = tmp_path_factory.mktemp("persons-case")
    db = folder / "gen.duckdb"
    shutil.copy(wb_data.db, db)
    with Store(db) as store:
        files = generate_case_files(store, date(2021, 1, 1), date(2021, 12, 31), seed=3, agency="mx")
    (folder / "case").mkdir()
    files.write(folder / "case")
    key = folder / "agency.key"
    write_key(key)
    return Case(folder / "case", key, files)


@pytest.fixture(scope="module")
def imported(wb_data, case, tmp_path_factory) -> tuple[Path, dict, int]:
    """A store with mx's case files imported through the API (with the answer and the audit
    rows the store held before the import)."""
    folder = tmp_path_factory.mktemp("persons-imported")
    db = folder / "s.duckdb"
    shutil.copy(wb_data.db, db)
    api = Api(db, wb_data.tokens)
    before = len(api.audit_rows())
    res = api.post("imports", files=case.form())
    assert res.status_code == 201, res.text
    return db, res.json(), before


@pytest.fixture
def api(imported, wb_data, tmp_path) -> Api:
    """A client over a fresh copy of the imported store."""
    db = tmp_path / "s.duckdb"
    shutil.copy(imported[0], db)
    return Api(db, wb_data.tokens)


@pytest.fixture
def bare(wb_data, tmp_path) -> Api:
    """A client over a fresh copy of the workbench store (no person records)."""
    db = tmp_path / "s.duckdb"
    shutil.copy(wb_data.db, db)
    return Api(db, wb_data.tokens)


def _requests(case: Case, pseudonym: str) -> dict[str, dict]:
    """One valid request per endpoint (keyword arguments of the client's post)."""
    return {
        "imports": {"files": case.form()},
        "scores": {"json": SCOPE},
        "audit": {"json": SCOPE},
        "list": {"json": {**SCOPE, "top": 10}},
        "export": {"json": {**SCOPE, "top": 10, "format": "csv"}},
        "forget": {"json": {"pseudonym": pseudonym}},
    }


def _stored_persons(api: Api) -> set[str]:
    t = api.person_tables()
    return set(t["person_members"]["person"]) | set(t["person_links"]["person"])


def _new_rows(api: Api, before: int) -> dict[str, list[dict]]:
    """The audit rows after the first ``before``, by request."""
    out: dict[str, list[dict]] = defaultdict(list)
    for row in api.audit_rows()[before:]:
        out[row["request_id"]].append(row)
    return dict(out)


# -- 1. the analyst's round trip ----------------------------------------------------------------
def test_import_then_every_endpoint_works_for_the_agencys_analyst(imported, case, api):
    db, answer, audit_before = imported
    # the import's counts are the files' rows
    files = {n: pd.read_csv(case.folder / f"{n}.csv", dtype=str) for n in PARTS}
    assert answer["counts"] == {
        "cells": len(files["cells"]),
        "persons": files["persons"]["person"].nunique(),
        "memberships": len(files["persons"]),
        "links": len(files["links"]),
        "ties": len(files["ties"]),
    }
    assert answer["agency"] == "mx" and answer["keep_identities"] is False and answer["forgotten_rows"] == 0
    assert all(len(files[n]) > 0 for n in PARTS)
    t = api.person_tables()
    assert len(t["person_cells"]) == len(files["cells"]) and len(t["person_links"]) == len(files["links"])
    assert t["person_members"]["person"].str.fullmatch(PSEUDONYM.pattern).all()

    before = len(api.audit_rows())
    # scores: the same as the service gives on the same store for the same seed
    res = api.post("scores", json=SCOPE)
    assert res.status_code == 200, res.text
    scores = res.json()
    assert scores["persons"] and scores["cells"]
    with Store(api.db, read_only=True) as store:
        view = score(
            store,
            Scope(start=date(2021, 1, 1), end=date(2021, 12, 31), draws=200, seed=11),
            trail=NoTrail(),
            agency="mx",
        )
    assert scores["persons"] == json.loads(json.dumps(records(view.scores.persons)))
    assert scores["cells"] == json.loads(json.dumps(records(view.scores.cells)))
    assert scores["target"]["value"] == view.scores.target.value
    # another seed gives other draws (the seed reaches the Monte Carlo)
    other = api.post("scores", json={**SCOPE, "seed": 12}).json()
    assert [p["lo90"] for p in other["persons"]] != [p["lo90"] for p in scores["persons"]] or [
        p["p_rank1"] for p in other["persons"]
    ] != [p["p_rank1"] for p in scores["persons"]]

    res = api.post("audit", json=SCOPE)
    assert res.status_code == 200, res.text
    group = res.json()
    assert group["persons"] == scores["persons"] and group["people"]
    assert {"components", "brokers", "cell_ties", "succession", "allies", "rivals"} <= set(group)

    res = api.post("list", json={**SCOPE, "top": 10})
    assert res.status_code == 200, res.text
    listing = res.json()
    listed = [p["person"] for p in listing["persons"]]
    assert listed == [p["person"] for p in scores["persons"][:10]]
    assert listing["evidence"] and {e["person"] for e in listing["evidence"]} <= set(listed)

    res = api.post("export", json={**SCOPE, "top": 10, "format": "csv"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/zip" and res.headers["cache-control"] == "no-store"
    csv = _unzip(res.content)
    assert set(csv) == {"persons.csv", "cells.csv", "evidence.csv"}
    assert list(csv["persons.csv"]["person"]) == listed
    assert list(csv["cells.csv"]["cell"]) == [c["cell"] for c in listing["cells"]]
    assert (csv["persons.csv"]["seed"] == "11").all() and (csv["persons.csv"]["agency"] == "mx").all()

    res = api.post("export", json={**SCOPE, "top": 10, "format": "i2"})
    assert res.status_code == 200, res.text
    i2 = _unzip(res.content)
    assert set(i2) == {"entities.csv", "links.csv"}
    people = i2["entities.csv"][i2["entities.csv"]["Entity Type"] == "Person"]
    assert list(people["Entity ID"]) == listed
    assert set(i2["links.csv"]["From Entity ID"]) <= set(listed)

    gone = listed[0]
    res = api.post("forget", json={"pseudonym": gone})
    assert res.status_code == 200, res.text
    assert res.json()["persons"] == [gone] and sum(res.json()["rows"].values()) > 0
    assert gone not in _stored_persons(api)

    # each allowed request: a started row and an ok row, by the mx analyst, with its action
    by_request = _new_rows(api, before)
    assert len(by_request) == 7
    actions = []
    for rows in by_request.values():
        assert [r["outcome"] for r in rows] == ["started", "ok"], rows
        assert {(r["agency"], r["role"], r["method"]) for r in rows} == {("mx", "analyst", "POST")}
        assert rows[0]["action"] == rows[1]["action"] and rows[1]["status"] == 200
        actions.append(rows[0]["action"])
    assert actions == ["persons.score", "persons.score", "persons.audit", "persons.list", "persons.export.csv",
                       "persons.export.i2", "persons.forget"]  # fmt: skip
    # ...and so did the import
    with Store(db, read_only=True) as store:
        rows = [e.as_dict() for e in store.audit.all()][audit_before:]
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("persons.import", "started"),
        ("persons.import", "ok"),
    ]
    assert rows[1]["status"] == 201


# -- 2. access --------------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_only_the_agencys_analysts_pass(api, case, endpoint):
    persons = _stored_persons(api)
    cells = set(api.person_tables()["person_cells"]["cell"])
    target = sorted(persons)[0]
    request = _requests(case, target)[endpoint]
    before_tables = {t: _text(f) for t, f in api.person_tables().items()}
    before = len(api.audit_rows())
    refused = [(("mx", "publisher"), 403), (("mx", "admin"), 403), (("us", "analyst"), 403),
               (("us", "publisher"), 403), (("us", "admin"), 403), (None, 401)]  # fmt: skip
    for who, status in refused:
        res = api.post(endpoint, who=who, **request)
        assert res.status_code == status, (who, res.status_code, res.text[:300])
        _one_line(res)
        assert not PSEUDONYM.search(res.text) and not RAW_ID.search(res.text), res.text
        assert not any(c in res.text for c in cells), res.text
    rows = api.audit_rows()[before:]
    assert [(r["outcome"], r["status"]) for r in rows] == [("refused", s) for _, s in refused]
    assert len({r["request_id"] for r in rows}) == len(refused)
    for r in rows:
        assert not PSEUDONYM.search(json.dumps(r)) and not RAW_ID.search(json.dumps(r))
    assert {t: _text(f) for t, f in api.person_tables().items()} == before_tables  # nothing changed

    # the agency's analyst passes with the same request
    res = api.post(endpoint, **request)
    assert res.status_code in (200, 201), res.text
    rows = api.audit_rows()[before + len(refused) :]
    assert [r["outcome"] for r in rows] == ["started", "ok"]
    assert all(r["action"].startswith("persons.") for r in rows)


def test_another_agency_sees_none_of_the_records_in_its_own_space(api):
    res = api.post("scores", who=("us", "analyst"), agency="us", json=SCOPE)
    assert res.status_code == 400, res.text
    assert "agency us has no person records" in _one_line(res)
    res = api.post(
        "forget", who=("us", "analyst"), agency="us", json={"pseudonym": sorted(_stored_persons(api))[0]}
    )
    assert res.status_code == 404, res.text
    assert not PSEUDONYM.search(res.text)


def _fill(path: str, op: dict, rounds: list[int], checkpoint: int | None) -> list[str]:
    """The URLs of one public GET route, with its path parameters filled where they can be."""
    if "{round_id}" in path:
        return [path.replace("{round_id}", str(r)) for r in rounds]
    if "{size}" in path:
        return [path.replace("{size}", str(checkpoint))] if checkpoint else []
    if "{level}" in path:
        (param,) = [p for p in op["parameters"] if p["name"] == "level"]
        schema = param["schema"]
        levels = schema.get("enum") or next(
            (s.get("enum") for s in schema.get("anyOf", []) if "enum" in s), None
        )
        return [path.replace("{level}", lv) for lv in (levels or ["state"])]
    assert "{" not in path, path
    return [path]


def test_no_public_endpoint_shows_a_person_or_a_cell(api, wb_data, tmp_path):
    # an announced round, so that the public record has something to show
    api = Api(api.db, wb_data.tokens, ledger=tmp_path / "ledger.jsonl", server_held_keys=wb_data.keys)
    res = api.client.post("/rounds", headers=api.head(), json={"from": "2021-01-01", "to": "2021-12-31",
                                                               "agencies": ["mx", "us"], "draws": 50})  # fmt: skip
    assert res.status_code in (200, 201), res.text
    round_id = res.json()["round_id"]
    for agency in ("mx", "us"):
        res = api.client.post(f"/rounds/{round_id}/announce", headers=api.head(agency, "publisher"))
        assert res.status_code == 200, res.text
    t = api.person_tables()
    persons = set(t["person_members"]["person"]) | set(t["person_links"]["person"])
    cells = set(t["person_cells"]["cell"])
    assert persons and cells
    spec = api.app.openapi()
    rounds = [r["round_id"] for r in api.client.get("/public/rounds").json()]
    assert rounds
    size = api.client.get("/public/ledger").json()["total"]
    assert size >= 2
    fetched = 0
    for path, item in spec["paths"].items():
        op = item.get("get")
        public = op is not None and ("public" in op.get("tags", []) or path == "/health")
        if not public or path.startswith("/agencies"):
            continue
        required_query = [
            p["name"] for p in op.get("parameters", []) if p["in"] == "query" and p.get("required")
        ]
        queries: list[dict] = [{}]
        if required_query == ["seq"]:
            queries = [{"seq": 1}] if size else []
        elif required_query == ["old"]:
            queries = [{"old": 1}] if size else []
        elif any(p["name"] == "agency" for p in op.get("parameters", [])):
            queries = [{}, {"agency": "mx"}]
        for url in _fill(path, op, rounds, size):
            for q in queries:
                res = api.client.get(url, params=q)
                assert res.status_code < 500, (url, res.text[:300])
                fetched += 1
                found = set(PSEUDONYM.findall(res.text)) & persons
                assert not found, (url, sorted(found)[:3])
                assert not any(c in res.text for c in cells), url
                assert not RAW_ID.search(res.text), url
    assert fetched >= 10


# -- 3. privacy ---------------------------------------------------------------------------------------
def _assert_nowhere(api: Api, *needles: str | re.Pattern) -> None:
    """Neither in any table of the store (the audit log included) nor in the audit rows."""
    for table, frame in api.tables().items():
        text = _text(frame)
        for n in needles:
            hit = n.search(text) if isinstance(n, re.Pattern) else n in text
            assert not hit, (table, n)


def test_raw_identifiers_and_the_key_are_kept_out_of_answers_audit_and_store(imported, case, api):
    _, answer, _ = imported
    raw = set(case.files.persons["person"])
    assert raw and all(RAW_ID.match(r) for r in raw)
    answers = [json.dumps(answer)]
    for endpoint in ("scores", "audit", "list"):
        res = api.post(endpoint, json={**SCOPE, "top": 1000} if endpoint == "list" else SCOPE)
        assert res.status_code == 200, res.text
        answers.append(res.text)
    for fmt in ("csv", "i2"):
        res = api.post("export", json={**SCOPE, "top": 1000, "format": fmt})
        assert res.status_code == 200
        answers.append(_zip_text(res.content))
    for text in answers:
        assert not RAW_ID.search(text)
        assert case.key_hex not in text
    _assert_nowhere(api, RAW_ID, case.key_hex, case.key_hex.upper())
    t = api.person_tables()
    assert t["person_identities"].empty
    (options,) = t["person_imports"]["options"]
    assert json.loads(options)["keep_identities"] is False
    (fingerprint,) = t["person_settings"].loc[t["person_settings"]["key"] == "key_fingerprint", "value"]
    assert fingerprint == read_key(case.key).fingerprint


def test_keep_identities_stores_them_and_records_it(bare, case):
    res = bare.post("imports", params={"keep_identities": "true"}, files=case.form())
    assert res.status_code == 201, res.text
    assert res.json()["keep_identities"] is True
    t = bare.person_tables()
    ids = t["person_identities"]
    assert set(ids["raw_id"]) == set(case.files.persons["person"])
    key = read_key(case.key)
    assert all(key.pseudonym("mx", r) == p for r, p in zip(ids["raw_id"], ids["person"], strict=True))
    (options,) = t["person_imports"]["options"]
    assert json.loads(options)["keep_identities"] is True
    rows = bare.audit_rows()
    assert rows[-1]["action"] == "persons.import" and "keep_identities" in rows[-1]["detail"]
    assert not any(RAW_ID.search(json.dumps(r)) for r in rows)  # the audit log still names no one
    assert not any(case.key_hex in json.dumps(r) for r in rows)
    # forgetting by identifier removes the stored identity too
    raw = sorted(ids["raw_id"])[0]
    res = bare.post("forget", json={"identifier": raw, "key": case.key_hex})
    assert res.status_code == 200, res.text
    assert res.json()["rows"]["person_identities"] == 1
    assert raw not in set(bare.person_tables()["person_identities"]["raw_id"])
    assert raw not in res.text and not any(raw in json.dumps(r) for r in bare.audit_rows())


def test_forget_by_pseudonym_and_by_identifier_then_reimport(api, case):
    key = read_key(case.key)
    t = api.person_tables()
    ties = t["person_ties"]
    # one person with ties and links (by pseudonym), another by identifier
    first = str(ties["person_a"].iloc[0])
    raw = next(r for r in sorted(set(case.files.persons["person"])) if key.pseudonym("mx", r) != first)
    second = key.pseudonym("mx", raw)
    assert first in set(t["person_links"]["person"]) | set(t["person_members"]["person"])
    before = len(api.audit_rows())

    res = api.post("forget", json={"pseudonym": first})
    assert res.status_code == 200, res.text
    assert res.json()["persons"] == [first] and res.json()["rows"]["person_ties"] > 0
    res = api.post("forget", json={"identifier": raw, "key": case.key_hex.upper()})
    assert res.status_code == 200, res.text
    assert res.json()["persons"] == [second] and sum(res.json()["rows"].values()) > 0
    assert raw not in res.text

    def named(tables, who: str) -> list[str]:
        return [tb for tb, cols in PERSON_COLUMNS.items() for c in cols if (tables[tb][c] == who).any()]

    t = api.person_tables()
    for who in (first, second):
        assert named(t, who) == []
    assert {first, second} <= set(t["person_forgotten"]["person"])
    assert set(RECORD_TABLES) <= set(t)
    # the deletion requests are audited with counts only: no pseudonym, identifier or key (an
    # admin reads the audit log)
    rows = api.audit_rows()[before:]
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("persons.forget", "started"),
        ("persons.forget", "ok"),
    ] * 2
    assert "deleted" in rows[-1]["detail"]
    assert not any(first in json.dumps(r) or second in json.dumps(r) for r in rows)
    assert not any(raw in json.dumps(r) or case.key_hex in json.dumps(r).lower() for r in rows)

    # gone from a later export
    res = api.post("export", json={**SCOPE, "top": 1000, "format": "csv"})
    assert res.status_code == 200
    text = _zip_text(res.content)
    assert first not in text and second not in text
    # a re-import of the same case files leaves them out
    res = api.post("imports", files=case.form())
    assert res.status_code == 201, res.text
    assert res.json()["forgotten_rows"] > 0
    t = api.person_tables()
    for who in (first, second):
        assert named(t, who) == []
    assert len(t["person_imports"]) == 2

    # forgetting someone unknown, or with the wrong key: refused, nothing deleted
    res = api.post("forget", json={"pseudonym": first})
    assert res.status_code == 404, res.text
    _one_line(res)
    res = api.post("forget", json={"identifier": "SYN-0000002", "key": "ab" * 32})
    assert res.status_code == 400, res.text
    assert "not the key" in _one_line(res) and "SYN-" not in res.text


def test_an_import_with_another_key_is_refused(api, case, tmp_path):
    other = tmp_path / "other.key"
    write_key(other)
    before = {t: _text(f) for t, f in api.person_tables().items()}
    res = api.post("imports", files=case.form(key=other))
    assert 400 <= res.status_code < 500, res.text
    assert "not the key" in _one_line(res)
    assert {t: _text(f) for t, f in api.person_tables().items()} == before
    row = api.audit_rows()[-1]
    assert (row["action"], row["outcome"]) == ("persons.import", "failed")
    assert other.read_text().strip() not in json.dumps(api.audit_rows())


# -- 4. bad input ---------------------------------------------------------------------------------------
def _broken(case: Case, tmp_path: Path, name: str, row: int, column: str, value: str) -> Path:
    """A copy of the case files with one cell changed (``row`` counts the header as row 1)."""
    folder = tmp_path / "broken"
    shutil.copytree(case.folder, folder)
    frame = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
    frame.loc[row - 2, column] = value
    frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.mark.parametrize(
    ("name", "row", "column", "value", "where"),
    [
        ("cells", 3, "organization", "no such cartel", "cells.csv:3:2"),
        ("persons", 4, "role", "boss", "persons.csv:4:3"),
        ("links", 5, "confidence", "1.5", "links.csv:5:5"),
        ("links", 2, "person", "SYN-9999999", "links.csv:2:1"),
    ],
)
def test_a_bad_case_file_is_one_line_naming_file_row_and_column(
    bare, case, tmp_path, name, row, column, value, where
):
    folder = _broken(case, tmp_path, name, row, column, value)
    res = bare.post("imports", files=case.form(folder=folder))
    assert res.status_code == 422, res.text
    line = _one_line(res)
    assert line.startswith(where + ":"), line
    assert "/" not in line.split(":")[0] and "vdto-persons-" not in line and str(tmp_path) not in line
    assert not RAW_ID.search(line)  # an identifier's value is never shown
    assert bare.person_tables()["person_members"].empty
    row_ = bare.audit_rows()[-1]
    assert (row_["outcome"], row_["status"]) == ("failed", 422) and "vdto-persons-" not in (
        row_["detail"] or ""
    )


def test_a_bad_key_file_is_named_without_the_servers_folder(bare, case, tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    res = bare.post("imports", files=case.form(key=bad))
    assert res.status_code == 422, res.text
    line = _one_line(res)
    assert "not a person key" in line and "vdto-persons-" not in line and "/tmp" not in line


@pytest.mark.parametrize("part", ["cells", "persons", "links", "key"])
def test_a_missing_part_is_422(bare, case, part):
    res = bare.post("imports", files=case.form(leave_out=part))
    assert res.status_code == 422, res.text
    assert f"'{part}'" in _one_line(res)
    assert bare.person_tables()["person_members"].empty


def test_ties_are_optional(bare, case):
    res = bare.post("imports", files=case.form(leave_out="ties"))
    assert res.status_code == 201, res.text
    assert res.json()["counts"]["ties"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"pseudonym": "p_123"},
        {"pseudonym": "SYN-0000001"},
        {"pseudonym": "p_" + "g" * 24},
        {"identifier": "SYN-0000001", "key": "short"},
        {"pseudonym": "p_" + "a" * 24, "who": "x"},
    ],
)
def test_a_bad_forget_request_is_422(api, body):
    before = {t: _text(f) for t, f in api.person_tables().items()}
    res = api.post("forget", json=body)
    assert res.status_code == 422, res.text
    line = _one_line(res)
    assert "SYN-" not in line
    assert {t: _text(f) for t, f in api.person_tables().items()} == before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("cells", b""),
        ("persons", b"\x00\x01\x02\xff\xfe binary"),
        (
            "links",
            "person,source,source_id,kind,confidence\nSYN-0000001,ucdp,1,suspect,0.5\n".encode("utf-16"),
        ),
        ("cells", b"cell,organization\n"),
        ("persons", b"person,cell,role\nSYN-0000001,x,member\n"),
        ("ties", b"person,other,extra\nSYN-0000001,SYN-0000002,1\n"),
    ],
)
def test_an_unreadable_case_file_is_one_line_422(bare, case, tmp_path, monkeypatch, name, content):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "server-tmp"))
    (tmp_path / "server-tmp").mkdir()
    form = case.form()
    form[name] = (f"{name}.csv", content, "text/csv")
    res = bare.post("imports", files=form)
    assert res.status_code == 422, res.text
    line = _one_line(res)
    assert "server-tmp" not in line and "vdto-persons-" not in line and not RAW_ID.search(line), line
    assert bare.person_tables()["person_members"].empty
    assert list((tmp_path / "server-tmp").iterdir()) == []  # the upload is gone


def test_the_key_never_touches_the_servers_disk(bare, case, tmp_path, monkeypatch):
    import tempfile

    import vdto.api.persons as endpoints

    server_tmp = tmp_path / "server-tmp"
    server_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(server_tmp))
    seen: list[str] = []
    real = endpoints._import

    def spy(*args, **kwargs):  # what the upload left on disk while the import runs
        seen.extend(p.read_bytes().decode("utf-8", "replace") for p in server_tmp.rglob("*") if p.is_file())
        return real(*args, **kwargs)

    monkeypatch.setattr(endpoints, "_import", spy)
    res = bare.post("imports", files=case.form())
    assert res.status_code == 201, res.text
    assert len(seen) == 4  # the four case files, and no key
    assert not any(case.key_hex in text for text in seen)
    assert list(server_tmp.iterdir()) == []


def test_retention_set_at_import_and_forgetting_the_expired(bare, case):
    res = bare.post("imports", params={"retention_days": 1}, files=case.form())
    assert res.status_code == 201, res.text
    assert res.json()["retention_days"] == 1
    key = read_key(case.key)
    members = case.files.persons
    closed = members.groupby("person")["end"].apply(lambda e: e.notna().all())
    expected = sorted(key.pseudonym("mx", r) for r in closed[closed].index)
    assert expected and len(expected) < members["person"].nunique()
    before = len(bare.audit_rows())
    res = bare.post("forget", json={"expired": True})
    assert res.status_code == 200, res.text
    assert sorted(res.json()["persons"]) == expected
    assert not (set(expected) & _stored_persons(bare))
    rows = bare.audit_rows()[before:]
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("persons.forget.expired", "started"),
        ("persons.forget.expired", "ok"),
    ]
