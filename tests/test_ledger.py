"""The publication ledger: keys, signing, hash chain, verification and atomic appends."""

from __future__ import annotations

import doctest
import hashlib
import itertools
import json
import os
import re
import stat
import tempfile
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vdto.publication.keys as keys_module
import vdto.publication.ledger as ledger_module
from vdto.errors import VdtoError
from vdto.publication.keys import Signer, load_public_key, load_trusted, new_keypair
from vdto.publication.ledger import (
    ZERO_HASH,
    Ledger,
    canonical_json,
    entry_hash,
    signed_bytes,
    verify,
)

T0 = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
POSIX = os.name != "nt"


# ------------------------------------------------------------------------------------ helpers


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def forge(
    seq: int, kind: str, prev: str, payload: dict, signers: list[Signer], time: str = "2026-11-21T23:00:00Z"
):
    """An entry built by hand (bypassing Ledger.append's refusals), correctly hashed."""
    entry = {
        "seq": seq,
        "kind": kind,
        "time": time,
        "prev": prev,
        "payload": payload,
        "payload_sha256": sha(canonical_json(payload)),
    }
    message = signed_bytes(entry)
    entry["signatures"] = [{"agency": s.agency, "key": s.public_hex, "sig": s.sign(message)} for s in signers]
    entry["hash"] = entry_hash(entry)
    return entry


def line_of(entry: dict) -> bytes:
    return (canonical_json(entry) + "\n").encode("utf-8")


def lines_of(path: Path) -> list[bytes]:
    return [line + b"\n" for line in path.read_bytes().split(b"\n")[:-1]]


def rule_payload(*signers: Signer) -> dict:
    return {"agencies": {s.agency: s.public_hex for s in signers}, "rubric": "default-v1"}


def make_keys(folder: Path, *agencies: str) -> dict[str, Signer]:
    return {a: Signer.load(new_keypair(a, folder)[0]) for a in agencies}


def build_six(path: Path, mx: Signer, us: Signer) -> list[dict]:
    """Rule by both, then five scorecards/closes signed by one agency or co-signed by both."""
    book = Ledger.init(path, rule_payload(mx, us), [mx, us], T0)
    written = book.entries()
    plan = [
        ("scorecard", {"round": 1, "agency": "mx", "top": ["cjng", "sinaloa"]}, [mx]),
        ("scorecard", {"round": 1, "agency": "us", "top": ["cjng", "noreste"]}, [us]),
        ("scorecard", {"round": 1, "joint": True, "top": ["cjng"], "note": "Cártel Jalisco"}, [us, mx]),
        ("round-close", {"round": 1, "target": "cjng"}, [mx, us]),
        ("scorecard", {"round": 2, "agency": "mx", "scores": {"cjng": 12.5, "cdn": 3.25}}, [mx]),
    ]
    for n, (kind, payload, signers) in enumerate(plan, 1):
        written.append(book.append(kind, payload, signers, T0 + timedelta(days=n)))
    return written


@pytest.fixture
def keys(tmp_path) -> dict[str, Signer]:
    return make_keys(tmp_path / "keys", "mx", "us", "eu")


@pytest.fixture
def six(tmp_path, keys) -> tuple[Path, list[dict]]:
    path = tmp_path / "ledger.jsonl"
    return path, build_six(path, keys["mx"], keys["us"])


@pytest.fixture(scope="module")
def six_bytes(tmp_path_factory) -> bytes:
    """The bytes of a valid six-entry ledger (shared by the tamper tests)."""
    folder = tmp_path_factory.mktemp("six")
    signers = make_keys(folder / "keys", "mx", "us")
    build_six(folder / "ledger.jsonl", signers["mx"], signers["us"])
    return (folder / "ledger.jsonl").read_bytes()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scratch") / "ledger.jsonl"


def check_bytes(path: Path, data: bytes, trusted=None):
    path.write_bytes(data)
    return verify(path, trusted)


# --------------------------------------------------------------------------------------- keys


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
def test_new_keypair_writes_0600_key_and_hex_pub(tmp_path):
    key, pub = new_keypair("mx", tmp_path)
    assert (key, pub) == (tmp_path / "mx.key", tmp_path / "mx.pub")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    text = pub.read_text()
    assert re.fullmatch(r"[0-9a-f]{64}\n", text)
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    signer = Signer.load(key)
    assert signer.agency == "mx"
    assert signer.public_hex == text.strip() == load_public_key(pub)


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
def test_key_is_0600_even_with_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        key, pub = new_keypair("us", tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(pub.stat().st_mode) == 0o644


def test_private_key_never_in_pub_file_or_repr_or_output(tmp_path, capsys):
    key, pub = new_keypair("mx", tmp_path)
    signer = Signer.load(key)
    raw = signer._key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pub_bytes = pub.read_bytes()
    assert raw not in pub_bytes
    assert raw.hex().encode() not in pub_bytes
    assert b"PRIVATE" not in pub_bytes
    assert raw.hex() not in repr(signer)
    out = capsys.readouterr()
    assert out.out == out.err == ""
    result = new_keypair("us", tmp_path)
    assert all(isinstance(p, Path) for p in result)


def test_new_keypair_refuses_to_overwrite(tmp_path):
    key, pub = new_keypair("mx", tmp_path)
    before = (key.read_bytes(), pub.read_bytes())
    with pytest.raises(VdtoError, match=re.escape(str(key))) as caught:
        new_keypair("mx", tmp_path)
    assert "another folder" in str(caught.value)
    assert (key.read_bytes(), pub.read_bytes()) == before


def test_new_keypair_refuses_when_only_the_pub_exists_and_writes_nothing(tmp_path):
    (tmp_path / "us.pub").write_text("x\n")
    with pytest.raises(VdtoError, match=re.escape(str(tmp_path / "us.pub"))):
        new_keypair("us", tmp_path)
    assert not (tmp_path / "us.key").exists()
    assert (tmp_path / "us.pub").read_text() == "x\n"


def test_new_keypair_creates_a_missing_folder(tmp_path):
    folder = tmp_path / "a" / "b"
    key, pub = new_keypair("mx", folder)
    assert (key, pub) == (folder / "mx.key", folder / "mx.pub")
    assert key.is_file() and Signer.load(key).public_hex == load_public_key(pub)
    if POSIX:  # the folder is created private (mode 0700), as documented
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@pytest.mark.parametrize("name", ["", "MX", "m x", "a" * 33, "../mx", "mx.key", "méx", "mx\n", None])
def test_bad_agency_names_are_refused(tmp_path, name):
    with pytest.raises(VdtoError, match="agency name"):
        new_keypair(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=40, deadline=None)
@given(name=st.text(max_size=40))
def test_agency_names_follow_the_pattern(name):
    with tempfile.TemporaryDirectory() as folder:
        if re.fullmatch(r"[a-z0-9_-]{1,32}", name):
            key, _pub = new_keypair(name, folder)
            assert key.name == f"{name}.key" and Signer.load(key).agency == name
        else:
            with pytest.raises(VdtoError):
                new_keypair(name, folder)
            assert os.listdir(folder) == []


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_signer_refuses_a_key_readable_by_others(tmp_path, mode):
    key, _ = new_keypair("mx", tmp_path)
    key.chmod(mode)
    with pytest.raises(VdtoError) as caught:
        Signer.load(key)
    assert str(caught.value) == f"{key}: private key is readable by others; chmod 600 {key}"


def test_signer_load_errors_name_the_path(tmp_path):
    missing = tmp_path / "mx.key"
    with pytest.raises(VdtoError, match=re.escape(str(missing))):
        Signer.load(missing)

    junk = tmp_path / "us.key"
    junk.write_text("not a key\n")
    junk.chmod(0o600)
    with pytest.raises(VdtoError, match="not a PEM private key"):
        Signer.load(junk)

    _, pub = new_keypair("eu", tmp_path / "k")
    pub.chmod(0o600)
    with pytest.raises(VdtoError, match=re.escape(str(pub))):
        Signer.load(pub)

    other = tmp_path / "ec.key"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    other.chmod(0o600)
    with pytest.raises(VdtoError, match="not an Ed25519 private key"):
        Signer.load(other)

    locked = tmp_path / "ca.key"
    locked.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    locked.chmod(0o600)
    with pytest.raises(VdtoError, match="encrypted"):
        Signer.load(locked)

    badname = tmp_path / "MX.key"
    badname.write_bytes((tmp_path / "k" / "eu.key").read_bytes())
    badname.chmod(0o600)
    with pytest.raises(VdtoError, match="agency name"):
        Signer.load(badname)


@pytest.mark.parametrize(
    "content",
    ["", "abc\n", "g" * 64 + "\n", "ab" * 31 + "\n", "ab" * 33 + "\n", "-----BEGIN PRIVATE KEY-----\n"],
)
def test_load_public_key_refuses_bad_content(tmp_path, content):
    path = tmp_path / "mx.pub"
    path.write_text(content)
    with pytest.raises(VdtoError, match=re.escape(str(path))):
        load_public_key(path)


def test_load_trusted_reads_files_and_folders(tmp_path, keys):
    folder = tmp_path / "keys"
    assert load_trusted([folder]) == {a: s.public_hex for a, s in keys.items()}
    assert load_trusted([folder / "mx.pub"]) == {"mx": keys["mx"].public_hex}
    (tmp_path / "empty").mkdir()
    with pytest.raises(VdtoError, match=r"no \.pub file"):
        load_trusted([tmp_path / "empty"])
    new_keypair("mx", tmp_path / "other")
    with pytest.raises(VdtoError, match="two different keys"):
        load_trusted([folder / "mx.pub", tmp_path / "other" / "mx.pub"])


# ---------------------------------------------------------------------------- a good ledger


def test_six_entry_ledger_verifies(six, keys):
    path, written = six
    report = verify(path)
    assert report.ok and report.problem == "" and report.first_bad is None
    assert report.entries == 6
    last_line = json.loads(path.read_text(encoding="utf-8").split("\n")[-2])
    assert report.last_hash == last_line["hash"] == written[-1]["hash"]
    assert report.agencies == {"mx": keys["mx"].public_hex, "us": keys["us"].public_hex}
    assert Ledger(path).entries() == written
    assert [e["seq"] for e in written] == [1, 2, 3, 4, 5, 6]
    assert [e["kind"] for e in written] == [
        "rule",
        "scorecard",
        "scorecard",
        "scorecard",
        "round-close",
        "scorecard",
    ]
    assert written[0]["prev"] == ZERO_HASH
    assert all(b["prev"] == a["hash"] for a, b in itertools.pairwise(written))
    assert written[2]["time"] == "2026-11-23T23:00:00Z"


def test_every_line_is_canonical_json_with_exactly_the_entry_keys(six):
    path, _ = six
    for text in path.read_text(encoding="utf-8").split("\n")[:-1]:
        entry = json.loads(text)
        assert canonical_json(entry) == text
        assert set(entry) == {
            "seq",
            "kind",
            "time",
            "prev",
            "payload",
            "payload_sha256",
            "quorum",
            "signatures",
            "hash",
        }
        assert entry["quorum"] == sorted({s["agency"] for s in entry["signatures"]})
        assert entry["payload_sha256"] == sha(canonical_json(entry["payload"]))
        without = {k: v for k, v in entry.items() if k != "hash"}
        assert entry["hash"] == sha(canonical_json(without))
    assert "Cártel" in path.read_text(encoding="utf-8")  # ensure_ascii=False


def test_co_signers_sign_the_same_bytes(six, keys):
    _, written = six
    cosigned = written[3]
    assert [s["agency"] for s in cosigned["signatures"]] == ["mx", "us"]
    assert cosigned["quorum"] == ["mx", "us"]  # signed: nobody can later drop a co-signer
    fields = ("seq", "kind", "time", "prev", "payload_sha256", "quorum")
    message = canonical_json({k: cosigned[k] for k in fields})
    assert message.encode("utf-8") == signed_bytes(cosigned)
    for sig in cosigned["signatures"]:
        public = keys[sig["agency"]]._key.public_key()
        public.verify(bytes.fromhex(sig["sig"]), message.encode("utf-8"))  # raises if wrong


def test_trusted_keys_that_match_pass(six, tmp_path, keys):
    path, _ = six
    trusted = {"mx": keys["mx"].public_hex, "us": keys["us"].public_hex.upper()}
    assert verify(path, trusted=trusted).ok


def test_doc_examples_run():
    result = doctest.testmod(ledger_module)
    assert result.attempted >= 30 and result.failed == 0
    keys = doctest.testmod(keys_module)
    assert keys.attempted >= 9 and keys.failed == 0


# -------------------------------------------------------------------------------- tampering


def test_flipping_any_byte_fails_that_line(six_bytes, scratch):
    """Every byte of every line (newline included), flipped in its lowest bit, fails its own line."""
    lines = [line + b"\n" for line in six_bytes.split(b"\n")[:-1]]
    start = 0
    for index, line in enumerate(lines):
        for offset in range(len(line)):
            data = bytearray(six_bytes)
            data[start + offset] ^= 0x01
            report = check_bytes(scratch, bytes(data))
            assert not report.ok, (index, offset)
            assert report.first_bad == index + 1, (index, offset, report.problem)
            assert report.last_hash is None
        start += len(line)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_changing_any_single_byte_to_any_value_fails_that_line(six_bytes, scratch, data):
    # Any change to a canonical line breaks that line itself: the JSON no longer parses (a changed
    # newline glues two lines, or cuts off the last one), or is no longer canonical, or a field no
    # longer matches the hash that covers all of it (or the hash field itself changed). A line
    # that still parses cannot stay valid, so the chain never breaks only at the next line.
    lines = [line + b"\n" for line in six_bytes.split(b"\n")[:-1]]
    index = data.draw(st.integers(0, len(lines) - 1), label="line")
    offset = data.draw(st.integers(0, len(lines[index]) - 1), label="offset")
    original = lines[index][offset]
    new = data.draw(st.integers(0, 255).filter(lambda b: b != original), label="byte")
    position = sum(len(x) for x in lines[:index]) + offset
    tampered = six_bytes[:position] + bytes([new]) + six_bytes[position + 1 :]
    report = check_bytes(scratch, tampered)
    assert not report.ok
    assert report.first_bad == index + 1, report.problem
    assert report.problem.startswith(f"entry {index + 1}: ")


@settings(max_examples=100, deadline=None)
@given(garbage=st.binary(max_size=300))
def test_verify_never_raises_on_garbage(garbage):
    with tempfile.TemporaryDirectory() as folder:
        report = check_bytes(Path(folder) / "l.jsonl", garbage)
    assert not report.ok and report.first_bad is not None and "\n" not in report.problem


@pytest.mark.parametrize(("a", "b"), [(0, 1), (1, 2), (2, 4), (4, 5), (0, 5)])
def test_reordering_two_entries_is_detected(six, a, b):
    path, _ = six
    lines = lines_of(path)
    lines[a], lines[b] = lines[b], lines[a]
    report = check_bytes(path, b"".join(lines))
    assert not report.ok
    assert report.first_bad == a + 1
    assert "reordered" in report.problem


@pytest.mark.parametrize("dropped", [0, 2, 4])
def test_dropping_an_entry_is_detected_where_it_was(six, dropped):
    path, _ = six
    lines = lines_of(path)
    del lines[dropped]
    report = check_bytes(path, b"".join(lines))
    assert not report.ok
    assert report.first_bad == dropped + 1
    assert "removed" in report.problem


def test_dropping_the_last_entry_is_caught_by_the_checkpoints(six):
    # Every append signs a checkpoint of the whole tree: a ledger cut short no longer reaches
    # the size of its latest checkpoint.
    path, written = six
    published = verify(path)
    assert (published.ok, published.checkpoints, published.checkpoint_size) == (True, 6, 6)
    assert published.last_hash == written[-1]["hash"]
    path.write_bytes(b"".join(lines_of(path)[:-1]))
    report = verify(path)
    assert (report.ok, report.entries, report.first_bad, report.where) == (False, 5, None, "checkpoint 6")
    assert report.problem == (
        "checkpoint 6: checkpoint covers 6 entries but the ledger has 5 (entries dropped from the end?)"
    )
    assert report.last_hash is None


def test_dropping_the_last_entry_and_its_checkpoints_needs_a_checkpoint_kept_elsewhere(six):
    # Nothing inside the files can show that entries are missing at the end once the checkpoints
    # are cut (or removed) too: a reader detects truncation with a checkpoint it kept (a
    # witness's, or checkpoint.txt of the published site).
    path, written = six
    book = Ledger(path)
    published = verify(path)
    kept_note = book.latest_checkpoint()
    sidecar = book.checkpoints_path
    path.write_bytes(b"".join(lines_of(path)[:-1]))
    sidecar.write_bytes(b"".join(lines_of(sidecar)[:-1]))
    report = verify(path)
    assert report.ok and report.checkpoints == 5 and report.checkpoint_size == 5
    assert report.entries == 5 != published.entries
    assert report.last_hash == written[4]["hash"] != published.last_hash
    sidecar.unlink()
    report = verify(path)
    assert report.ok and report.entries == 5 and report.checkpoint_size is None
    assert report.last_hash == written[4]["hash"]
    assert any(note.startswith("no signed checkpoint") for note in report.notes)
    report = verify(path, checkpoint=kept_note)
    assert (report.ok, report.entries, report.first_bad, report.where) == (False, 5, None, "kept checkpoint")
    assert report.problem == (
        "kept checkpoint: checkpoint covers 6 entries but the ledger has 5 (entries dropped from the end?)"
    )


def test_renumbering_after_a_removal_breaks_the_signatures(six, keys):
    # Removing entry 3 and rewriting seq/prev/hash of the following ones (as someone without the
    # keys could) fails: the signatures cover seq and prev.
    path, written = six
    kept = [written[0], written[1], *[dict(e) for e in written[3:]]]
    for seq, entry in enumerate(kept[2:], 3):
        entry["seq"], entry["prev"] = seq, kept[seq - 2]["hash"]
        entry["hash"] = entry_hash(entry)
    report = check_bytes(path, b"".join(line_of(e) for e in kept))
    assert (report.ok, report.first_bad) == (False, 3)
    assert report.problem == "entry 3: signature by 'mx' does not verify"


def test_message_for_each_broken_field(six, keys):
    path, written = six
    mx = keys["mx"]
    base = [line_of(e) for e in written]

    def with_line(n: int, entry: dict) -> str:
        lines = list(base)
        lines[n - 1] = line_of(entry)
        report = check_bytes(path, b"".join(lines))
        assert (report.ok, report.first_bad) == (False, n)
        return report.problem

    assert with_line(3, forge(3, "scorecard", ZERO_HASH, {"x": 1}, [mx])) == (
        "entry 3: prev does not match entry 2's hash (entries removed or reordered?)"
    )
    edited = dict(written[2], payload={"round": 1, "top": ["cdn"]})
    edited["hash"] = entry_hash(edited)
    assert with_line(3, edited) == "entry 3: payload_sha256 does not match the payload"
    assert (
        with_line(4, dict(written[3], time="2026-01-01T00:00:00Z"))
        == "entry 4: hash does not match the entry"
    )
    bad_sig = forge(5, "round-close", written[3]["hash"], {"x": 1}, [mx])
    bad_sig["signatures"][0]["sig"] = mx.sign(b"something else")
    bad_sig["hash"] = entry_hash(bad_sig)
    assert with_line(5, bad_sig) == "entry 5: signature by 'mx' does not verify"
    unsigned = forge(2, "scorecard", written[0]["hash"], {}, [])
    assert with_line(2, unsigned) == "entry 2: no signatures"
    twice = forge(2, "scorecard", written[0]["hash"], {}, [mx, mx])
    assert with_line(2, twice) == "entry 2: signed twice by 'mx'"
    extra = dict(written[1], note="x")
    assert with_line(2, extra).startswith("entry 2: wrong keys (unexpected 'note')")
    assert with_line(2, dict(written[1], seq=True)).startswith("entry 2: seq must be a positive integer")
    assert with_line(2, dict(written[1], time="2026-11-21 23:00")).startswith("entry 2: time must be UTC")
    lines = list(base)
    lines[1] = json.dumps(written[1]).encode() + b"\n"  # same content, spaces after separators
    report = check_bytes(path, b"".join(lines))
    assert (report.first_bad, report.problem) == (
        2,
        "entry 2: line is not canonical JSON (sorted keys, no spaces)",
    )
    lines[1] = b"{not json\n"
    assert check_bytes(path, b"".join(lines)).problem == "entry 2: not valid JSON"
    lines[1] = b"\n"
    assert check_bytes(path, b"".join(lines)).problem == "entry 2: empty line"


def test_signature_with_an_undeclared_key_is_refused(six, keys):
    path, written = six
    eu = keys["eu"]
    forged = forge(7, "scorecard", written[-1]["hash"], {"round": 2}, [eu])
    report = check_bytes(path, path.read_bytes() + line_of(forged))
    assert (report.ok, report.first_bad) == (False, 7)
    assert report.problem == "entry 7: signature by 'eu', which is not a declared agency (declared: mx, us)"
    path.write_bytes(b"".join(line_of(e) for e in written))
    with pytest.raises(VdtoError, match="not a declared agency"):
        Ledger(path).append("scorecard", {"round": 2}, [eu], T0)
    assert verify(path).entries == 6


def test_declared_agency_name_with_another_key_is_refused(six, keys):
    path, written = six
    impostor = Signer("us", Ed25519PrivateKey.generate())
    forged = forge(7, "scorecard", written[-1]["hash"], {"round": 2}, [keys["mx"], impostor])
    report = check_bytes(path, path.read_bytes() + line_of(forged))
    assert (report.ok, report.first_bad) == (False, 7)
    assert report.problem.startswith("entry 7: signature by 'us' is made with key ")
    assert "not the key declared for 'us'" in report.problem
    path.write_bytes(b"".join(line_of(e) for e in written))
    before = path.read_bytes()
    with pytest.raises(VdtoError, match="not the one declared"):
        Ledger(path).append("scorecard", {"round": 2}, [impostor], T0)
    assert path.read_bytes() == before


def test_rule_entry_must_be_signed_by_every_declared_agency(tmp_path, keys):
    mx, us = keys["mx"], keys["us"]
    path = tmp_path / "l.jsonl"
    rule = forge(1, "rule", ZERO_HASH, rule_payload(mx, us), [mx])
    report = check_bytes(path, line_of(rule))
    assert (report.ok, report.first_bad) == (False, 1)
    assert report.problem == "entry 1: rule entry is not signed by 'us' (every declared agency must sign it)"
    path.unlink()
    with pytest.raises(VdtoError, match="missing 'us'"):
        Ledger.init(path, rule_payload(mx, us), [mx], T0)
    assert not path.exists()


def test_rule_entry_rules(tmp_path, keys):
    mx, us, eu = keys["mx"], keys["us"], keys["eu"]
    path = tmp_path / "l.jsonl"
    first_card = forge(1, "scorecard", ZERO_HASH, rule_payload(mx), [mx])
    assert check_bytes(path, line_of(first_card)).problem == (
        "entry 1: the first entry must be a 'rule' entry (got 'scorecard')"
    )
    no_agencies = forge(1, "rule", ZERO_HASH, {"rubric": "default-v1"}, [mx])
    assert "must declare" in check_bytes(path, line_of(no_agencies)).problem
    outsider = forge(1, "rule", ZERO_HASH, rule_payload(mx), [mx, eu])
    assert check_bytes(path, line_of(outsider)).problem.startswith("entry 1: signature by 'eu', which is not")
    wrong_prev = forge(1, "rule", "1" * 64, rule_payload(mx), [mx])
    assert "prev does not match 64 zeros" in check_bytes(path, line_of(wrong_prev)).problem
    path.unlink()
    with pytest.raises(VdtoError, match="first entry must be a 'rule'"):
        Ledger(path).append("scorecard", {"round": 1}, [mx, us], T0)
    with pytest.raises(VdtoError, match="not a declared agency"):
        Ledger.init(path, rule_payload(mx), [mx, us], T0)
    assert not path.exists()


def test_trusted_pinning_mismatch(six, keys):
    path, _ = six
    mx, us, eu = keys["mx"].public_hex, keys["us"].public_hex, keys["eu"].public_hex
    cases = {
        "key": ({"mx": mx, "us": eu}, "entry 1: rule entry declares key"),
        "missing": (
            {"mx": mx, "us": us, "eu": eu},
            "entry 1: rule entry does not declare trusted agency 'eu'",
        ),
        "extra": (
            {"mx": mx},
            "entry 1: rule entry declares agency 'us', which is not among the trusted keys",
        ),
    }
    for trusted, message in cases.values():
        report = verify(path, trusted=trusted)
        assert (report.ok, report.first_bad, report.entries) == (False, 1, 6)
        assert report.problem.startswith(message)
    with pytest.raises(VdtoError):
        verify(path, trusted={"mx": "zz"})


def test_a_whole_ledger_rebuilt_with_other_keys_fails_only_with_pinning(tmp_path, keys):
    # Without pinned keys a ledger only proves it is consistent with the keys it declares itself.
    fake = make_keys(tmp_path / "fake", "mx", "us")
    path = tmp_path / "fake.jsonl"
    build_six(path, fake["mx"], fake["us"])
    assert verify(path).ok
    pinned = {"mx": keys["mx"].public_hex, "us": keys["us"].public_hex}
    assert verify(path, trusted=pinned).first_bad == 1


def test_empty_missing_and_unterminated_files(tmp_path, six):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    report = verify(empty)
    assert (report.ok, report.entries, report.first_bad) == (False, 0, 1)
    assert "no entries" in report.problem
    with pytest.raises(VdtoError, match="not found"):
        verify(tmp_path / "nope.jsonl")
    with pytest.raises(VdtoError, match="cannot read"):
        verify(tmp_path)
    path, _ = six
    report = check_bytes(path, path.read_bytes()[:-1])
    assert (report.ok, report.first_bad) == (False, 6)
    assert "newline" in report.problem
    report = check_bytes(path, path.read_bytes()[:-40])
    assert (report.ok, report.first_bad) == (False, 6)


# -------------------------------------------------------------------------------- appending


def test_append_refuses_a_ledger_that_does_not_verify(six, keys):
    path, _ = six
    lines = lines_of(path)
    lines[2], lines[3] = lines[3], lines[2]
    path.write_bytes(b"".join(lines))
    before = path.read_bytes()
    with pytest.raises(VdtoError, match=r"does not verify \(entry 3: seq is 4"):
        Ledger(path).append("scorecard", {"round": 2}, [keys["mx"]], T0)
    with pytest.raises(VdtoError, match="does not verify"):
        Ledger(path).entries()
    assert path.read_bytes() == before


def test_append_is_atomic_when_the_replace_fails(six, keys, monkeypatch):
    path, _ = six
    before = path.read_bytes()
    sidecar = Ledger(path).checkpoints_path
    checkpoints_before = sidecar.read_bytes()

    def broken_replace(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(VdtoError, match="left unchanged"):
        Ledger(path).append("scorecard", {"round": 2}, [keys["mx"]], T0)
    assert path.read_bytes() == before
    assert sidecar.read_bytes() == checkpoints_before
    # no temp file left
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "keys",
        "ledger.jsonl",
        "ledger.jsonl.checkpoints",
    ]
    monkeypatch.undo()
    assert verify(path).ok
    entry = Ledger(path).append("scorecard", {"round": 2}, [keys["mx"]], T0)
    report = verify(path)
    assert report.last_hash == entry["hash"] and report.checkpoint_size == 7


def test_append_is_atomic_when_the_write_fails(six, keys, monkeypatch):
    path, _ = six
    before = path.read_bytes()
    sidecar = Ledger(path).checkpoints_path
    checkpoints_before = sidecar.read_bytes()

    def broken_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(VdtoError, match="left unchanged"):
        Ledger(path).append("scorecard", {"round": 2}, [keys["us"]], T0)
    assert path.read_bytes() == before
    assert sidecar.read_bytes() == checkpoints_before
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "keys",
        "ledger.jsonl",
        "ledger.jsonl.checkpoints",
    ]


def test_init_is_atomic_too(tmp_path, keys, monkeypatch):
    path = tmp_path / "new.jsonl"

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "link", broken)
    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(VdtoError, match="left unchanged"):
        Ledger.init(path, rule_payload(keys["mx"]), [keys["mx"]], T0)
    assert not path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys"]


def test_init_refuses_an_existing_ledger(six, keys):
    path, _ = six
    with pytest.raises(VdtoError, match="exists already"):
        Ledger.init(path, rule_payload(keys["mx"]), [keys["mx"]], T0)


def test_append_on_an_empty_file_starts_the_ledger(tmp_path, keys):
    path = tmp_path / "l.jsonl"
    path.touch()
    assert Ledger(path).entries() == []
    Ledger(path).append("rule", rule_payload(keys["mx"]), [keys["mx"]], T0)
    assert verify(path).ok


def test_append_checks_its_arguments(six, keys):
    path, _ = six
    book, mx = Ledger(path), keys["mx"]
    before = path.read_bytes()
    with pytest.raises(VdtoError, match="no time zone"):
        book.append("scorecard", {}, [mx], datetime(2026, 1, 1))
    with pytest.raises(VdtoError, match="payload is not JSON"):
        book.append("scorecard", {"x": float("nan")}, [mx], T0)
    with pytest.raises(VdtoError, match="payload is not JSON"):
        book.append("scorecard", {"x": {1, 2}}, [mx], T0)
    with pytest.raises(VdtoError, match="payload is not JSON"):
        book.append("scorecard", {"x": "\ud800"}, [mx], T0)
    with pytest.raises(VdtoError, match="payload must be a JSON object"):
        book.append("scorecard", [1, 2], [mx], T0)
    with pytest.raises(VdtoError, match="invalid entry kind"):
        book.append("Score Card", {}, [mx], T0)
    with pytest.raises(VdtoError, match="at least one signer"):
        book.append("scorecard", {}, [], T0)
    with pytest.raises(VdtoError, match="twice"):
        book.append("scorecard", {}, [mx, mx], T0)
    assert path.read_bytes() == before
    mexico = timezone(timedelta(hours=-6))
    entry = book.append(
        "scorecard", {"t": (1, 2)}, [mx], datetime(2026, 11, 21, 17, 0, 0, 999, tzinfo=mexico)
    )
    assert entry["time"] == "2026-11-21T23:00:00Z"
    assert entry["payload"] == {"t": [1, 2]}  # what is returned is what is stored
    assert book.entries()[-1] == entry
    odd = book.append("scorecard", {"sep": "a\u2028b\x85c\rd\u0000"}, [mx], T0)
    assert verify(path).ok and book.entries()[-1] == odd


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",))),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payloads=st.lists(st.dictionaries(st.text(max_size=8).filter(str.isprintable), json_values), max_size=4)
)
def test_any_json_payloads_round_trip_and_verify(keys, payloads):
    mx, us = keys["mx"], keys["us"]
    with tempfile.TemporaryDirectory() as folder:
        book = Ledger.init(Path(folder) / "l.jsonl", rule_payload(mx, us), [mx, us], T0)
        written = book.entries()
        written += [
            book.append("scorecard", p, [mx] if n % 2 else [mx, us], T0) for n, p in enumerate(payloads)
        ]
        report = book.verify()
        assert report.ok and report.entries == len(payloads) + 1
        assert report.last_hash == written[-1]["hash"]
        assert book.entries() == written


@pytest.mark.skipif(ledger_module.fcntl is None, reason="needs file locking")
def test_concurrent_appends_lose_nothing(six, keys):
    path, _ = six
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(5):
                Ledger(path).append("scorecard", {"worker": n, "i": i}, [keys["mx"]], T0)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify(path)
    assert report.ok and report.entries == 6 + 20
    seen = {(e["payload"]["worker"], e["payload"]["i"]) for e in Ledger(path).entries()[6:]}
    assert len(seen) == 20
