"""One agency cannot act for both (issue: hardening, item 2): a round over several agencies
names a target only when they agree, is announced and closed only by all of them, and its
scorecards are not shown to agencies outside it before it is public."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fastapi.testclient import TestClient

from vdto.access.tokens import create_token
from vdto.api.app import create_app
from vdto.errors import PermissionDenied, VdtoError
from vdto.publication.keys import Signer, new_keypair
from vdto.publication.ledger import Ledger, entry_hash, verify
from vdto.publication.rounds import announce_round, close_round, get_round, open_round, request_close
from vdto.store import Store

from ..test_rounds import agency_file, many


@pytest.fixture
def shared(tmp_path):
    """mx and us data naming CJNG, keys for both, a round over both announced by both."""
    agency_file(tmp_path, "mx", many("a", "CJNG", 20) + many("b", "Cártel de Sinaloa", 5))
    agency_file(tmp_path, "us", many("a", "CJNG", 18) + many("b", "Cártel de Sinaloa", 4))
    (tmp_path / "keys").mkdir()
    keys = {a: Signer.load(new_keypair(a, tmp_path / "keys")[0]) for a in ("mx", "us")}
    return tmp_path, keys


def test_one_agency_cannot_waive_agreement_for_a_shared_round(shared):
    tmp_path, _ = shared
    with Store(tmp_path / "s.duckdb") as store:
        with pytest.raises(PermissionDenied, match="only when they agree"):
            open_round(
                store, date(2020, 1, 1), date(2020, 12, 31), ["mx", "us"], require_agreement=False, draws=100
            )
        token = create_token(store, "mx", "analyst")[0]
    client = TestClient(create_app(tmp_path / "s.duckdb"))
    res = client.post("/rounds", headers={"Authorization": f"Bearer {token}"},
                      json={"from": "2020-01-01", "to": "2020-12-31", "agencies": ["mx", "us"],
                            "require_agreement": False, "draws": 100})  # fmt: skip
    assert res.status_code == 403 and "agree" in res.json()["detail"]


def test_one_agency_alone_cannot_announce_or_close_a_shared_round(shared):
    tmp_path, keys = shared
    ledger = tmp_path / "ledger.jsonl"
    with Store(tmp_path / "s.duckdb") as store:
        rnd = open_round(store, date(2020, 1, 1), date(2020, 12, 31), ["mx", "us"], draws=100)
        with pytest.raises(VdtoError, match="no key for agency 'us'"):
            announce_round(store, rnd.round_id, ledger, [keys["mx"]])
        announce_round(store, rnd.round_id, ledger, [keys["mx"], keys["us"]])
        with pytest.raises(PermissionDenied, match="needs every agency"):
            close_round(
                store, rnd.round_id, "withdrawn", "us alone", ledger_path=ledger, signers=[keys["us"]]
            )
        asked = request_close(store, rnd.round_id, "us", "t-us", "withdrawn", "us alone", ledger_path=ledger,
                              signer_for=keys.__getitem__)  # fmt: skip
        assert asked.waiting_for == ["mx"] and get_round(store, rnd.round_id).status == "announced"
        done = request_close(store, rnd.round_id, "mx", "t-mx", "withdrawn", "agreed", ledger_path=ledger,
                             signer_for=keys.__getitem__)  # fmt: skip
        assert done.round.status == "closed" and done.waiting_for == []
    last = json.loads(ledger.read_text().splitlines()[-1])
    assert last["kind"] == "round-close" and {s["agency"] for s in last["signatures"]} == {"mx", "us"}
    assert verify(ledger).ok


def test_verify_refuses_an_announcement_carrying_a_scorecard_its_agency_did_not_sign(shared):
    tmp_path, keys = shared
    agencies = {a: k.public_hex for a, k in keys.items()}
    ledger = Ledger.init(tmp_path / "forged.jsonl", {"agencies": agencies}, [keys["mx"], keys["us"]])
    card = {"round": 1, "target": "sinaloa", "scorecards": {"mx": {}, "us": {}}}
    with pytest.raises(VdtoError, match="not signed by 'us'"):  # the writer refuses to make it
        ledger.append("announcement", card, [keys["mx"]])
    ledger.append("announcement", card, [keys["mx"], keys["us"]])
    # a forger drops us's signature from the published line: verify says so
    lines = ledger.path.read_text().splitlines()
    entry = json.loads(lines[-1])
    entry["signatures"] = [sig for sig in entry["signatures"] if sig["agency"] == "mx"]
    entry["hash"] = entry_hash(entry)  # a consistent line, as a forger would write it
    lines[-1] = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    ledger.path.write_text("\n".join(lines) + "\n")
    report = verify(ledger.path)
    assert not report.ok and "not signed by 'us'" in report.problem, report.problem


def test_an_open_rounds_scorecards_are_shown_only_to_its_agencies(shared):
    tmp_path, _ = shared
    agency_file(tmp_path, "zz", many("z", "CJNG", 3))
    with Store(tmp_path / "s.duckdb") as store:
        rnd = open_round(store, date(2020, 1, 1), date(2020, 12, 31), ["mx", "us"], draws=100)
        outsider = create_token(store, "zz", "analyst")[0]
        insider = create_token(store, "us", "analyst")[0]
    client = TestClient(create_app(tmp_path / "s.duckdb"))
    seen = client.get(f"/rounds/{rnd.round_id}", headers={"Authorization": f"Bearer {outsider}"}).json()
    assert seen["evidence"] is None
    mine = client.get(f"/rounds/{rnd.round_id}", headers={"Authorization": f"Bearer {insider}"}).json()
    assert set(mine["evidence"]) == {"mx", "us"}
