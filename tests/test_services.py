"""The services every shell calls: the same request gets the same answer from the CLI and the API.

An organization dismantled by an earlier round is listed apart, never ranked, whichever shell asks
(vdto.services.scoring is the one place that rule lives).
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from vdto.access.tokens import create_token
from vdto.api.app import create_app
from vdto.publication.keys import Signer
from vdto.publication.rounds import announce_round, close_round, open_round
from vdto.services.scoring import rank_window, score_window
from vdto.store import Store

from .conftest import run_here


@pytest.fixture(scope="module")
def dismantled_store(ucdp_store, tmp_path_factory):
    """The real UCDP store after a round named CJNG for 2020 and closed it as dismantled."""
    folder = tmp_path_factory.mktemp("dismantled")
    db = folder / "s.duckdb"
    db.write_bytes(ucdp_store[0].read_bytes())
    signer = Signer("default", Ed25519PrivateKey.from_private_bytes(bytes([3]) * 32))
    with Store(db) as store:
        rnd = open_round(store, date(2020, 1, 1), date(2020, 12, 31), ["default"], draws=500, seed=7)
        assert rnd.target == "cjng"
        announce_round(store, rnd.round_id, folder / "ledger.jsonl", [signer])
        close_round(store, rnd.round_id, "dismantled", on=date(2024, 6, 1))
        token, _ = create_token(store, "default", "analyst")
    return db, token


def test_dismantled_organization_is_listed_apart_by_the_service(dismantled_store):
    db, _ = dismantled_store
    with Store(db, read_only=True) as store:
        res = score_window(store, date(2021, 1, 1), date(2021, 12, 31), draws=200, seed=7)
        ranking = rank_window(store, date(2021, 1, 1), date(2021, 12, 31), draws=200, seed=7)
    assert "cjng" not in set(res.table["org"]) and "cjng" in set(res.dismantled["org"])
    assert ranking.decision.target != "cjng"
    assert list(ranking.table["org"]) == list(res.table["org"])


def test_cli_and_api_rank_the_same_way(dismantled_store):
    db, token = dismantled_store
    cli = run_here("rank", "--from", "2021", "--to", "2021", "--draws", "300", "--seed", "11",
                   "--format", "json", "--db", str(db))  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    by_cli = json.loads(cli.stdout)
    client = TestClient(create_app(db))
    res = client.post(
        "/agencies/default/score",
        headers={"Authorization": f"Bearer {token}"},
        json={"from": "2021-01-01", "to": "2021-12-31", "draws": 300, "seed": 11},
    )
    assert res.status_code == 200, res.text
    by_api = res.json()
    # the same organizations, in the same order, with the same scores and P(rank 1)
    cli_rows = [(r["org"], round(r["score"], 6), round(r["p_rank1"], 6)) for r in by_cli["rows"]]
    api_rows = [(r["org"], round(r["score"], 6), round(r["p_rank1"], 6)) for r in by_api["ranking"]]
    assert cli_rows == api_rows
    assert "cjng" not in {org for org, _, _ in cli_rows}
    assert [r["org"] for r in by_cli["dismantled"]] == [r["org"] for r in by_api["dismantled"]] == ["cjng"]
    assert by_cli["decision"] == by_api["decision"]
    assert by_cli["meta"]["data_sha256"] == by_api["meta"]["data_sha256"]
