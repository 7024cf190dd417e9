"""Signed notes, checkpoints and cosignatures (vdto.publication.note): published vectors, round trips, bad input."""

from __future__ import annotations

import base64
import doctest
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vdto.errors import VdtoError
from vdto.publication import note as note_module
from vdto.publication.merkle import leaf_hash, root
from vdto.publication.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    MAX_SIGNATURES,
    Checkpoint,
    NoteError,
    NoteSignature,
    add_signature_lines,
    cosign_body,
    cosignature_line,
    cosigned_message,
    key_id,
    parse_note,
    sign_body,
    signature_line,
    signed_note,
    verify_cosignature,
    verify_signature,
)

# ---------------------------------------------------------------------------------------------
# Published vectors, copied as data:
#  - golang/mod, sumdb/note/note_test.go (commit 02c991387e35f9e4c0a9b7ce137717055f8d716d), the
#    reference implementation of signed notes: the PeterNeumann key pair (TestNewSigner, TestSign),
#    the EnochRoot key and signature (TestOpen), the signed text and its signature lines
#    (TestSign, TestOpen) and the malformed notes of TestOpen's badMsgs. Verifier keys there are
#    name+keyid+base64(0x01 || public key); signer keys PRIVATE+KEY+name+keyid+base64(0x01 || seed).
#  - transparency-dev/formats, note/note_cosigv1_test.go (commit
#    091ce41666c09683aa9350785e572be27f0c026d): the key IDs of the verifier keys of
#    TestCoSigV1NewVerifier ("TEST" type 0x01, "remora.n621.de" type 0x04) and the cosignature of
#    TestCosignatureTimestamp (timestamp 1727964367).
#  - C2SP/C2SP, tlog-cosignature.md (commit 01194db11950a0ae2b2b2401afa0a4063a822458) and
#    tlog-checkpoint.md (commit 2793893976c835db049c194d8f2c4f946dcb70ba): the example checkpoint
#    and its witness cosignature line (timestamp 1679315147, as in the spec's signed message).
#  - transparency-dev/formats, log/checkpoint_test.go (commit
#    7a6ef700ee5660b2580c9da92063af300820fdee): the malformed checkpoints of TestUnmarshalLogState.
# ---------------------------------------------------------------------------------------------

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

COSIG_VKEYS = [
    ("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6", ALG_ED25519),
    ("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2", ALG_COSIGNATURE_V1),
]
FORMATS_COSIGNATURE = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=="
)

C2SP_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)


def vkey(text: str) -> tuple[str, str, int, bytes]:
    """name, key ID hex, type and public key of a Go verifier key name+keyid+base64(type || key)."""
    name, kid, encoded = text.split("+", 2)
    raw = base64.b64decode(encoded)
    return name, kid, raw[0], raw[1:]


def keypair(n: int) -> tuple[Ed25519PrivateKey, bytes]:
    key = Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32)
    return key, key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


ORIGIN = "vdto.ledger/0123456789abcdef"
BODY = Checkpoint(ORIGIN, 8, root([leaf_hash(bytes([i])) for i in range(8)])).body()
MX, MX_PUB = keypair(1)
US, US_PUB = keypair(2)
WITNESS, WITNESS_PUB = keypair(3)


# ------------------------------------------------------------------------------ known answers


@pytest.mark.parametrize(("key", "alg"), [(PETER_VKEY, ALG_ED25519), (ENOCH_VKEY, ALG_ED25519), *COSIG_VKEYS])
def test_key_ids_match_the_published_keys(key, alg):
    name, kid, kind, public = vkey(key)
    assert kind == alg
    assert key_id(name, public, alg).hex() == kid


def test_signing_gives_the_published_signature():
    name, _, _, public = vkey(PETER_VKEY)
    seed = base64.b64decode(PETER_SKEY.split("+", 4)[-1])[1:]  # PRIVATE+KEY+name+keyid+base64
    line = sign_body(TEXT, name, Ed25519PrivateKey.from_private_bytes(seed).sign, public)
    assert line == PETER_SIG
    assert signed_note(TEXT, [line]) == TEXT + "\n" + PETER_SIG  # TestSign's whole note


def test_published_signatures_verify():
    body, sigs = parse_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG)
    assert body == TEXT
    assert [(s.name, s.key_hash.hex(), s.line) for s in sigs] == [
        ("PeterNeumann", "c74f20a3", PETER_SIG),
        ("EnochRoot", "af0cfe78", ENOCH_SIG),
    ]
    peter, enoch = vkey(PETER_VKEY), vkey(ENOCH_VKEY)
    assert verify_signature(body, sigs[0], peter[0], peter[3].hex())
    assert verify_signature(body, sigs[1], enoch[0], enoch[3].hex())
    # a known key does not verify another key's line; the text must be exactly the signed one
    assert not verify_signature(body, sigs[1], peter[0], peter[3].hex())
    assert not verify_signature(body, sigs[0], enoch[0], enoch[3].hex())
    assert not verify_signature(body.replace("answer", "Answer"), sigs[0], peter[0], peter[3].hex())
    # the Ed25519 signature of a note is not a cosignature of it
    assert verify_cosignature(body, sigs[0], peter[0], peter[3].hex()) is None


def test_published_tampered_lines_fail():
    """TestOpen's corruptions: a longer signature, another name, another key ID."""
    name, _, _, public = vkey(PETER_VKEY)
    longer = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    misnamed = PETER_SIG.replace("PeterNeumann", "CarmenSandiego")
    wrong_hash = PETER_SIG.replace("x08g", "xxxx")
    for line in (longer, misnamed, wrong_hash):
        _, (sig,) = parse_note(TEXT + "\n" + line)
        assert not verify_signature(TEXT, sig, name, public.hex())


@pytest.mark.parametrize(
    "text",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        "\udcff" + TEXT + "\n" + PETER_SIG,  # Go's "\xff": not UTF-8 (a lone surrogate in a str)
        TEXT
        + "\n"
        + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    ],
)
def test_published_malformed_notes_are_refused(text):
    with pytest.raises(NoteError):
        parse_note(text)


def test_too_many_signatures_are_refused():
    assert len(parse_note(TEXT + "\n" + PETER_SIG * MAX_SIGNATURES)[1]) == MAX_SIGNATURES
    with pytest.raises(NoteError, match="101 signature lines; vdto reads at most 100"):
        parse_note(TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1))


def test_published_cosignatures_parse():
    body, sigs = parse_note(C2SP_CHECKPOINT)
    checkpoint = Checkpoint.parse(body)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.body() == body
    log, witness = sigs
    assert (log.name, len(log.value)) == ("example.com/behind-the-sofa", 64)
    assert (witness.name, witness.key_hash.hex(), len(witness.value)) == (
        "witness.example.com/w1",
        "8d66cf3f",
        72,
    )
    assert int.from_bytes(witness.value[:8], "big") == 1679315147
    assert cosigned_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n"
        b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    _, (sig,) = parse_note(body + "\n— w " + FORMATS_COSIGNATURE + "\n")
    assert int.from_bytes(sig.value[:8], "big") == 1727964367


@pytest.mark.parametrize(
    ("body", "message"),
    [  # transparency-dev/formats log/checkpoint_test.go, TestUnmarshalLogState's invalid ones
        ("Head\n9944\n", "has 2 lines; it needs 3"),
        ("\n9944\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n", "origin (line 1) is empty"),
        ("Log\n123\nYmFuYW5hcw==", "must end with a newline"),
        ("Log\nbananas\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n", "without leading zeros"),
        ("Log\n-34\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n", "without leading zeros"),
        (
            "Log\n3438945738945739845734895735\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n",
            "larger than 2^64 - 1",
        ),
        ("Log\n123\nThisIsn'tBase64\n", "not standard base64"),
        # valid there, refused here: roots that are not 32 bytes, and extension lines
        ("Log\n123\nYmFuYW5hcw==\n", "is 7 bytes; a SHA-256 root is 32"),
        (
            "Log\n9944\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nHere's some associated data.\n",
            "1 extension line",
        ),
        ("Log\n9944\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nlots\nof\nlines\n", "3 extension lines"),
        ("Log\n9944\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\n\n", "3 extension lines"),
    ],
)
def test_published_malformed_checkpoints_are_refused(body, message):
    with pytest.raises(NoteError, match=re.escape(message)):
        Checkpoint.parse(body)


# ------------------------------------------------------------------------------ checkpoints

ROOT_B64 = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="


def test_checkpoint_round_trip():
    checkpoint = Checkpoint.parse(BODY)
    assert checkpoint.origin == ORIGIN and checkpoint.size == 8
    assert checkpoint.root == root([leaf_hash(bytes([i])) for i in range(8)])
    assert checkpoint.body() == BODY and BODY.count("\n") == 3
    for size in (0, 1, 2**64 - 1):
        assert Checkpoint.parse(Checkpoint(ORIGIN, size, bytes(32)).body()).size == size


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"{ORIGIN}\n007\n{ROOT_B64}\n", "without leading zeros"),
        (f"{ORIGIN}\n00\n{ROOT_B64}\n", "without leading zeros"),
        (f"{ORIGIN}\n+5\n{ROOT_B64}\n", "without leading zeros"),
        (f"{ORIGIN}\n 5\n{ROOT_B64}\n", "without leading zeros"),
        (f"{ORIGIN}\n5 \n{ROOT_B64}\n", "without leading zeros"),
        (f"{ORIGIN}\n1_000\n{ROOT_B64}\n", "without leading zeros"),
        (f"{ORIGIN}\n\u0661\u0662\n{ROOT_B64}\n", "without leading zeros"),  # Arabic-Indic digits
        (f"{ORIGIN}\n18446744073709551616\n{ROOT_B64}\n", "outside 0 to 2\\^64 - 1"),
        (f"{ORIGIN}\n{'9' * 5000}\n{ROOT_B64}\n", "larger than 2\\^64 - 1"),
        (f"{ORIGIN}\n8\n{ROOT_B64[:-1]}\n", "not standard base64"),  # no padding
        (f"{ORIGIN}\n8\n{ROOT_B64[:-2]}J=\n", "not standard base64"),  # unused bits set
        (f"{ORIGIN}\n8\n{ROOT_B64.replace('/', '_')}\n", "not standard base64"),  # URL alphabet
        (f"{ORIGIN}\n8\n {ROOT_B64}\n", "not standard base64"),
        (f"{ORIGIN}\n8\n{base64.b64encode(bytes(33)).decode()}\n", "33 bytes"),
        (f"{ORIGIN}\n8\n\n", "not standard base64|0 bytes"),
        (f"{ORIGIN}\n8\n{ROOT_B64}\n\n", "1 extension line"),
        (f"{ORIGIN}\r\n8\r\n{ROOT_B64}\r\n", "carriage return"),
        (f"{ORIGIN}\t\n8\n{ROOT_B64}\n", "control character"),
        (f"vdto ledger\n8\n{ROOT_B64}\n", "space"),
        (f"vdto\u00a0ledger\n8\n{ROOT_B64}\n", "space"),
        (f"vdto+ledger\n8\n{ROOT_B64}\n", "'\\+'"),
        (f"{'x' * 256}\n8\n{ROOT_B64}\n", "256 characters"),
        ("", "must end with a newline"),
        ("\n", "has 1 line"),
    ],
)
def test_malformed_checkpoints_are_refused(body, message):
    with pytest.raises(NoteError, match=message) as err:
        Checkpoint.parse(body)
    assert "\n" not in str(err.value)


def test_invalid_checkpoints_cannot_be_made():
    for origin, size, value in [
        ("", 1, bytes(32)),
        ("a b", 1, bytes(32)),
        (ORIGIN, -1, bytes(32)),
        (ORIGIN, 2**64, bytes(32)),
        (ORIGIN, True, bytes(32)),
        (ORIGIN, 1, bytes(31)),
        (ORIGIN, 1, "00" * 32),
    ]:
        with pytest.raises(NoteError):
            Checkpoint(origin, size, value)


origins = st.text(
    st.characters(codec="utf-8", exclude_categories=("Zs", "Zl", "Zp", "Cc", "Cs")).filter(
        lambda c: c != "+" and not c.isspace()
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=100, deadline=None)
@given(origin=origins, size=st.integers(0, 2**64 - 1), value=st.binary(min_size=32, max_size=32))
def test_checkpoint_round_trips(origin, size, value):
    checkpoint = Checkpoint(origin, size, value)
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=120) | st.sampled_from([BODY, BODY[:-1], BODY + "x\n"]).map(lambda b: b))
def test_checkpoint_parse_never_raises_anything_but_note_error(text):
    try:
        checkpoint = Checkpoint.parse(text)
    except NoteError as error:
        assert "\n" not in str(error)
    else:
        assert checkpoint.body() == text  # only the canonical spelling is accepted


# ------------------------------------------------------------------------------ signing round trips


def agency_note(body: str = BODY) -> str:
    return signed_note(body, [sign_body(body, "mx", MX.sign, MX_PUB), sign_body(body, "us", US.sign, US_PUB)])


def test_signature_round_trip():
    note = agency_note()
    body, (mx, us) = parse_note(note)
    assert body == BODY
    assert (mx.name, mx.key_hash, mx.value) == ("mx", key_id("mx", MX_PUB, ALG_ED25519), mx.value)
    assert verify_signature(body, mx, "mx", MX_PUB.hex())
    assert verify_signature(body, us, "us", US_PUB.hex().upper())  # hex in either case
    assert mx.line == signature_line("mx", MX_PUB, MX.sign(BODY.encode()))


def test_tampered_notes_fail():
    body, (mx, _) = parse_note(agency_note())
    other = Checkpoint.parse(body)
    tampered_body = Checkpoint(other.origin, other.size + 1, other.root).body()
    assert not verify_signature(tampered_body, mx, "mx", MX_PUB.hex())
    flipped = NoteSignature(mx.name, mx.key_hash, bytes([mx.value[0] ^ 1]) + mx.value[1:], mx.line)
    assert not verify_signature(body, flipped, "mx", MX_PUB.hex())
    assert not verify_signature(body, mx, "us", MX_PUB.hex())  # wrong key name
    assert not verify_signature(body, mx, "mx", US_PUB.hex())  # wrong key
    assert not verify_signature(
        body, NoteSignature("mx", mx.key_hash, mx.value[:63], mx.line), "mx", MX_PUB.hex()
    )
    # the same signature under another key name: the key ID does not match
    renamed = parse_note(agency_note().replace("— mx ", "— mx2 "))[1][0]
    assert not verify_signature(body, renamed, "mx2", MX_PUB.hex())
    with pytest.raises(NoteError, match="64 hex characters"):
        verify_signature(body, mx, "mx", "not hex")
    with pytest.raises(NoteError, match="64 hex characters"):
        verify_cosignature(body, mx, "mx", MX_PUB.hex()[:-2])


@pytest.mark.parametrize("timestamp", [0, 1, 1_700_000_000, 2**63 - 1])
def test_cosignature_round_trip(timestamp):
    line = cosign_body(BODY, "elpais.example/witness", WITNESS.sign, WITNESS_PUB, timestamp)
    note = add_signature_lines(agency_note(), [line])
    body, sigs = parse_note(note)
    assert [s.name for s in sigs] == ["mx", "us", "elpais.example/witness"]
    cosig = sigs[2]
    assert cosig.key_hash == key_id("elpais.example/witness", WITNESS_PUB, ALG_COSIGNATURE_V1)
    assert int.from_bytes(cosig.value[:8], "big") == timestamp and len(cosig.value) == 72
    assert verify_cosignature(body, cosig, "elpais.example/witness", WITNESS_PUB.hex()) == timestamp
    signature = WITNESS.sign(cosigned_message(BODY, timestamp))
    assert line == cosignature_line("elpais.example/witness", WITNESS_PUB, timestamp, signature)
    # a cosignature is not an Ed25519 note signature, and agency lines are not cosignatures
    assert not verify_signature(body, cosig, "elpais.example/witness", WITNESS_PUB.hex())
    assert verify_cosignature(body, sigs[0], "mx", MX_PUB.hex()) is None


def test_tampered_cosignatures_fail():
    line = cosign_body(BODY, "w.example/1", WITNESS.sign, WITNESS_PUB, 1_700_000_000)
    _, (cosig,) = parse_note(BODY + "\n" + line)
    public = WITNESS_PUB.hex()
    assert verify_cosignature(BODY, cosig, "w.example/1", public) == 1_700_000_000
    other_time = (1_700_000_001).to_bytes(8, "big") + cosig.value[8:]
    assert (
        verify_cosignature(
            BODY, NoteSignature(cosig.name, cosig.key_hash, other_time, ""), "w.example/1", public
        )
        is None
    )
    too_late = (2**63).to_bytes(8, "big") + cosig.value[8:]
    assert (
        verify_cosignature(
            BODY, NoteSignature(cosig.name, cosig.key_hash, too_late, ""), "w.example/1", public
        )
        is None
    )
    assert verify_cosignature(BODY.replace("8\n", "9\n"), cosig, "w.example/1", public) is None
    assert verify_cosignature(BODY, cosig, "w.example/2", public) is None
    assert verify_cosignature(BODY, cosig, "w.example/1", MX_PUB.hex()) is None
    short = NoteSignature(cosig.name, cosig.key_hash, cosig.value[:71], "")
    assert verify_cosignature(BODY, short, "w.example/1", public) is None


def test_bad_timestamps_are_refused():
    sig = bytes(64)
    for timestamp in (-1, 2**63, True, 1.5):
        with pytest.raises(NoteError, match="timestamp"):
            cosignature_line("w", WITNESS_PUB, timestamp, sig)
        with pytest.raises(NoteError, match="timestamp"):
            cosigned_message(BODY, timestamp)


def test_signing_checks_the_signer_against_the_public_key():
    with pytest.raises(
        NoteError, match=r"does not verify with its public key .*the signer holds another key"
    ):
        sign_body(BODY, "mx", US.sign, MX_PUB)
    with pytest.raises(NoteError, match="does not verify"):
        cosign_body(BODY, "w", US.sign, WITNESS_PUB, 5)
    with pytest.raises(NoteError, match="returned 63 bytes"):
        sign_body(BODY, "mx", lambda m: MX.sign(m)[:63], MX_PUB)
    with pytest.raises(NoteError, match="returned str"):
        sign_body(BODY, "mx", lambda m: MX.sign(m).hex(), MX_PUB)
    with pytest.raises(NoteError, match="must end with a newline"):
        sign_body(BODY[:-1], "mx", MX.sign, MX_PUB)
    for name in ("", "a b", "a+b", "a\u2003b", "tab\t"):
        with pytest.raises(NoteError, match="key name"):
            sign_body(BODY, name, MX.sign, MX_PUB)
    with pytest.raises(NoteError, match="Ed25519 public key is 31 bytes"):
        signature_line("mx", MX_PUB[:31], bytes(64))
    with pytest.raises(NoteError, match="Ed25519 signature is 65 bytes"):
        signature_line("mx", MX_PUB, bytes(65))


# ------------------------------------------------------------------------------ adding lines


def test_add_signature_lines_keeps_order_and_skips_duplicates():
    mx_line = sign_body(BODY, "mx", MX.sign, MX_PUB)
    us_line = sign_body(BODY, "us", US.sign, US_PUB)
    w1 = cosign_body(BODY, "w.example/1", WITNESS.sign, WITNESS_PUB, 100)
    w1_later = cosign_body(BODY, "w.example/1", WITNESS.sign, WITNESS_PUB, 200)
    mx_other_key = sign_body(BODY, "mx", US.sign, US_PUB)  # same name, another key: kept
    note = signed_note(BODY, [mx_line])
    note = add_signature_lines(note, [us_line, mx_line, w1, w1_later, us_line, mx_other_key])
    assert note == BODY + "\n" + mx_line + us_line + w1 + mx_other_key
    assert add_signature_lines(note, []) == note
    assert add_signature_lines(note, [mx_line]) == note
    # the existing lines stay as they are, even the ones that do not verify
    odd = BODY + "\n" + PETER_SIG
    assert add_signature_lines(odd, [mx_line]) == odd + mx_line


def test_add_signature_lines_refuses_bad_lines_and_notes():
    note = agency_note()
    line = sign_body(BODY, "zz", MX.sign, MX_PUB)
    for bad, message in [
        (line[:-1], "must be one line ending in a newline"),
        (line + line, "must be one line ending in a newline"),
        ("mx AAAAAAAA\n", "must start with '— '"),
        ("— mx\n", "no space between"),
        ("— mx AAAA\n", "is 3 bytes; it needs a 4-byte key ID"),
        ("— mx not-base64!\n", "not standard base64"),
        ("— mx \n", "not standard base64"),
        ("— m x AAAAAAAA\n", "not standard base64"),
        ("— mx AAAAAAAA\r\n", "carriage return"),
    ]:
        with pytest.raises(NoteError, match=message):
            add_signature_lines(note, [bad])
    with pytest.raises(NoteError, match="must be text"):
        add_signature_lines(note, [b"\xe2\x80\x94 mx AAAAAAAA\n"])
    with pytest.raises(NoteError, match="no empty line"):
        add_signature_lines(BODY, [line])
    with pytest.raises(NoteError, match="at least one signature line"):
        signed_note(BODY, [])
    many = [sign_body(BODY, f"a{i}", MX.sign, MX_PUB) for i in range(MAX_SIGNATURES)]
    with pytest.raises(NoteError, match="at most 100"):
        add_signature_lines(note, many)


# ------------------------------------------------------------------------------ malformed notes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BODY + "— mx AAAAAAAA\n", "no empty line before its signature lines"),
        (BODY + "\n", "no signature lines after its empty line"),
        (BODY + "\n— mx AAAAAAAA", "does not end with a newline"),
        (
            BODY + "\n— mx AAAAAAA=\n— us AA\n",
            "signature line 2: the signature of 'us' is not standard base64",
        ),
        (BODY + "\n— mx AAAAAAA\n", "not standard base64"),
        (BODY + "\n— mx AAAAAAAA\n\n", "no signature lines after its empty line"),
        (BODY + "\n- mx AAAAAAAA\n", "must start with '— '"),
        (BODY + "\n—mx AAAAAAAA\n", "must start with '— '"),
        (BODY + "\n—  mx AAAAAAAA\n", "key name in signature line 1 is empty"),
        (BODY + "\n— mx  AAAAAAAA\n", "not standard base64"),
        (BODY + "\n— m+x AAAAAAAA\n", "'\\+'"),
        (BODY.replace("\n", "\r\n") + "\r\n— mx AAAAAAAA\r\n", "carriage return"),
        (BODY + "\n— mx AAAAAAAA\n" + "x" * (256 * 1024), "bytes; vdto reads notes of at most"),
        (12, "must be text"),
    ],
)
def test_malformed_notes_are_refused(text, message):
    with pytest.raises(NoteError, match=message) as err:
        parse_note(text)
    assert "\n" not in str(err.value) and isinstance(err.value, VdtoError)


def test_note_text_may_hold_empty_lines():
    body = "first\n\nthird\n"
    note = signed_note(body, [sign_body(body, "mx", MX.sign, MX_PUB)])
    text, (sig,) = parse_note(note)
    assert text == body and verify_signature(text, sig, "mx", MX_PUB.hex())


lines = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(["— mx AAAAAAAA", "— ", "—", "", "— a b", PETER_SIG[:-1]]),
    ),
    max_size=6,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=200), lines.map("\n".join), lines.map(lambda ls: TEXT + "\n" + "\n".join(ls) + "\n")
    )
)
def test_parse_note_reads_exactly_what_it_accepts(text):
    """Any text: a NoteError, or a note that is exactly its text, empty line and signature lines."""
    try:
        body, sigs = parse_note(text)
    except NoteError as error:
        assert "\n" not in str(error)
        return
    assert body.endswith("\n") and sigs
    assert body + "\n" + "".join(s.line for s in sigs) == text
    for sig in sigs:
        assert len(sig.key_hash) == 4 and sig.value
        assert signed_note(body, [sig.line]) == body + "\n" + sig.line


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=st.integers(0, 10_000), char=st.characters(codec="utf-8"), delete=st.booleans())
def test_a_changed_character_never_verifies(at, char, delete):
    note = agency_note()
    at %= len(note)
    changed = note[:at] + ("" if delete else char) + note[at + (1 if delete else 0) :]
    if changed == note:
        return
    try:
        body, sigs = parse_note(changed)
    except NoteError:
        return
    good = [
        s
        for s in sigs
        if verify_signature(body, s, "mx", MX_PUB.hex()) or verify_signature(body, s, "us", US_PUB.hex())
    ]
    assert len(good) < 2  # the text changed (neither verifies) or a signature line did (that one fails)
    assert body == BODY or not good


def test_doc_examples_run():
    result = doctest.testmod(note_module)
    assert result.attempted >= 25 and result.failed == 0
