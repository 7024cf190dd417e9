"""The ledger commands as a user runs them: bad input is one line and exit 2, and nothing is
appended; a failed check is exit 1 naming what failed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vdto.publication.keys import Signer, new_keypair
from vdto.publication.ledger import Ledger, canonical_json

from .conftest import assert_one_line_exit_2, run_here

T0 = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)


@pytest.fixture
def book(tmp_path: Path) -> tuple[Ledger, Path]:
    keys = tmp_path / "keys"
    for agency in ("mx", "us"):
        new_keypair(agency, keys)
    mx, us = Signer.load(keys / "mx.key"), Signer.load(keys / "us.key")
    ledger = Ledger.init(tmp_path / "ledger.jsonl", {"agencies": {"mx": mx.public_hex, "us": us.public_hex}},
                         [mx, us], T0)  # fmt: skip
    ledger.append("scorecard", {"round": 1}, [mx, us], T0)
    return ledger, keys


def files_of(ledger: Ledger) -> tuple[bytes, bytes]:
    return ledger.path.read_bytes(), ledger.checkpoints_path.read_bytes()


@pytest.mark.slow
def test_a_signature_over_other_bytes_is_refused_and_nothing_is_appended(book, tmp_path):
    ledger, keys = book
    res = run_here("ledger", "rotate", str(ledger.path), "--agency", "us", "--revoke", "--reason", "lost",
                  "--request", str(tmp_path / "r.json"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert run_here("sign", str(tmp_path / "r.json"), "--key", str(keys / "mx.key")).returncode == 0
    sig_path = tmp_path / "r.mx.sig.json"
    sig = json.loads(sig_path.read_text(encoding="utf-8"))
    sig["entry_sig"] = Signer.load(keys / "mx.key").sign(b"other bytes")
    sig_path.write_text(canonical_json(sig), encoding="utf-8")
    before = files_of(ledger)
    res = run_here("ledger", "assemble", str(ledger.path), str(tmp_path / "r.json"), "--sig", str(sig_path))
    assert_one_line_exit_2(
        res, "entry signature by 'mx' is not over the request's bytes", "nothing was appended"
    )
    assert files_of(ledger) == before
    # a signature file of another request, and a request edited after it was made
    sig["request_sha256"] = "0" * 64
    sig_path.write_text(canonical_json(sig), encoding="utf-8")
    res = run_here("ledger", "assemble", str(ledger.path), str(tmp_path / "r.json"), "--sig", str(sig_path))
    assert_one_line_exit_2(res, "is for another request")
    request = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    request["summary"] = "something else"
    (tmp_path / "r.json").write_text(canonical_json(request), encoding="utf-8")
    assert_one_line_exit_2(run_here("sign", str(tmp_path / "r.json"), "--key", str(keys / "mx.key")),
                           "changed after it was made")  # fmt: skip
    assert files_of(ledger) == before


@pytest.mark.slow
def test_malformed_checkpoint_and_proof_for_another_size_are_bad_input(book, tmp_path):
    ledger, keys = book
    bad = tmp_path / "bad.txt"
    bad.write_text("vdto.ledger/x\n02\nnot base64\n\n— mx AAAA\n", encoding="utf-8")
    assert_one_line_exit_2(run_here("verify", str(ledger.path), "--checkpoint", str(bad)), "bad.txt")
    notes = [r["note"] for r in ledger.checkpoints()]
    (tmp_path / "one.txt").write_text(notes[0], encoding="utf-8")
    (tmp_path / "two.txt").write_text(notes[1], encoding="utf-8")
    proof = ledger.consistency(1, 2) | {"old_size": 2, "new_size": 3}
    (tmp_path / "c.json").write_text(canonical_json(proof), encoding="utf-8")
    res = run_here(
        "verify",
        str(tmp_path / "c.json"),
        "--old",
        str(tmp_path / "one.txt"),
        "--new",
        str(tmp_path / "two.txt"),
    )
    assert_one_line_exit_2(res, "the proof is for sizes 2 to 3, the checkpoints are 1 and 2")
    # a witness given a proof for another size cosigns nothing
    assert run_here("witness", "new", "news.example/w", "--dir", str(tmp_path / "w")).returncode == 0
    cosign = ("witness", "cosign", "--trust", str(keys / "mx.pub"), "--dir", str(tmp_path / "w"))
    assert run_here(*cosign, str(tmp_path / "one.txt")).returncode == 0
    res = run_here(*cosign, str(tmp_path / "two.txt"), "--proof", str(tmp_path / "c.json"))
    assert_one_line_exit_2(res, "does not extend the last one cosigned", "not cosigned")
    # the right proof: cosigned; the log adds it; verify reports the witness
    (tmp_path / "c.json").write_text(canonical_json(ledger.consistency(1, 2)), encoding="utf-8")
    res = run_here(
        *cosign,
        str(tmp_path / "two.txt"),
        "--proof",
        str(tmp_path / "c.json"),
        "--out",
        str(tmp_path / "co.txt"),
    )
    assert res.returncode == 0, res.stderr
    vkey = str(tmp_path / "w" / "witness.vkey")
    assert (
        run_here(
            "ledger", "cosigned", str(ledger.path), str(tmp_path / "co.txt"), "--witness", vkey
        ).returncode
        == 0
    )
    res = run_here("verify", str(ledger.path), "--trust", str(keys), "--witness", vkey)
    assert res.returncode == 0 and "witnesses: news.example/w" in res.stdout, res.stdout


@pytest.mark.slow
def test_a_dropped_last_entry_fails_against_a_kept_checkpoint(book, tmp_path):
    ledger, _ = book
    (tmp_path / "kept.txt").write_text(ledger.latest_checkpoint() or "", encoding="utf-8")
    lines = ledger.path.read_bytes().split(b"\n")
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"\n".join(lines[:1]) + b"\n")
    res = run_here("verify", str(cut), "--checkpoint", str(tmp_path / "kept.txt"))
    assert res.returncode == 1
    assert "kept checkpoint: checkpoint covers 2 entries but the ledger has 1" in res.stderr
