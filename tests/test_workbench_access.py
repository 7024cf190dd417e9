"""Every endpoint of an agency's space the workbench calls, against every token that must not pass.

The table below holds one valid request per operation under ``/agencies/{agency}`` and the role it
needs; a test fails when the API has an operation the table lacks, so a new endpoint cannot ship
without its row. For each operation: every role of another agency gets 403 (no agency reads or
writes another's space), no token gets 401, and for the operations that need a role, each other
role of the agency gets 403. Each refused write leaves its ``refused`` audit row and nothing else.
(The rounds' writes, outside ``/agencies/``, have their matrix in test_workbench_rounds.py and
test_api.py.)
"""

from __future__ import annotations

import shutil
import warnings

import pytest

from tests.test_api import agency_csv, rows
from vdto.access import audit
from vdto.access.tokens import ROLES, authenticate
from vdto.api.app import create_app
from vdto.store import Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ANY = "any"
WINDOW = {"from": "2021-01-01", "to": "2021-12-31"}

#: a person import's form (case files and key; refused before it is read)
PERSONS_FORM = {
    "cells": ("cells.csv", b"cell,organization\nc1,cjng\n", "text/csv"),
    "persons": ("persons.csv", b"person,cell,role,start\nA-1,c1,leader,2020-01-01\n", "text/csv"),
    "links": ("links.csv", b"person,source,source_id,kind,confidence\n", "text/csv"),
    "key": ("agency.key", b"00" * 32 + b"\n", "application/octet-stream"),
}

#: (method, path) -> (role it needs, request keyword arguments); "upload" is filled in per test
CASES: dict[tuple[str, str], tuple[str, object]] = {
    ("GET", "/agencies/{agency}/imports"): (ANY, {}),
    ("POST", "/agencies/{agency}/imports/{kind}"): ("analyst", "upload"),
    ("POST", "/agencies/{agency}/score"): ("analyst", {"json": {"draws": 10}}),
    ("GET", "/agencies/{agency}/tokens"): ("admin", {}),
    ("POST", "/agencies/{agency}/tokens"): ("admin", {"json": {"role": "analyst"}}),
    ("DELETE", "/agencies/{agency}/tokens/{token_id}"): ("admin", {}),
    ("GET", "/agencies/{agency}/audit"): ("admin", {}),
    ("GET", "/agencies/{agency}/events"): (ANY, {"params": {**WINDOW, "entity": "14"}}),
    ("GET", "/agencies/{agency}/events/facets"): (ANY, {"params": WINDOW}),
    ("GET", "/agencies/{agency}/events/download"): (ANY, {"params": {**WINDOW, "format": "csv"}}),
    ("POST", "/agencies/{agency}/ranking"): ("analyst", {"json": {**WINDOW, "draws": 50}}),
    ("POST", "/agencies/{agency}/comparison"): ("analyst", {"json": {**WINDOW, "with": "us", "draws": 50}}),
    ("GET", "/agencies/{agency}/regions"): (ANY, {"params": {**WINDOW, "level": "state"}}),
    ("GET", "/agencies/{agency}/regions/{code}"): (ANY, {"params": WINDOW}),
    ("GET", "/agencies/{agency}/network"): (ANY, {"params": {"target": "cjng"}}),
    ("GET", "/agencies/{agency}/network/export"): (ANY, {"params": {"target": "cjng", "format": "gexf"}}),
    ("POST", "/agencies/{agency}/simulations"): (
        "analyst",
        {"json": {"scenario": "small", "policies": ["none"], "replicates": 1}},
    ),
    ("GET", "/agencies/{agency}/simulations"): (ANY, {}),
    ("GET", "/agencies/{agency}/simulations/{job}"): (ANY, {}),
    # person-level records: the owning agency's analysts only (tests/test_persons_api.py has the rest)
    ("POST", "/agencies/{agency}/persons/imports"): ("analyst", {"files": PERSONS_FORM}),
    ("POST", "/agencies/{agency}/persons/scores"): ("analyst", {"json": {**WINDOW, "draws": 10}}),
    ("POST", "/agencies/{agency}/persons/audit"): ("analyst", {"json": {**WINDOW, "draws": 10}}),
    ("POST", "/agencies/{agency}/persons/list"): ("analyst", {"json": {**WINDOW, "draws": 10, "top": 5}}),
    ("POST", "/agencies/{agency}/persons/export"): (
        "analyst",
        {"json": {**WINDOW, "draws": 10, "format": "i2"}},
    ),
    ("POST", "/agencies/{agency}/persons/forget"): ("analyst", {"json": {"pseudonym": "p_" + "0" * 24}}),
}
WRITES = {"POST", "DELETE", "PUT", "PATCH"}


@pytest.fixture
def client(wb_data, tmp_path):
    db = tmp_path / "wb.duckdb"
    shutil.copy(wb_data.db, db)
    app = create_app(db)
    with Store(db, read_only=True) as store:
        token_id = authenticate(store, wb_data.tokens["mx", "analyst"]).token_id
    return TestClient(app), db, token_id


def _path(template: str, token_id: str) -> str:
    return template.format(agency="mx", kind="csv", token_id=token_id, code="14", job="0123456789abcdef")


def _kwargs(spec: object, tmp_path) -> dict:
    if spec == "upload":
        csv, mapping = agency_csv(tmp_path, "mx", rows("acc", "CJNG", 3))
        return {
            "files": {
                "file": (csv.name, csv.read_bytes(), "text/csv"),
                "mapping": (mapping.name, mapping.read_bytes()),
            }
        }
    assert isinstance(spec, dict)
    return spec


def _snapshot(db) -> dict:
    with Store(db, read_only=True) as store:
        tables = ("events", "imports", "api_tokens", "rounds")
        return {t: store.query(f"SELECT * FROM {t}").to_csv(index=False) for t in tables}


def _audit(db) -> list[dict]:
    with Store(db, read_only=True) as store:
        return [e.as_dict() for e in reversed(audit.entries(store, limit=10_000))]


def test_the_table_covers_every_operation_of_an_agencys_space():
    spec = create_app("unused.duckdb").openapi()
    ops = {
        (m.upper(), p)
        for p, item in spec["paths"].items()
        if p.startswith("/agencies/{agency}")
        for m in item
    }
    assert ops == set(CASES), (sorted(ops - set(CASES)), sorted(set(CASES) - ops))


@pytest.mark.parametrize(("method", "template"), list(CASES), ids=[f"{m} {p}" for m, p in CASES])
def test_no_other_agency_and_no_other_role_passes(client, wb_data, tmp_path, method, template):
    test_client, db, token_id = client
    role, spec = CASES[method, template]
    path = _path(template, token_id)
    before, audit_before = _snapshot(db), _audit(db)
    refused: list[tuple[str, str, int]] = []
    for agency in ("us", "zz"):
        for r in ROLES:
            refused.append((agency, r, 403))
    if role != ANY:
        refused += [("mx", r, 403) for r in ROLES if r != role]
    for agency, r, status in refused:
        head = {"Authorization": f"Bearer {wb_data.tokens[agency, r]}"}
        res = test_client.request(method, path, headers=head, **_kwargs(spec, tmp_path))
        assert res.status_code == status, (agency, r, res.status_code, res.text[:300])
        detail = res.json()["detail"]
        assert isinstance(detail, str) and "\n" not in detail
    res = test_client.request(method, path, **_kwargs(spec, tmp_path))
    assert res.status_code == 401, res.text[:300]
    assert _snapshot(db) == before  # nothing changed...
    if method in WRITES:  # ...but one "refused" row per refused write
        new = _audit(db)[len(audit_before) :]
        assert [(row["outcome"], row["status"]) for row in new] == [("refused", s) for *_, s in refused] + [
            ("refused", 401)
        ]


def test_the_workbench_writes_are_audited_like_any_client(client, wb_data):
    test_client, db, _ = client
    head = {"Authorization": f"Bearer {wb_data.tokens['mx', 'analyst']}"}
    before = len(_audit(db))
    res = test_client.post("/agencies/mx/ranking", headers=head, json={**WINDOW, "draws": 50})
    assert res.status_code == 200, res.text
    rows_ = _audit(db)[before:]
    assert [(r["action"], r["outcome"], r["agency"], r["role"]) for r in rows_] == [
        ("rank", "started", "mx", "analyst"),
        ("rank", "ok", "mx", "analyst"),
    ]
    assert all(r["path"] == "/agencies/mx/ranking" for r in rows_)
