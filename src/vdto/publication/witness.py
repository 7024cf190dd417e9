"""Witnesses: independent parties (a newspaper, a university) that keep the last checkpoint they
saw of a ledger, check that each new one extends it, and cosign it.

A witness holds an Ed25519 key (:func:`new_witness` writes ``witness.key``, readable by its owner
only, and ``witness.vkey``, the public verifier key in the C2SP signed-note form
``<name>+<key id>+<base64(0x04 || key)>``, which the witness publishes). :func:`cosign` checks a
new checkpoint: signed by an agency the witness trusts, of the same log, not smaller than the last
one it cosigned, and, when larger, extending it by a consistency proof. Then it adds a
cosignature (C2SP tlog-cosignature, ``cosignature/v1``) and remembers the checkpoint. Two
checkpoints of the same log and size with different roots (a split view: the log showed two
histories) are refused, and :func:`split_view_evidence` turns them into a self-contained file
anyone can check with :func:`check_evidence`. docs/ledger.md describes what a witness does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time as _time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vdto.errors import VdtoError
from vdto.files import atomic_write
from vdto.publication.keys import load_private_key, write_key_files
from vdto.publication.ledger import Keyring, canonical_json, check_note, verify_consistency
from vdto.publication.note import (
    ALG_COSIGNATURE_V1,
    Checkpoint,
    add_signature_lines,
    cosign_body,
    key_id,
    parse_note,
)

#: A witness name: a schema-less URL-like name without spaces or '+' (C2SP signed-note key name).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:-]{0,127}")
KEY_FILE, VKEY_FILE, STATE_DIR = "witness.key", "witness.vkey", "checkpoints"


def _public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def vkey(name: str, public: bytes) -> str:
    """The verifier key line of a witness: ``name+<8 hex key id>+<base64(0x04 || key)>``.

    Examples
    --------
    >>> line = vkey("news.example/witness", bytes(32))
    >>> line.split("+")[0], len(line.split("+")[1])
    ('news.example/witness', 8)
    """
    kid = key_id(name, public, ALG_COSIGNATURE_V1)
    return f"{name}+{kid.hex()}+{base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + public).decode()}"


def parse_vkey(text: str, where: str = "") -> tuple[str, str]:
    """A verifier key line -> (witness name, public key hex)."""
    parts = text.strip().split("+", 2)
    bad = VdtoError("not a witness verifier key (name+keyid+base64 key)", where, "pass the witness.vkey file")
    if len(parts) != 3 or not _NAME.fullmatch(parts[0]):
        raise bad
    try:
        raw = base64.b64decode(parts[2], validate=True)
    except ValueError:
        raise bad from None
    if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
        raise bad
    if key_id(parts[0], raw[1:], ALG_COSIGNATURE_V1).hex() != parts[1].lower():
        raise VdtoError(
            "the verifier key's id does not match its name and key", where, "pass the witness.vkey file"
        )
    Ed25519PublicKey.from_public_bytes(raw[1:])
    return parts[0], raw[1:].hex()


def load_witness_keys(paths: list[str | Path]) -> dict[str, str]:
    """Read witness verifier keys (``witness.vkey`` files, one key per line as in a site's
    ``witnesses.txt``, or folders of ``*.vkey``): name -> hex."""
    out: dict[str, str] = {}
    for item in map(Path, paths):
        files = sorted(item.glob("*.vkey")) if item.is_dir() else [item]
        if not files:
            raise VdtoError(
                "no .vkey file in the folder", str(item), "pass the witnesses' witness.vkey files"
            )
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                raise VdtoError("cannot read the witness key", str(file), "check the path") from None
            lines = [line for line in text.splitlines() if line.strip()]
            if not lines:
                raise VdtoError(
                    "no witness key in the file", str(file), "pass the witnesses' witness.vkey files"
                )
            for n, line in enumerate(lines, 1):
                name, key = parse_vkey(line, f"{file}:{n}")
                out[name] = key
    return out


def new_witness(name: str, folder: str | Path) -> tuple[Path, Path]:
    """Create a witness's key pair in ``folder``: ``witness.key`` (private, mode 0600) and
    ``witness.vkey`` (public, to publish). Returns both paths."""
    if not _NAME.fullmatch(name):
        raise VdtoError(f"invalid witness name {name!r}", fix="use a name like news.example/witness (no spaces or '+')",
                        param="name")  # fmt: skip
    folder = Path(folder)
    key_path, vkey_path = folder / KEY_FILE, folder / VKEY_FILE
    for path in (key_path, vkey_path):
        if path.exists():
            raise VdtoError(
                "file exists already; keys are never overwritten", str(path), "choose another folder"
            )
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise VdtoError(f"cannot create the witness folder ({error.strerror})", str(folder)) from error
    private = Ed25519PrivateKey.generate()
    write_key_files(
        private, key_path, [(vkey_path, (vkey(name, _public_bytes(private)) + "\n").encode())], folder
    )
    return key_path, vkey_path


@dataclass(frozen=True)
class Cosigned:
    """What :func:`cosign` did: the note with the witness's cosignature added, the checkpoint,
    and the size it extended (None on first sight)."""

    note: str
    checkpoint: Checkpoint
    previous: int | None


class SplitView(VdtoError):
    """The log showed two histories: the evidence file is in ``evidence``."""

    def __init__(self, what: str, evidence: dict[str, Any]) -> None:
        super().__init__(what, "", "publish the evidence file; the log is not trustworthy")
        self.evidence = evidence


def _state_file(folder: Path, origin: str) -> Path:
    return folder / STATE_DIR / (hashlib.sha256(origin.encode()).hexdigest()[:16] + ".note")


def split_view_evidence(a: str, b: str, keys: dict[str, str]) -> dict[str, Any]:
    """A self-contained evidence file: two signed checkpoints of one log and size with
    different roots, and the agencies' public keys to check their signatures."""
    ca, cb = Checkpoint.parse(parse_note(a)[0]), Checkpoint.parse(parse_note(b)[0])
    return {
        "vdto_split_view": 1,
        "origin": ca.origin,
        "size": ca.size,
        "checkpoints": [a, b],
        "keys": dict(sorted(keys.items())),
        "explanation": (
            f"Two checkpoints of the log {ca.origin}, both of {ca.size} entries, with different roots "
            f"({ca.root.hex()[:16]}… and {cb.root.hex()[:16]}…), each signed by the agency keys listed: "
            "the log showed two different histories. Check with `vdto verify` on this file."
        ),
    }


def check_evidence(evidence: Any) -> str:
    """Check a split-view evidence file; returns one line saying what it proves.

    Raises
    ------
    VdtoError
        If the file does not prove a split view (not two validly signed checkpoints of one log
        and size with different roots).
    """
    if not isinstance(evidence, dict) or evidence.get("vdto_split_view") != 1:
        raise VdtoError("not a vdto split-view evidence file", "evidence")
    notes, keys = evidence.get("checkpoints"), evidence.get("keys")
    if not isinstance(notes, list) or len(notes) != 2 or not isinstance(keys, dict) or not keys:
        raise VdtoError("the evidence needs two checkpoints and the agencies' keys", "evidence")
    ring = Keyring(dict(keys), frozenset(keys))
    checks = [check_note(n, ring) for n in notes]
    a, b = (c.checkpoint for c in checks)
    if a.origin != b.origin or a.size != b.size:
        raise VdtoError("the two checkpoints are not of the same log and size", "evidence")
    if a.root == b.root:
        raise VdtoError("the two checkpoints have the same root: no split view", "evidence")
    both = sorted(set(checks[0].signed_by) & set(checks[1].signed_by))
    who = ", ".join(both) if both else " and ".join(", ".join(c.signed_by) for c in checks)
    return (f"split view proven: log {a.origin} has two checkpoints of {a.size} entries with different roots, "
            f"signed by {who}")  # fmt: skip


def cosign(
    folder: str | Path,
    note: str,
    trusted: dict[str, str],
    proof: Any = None,
    *,
    timestamp: int | None = None,
) -> Cosigned:
    """Check a new checkpoint and cosign it as the witness kept in ``folder``.

    ``trusted`` are the agencies' public keys the witness trusts (name -> hex); at least one of
    them must have signed the checkpoint. The last checkpoint this witness cosigned for the same
    log must be extended: same size and root (cosigned again), or a larger tree with a
    ``proof`` (:meth:`vdto.publication.ledger.Ledger.consistency`) from the old size.

    Raises
    ------
    SplitView
        Same log and size, another root; ``evidence`` holds the evidence file.
    VdtoError
        A checkpoint not signed by a trusted agency, smaller than the last one seen, or without
        a valid consistency proof; nothing is cosigned or remembered.
    """
    folder = Path(folder)
    key = load_private_key(folder / KEY_FILE)
    try:
        name, _ = parse_vkey((folder / VKEY_FILE).read_text(encoding="utf-8"), str(folder / VKEY_FILE))
    except OSError:
        raise VdtoError(
            "no witness.vkey in the folder", str(folder), "create it with `vdto witness new`"
        ) from None
    ring = Keyring(dict(trusted), frozenset(trusted))
    check = check_note(note, ring)
    cp = check.checkpoint
    state = _state_file(folder, cp.origin)
    previous: int | None = None
    if state.exists():
        old_note = state.read_text(encoding="utf-8")
        old = Checkpoint.parse(parse_note(old_note)[0])
        if old.size == cp.size and old.root != cp.root:
            raise SplitView(
                f"split view: this witness cosigned another checkpoint of {cp.size} entries of {cp.origin}",
                split_view_evidence(old_note, note, trusted),
            )
        try:
            verify_consistency(old_note, note, proof)
        except VdtoError as error:
            raise VdtoError(f"the new checkpoint does not extend the last one cosigned ({error.what}); not cosigned",
                            str(state), "ask the log for a consistency proof from the size the witness saw",
                            ) from None  # fmt: skip
        previous = old.size
    body, _ = parse_note(note)
    stamp = int(_time.time()) if timestamp is None else timestamp
    line = cosign_body(body, name, lambda data: key.sign(data), _public_bytes(key), stamp)
    out = add_signature_lines(note, [line])
    state.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(state, lambda tmp: tmp.write_text(out, encoding="utf-8"), mode=0o600)
    return Cosigned(out, cp, previous)


def write_evidence(path: str | Path, evidence: dict[str, Any]) -> Path:
    """Write an evidence file (canonical JSON)."""
    path = Path(path)
    atomic_write(
        path, lambda tmp: tmp.write_text(canonical_json(evidence) + "\n", encoding="utf-8"), mode=0o644
    )
    return path


def read_json(path: str | Path, what: str) -> Any:
    """Read a JSON file given to a ledger command, or one line naming it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VdtoError(f"{what} not found", str(path), "check the path") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise VdtoError(f"{what} is not JSON ({error})", str(path), f"pass the {what} vdto wrote") from None
