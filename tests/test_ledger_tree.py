"""The ledger's Merkle tree and what it carries: signing requests, quorums, key changes, signed
checkpoints, proofs, consistency and witnesses."""

from __future__ import annotations

import copy
import doctest
import hashlib
import json
import os
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vdto.publication.ledger as ledger_module
import vdto.publication.note as note_module
import vdto.publication.witness as witness_module
from vdto.errors import VdtoError
from vdto.publication import merkle
from vdto.publication.keys import Signer, load_private_key
from vdto.publication.ledger import (
    ZERO_HASH,
    Ledger,
    canonical_json,
    entry_hash,
    leaf_of,
    origin_of_rule,
    sign_request,
    signed_bytes,
    verify,
    verify_consistency,
    verify_proof,
)
from vdto.publication.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    Checkpoint,
    add_signature_lines,
    key_id,
    parse_note,
    sign_body,
    signed_note,
)
from vdto.publication.witness import (
    SplitView,
    check_evidence,
    cosign,
    load_witness_keys,
    new_witness,
    read_json,
    write_evidence,
)

T0 = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
POSIX = os.name != "nt"
WITNESS = "elpais.example/witness"
STAMP = 1_800_000_000  # a fixed cosignature time
KEPT = "kept checkpoint"  # where verify reports a checkpoint kept elsewhere


# ------------------------------------------------------------------------------------ helpers


def at(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_key(folder: Path, agency: str, seed: int) -> Signer:
    """A fixed Ed25519 key written as ``folder/<agency>.key`` (mode 0600) and loaded back."""
    folder.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    path = folder / f"{agency}.key"
    path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    return Signer.load(path)


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Signer]:
    """Fixed keys: mx, us, eu, and mx's next keys mx2 and mx3 (files named mx.key)."""
    folder = tmp_path_factory.mktemp("keys")
    return {
        "mx": write_key(folder / "a", "mx", 1),
        "us": write_key(folder / "a", "us", 2),
        "eu": write_key(folder / "a", "eu", 3),
        "mx2": write_key(folder / "b", "mx", 4),
        "mx3": write_key(folder / "c", "mx", 5),
        "us2": write_key(folder / "b", "us", 6),
    }


def agencies_of(*signers: Signer) -> dict[str, str]:
    return {s.agency: s.public_hex for s in signers}


def start(path: Path, *signers: Signer, time: datetime = T0) -> Ledger:
    return Ledger.init(path, {"agencies": agencies_of(*signers), "rubric": "default-v1"}, list(signers), time)


def grow(book: Ledger, upto: int, mx: Signer, us: Signer, tag: str = "a") -> None:
    """Append scorecards until the ledger has ``upto`` entries: by mx, by us, co-signed in turn."""
    n = len(book.entries())
    while n < upto:
        n += 1
        signers = [[mx], [us], [us, mx]][n % 3]
        book.append("scorecard", {"n": n, "tag": tag}, signers, at(n))


def snapshot(book: Ledger) -> tuple[bytes, bytes | None]:
    sidecar = book.checkpoints_path
    return book.path.read_bytes(), sidecar.read_bytes() if sidecar.exists() else None


def forge(
    seq: int,
    kind: str,
    prev: str,
    payload: dict,
    signers: list[Signer],
    *,
    quorum: list[str] | None = None,
    time=None,
) -> dict:
    """An entry built by hand (bypassing the refusals of Ledger.append), correctly hashed; without
    ``quorum`` it is an entry of the old format."""
    entry = {
        "seq": seq,
        "kind": kind,
        "time": time or "2026-11-21T23:00:00Z",
        "prev": prev,
        "payload": payload,
        "payload_sha256": sha(canonical_json(payload)),
    }
    if quorum is not None:
        entry["quorum"] = quorum
    message = signed_bytes(entry)
    entry["signatures"] = sorted(
        ({"agency": s.agency, "key": s.public_hex, "sig": s.sign(message)} for s in signers),
        key=lambda s: (s["agency"], s["key"]),
    )
    entry["hash"] = entry_hash(entry)
    return entry


def line_of(entry: dict) -> bytes:
    return (canonical_json(entry) + "\n").encode("utf-8")


def lines_of(path: Path) -> list[bytes]:
    return [line + b"\n" for line in path.read_bytes().split(b"\n")[:-1]]


def records_of(book: Ledger) -> list[dict]:
    return [json.loads(line) for line in lines_of(book.checkpoints_path)]


def write_records(book: Ledger, records: list[dict]) -> None:
    book.checkpoints_path.write_bytes(b"".join(line_of(r) for r in records))


def one_line(error: BaseException) -> str:
    text = str(error)
    assert text and "\n" not in text
    return text


def copy_ledger(book: Ledger, path: Path, entries: int | None = None) -> Ledger:
    """A copy of the ledger and its checkpoints, cut to its first ``entries``."""
    lines = lines_of(book.path)[:entries]
    path.write_bytes(b"".join(lines))
    write_records(Ledger(path), [r for r in records_of(book) if r["size"] <= len(lines)])
    return Ledger(path)


def trusted_of(*signers: Signer) -> dict[str, str]:
    return agencies_of(*signers)


@pytest.fixture(scope="module")
def twelve(tmp_path_factory, keys) -> Ledger:
    """A ledger of 12 entries by mx and us, with a checkpoint of every size (read only)."""
    path = tmp_path_factory.mktemp("twelve") / "ledger.jsonl"
    book = start(path, keys["mx"], keys["us"])
    grow(book, 12, keys["mx"], keys["us"])
    return book


@pytest.fixture
def book(tmp_path, twelve) -> Ledger:
    """A writable copy of the first five entries of ``twelve``."""
    return copy_ledger(twelve, tmp_path / "ledger.jsonl", 5)


def test_doc_examples_of_notes_and_witnesses_run():
    for module in (note_module, witness_module):
        result = doctest.testmod(module)
        assert result.attempted >= 1 and result.failed == 0, module.__name__


# ------------------------------------------------------------------------------------ requests


def test_request_signed_on_each_machine_assembles_the_same_bytes_as_append(tmp_path, keys):
    mx, us = keys["mx"], keys["us"]
    rule = {"agencies": agencies_of(mx, us), "rubric": "default-v1"}
    plan = [
        ("rule", rule, [mx, us]),
        ("scorecard", {"round": 1, "top": ["cjng"], "note": "Cártel Jalisco"}, [mx]),
        ("scorecard", {"round": 1, "joint": True}, [us, mx]),
        ("announcement", {"round": 2, "scorecards": {"mx": "ab" * 32, "us": "cd" * 32}}, [mx, us]),
        (
            "key-change",
            {"agency": "us", "key": keys["us2"].public_hex, "reason": "rotation"},
            [mx, keys["us2"]],
        ),
        ("scorecard", {"round": 2}, [keys["us2"]]),
    ]
    direct, remote = Ledger(tmp_path / "direct.jsonl"), Ledger(tmp_path / "remote.jsonl")
    for n, (kind, payload, signers) in enumerate(plan):
        written = direct.append(kind, payload, signers, at(n))
        agencies = sorted({s.agency for s in signers} - ({"us"} if kind == "key-change" else set()))
        request = remote.request(kind, payload, agencies, at(n))
        # the request travels as a file: JSON, canonical
        request = json.loads(canonical_json(request))
        assert request["entry"]["quorum"] == written["quorum"]
        assert request["summary"] and "\n" not in request["summary"]
        root = merkle.root([leaf_of(e) for e in direct.entries()])
        assert request["checkpoint"] == Checkpoint(request["origin"], n + 1, root).body()
        signatures = [json.loads(canonical_json(sign_request(request, s))) for s in reversed(signers)]
        assembled = remote.assemble(request, signatures)
        assert assembled == written
        assert snapshot(remote) == snapshot(direct)
    report = verify(remote.path, trusted_of(mx, us))
    assert report.ok and report.entries == report.checkpoints == report.checkpoint_size == len(plan)
    assert report.agencies == {"mx": mx.public_hex, "us": keys["us2"].public_hex}


def test_default_request_asks_the_agencies_that_must_sign(book, keys):
    request = book.request("announcement", {"round": 3, "scorecards": {"mx": "x", "us": "y"}}, time=at(9))
    assert request["entry"]["quorum"] == ["mx", "us"]
    assert [(s["agency"], s["entry"], s["checkpoint"]) for s in request["signers"]] == [
        ("mx", True, True),
        ("us", True, True),
    ]
    with pytest.raises(VdtoError, match="at least one signer"):
        book.request("scorecard", {"round": 3}, time=at(9))
    with pytest.raises(VdtoError, match=r"not signed by 'us'"):
        book.request("announcement", {"round": 3, "scorecards": {"mx": "x", "us": "y"}}, ["mx"], at(9))


def signed(book: Ledger, keys, payload=None) -> tuple[dict, list[dict]]:
    request = book.request("scorecard", payload or {"round": 3, "joint": True}, ["mx", "us"], at(9))
    return request, [sign_request(request, keys["mx"]), sign_request(request, keys["us"])]


def rehash(request: dict) -> dict:
    from vdto.publication.ledger import request_sha256

    request["sha256"] = request_sha256(request)
    return request


def edit_payload(book: Ledger, request: dict) -> dict:
    """The request with another payload, made consistent again (hashes, checkpoint) as anyone could."""
    request = copy.deepcopy(request)
    entry = request["entry"]
    entry["payload"] = {"round": 3, "joint": False}
    entry["payload_sha256"] = sha(canonical_json(entry["payload"]))
    leaves = [*(leaf_of(e) for e in book.entries()), leaf_of(entry)]
    request["checkpoint"] = Checkpoint(request["origin"], entry["seq"], merkle.root(leaves)).body()
    return rehash(request)


def flip_hex(text: str, at_: int = 10) -> str:
    return text[:at_] + ("0" if text[at_] != "0" else "1") + text[at_ + 1 :]


def case_other_request(book, keys):
    request, _ = signed(book, keys)
    _, others = signed(book, keys, {"round": 3, "other": True})
    return request, [others[0], sign_request(request, keys["us"])], "(mx) is for another request"


def case_edited_request(book, keys):
    request, signatures = signed(book, keys)
    request = copy.deepcopy(request)
    request["entry"]["payload"]["joint"] = False
    return request, signatures, "the request was changed after it was made"


def case_edited_and_rehashed_request(book, keys):
    request, signatures = signed(book, keys)
    return edit_payload(book, request), signatures, "is for another request"


def case_edited_request_signatures_repointed(book, keys):
    request, signatures = signed(book, keys)
    request = edit_payload(book, request)
    for sig in signatures:
        sig["request_sha256"] = request["sha256"]
    return request, signatures, "the entry signature by 'mx' is not over the request's bytes"


def case_tampered_entry_sig(book, keys):
    request, signatures = signed(book, keys)
    signatures[1]["entry_sig"] = flip_hex(signatures[1]["entry_sig"])
    return request, signatures, "the entry signature by 'us' is not over the request's bytes"


def case_tampered_checkpoint_sig(book, keys):
    request, signatures = signed(book, keys)
    signatures[0]["checkpoint_sig"] = flip_hex(signatures[0]["checkpoint_sig"], 127)
    return request, signatures, "the checkpoint signature by 'mx' is not over the request's bytes"


def case_swapped_sigs(book, keys):
    request, signatures = signed(book, keys)
    sig = signatures[0]
    sig["entry_sig"], sig["checkpoint_sig"] = sig["checkpoint_sig"], sig["entry_sig"]
    return request, signatures, "the entry signature by 'mx' is not over the request's bytes"


def case_other_agencys_sig(book, keys):
    request, signatures = signed(book, keys)
    signatures[0] = {**signatures[1], "agency": "mx", "key": keys["mx"].public_hex}
    return request, signatures, "the entry signature by 'mx' is not over the request's bytes"


def case_missing_signature(book, keys):
    request, signatures = signed(book, keys)
    return request, signatures[:1], "no signature by 'us'"


def case_not_a_signature_file(book, keys):
    request, signatures = signed(book, keys)
    signatures[1] = {**signatures[1], "extra": 1}
    return request, signatures, "signature 2 is not a vdto signature file"


@pytest.mark.parametrize(
    "case",
    [
        case_other_request,
        case_edited_request,
        case_edited_and_rehashed_request,
        case_edited_request_signatures_repointed,
        case_tampered_entry_sig,
        case_tampered_checkpoint_sig,
        case_swapped_sigs,
        case_other_agencys_sig,
        case_missing_signature,
        case_not_a_signature_file,
    ],
)
def test_a_signature_over_other_bytes_is_refused_and_nothing_appended(book, keys, case):
    request, signatures, message = case(book, keys)
    before = snapshot(book)
    with pytest.raises(VdtoError) as caught:
        book.assemble(request, signatures)
    assert message in one_line(caught.value)
    assert snapshot(book) == before
    assert verify(book.path).ok


def test_a_stale_request_is_refused(book, keys):
    request, signatures = signed(book, keys)
    book.append("scorecard", {"meanwhile": True}, [keys["mx"]], at(8))
    before = snapshot(book)
    with pytest.raises(VdtoError) as caught:
        book.assemble(request, signatures)
    text = one_line(caught.value)
    assert "the ledger moved on since the request was made (it asks for entry 6; the ledger has 6)" in text
    assert snapshot(book) == before


def test_a_signer_the_request_does_not_name_is_refused(book, keys):
    request = book.request("scorecard", {"round": 3}, ["mx"], at(9))
    for signer in (keys["us"], keys["eu"], keys["mx2"]):
        with pytest.raises(VdtoError) as caught:
            sign_request(request, signer)
        assert f"this request does not ask {signer.agency!r} with key {signer.public_hex[:8]}" in one_line(
            caught.value
        )
    before = snapshot(book)
    stranger = {**sign_request(request, keys["mx"]), "agency": "eu", "key": keys["eu"].public_hex}
    with pytest.raises(VdtoError, match="no signature by 'mx'"):
        book.assemble(request, [stranger])
    assert snapshot(book) == before
    assert book.assemble(request, [sign_request(request, keys["mx"]), stranger])["signatures"] == [
        {"agency": "mx", "key": keys["mx"].public_hex, "sig": keys["mx"].sign(signed_bytes(request["entry"]))}
    ]


json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-3, 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
    | st.sampled_from(["", "mx", "us", "0" * 64, "ab" * 64, "\n", "—"])
)
json_any = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def paths_in(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_in(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths_in(item, (*prefix, index))


#: Values of the right type for the fields of a request's signer rows. Values of other types
#: crash assemble and sign_request (a bug in src, see test_signer_rows_of_the_wrong_type_are_refused).
ROW_FIELDS = {
    "agency": st.sampled_from(["mx", "us", "eu", ""]) | st.text(max_size=4),
    "key": st.sampled_from(
        ["00" * 32, "ab" * 32, "ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d7726879333dbdabe7c"]
    ),
    "entry": st.booleans(),
    "checkpoint": st.booleans(),
}


def mutate(value, data, typed_rows: bool = False):
    """A copy of a JSON value with one random change somewhere in it."""
    value = copy.deepcopy(value)
    path = data.draw(st.sampled_from(list(paths_in(value))[1:]), label="path")
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]), label="action")
    if action == "delete":
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[data.draw(st.text(max_size=8).filter(lambda k: k not in parent), label="key")] = data.draw(
            json_any
        )
    elif action == "add":
        parent.insert(last, data.draw(json_any, label="item"))
    else:
        old = parent[last]
        typed = typed_rows and len(path) == 3 and path[0] == "signers" and last in ROW_FIELDS
        values = ROW_FIELDS[last] if typed else json_any
        parent[last] = data.draw(values.filter(lambda v: v != old or type(v) is not type(old)), label="new")
    return value


@pytest.fixture(scope="module")
def fuzz_base(tmp_path_factory, keys):
    """A two-entry ledger, two signed requests on it (a co-signed scorecard and a key change),
    and the ledger each request gives when assembled as signed."""
    folder = tmp_path_factory.mktemp("fuzz")
    book = start(folder / "ledger.jsonl", keys["mx"], keys["us"])
    book.append("scorecard", {"round": 1}, [keys["mx"]], at(1))
    card = book.request("scorecard", {"round": 2, "joint": True}, ["mx", "us"], at(2))
    change = book.request(
        "key-change", {"agency": "mx", "key": keys["mx2"].public_hex, "reason": "r"}, ["us"], at(2)
    )
    requests = []
    for request, signers in ((card, ["mx", "us"]), (change, ["us", "mx2"])):
        signatures = [sign_request(request, keys[s]) for s in signers]
        honest = copy_ledger(book, folder / f"{request['entry']['kind']}.jsonl")
        honest.assemble(request, signatures)
        requests.append((request, signatures, honest.path.read_bytes()))
    return book, snapshot(book), requests


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_requests_and_signatures_only_ever_raise_vdto_errors(fuzz_base, keys, data):
    # A mutation that leaves every signed byte as it was (the summary, say, with the request's
    # sha256 made again and the signature files pointed at it) may append the very entry the
    # agencies signed; anything else is refused with one line and nothing is written.
    book, (ledger_bytes, checkpoint_bytes), requests = fuzz_base
    book.path.write_bytes(ledger_bytes)
    book.checkpoints_path.write_bytes(checkpoint_bytes)
    request, signatures, honest = copy.deepcopy(data.draw(st.sampled_from(requests), label="request"))
    if data.draw(st.booleans(), label="mutate request"):
        request = mutate(request, data, typed_rows=True)
        if data.draw(st.booleans(), label="rehash"):  # as anyone could
            rehash(request)
            if data.draw(st.booleans(), label="point the signatures at it"):
                for sig in signatures:
                    sig["request_sha256"] = request["sha256"]
            if data.draw(st.booleans(), label="an honest signer signs it"):
                try:
                    signatures.append(sign_request(request, keys["us"]))
                except VdtoError as error:
                    one_line(error)
    else:
        n = data.draw(st.integers(0, len(signatures) - 1), label="signature")
        signatures[n] = mutate(signatures[n], data)
    try:
        book.assemble(request, signatures)
    except VdtoError as error:
        one_line(error)
        assert snapshot(book) == (ledger_bytes, checkpoint_bytes)
    else:
        assert book.path.read_bytes() == honest, "a mutated request appended an entry nobody signed"
        assert verify(book.path).ok


@pytest.mark.parametrize(("field", "value"), [("key", None), ("agency", []), ("key", 7)])
def test_signer_rows_of_the_wrong_type_are_refused(book, keys, field, value):
    request, signatures = signed(book, keys)
    request = copy.deepcopy(request)
    request["signers"][0][field] = value
    rehash(request)
    for sig in signatures:
        sig["request_sha256"] = request["sha256"]
    before = snapshot(book)
    for attempt in (lambda: book.assemble(request, signatures), lambda: sign_request(request, keys["us"])):
        try:
            attempt()
        except VdtoError as error:
            one_line(error)
        except Exception as error:  # what happens now: TypeError and a traceback
            raise AssertionError(f"{type(error).__name__}: {error}") from error
    assert snapshot(book) == before


# -------------------------------------------------------------------------------------- quorum


def test_deleting_a_co_signature_fails_naming_the_agency(book, keys):
    last = book.entries()[-1]
    assert last["quorum"] == ["mx", "us"] and len(last["signatures"]) == 2
    lines = lines_of(book.path)
    for gone, kept in (("us", "mx"), ("mx", "us")):
        entry = dict(last, signatures=[s for s in last["signatures"] if s["agency"] == kept])
        entry["hash"] = entry_hash(entry)
        book.path.write_bytes(b"".join([*lines[:-1], line_of(entry)]))
        report = verify(book.path)
        assert (report.ok, report.first_bad, report.where) == (False, 5, "entry 5")
        assert report.problem == f"entry 5: scorecard entry is not signed by {gone!r} (its quorum is mx, us)"


def test_a_quorum_that_leaves_out_a_required_agency_fails(book, keys):
    mx, us = keys["mx"], keys["us"]
    entries = book.entries()
    prev = entries[-1]["hash"]
    cases = [
        (
            forge(
                6,
                "announcement",
                prev,
                {"round": 2, "scorecards": {"mx": "a", "us": "b"}},
                [mx],
                quorum=["mx"],
            ),
            "entry 6: announcement entry's quorum (mx) leaves out 'us'",
        ),
        (
            forge(6, "round-close", prev, {"round": 2, "agencies": ["mx", "us"]}, [us], quorum=["us"]),
            "entry 6: round-close entry's quorum (us) leaves out 'mx'",
        ),
        (
            forge(6, "key-change", prev, {"agency": "us", "key": None, "reason": "x"}, [us], quorum=["us"]),
            "entry 6: key-change entry's quorum (us) leaves out 'mx'",
        ),
        (
            forge(6, "scorecard", prev, {"round": 2}, [mx], quorum=["mx", "us"]),
            "entry 6: scorecard entry is not signed by 'us' (its quorum is mx, us)",
        ),
        (  # old format: the rule of the kind applies
            forge(6, "announcement", prev, {"round": 2, "scorecards": {"mx": "a", "us": "b"}}, [mx]),
            "entry 6: announcement entry is not signed by 'us' (every agency of the round must sign it)",
        ),
    ]
    base = book.path.read_bytes()
    for entry, problem in cases:
        book.path.write_bytes(base + line_of(entry))
        report = verify(book.path)
        assert (report.ok, report.first_bad, report.problem) == (False, 6, problem)
    book.path.write_bytes(base)
    before = snapshot(book)
    with pytest.raises(VdtoError, match="not signed by 'us'"):
        book.append("announcement", {"round": 2, "scorecards": {"mx": "a", "us": "b"}}, [mx], at(6))
    assert snapshot(book) == before


# ---------------------------------------------------------------------------------- key change


def rotate(book: Ledger, keys, seq_time: int = 6) -> dict:
    return book.append(
        "key-change",
        {"agency": "mx", "key": keys["mx2"].public_hex, "reason": "laptop stolen"},
        [keys["us"], keys["mx2"]],
        at(seq_time),
    )


def test_rotating_a_key(book, keys):
    mx, us, mx2 = keys["mx"], keys["us"], keys["mx2"]
    change = rotate(book, keys)
    assert change["seq"] == 6 and change["quorum"] == ["us"]
    assert [(s["agency"], s["key"]) for s in change["signatures"]] == sorted(
        [("mx", mx2.public_hex), ("us", us.public_hex)]
    )
    report = verify(book.path, trusted_of(mx, us))
    assert report.ok and report.agencies == {"mx": mx2.public_hex, "us": us.public_hex}
    assert report.checkpoint_size == 6

    # the old key is refused by append, and fails verify when used anyway
    before = snapshot(book)
    with pytest.raises(VdtoError) as caught:
        book.append("scorecard", {"round": 3}, [mx], at(7))
    assert f"made with key {mx.public_hex[:8]}…, which was replaced at entry 6" in one_line(caught.value)
    assert snapshot(book) == before
    forged = forge(7, "scorecard", change["hash"], {"round": 3}, [mx], quorum=["mx"])
    book.path.write_bytes(before[0] + line_of(forged))
    report = verify(book.path)
    assert (report.ok, report.first_bad) == (False, 7)
    assert report.problem == (
        f"entry 7: signature by 'mx' is made with key {mx.public_hex[:8]}…, which was replaced at entry 6"
    )
    book.path.write_bytes(before[0])

    # the new key works; checkpoints from the change on are signed by it
    book.append("scorecard", {"round": 3}, [mx2], at(7))
    book.append("scorecard", {"round": 3, "joint": True}, [mx2, us], at(8))
    assert verify(book.path, trusted_of(mx, us)).ok
    old_id = key_id("mx", bytes.fromhex(mx.public_hex), ALG_ED25519)
    new_id = key_id("mx", bytes.fromhex(mx2.public_hex), ALG_ED25519)
    for record in records_of(book):
        ids = {line.key_hash for line in parse_note(record["note"])[1] if line.name == "mx"}
        if record["size"] < 6:
            assert ids <= {old_id}
        else:
            assert ids == {new_id}, record["size"]
    # the checkpoint of the key change itself is signed by the new key (and us), not the old
    lines = parse_note(records_of(book)[5]["note"])[1]
    assert sorted((line.name, line.key_hash) for line in lines) == sorted(
        [("mx", new_id), ("us", key_id("us", bytes.fromhex(us.public_hex), ALG_ED25519))]
    )


def test_a_key_change_request_asks_the_new_key_for_proof_of_possession(book, keys):
    request = book.request(
        "key-change", {"agency": "mx", "key": keys["mx2"].public_hex, "reason": "r"}, time=at(6)
    )
    assert request["entry"]["quorum"] == ["us"]
    rows = [(s["agency"], s["key"], s["entry"], s["checkpoint"]) for s in request["signers"]]
    assert sorted(rows) == sorted(
        [("us", keys["us"].public_hex, True, True), ("mx", keys["mx2"].public_hex, True, True)]
    )
    before = snapshot(book)
    with pytest.raises(VdtoError, match=r"no signature by 'mx'"):
        book.assemble(request, [sign_request(request, keys["us"])])
    assert snapshot(book) == before
    # without the new key's signature, a forged key change fails verify
    prev = book.entries()[-1]["hash"]
    payload = {"agency": "mx", "key": keys["mx2"].public_hex, "reason": "r"}
    forged = forge(6, "key-change", prev, payload, [keys["us"]], quorum=["us"])
    book.path.write_bytes(before[0] + line_of(forged))
    assert verify(book.path).problem == (
        "entry 6: key-change entry is not signed by the new key of 'mx' (it must show it holds the key)"
    )


def test_revoking_a_key(book, keys):
    mx, us = keys["mx"], keys["us"]
    change = book.append("key-change", {"agency": "mx", "key": None, "reason": "left"}, [us], at(6))
    assert change["quorum"] == ["us"]
    report = verify(book.path, trusted_of(mx, us))
    assert report.ok and report.agencies == {"us": us.public_hex}
    before = snapshot(book)
    with pytest.raises(VdtoError) as caught:
        book.append("scorecard", {"round": 3}, [mx], at(7))
    assert "agency 'mx' has no key in force (revoked)" in one_line(caught.value)
    with pytest.raises(VdtoError, match="revoked already"):
        book.append("key-change", {"agency": "mx", "key": keys["mx2"].public_hex}, [us], at(7))
    with pytest.raises(VdtoError, match="would revoke the last agency's key"):
        book.append("key-change", {"agency": "us", "key": None}, [us], at(7))
    assert snapshot(book) == before
    forged = forge(7, "scorecard", change["hash"], {"round": 3}, [mx], quorum=["mx"])
    book.path.write_bytes(before[0] + line_of(forged))
    report = verify(book.path)
    assert (report.ok, report.first_bad) == (False, 7)
    assert report.problem == (
        f"entry 7: signature by 'mx' is made with key {mx.public_hex[:8]}…, which was revoked at entry 6"
    )


def test_rotation_in_a_one_agency_ledger_needs_the_old_key(tmp_path, keys):
    mx, mx2 = keys["mx"], keys["mx2"]
    book = start(tmp_path / "ledger.jsonl", mx)
    payload = {"agency": "mx", "key": mx2.public_hex, "reason": "rotation"}
    before = snapshot(book)
    with pytest.raises(VdtoError) as caught:
        book.append("key-change", payload, [mx2], at(1))
    assert f"no signature by 'mx' (key {mx.public_hex[:8]}…)" in one_line(caught.value)
    assert snapshot(book) == before
    rule_hash = book.entries()[0]["hash"]
    for quorum, problem in [
        (["mx"], "entry 2: key-change entry is not signed by 'mx' (its quorum is mx)"),
        (None, "entry 2: key-change entry is not signed by 'mx' (every agency of the round must sign it)"),
    ]:
        forged = forge(2, "key-change", rule_hash, payload, [mx2], quorum=quorum)
        book.path.write_bytes(before[0] + line_of(forged))
        assert verify(book.path).problem == problem
    book.path.write_bytes(before[0])
    change = book.append("key-change", payload, [mx, mx2], at(1))
    assert change["quorum"] == ["mx"]
    report = verify(book.path, trusted_of(mx))
    assert report.ok and report.agencies == {"mx": mx2.public_hex} and report.checkpoint_size == 2
    # the checkpoint of the change is signed by the key in force after it only
    (line,) = parse_note(book.latest_checkpoint())[1]
    assert line.key_hash == key_id("mx", bytes.fromhex(mx2.public_hex), ALG_ED25519)
    book.append("scorecard", {"round": 1}, [mx2], at(2))
    assert verify(book.path, trusted_of(mx)).ok


def test_a_key_used_before_is_refused(book, keys):
    mx, us, mx2 = keys["mx"], keys["us"], keys["mx2"]
    rotate(book, keys)
    before = snapshot(book)
    for agency, key, signers in [
        ("mx", us.public_hex, [us]),  # another agency's key
        ("mx", mx.public_hex, [us, mx]),  # mx's own retired key
        ("mx", mx2.public_hex, [us, mx2]),  # the key in force
        ("us", mx.public_hex, [mx2, mx]),  # a key retired by another agency
    ]:
        with pytest.raises(VdtoError) as caught:
            book.append("key-change", {"agency": agency, "key": key, "reason": "x"}, signers, at(7))
        assert f"gives {agency!r} a key used before ({key[:8]}…); a new key is needed" in one_line(
            caught.value
        )
        assert snapshot(book) == before
    prev = book.entries()[-1]["hash"]
    forged = forge(
        7, "key-change", prev, {"agency": "mx", "key": mx.public_hex, "reason": "x"}, [us, mx], quorum=["us"]
    )
    book.path.write_bytes(before[0] + line_of(forged))
    assert verify(book.path).problem == (
        f"entry 7: key-change gives 'mx' a key used before ({mx.public_hex[:8]}…); a new key is needed"
    )


def test_checkpoints_after_a_change_signed_by_the_old_key_fail(book, keys):
    mx, mx2 = keys["mx"], keys["mx2"]
    rotate(book, keys)
    book.append("scorecard", {"round": 3}, [mx2], at(7))
    records = records_of(book)
    body = parse_note(records[6]["note"])[0]
    records[6]["note"] = signed_note(body, [sign_body(body, "mx", lambda m: bytes.fromhex(mx.sign(m)),
                                                       bytes.fromhex(mx.public_hex))])  # fmt: skip
    write_records(book, records)
    report = verify(book.path)
    assert (report.ok, report.where, report.first_bad) == (False, "checkpoint 7", None)
    assert report.problem == (
        f"checkpoint 7: signature by 'mx' is made with key {mx.public_hex[:8]}…, which was replaced at entry 6"
    )


# --------------------------------------------------------------------------------- checkpoints


def test_every_append_adds_one_checkpoint_of_the_whole_tree(twelve, keys):
    records = twelve.checkpoints()
    entries = twelve.entries()
    assert [r["size"] for r in records] == list(range(1, 13))
    origin = origin_of_rule(entries[0])
    assert origin == "vdto.ledger/" + sha(signed_bytes(entries[0]).decode())[:16]
    for record in records:
        body, lines = parse_note(record["note"])
        cp = Checkpoint.parse(body)
        assert (cp.origin, cp.size) == (origin, record["size"])
        assert cp.root == merkle.root([leaf_of(e) for e in entries[: cp.size]])
        # signed by the agencies that signed the entry
        assert sorted(line.name for line in lines) == entries[cp.size - 1]["quorum"]
    assert twelve.checkpoints_path.read_text(encoding="utf-8") == "".join(
        canonical_json(r) + "\n" for r in records
    )
    report = verify(twelve.path, trusted_of(keys["mx"], keys["us"]))
    assert (report.ok, report.checkpoints, report.checkpoint_size, report.origin) == (True, 12, 12, origin)
    assert report.root == merkle.root([leaf_of(e) for e in entries]).hex()
    assert report.notes == ("the latest checkpoint has no witness cosignature that could be checked",)


def edit_note_byte(records, book, keys):
    note = records[2]["note"]
    at_ = note.index("— mx ") + 12
    records[2]["note"] = note[:at_] + ("A" if note[at_] != "A" else "B") + note[at_ + 1 :]
    return "checkpoint 3", "signature by 'mx' does not verify"


def edit_note_root(records, book, keys):
    body, lines = parse_note(records[3]["note"])
    cp = Checkpoint.parse(body)
    records[3]["note"] = (
        Checkpoint(cp.origin, cp.size, bytes(32)).body() + "\n" + "".join(x.line for x in lines)
    )
    return "checkpoint 4", "signature by 'us' does not verify"


def swap_notes(records, book, keys):
    records[2]["note"], records[3]["note"] = records[3]["note"], records[2]["note"]
    return "checkpoint 3", "the note says tree size 4, the record 3"


def note_of_another_origin(records, book, keys):
    other = start(book.path.with_name("other.jsonl"), keys["mx"], keys["us"], time=at(-1))
    records[0]["note"] = other.latest_checkpoint()
    return (
        "checkpoint 1",
        f"checkpoint is for log {other.verify().origin!r}, not this ledger ({book.verify().origin})",
    )


def note_of_a_fork(records, book, keys):
    fork = copy_ledger(book, book.path.with_name("fork.jsonl"), 2)
    fork.append("scorecard", {"forked": True}, [keys["mx"]], at(3))
    records[2]["note"] = fork.latest_checkpoint()
    return "checkpoint 3", "the ledger's first 3 entries hash to root "


def note_signed_by_a_stranger(records, book, keys):
    eu = keys["eu"]
    body = parse_note(records[1]["note"])[0]
    records[1]["note"] = signed_note(body, [sign_body(body, "eu", lambda m: bytes.fromhex(eu.sign(m)),
                                                      bytes.fromhex(eu.public_hex))])  # fmt: skip
    return "checkpoint 2", "checkpoint is not signed by any agency in force"


def note_signed_with_another_key_of_the_agency(records, book, keys):
    mx2 = keys["mx2"]
    body = parse_note(records[1]["note"])[0]
    records[1]["note"] = signed_note(body, [sign_body(body, "mx", lambda m: bytes.fromhex(mx2.sign(m)),
                                                      bytes.fromhex(mx2.public_hex))])  # fmt: skip
    return "checkpoint 2", "signature by 'mx' is made with a key that is not its key in force"


def note_too_large(records, book, keys):
    records[4] = {"size": 6, "note": records[4]["note"].replace("\n5\n", "\n6\n", 1)}
    return "checkpoint 6", "checkpoint covers 6 entries but the ledger has 5 (entries dropped from the end?)"


def truncated_ledger(records, book, keys):
    book.path.write_bytes(b"".join(lines_of(book.path)[:3]))
    return "checkpoint 4", "checkpoint covers 4 entries but the ledger has 3 (entries dropped from the end?)"


def malformed_note(records, book, keys):
    records[1]["note"] = records[1]["note"].replace("\n\n", "\n")
    return "checkpoint 2", "not a valid signed checkpoint (note has no empty line before its signature lines)"


@pytest.mark.parametrize(
    "tamper",
    [
        edit_note_byte,
        edit_note_root,
        swap_notes,
        note_of_another_origin,
        note_of_a_fork,
        note_signed_by_a_stranger,
        note_signed_with_another_key_of_the_agency,
        note_too_large,
        truncated_ledger,
        malformed_note,
    ],
)
def test_a_tampered_checkpoint_fails_naming_it(book, keys, tamper):
    assert verify(book.path).ok
    records = records_of(book)
    where, problem = tamper(records, book, keys)
    write_records(book, records)
    report = verify(book.path)
    assert (report.ok, report.where, report.first_bad, report.last_hash) == (False, where, None, None)
    assert report.problem.startswith(f"{where}: {problem}")
    assert "\n" not in report.problem


def test_the_checkpoints_file_itself_must_be_well_formed(book, keys):
    records = records_of(book)
    text = book.checkpoints_path.read_bytes()
    for data, problem in [
        (text[:-1], "the checkpoints file does not end with a newline (cut off?)"),
        (
            b"".join(line_of(r) for r in [records[1], records[0], *records[2:]]),
            "checkpoints line 2: sizes must increase",
        ),
        (text.replace(b'{"note"', b'{ "note"', 1), "checkpoints line 1 is not canonical JSON"),
        (text + b"[]\n", 'checkpoints line 6 must be {"note": text, "size": positive integer}'),
        (text + b"{\n", "checkpoints line 6 is not JSON"),
    ]:
        book.checkpoints_path.write_bytes(data)
        report = verify(book.path)
        assert (report.ok, report.where) == (False, "checkpoints")
        assert report.problem.startswith(f"checkpoints: {problem}")
        before = snapshot(book)
        with pytest.raises(VdtoError) as caught:
            book.append("scorecard", {"round": 9}, [keys["mx"]], at(9))
        assert f"{problem}" in one_line(caught.value) and "nothing was appended" in str(caught.value)
        assert snapshot(book) == before


def test_a_checkpoint_kept_by_a_reader(twelve, book, keys, tmp_path):
    kept = twelve.checkpoints()[3]["note"]  # size 4: the book has 5 entries
    report = verify(book.path, checkpoint=kept)
    assert report.ok and report.checkpoint_size == 5
    report = verify(book.path, checkpoint=twelve.latest_checkpoint())
    assert (report.ok, report.where) == (False, KEPT)
    assert report.problem == (
        f"{KEPT}: checkpoint covers 12 entries but the ledger has 5 (entries dropped from the end?)"
    )
    fork = copy_ledger(twelve, tmp_path / "fork.jsonl", 3)
    grow(fork, 5, keys["mx"], keys["us"], tag="fork")
    assert verify(fork.path).ok
    report = verify(fork.path, checkpoint=book.latest_checkpoint())
    assert (report.ok, report.where) == (False, KEPT)
    assert report.problem.startswith(f"{KEPT}: the ledger's first 5 entries hash to root ")
    assert report.problem.endswith("(a different history)")
    report = verify(fork.path, checkpoint="not a note")
    assert report.problem.startswith(f"{KEPT}: not a valid signed checkpoint")


def test_a_ledger_of_the_old_format_migrates(tmp_path, keys):
    mx, us = keys["mx"], keys["us"]
    path = tmp_path / "old.jsonl"
    entries = [
        forge(1, "rule", ZERO_HASH, {"agencies": agencies_of(mx, us), "rubric": "default-v1"}, [mx, us])
    ]
    for seq, payload, signers in [
        (2, {"round": 1, "agency": "mx"}, [mx]),
        (3, {"round": 1, "scorecards": {"mx": "a", "us": "b"}}, [mx, us]),
        (4, {"round": 1, "agencies": ["mx", "us"], "outcome": "closed"}, [us, mx]),
    ]:
        kind = {2: "scorecard", 3: "announcement", 4: "round-close"}[seq]
        entries.append(forge(seq, kind, entries[-1]["hash"], payload, signers))
    assert all("quorum" not in e for e in entries)
    old = b"".join(line_of(e) for e in entries)
    path.write_bytes(old)
    book = Ledger(path)
    report = verify(path, trusted_of(mx, us))
    assert report.ok and report.entries == 4 and report.checkpoints == 0 and report.checkpoint_size is None
    assert report.notes == (
        "no signed checkpoint: dropping the last entries would go unnoticed; sign one with `vdto ledger checkpoint`",
    )
    with pytest.raises(VdtoError, match="no signed checkpoint"):
        book.proof([1])
    note = book.sign_checkpoint([mx, us])
    assert path.read_bytes() == old  # every old line unchanged, byte for byte
    assert book.latest_checkpoint() == note
    assert sorted(line.name for line in parse_note(note)[1]) == ["mx", "us"]
    assert Checkpoint.parse(parse_note(note)[0]).root == merkle.root([leaf_of(e) for e in entries])
    report = verify(path, trusted_of(mx, us))
    assert (report.ok, report.checkpoints, report.checkpoint_size) == (True, 1, 4)
    # signing the same tree again keeps every signature
    assert book.sign_checkpoint([us]) == note
    assert verify_proof(book.proof([2, 3]), trusted_of(mx, us)).ok
    written = book.append("scorecard", {"round": 2}, [us], at(5))
    assert written["quorum"] == ["us"]
    assert path.read_bytes() == old + line_of(written)
    report = verify(path, trusted_of(mx, us))
    assert (report.ok, report.entries, report.checkpoints, report.checkpoint_size) == (True, 5, 2, 5)
    with pytest.raises(VdtoError, match="not an agency in force"):
        book.sign_checkpoint([keys["eu"]])


# -------------------------------------------------------------------------------------- proofs


def test_every_entry_of_every_tree_size_is_proved(twelve, keys):
    trusted = trusted_of(keys["mx"], keys["us"])
    lines = twelve.path.read_text(encoding="utf-8").split("\n")
    for size in range(1, 13):
        for seq in range(1, size + 1):
            bundle = twelve.proof([seq], size)
            assert (bundle["vdto_proof"], bundle["size"]) == (1, size)
            assert [k["seq"] for k in bundle["keys"]] == [1]
            (item,) = bundle["entries"]
            assert item["line"] == lines[seq - 1]
            assert len(item["inclusion"]) == merkle.inclusion_proof_length(seq - 1, size)
            report = verify_proof(json.loads(canonical_json(bundle)), trusted)
            assert (report.ok, report.size, list(report.entries)) == (True, size, [seq]), report.problem
            assert report.entries[seq] == json.loads(lines[seq - 1])
            assert report.signed_by == tuple(json.loads(lines[size - 1])["quorum"])


def altered_bundles(bundle: dict):
    """(what was altered, a copy of the bundle altered so)."""
    item = bundle["entries"][0]
    entry = json.loads(item["line"])
    other = dict(entry, time="2027-01-01T00:00:00Z")
    other["hash"] = entry_hash(other)
    yield "line", {**bundle, "entries": [{**item, "line": canonical_json(other)}]}
    yield "line seq", {**bundle, "entries": [{**item, "seq": item["seq"] + 1}]}
    yield "line not canonical", {**bundle, "entries": [{**item, "line": json.dumps(entry)}]}
    for n in range(len(item["inclusion"])):
        path = list(item["inclusion"])
        path[n] = flip_hex(path[n], 0)
        yield f"inclusion {n}", {**bundle, "entries": [{**item, "inclusion": path}]}
    yield "inclusion longer", {**bundle, "entries": [{**item, "inclusion": [*item["inclusion"], "00" * 32]}]}
    yield "inclusion not hex", {**bundle, "entries": [{**item, "inclusion": ["zz"]}]}
    body, lines = parse_note(bundle["checkpoint"])
    cp = Checkpoint.parse(body)
    tail = "\n" + "".join(line.line for line in lines)
    yield "checkpoint root", {**bundle, "checkpoint": Checkpoint(cp.origin, cp.size, bytes(32)).body() + tail}
    yield (
        "checkpoint signature",
        {**bundle, "checkpoint": bundle["checkpoint"].replace(lines[0].line, flip_b64(lines[0].line))},
    )
    yield (
        "checkpoint size",
        {**bundle, "checkpoint": Checkpoint(cp.origin, cp.size + 1, cp.root).body() + tail},
    )
    yield "checkpoint not a note", {**bundle, "checkpoint": body}
    yield "size", {**bundle, "size": bundle["size"] + 1}


def flip_b64(line: str) -> str:
    at_ = len(line) - 6
    return line[:at_] + ("A" if line[at_] != "A" else "B") + line[at_ + 1 :]


KNOWN_UNCHECKED = {"size"}  # see test_the_bundle_fields_must_agree_with_its_checkpoint


def test_an_altered_proof_fails_with_one_line(twelve, keys):
    trusted = trusted_of(keys["mx"], keys["us"])
    seen = set()
    for size in range(1, 13):
        for seq in {1, (size + 1) // 2, size}:
            bundle = twelve.proof([seq], size)
            for what, altered in altered_bundles(bundle):
                if what in KNOWN_UNCHECKED:
                    continue
                seen.add(what)
                report = verify_proof(altered, trusted)
                assert not report.ok, (size, seq, what)
                assert report.problem.startswith(f"{report.where}: ") and "\n" not in report.problem
                assert report.where in ("checkpoint", "proof") or report.where.startswith("entry "), (
                    report.where
                )
    assert {"inclusion 0", "inclusion 3", "checkpoint root", "line"} <= seen


@pytest.mark.parametrize(
    ("field", "value"),
    [("size", 9), ("size", "5"), ("origin", "vdto.ledger/0000000000000000"), ("entries", "junk")],
)
def test_the_bundle_fields_must_agree_with_its_checkpoint(twelve, keys, field, value):
    bundle = twelve.proof([2], 5)
    assert verify_proof(bundle, trusted_of(keys["mx"], keys["us"])).ok
    report = verify_proof({**bundle, field: value}, trusted_of(keys["mx"], keys["us"]))
    assert not report.ok


def test_a_proof_against_other_keys_or_another_checkpoint_fails(twelve, keys, tmp_path):
    bundle = twelve.proof([3, 7], 9)
    assert verify_proof(bundle).ok
    report = verify_proof(bundle, trusted_of(keys["mx"], keys["eu"]))
    assert (report.ok, report.where) == (False, "entry 1")
    assert report.problem.startswith("entry 1: rule entry ")
    assert verify_proof(bundle, checkpoint=twelve.checkpoints()[8]["note"]).ok
    # a kept checkpoint of another size: nothing to compare
    assert verify_proof(bundle, checkpoint=twelve.checkpoints()[3]["note"]).ok
    fork = copy_ledger(twelve, tmp_path / "fork.jsonl", 6)
    grow(fork, 9, keys["mx"], keys["us"], tag="fork")
    report = verify_proof(bundle, checkpoint=fork.latest_checkpoint())
    assert (report.ok, report.where) == (False, "checkpoint")
    assert report.problem == "checkpoint: two checkpoints of size 9 with different roots (a split view)"
    report = verify_proof(bundle, checkpoint="junk")
    assert (report.ok, report.where) == (False, KEPT)
    with pytest.raises(VdtoError, match="entry 10 is not in the tree of size 9"):
        twelve.proof([10], 9)
    with pytest.raises(VdtoError, match="no signed checkpoint of size 13"):
        twelve.proof([1], 13)
    for junk in (None, [], {"vdto_proof": 2}, {**bundle, "keys": []}, {**bundle, "checkpoint": 3}):
        report = verify_proof(junk)
        assert not report.ok and "\n" not in report.problem


def test_a_proof_across_a_key_rotation(book, keys):
    mx, us, mx2 = keys["mx"], keys["us"], keys["mx2"]
    rotate(book, keys)  # entry 6
    book.append("scorecard", {"round": 3}, [mx2], at(7))  # entry 7
    book.append("scorecard", {"round": 3, "joint": True}, [us, mx2], at(8))  # entry 8
    bundle = book.proof([2, 5, 7, 8])
    assert [k["seq"] for k in bundle["keys"]] == [1, 6]
    report = verify_proof(bundle, trusted_of(mx, us))
    assert report.ok, report.problem
    assert sorted(report.entries) == [2, 5, 7, 8]
    assert report.signed_by == ("mx", "us")
    assert report.entries[2]["signatures"][0]["key"] == mx.public_hex
    assert report.entries[7]["signatures"][0]["key"] == mx2.public_hex
    # an older checkpoint (before the rotation) proves with the old key
    assert verify_proof(book.proof([2, 4], 5), trusted_of(mx, us)).ok
    # leaving the key change out of the bundle: the checkpoint's key is not in force
    report = verify_proof({**bundle, "keys": bundle["keys"][:1]}, trusted_of(mx, us))
    assert (report.ok, report.where) == (False, "checkpoint")
    assert report.problem == "checkpoint: signature by 'mx' is made with a key that is not its key in force"
    # a second rotation: entries under three keys of mx in one bundle
    mx3 = keys["mx3"]
    book.append("key-change", {"agency": "mx", "key": mx3.public_hex, "reason": "yearly"}, [us, mx3], at(9))
    book.append("scorecard", {"round": 4}, [mx3], at(10))
    bundle = book.proof([2, 7, 10])
    assert [k["seq"] for k in bundle["keys"]] == [1, 6, 9]
    report = verify_proof(bundle, trusted_of(mx, us))
    assert report.ok and report.signed_by == ("mx",), report.problem
    assert [report.entries[s]["signatures"][0]["key"] for s in (2, 7, 10)] == [
        mx.public_hex,
        mx2.public_hex,
        mx3.public_hex,
    ]
    # leaving out the first rotation: entry 7, signed by mx's second key, no longer verifies
    report = verify_proof({**bundle, "keys": [bundle["keys"][0], bundle["keys"][2]]}, trusted_of(mx, us))
    assert (report.ok, report.where) == (False, "entry 7")
    assert "not the key declared for 'mx'" in report.problem
    assert verify(book.path, trusted_of(mx, us)).agencies == {"mx": mx3.public_hex, "us": us.public_hex}


def test_consistency_between_every_pair_of_sizes(twelve):
    notes = {r["size"]: r["note"] for r in twelve.checkpoints()}
    for new in range(1, 13):
        for old in range(1, new + 1):
            proof = json.loads(canonical_json(twelve.consistency(old, new)))
            assert (proof["vdto_consistency"], proof["old_size"], proof["new_size"]) == (1, old, new)
            a, b = verify_consistency(notes[old], notes[new], proof)
            assert (a.size, b.size) == (old, new)
    assert twelve.consistency(3)["new_size"] == 12
    with pytest.raises(VdtoError, match="1 <= old <= new <= 12"):
        twelve.consistency(5, 4)
    with pytest.raises(VdtoError, match="1 <= old <= new <= 12"):
        twelve.consistency(1, 13)


def test_consistency_fails_for_other_sizes_or_a_fork(twelve, keys, tmp_path):
    notes = {r["size"]: r["note"] for r in twelve.checkpoints()}
    for old, new in [(3, 7), (1, 12), (5, 8)]:
        proof = twelve.consistency(old, new)
        for other in [twelve.consistency(old, new - 1), twelve.consistency(old - 1 or 2, new)]:
            with pytest.raises(VdtoError) as caught:
                verify_consistency(notes[old], notes[new], other)
            assert "the proof is for sizes" in one_line(caught.value)
        with pytest.raises(VdtoError, match="smaller than the old one"):
            verify_consistency(notes[new], notes[old], proof)
        bad = {**proof, "proof": [flip_hex(h, 0) for h in proof["proof"]]}
        with pytest.raises(VdtoError) as caught:
            verify_consistency(notes[old], notes[new], bad)
        one_line(caught.value)
        for junk in (None, {**proof, "proof": ["zz"]}, {**proof, "vdto_consistency": 2}):
            with pytest.raises(VdtoError):
                verify_consistency(notes[old], notes[new], junk)
    k = 4
    fork = copy_ledger(twelve, tmp_path / "fork.jsonl", k)
    grow(fork, 12, keys["mx"], keys["us"], tag="fork")
    forked = {r["size"]: r["note"] for r in fork.checkpoints()}
    for old in range(1, 13):
        for new in range(old, 13):
            proof = fork.consistency(old, new)
            if old <= k:  # the shared history: the fork extends it
                verify_consistency(notes[old], forked[new], proof)
                continue
            with pytest.raises(VdtoError) as caught:
                verify_consistency(notes[old], forked[new], proof)
            text = one_line(caught.value)
            if old == new:
                assert text == f"two checkpoints of size {old} with different roots (a split view)"
    other = start(tmp_path / "other.jsonl", keys["mx"], keys["us"], time=at(-1))
    with pytest.raises(VdtoError, match="the checkpoints are of two logs"):
        verify_consistency(other.latest_checkpoint(), notes[3], twelve.consistency(1, 3))


# ------------------------------------------------------------------------------------- witness


@pytest.fixture
def witness(tmp_path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "witness"
    _, vkey_path = new_witness(WITNESS, folder)
    return folder, load_witness_keys([vkey_path])


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
def test_new_witness_writes_a_private_key_and_a_verifier_key(tmp_path):
    folder = tmp_path / "w"
    key_path, vkey_path = new_witness(WITNESS, folder)
    assert (key_path, vkey_path) == (folder / "witness.key", folder / "witness.vkey")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    text = vkey_path.read_text(encoding="utf-8")
    assert re.fullmatch(re.escape(WITNESS) + r"\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}\n", text)
    assert b"PRIVATE" not in vkey_path.read_bytes()
    public = (
        load_private_key(key_path)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    assert text.split("+")[1] == key_id(WITNESS, public, ALG_COSIGNATURE_V1).hex()
    assert load_witness_keys([vkey_path]) == load_witness_keys([folder]) == {WITNESS: public.hex()}
    with pytest.raises(VdtoError, match="never overwritten"):
        new_witness(WITNESS, folder)
    with pytest.raises(VdtoError, match="invalid witness name"):
        new_witness("el pais", tmp_path / "x")
    (tmp_path / "bad.vkey").write_text(text.replace("+", "+0", 1))
    with pytest.raises(VdtoError):
        load_witness_keys([tmp_path / "bad.vkey"])


def test_a_witness_cosigns_on_first_sight_then_only_extensions(book, keys, witness):
    folder, wkeys = witness
    trusted = trusted_of(keys["mx"], keys["us"])
    first = book.checkpoints()[2]["note"]
    done = cosign(folder, first, trusted, timestamp=STAMP)
    assert (done.previous, done.checkpoint.size) == (None, 3)
    body, lines = parse_note(done.note)
    assert done.note.startswith(first) and lines[-1].name == WITNESS
    assert note_module.verify_cosignature(body, lines[-1], WITNESS, wkeys[WITNESS]) == STAMP
    state = next((folder / "checkpoints").iterdir())
    assert state.read_text(encoding="utf-8") == done.note
    again = cosign(folder, first, trusted, timestamp=STAMP + 1)  # the same tree again
    assert again.previous == 3
    latest = book.latest_checkpoint()
    refusals = [
        (book.checkpoints()[1]["note"], book.consistency(2, 3), "is smaller than the old one"),
        (latest, None, "not a vdto consistency proof"),
        (latest, book.consistency(2, 5), "the proof is for sizes 2 to 5, the checkpoints are 3 and 5"),
        (latest, {**book.consistency(3, 5), "proof": []}, "does not extend the last one cosigned"),
    ]
    for note, proof, message in refusals:
        saved = state.read_bytes()
        with pytest.raises(VdtoError) as caught:
            cosign(folder, note, trusted, proof, timestamp=STAMP + 2)
        assert message in one_line(caught.value)
        assert state.read_bytes() == saved
    for wrong, message in [
        (trusted_of(keys["eu"]), "checkpoint is not signed by any agency in force"),
        ({"mx": keys["eu"].public_hex}, "signature by 'mx' is made with a key that is not its key in force"),
    ]:
        saved = state.read_bytes()
        with pytest.raises(VdtoError) as caught:
            cosign(folder, latest, wrong, book.consistency(3, 5), timestamp=STAMP + 2)
        assert message in one_line(caught.value)
        assert state.read_bytes() == saved
    done = cosign(folder, latest, trusted, book.consistency(3, 5), timestamp=STAMP + 3)
    assert (done.previous, done.checkpoint.size) == (3, 5)
    assert state.read_text(encoding="utf-8") == done.note


def test_a_split_view_gives_evidence(book, keys, witness, tmp_path):
    folder, _ = witness
    trusted = trusted_of(keys["mx"], keys["us"])
    cosign(folder, book.latest_checkpoint(), trusted, timestamp=STAMP)
    fork = copy_ledger(book, tmp_path / "fork.jsonl", 3)
    fork.append("scorecard", {"forked": 4}, [keys["mx"]], at(4))
    fork.append("scorecard", {"forked": 5}, [keys["mx"]], at(5))
    assert verify(fork.path).ok and verify(fork.path).origin == verify(book.path).origin
    state = next((folder / "checkpoints").iterdir())
    saved = state.read_bytes()
    with pytest.raises(SplitView) as caught:
        cosign(folder, fork.latest_checkpoint(), trusted, timestamp=STAMP + 1)
    assert state.read_bytes() == saved
    assert "split view" in one_line(caught.value)
    evidence = caught.value.evidence
    assert evidence["size"] == 5 and evidence["keys"] == trusted
    proven = check_evidence(evidence)
    assert proven.startswith(f"split view proven: log {evidence['origin']} has two checkpoints of 5 entries")
    assert proven.endswith("signed by mx")
    path = write_evidence(tmp_path / "evidence.json", evidence)
    assert check_evidence(read_json(path, "evidence")) == proven

    a, b = evidence["checkpoints"]
    _, lines_b = parse_note(b)
    edits = {
        "roots equal": {**evidence, "checkpoints": [a, a]},
        "signature changed": {
            **evidence,
            "checkpoints": [a, b.replace(lines_b[0].line, flip_b64(lines_b[0].line))],
        },
        "other keys": {**evidence, "keys": trusted_of(keys["mx2"], keys["us"])},
        "one checkpoint": {**evidence, "checkpoints": [a]},
        "another size": {**evidence, "checkpoints": [a, fork.checkpoints()[3]["note"]]},
        "not evidence": {**evidence, "vdto_split_view": 2},
    }
    for what, edited in edits.items():
        with pytest.raises(VdtoError) as error:
            check_evidence(edited)
        one_line(error.value)
        assert what != "roots equal" or "same root: no split view" in str(error.value)


def test_witness_cosignatures_are_added_and_reported(book, keys, witness, tmp_path):
    folder, wkeys = witness
    trusted = trusted_of(keys["mx"], keys["us"])
    done = cosign(folder, book.latest_checkpoint(), trusted, timestamp=STAMP)
    assert verify(book.path, witnesses=wkeys).witnessed == ()
    assert book.add_cosignatures(done.note, wkeys) == [WITNESS]
    assert book.latest_checkpoint() == done.note
    report = verify(book.path, witnesses=wkeys)
    assert report.ok and report.witnessed == (WITNESS,)
    assert not any("witness" in note for note in report.notes)
    report = verify(book.path)  # an unknown line: not counted, not a failure
    assert report.ok and report.witnessed == ()
    assert book.add_cosignatures(done.note, wkeys) == [WITNESS]  # added once only
    assert book.latest_checkpoint() == done.note

    # a later checkpoint is not witnessed until cosigned in turn
    book.append("scorecard", {"round": 9}, [keys["us"]], at(9))
    assert verify(book.path, witnesses=wkeys).witnessed == ()

    # forged cosignatures are refused, and nothing is added
    before = snapshot(book)
    body, lines = parse_note(done.note)
    forged = body + "\n" + "".join(x.line for x in lines[:-1]) + flip_b64(lines[-1].line)
    impostor = Ed25519PrivateKey.generate()
    other = note_module.cosign_body(
        body, WITNESS, impostor.sign, impostor.public_key().public_bytes(serialization.Encoding.Raw,
                                                                          serialization.PublicFormat.Raw), STAMP)  # fmt: skip
    for note in (forged, add_signature_lines(parse_note(forged)[0] + "\n" + lines[0].line, [other])):
        with pytest.raises(VdtoError) as caught:
            book.add_cosignatures(note, wkeys)
        assert f"cosignature by witness {WITNESS!r} does not verify; nothing was added" in one_line(
            caught.value
        )
        assert snapshot(book) == before
    with pytest.raises(VdtoError, match="no cosignature by a known witness"):
        book.add_cosignatures(done.note, {"other.example/witness": wkeys[WITNESS]})
    fork = copy_ledger(book, tmp_path / "fork.jsonl", 4)
    fork.append("scorecard", {"forked": True}, [keys["mx"]], at(5))
    with pytest.raises(VdtoError, match="this ledger signed no checkpoint with that tree"):
        book.add_cosignatures(fork.latest_checkpoint(), wkeys)
    assert snapshot(book) == before

    # a cosignature forged inside the checkpoints file fails verify when the witness is known
    records = records_of(book)
    records[4]["note"] = forged
    write_records(book, records)
    report = verify(book.path, witnesses=wkeys)
    assert (report.ok, report.where) == (False, "checkpoint 5")
    assert report.problem == f"checkpoint 5: cosignature by witness {WITNESS!r} does not verify"


def test_a_witness_folder_without_keys_is_refused(tmp_path, book, keys):
    trusted = trusted_of(keys["mx"], keys["us"])
    with pytest.raises(VdtoError):
        cosign(tmp_path / "nowhere", book.latest_checkpoint(), trusted)
    new_witness(WITNESS, tmp_path / "w")
    (tmp_path / "w" / "witness.vkey").unlink()
    with pytest.raises(VdtoError, match=r"no witness\.vkey"):
        cosign(tmp_path / "w", book.latest_checkpoint(), trusted)


# ----------------------------------------------------------------------- atomicity, concurrency


def test_a_failed_checkpoints_write_does_not_claim_the_ledger_unchanged(book, keys, monkeypatch):
    # The ledger is renamed first, then the checkpoints: when the second rename fails, the entry
    # is in the ledger without its checkpoint (docs/ledger.md says verify reports it as not yet
    # covered), but the error names the checkpoints file and says it "was left unchanged".
    before = snapshot(book)
    real = os.replace

    def replace(src, dst):
        if str(dst) == str(book.checkpoints_path):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(VdtoError) as caught:
        book.append("scorecard", {"round": 3}, [keys["mx"]], at(6))
    monkeypatch.undo()
    report = verify(book.path)
    assert report.ok and report.notes[0] == f"the latest checkpoint covers 5 of {report.entries} entries"
    assert book.path.read_bytes() == before[0] or "left unchanged" not in one_line(caught.value)


# --------------------------------------------------------------------------------- concurrency


@pytest.mark.skipif(ledger_module.fcntl is None, reason="needs file locking")
def test_no_writer_gets_in_between_the_two_renames(book, keys, monkeypatch):
    # An append renames the ledger, then its checkpoints. The lock is held on the ledger's folder
    # (never replaced) for the whole append, so between the two renames no other writer can take
    # it: a second append waits, and both checkpoints are kept.
    import fcntl
    import os

    real = ledger_module._write_atomically
    probed: list[bool] = []

    def write(path, data, create, what="the ledger"):
        real(path, data, create, what)
        if path == book.path:  # the ledger is renamed, its checkpoints not yet
            fd = os.open(book.path.parent, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                probed.append(True)  # another writer would have got in
            except BlockingIOError:
                probed.append(False)
            finally:
                os.close(fd)

    monkeypatch.setattr(ledger_module, "_write_atomically", write)
    book.append("scorecard", {"first": True}, [keys["mx"]], at(6))
    monkeypatch.undo()
    assert probed == [False]
    book.append("scorecard", {"second": True}, [keys["us"]], at(7))
    assert verify(book.path).entries == 7
    assert [r["size"] for r in book.checkpoints()] == [1, 2, 3, 4, 5, 6, 7]
