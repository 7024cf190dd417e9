"""Access control that holds (issue: hardening, item 3): the audit trail of one agency is not
readable by another whose name is a pattern, failed authentications on reads are audited (at a
bounded rate), and tokens expire and rotate."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vdto.access import audit
from vdto.access.tokens import create_token, rotate_token
from vdto.api.app import create_app
from vdto.api.deps import FailureLog
from vdto.store import Store


@pytest.fixture
def server(tmp_path: Path):
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        tokens = {
            (a, r): create_token(store, a, r, label=f"{a} {r}")[0]
            for a in ("mx", "m_")
            for r in ("analyst", "admin")
        }
    return db, TestClient(create_app(db)), tokens


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_an_agency_named_like_a_pattern_reads_only_its_own_audit_rows(server):
    db, client, tokens = server
    assert client.post(
        "/agencies/mx/score", json={"draws": 10}, headers=_auth(tokens["mx", "analyst"])
    ).status_code
    assert client.get("/agencies/mx/tokens", headers=_auth(tokens["mx", "admin"])).status_code == 200
    with Store(db, read_only=True) as store:
        assert any(e.path.startswith("/agencies/mx/") for e in audit.entries(store, limit=100))
    rows = client.get("/agencies/m_/audit", headers=_auth(tokens["m_", "admin"]))
    assert rows.status_code == 200
    assert all(
        r["agency"] in ("m_", None) and not r["path"].startswith("/agencies/mx") for r in rows.json()
    ), rows.json()


def test_a_failed_authentication_on_a_read_is_audited(server):
    db, client, _ = server
    res = client.get("/agencies/mx/events", headers=_auth("vdto_0123456789ab_" + "x" * 43))
    assert res.status_code == 401
    with Store(db, read_only=True) as store:
        rows = audit.entries(store, limit=10)
    assert rows and rows[0].status == 401 and rows[0].outcome == "refused" and rows[0].method == "GET"
    assert rows[0].path == "/agencies/mx/events" and rows[0].detail


def test_a_flood_of_failures_writes_a_bounded_number_of_rows_and_says_so():
    log = FailureLog(per_minute=3)
    admitted = [log.admit(60.0 + i * 0.1) for i in range(10)]  # one minute: 3 rows, 7 left out
    assert [a for a, _ in admitted].count(True) == 3
    assert log.admit(125.0) == (True, 7)  # the next minute's first row says how many were left out
    assert log.admit(125.5) == (True, 0)


def test_tokens_expire(server):
    db, client, tokens = server
    token = tokens["mx", "analyst"]
    assert client.get("/me", headers=_auth(token)).status_code == 200
    with Store(db) as store:
        store.con.execute(
            "UPDATE api_tokens SET expires_at = TIMESTAMP '2000-01-01' WHERE label = 'mx analyst'"
        )
    assert client.get("/me", headers=_auth(token)).status_code == 401
    with Store(db, read_only=True) as store:
        assert "expired" in audit.entries(store, limit=1)[0].detail


def test_a_rotated_token_is_replaced_at_once(server, tmp_path):
    db, client, tokens = server
    old = tokens["mx", "admin"]
    old_id = old.split("_")[1]
    with Store(db) as store:
        new, info = rotate_token(store, old_id)
        assert info.expires_at and info.agency == "mx" and info.role == "admin"
    assert client.get("/me", headers=_auth(old)).status_code == 401
    assert client.get("/me", headers=_auth(new)).json()["token_id"] == info.token_id


def test_token_lifetimes_are_bounded(tmp_path):
    from vdto.errors import VdtoError

    with Store(tmp_path / "s.duckdb") as store, pytest.raises(VdtoError, match="1 to 366 days"):
        create_token(store, "mx", "analyst", days=5000)
