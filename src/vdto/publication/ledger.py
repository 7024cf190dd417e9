"""The publication ledger: an append-only, Ed25519-signed log in JSON Lines, hash-chained and
under a Merkle tree with signed checkpoints.

Each agency that takes part (for instance ``mx`` and ``us``) holds an Ed25519 key pair. Every
publication (a rule, a scorecard, the close of a round) is appended to the ledger as one line of
canonical JSON that names the previous line's hash and carries the signatures of the agencies
that publish it. Anyone holding the ledger file, and ideally the agencies' public keys, can check
with :func:`verify` that no line was changed, removed, inserted or reordered, and who signed
what. The entries are also the leaves of an RFC 9162 Merkle tree: every append comes with a
checkpoint of the new tree (a C2SP signed note) signed by the agencies, which witnesses cosign
and readers keep; :meth:`Ledger.proof` proves an entry is in a checkpoint's tree without the
whole log, :meth:`Ledger.consistency` that a later tree extends an earlier one. Agencies sign on
their own machines: :meth:`Ledger.request` writes the bytes to sign, :func:`sign_request` signs
them with the agency's key, :meth:`Ledger.assemble` appends. docs/ledger.md describes the format
and what verification can and cannot detect.

The first entry is a ``"rule"`` entry whose payload declares the agencies and their public keys
(``"agencies": {"mx": "<64 hex>", "us": "<64 hex>"}``); every declared agency must sign it, and
every later signature must be by one of those agencies with exactly its declared key. The keys
themselves (making them, signing, reading public keys to pin) are in :mod:`vdto.publication.keys`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vdto.errors import VdtoError
from vdto.publication import merkle
from vdto.publication.keys import _AGENCY, _HEX64, _check_agency, _short
from vdto.publication.note import (
    ALG_ED25519,
    Checkpoint,
    NoteError,
    add_signature_lines,
    key_id,
    parse_note,
    signature_line,
    verify_cosignature,
    verify_signature,
)

if TYPE_CHECKING:
    from vdto.publication.keys import Signer

try:  # advisory locking keeps two writers from appending at once; not available on Windows
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

ZERO_HASH = "0" * 64
"""The ``prev`` of the first entry."""

ENTRY_KEYS = frozenset({"seq", "kind", "time", "prev", "payload", "payload_sha256", "signatures", "hash"})
SIGNATURE_KEYS = frozenset({"agency", "key", "sig"})
#: The fields every signature is over, in the order canonical JSON sorts them.
SIGNED_FIELDS = ("kind", "payload_sha256", "prev", "quorum", "seq", "time")
#: The kind of the entries that replace or revoke an agency's key.
KEY_CHANGE = "key-change"
#: Checkpoints of ``ledger.jsonl`` are kept in ``ledger.jsonl.checkpoints``.
CHECKPOINTS_SUFFIX = ".checkpoints"
#: Every ledger's origin line starts so; 16 hex characters of its rule entry's leaf follow.
ORIGIN_PREFIX = "vdto.ledger/"

_KIND = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_HEX128 = re.compile(r"[0-9a-f]{128}")


def canonical_json(obj: Any) -> str:
    """``obj`` as canonical JSON: sorted keys, no whitespace, UTF-8 characters kept as they are.

    NaN and infinities are refused (``ValueError``): they are not JSON, and a ledger line must
    be readable by any JSON parser.

    Examples
    --------
    >>> canonical_json({"b": [1, 2.5], "a": "Jalisco — CJNG"})
    '{"a":"Jalisco — CJNG","b":[1,2.5]}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------ verification


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify` found.

    Attributes
    ----------
    ok
        True when every line and every checkpoint checks out.
    entries
        The number of lines (entries) in the file.
    first_bad
        1-based position of the first bad line; None when ``ok`` or when what failed is a
        checkpoint. An empty file reports 1 (the rule entry is missing).
    problem
        One line saying what is wrong, e.g. ``"entry 3: signature by 'us' does not verify"``;
        empty when ``ok``.
    last_hash
        The last entry's ``hash`` when ``ok`` (publications quote it); None otherwise.
    agencies
        The agencies and public keys in force after the last entry read (the rule entry's,
        with every key change applied).
    where
        What failed: ``"entry 3"``, ``"checkpoint 7"`` (the checkpoint of tree size 7), or
        ``""`` when ``ok``.
    origin
        The log's origin line (``vdto.ledger/`` and 16 hex characters of the rule entry's hash).
    root
        The Merkle tree root over every entry (64 hex), when ``ok``.
    checkpoints
        How many signed checkpoints were checked.
    checkpoint_size
        The tree size of the latest checkpoint (None when there is none).
    witnessed
        The witnesses whose cosignature of the latest checkpoint verified (names).
    notes
        Things the reader should know that are not failures, e.g. that no checkpoint exists yet.
    """

    ok: bool
    entries: int
    first_bad: int | None
    problem: str
    last_hash: str | None
    agencies: dict[str, str] = field(default_factory=dict)
    where: str = ""
    origin: str | None = None
    root: str | None = None
    checkpoints: int = 0
    checkpoint_size: int | None = None
    witnessed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def signed_bytes(entry: dict[str, Any]) -> bytes:
    """The bytes every signature of ``entry`` is over (the same for all co-signers), and the
    Merkle tree leaf of the entry.

    The UTF-8 of ``canonical_json`` of the entry's ``seq``, ``kind``, ``time``, ``prev``,
    ``payload_sha256`` and, in entries that carry it, ``quorum``.

    Examples
    --------
    >>> entry = {"seq": 1, "kind": "rule", "time": "2026-11-21T23:00:00Z", "prev": ZERO_HASH,
    ...          "payload": {"agencies": {}}, "payload_sha256": "ab" * 32, "signatures": []}
    >>> signed_bytes(entry).startswith(b'{"kind":"rule","payload_sha256":"abab')
    True
    >>> b"agencies" in signed_bytes(entry)  # the payload is signed through its hash
    False
    >>> b'"quorum":["mx","us"]' in signed_bytes({**entry, "quorum": ["mx", "us"]})
    True
    """
    return canonical_json({k: entry[k] for k in SIGNED_FIELDS if k in entry}).encode("utf-8")


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``entry`` without its ``hash`` key (signatures included).

    Examples
    --------
    >>> entry = {"seq": 1, "kind": "rule", "time": "2026-11-21T23:00:00Z", "prev": ZERO_HASH,
    ...          "payload": {}, "payload_sha256": "ab" * 32, "signatures": []}
    >>> digest = entry_hash(entry)
    >>> len(digest), entry_hash({**entry, "hash": digest}) == digest
    (64, True)
    """
    return _sha256(canonical_json({k: v for k, v in entry.items() if k != "hash"}))


def leaf_of(entry: dict[str, Any]) -> bytes:
    """The entry's Merkle leaf hash (RFC 9162: SHA-256 of 0x00 and :func:`signed_bytes`)."""
    return merkle.leaf_hash(signed_bytes(entry))


def origin_of_rule(rule: dict[str, Any]) -> str:
    """The origin line of a ledger's checkpoints: ``vdto.ledger/`` and the first 16 hex
    characters of the SHA-256 of its rule entry's signed bytes (known before anyone signs).

    Examples
    --------
    >>> rule = {"seq": 1, "kind": "rule", "time": "2026-11-21T23:00:00Z", "prev": ZERO_HASH,
    ...         "payload_sha256": "ab" * 32}
    >>> origin_of_rule(rule)
    'vdto.ledger/1dbb0ce21a929bde'
    """
    return ORIGIN_PREFIX + hashlib.sha256(signed_bytes(rule)).hexdigest()[:16]


def _structure_problem(entry: Any) -> str | None:
    """What is wrong with the keys and types of a parsed line, or None."""
    if not isinstance(entry, dict):
        return "not a JSON object"
    keys = set(entry)
    allowed = ENTRY_KEYS | {"quorum"}
    if not keys >= ENTRY_KEYS or not keys <= allowed:
        parts = []
        if missing := sorted(ENTRY_KEYS - keys):
            parts.append("missing " + ", ".join(missing))
        if extra := sorted(keys - allowed):
            parts.append("unexpected " + ", ".join(_short(k, 20) for k in extra))
        return "wrong keys (" + "; ".join(parts) + ")"
    seq = entry["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return f"seq must be a positive integer (got {_short(seq)})"
    if not isinstance(entry["kind"], str) or not _KIND.fullmatch(entry["kind"]):
        return f"kind must be a short lowercase name like 'scorecard' (got {_short(entry['kind'])})"
    time = entry["time"]
    if not isinstance(time, str) or not _TIME.fullmatch(time):
        return f"time must be UTC like 2026-11-21T23:00:00Z (got {_short(time)})"
    try:
        datetime.strptime(time, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return f"time is not a real date and time (got {_short(time)})"
    for name in ("prev", "payload_sha256", "hash"):
        if not isinstance(entry[name], str) or not _HEX64.fullmatch(entry[name]):
            return f"{name} must be 64 lowercase hex characters (got {_short(entry[name])})"
    if not isinstance(entry["payload"], dict):
        return "payload must be a JSON object"
    if "quorum" in entry:
        q = entry["quorum"]
        if (not isinstance(q, list) or not q or not all(isinstance(a, str) and _AGENCY.fullmatch(a) for a in q)
                or q != sorted(set(q))):  # fmt: skip
            return "quorum must be a sorted list of agency names without repeats"
    signatures = entry["signatures"]
    if not isinstance(signatures, list):
        return "signatures must be a list"
    for n, sig in enumerate(signatures, 1):
        if not isinstance(sig, dict) or set(sig) != SIGNATURE_KEYS:
            return f"signature {n} must be an object with exactly agency, key and sig"
        if not isinstance(sig["agency"], str) or not _AGENCY.fullmatch(sig["agency"]):
            return f"signature {n} has an invalid agency name {_short(sig['agency'])}"
        if not isinstance(sig["key"], str) or not _HEX64.fullmatch(sig["key"]):
            return f"signature {n} key must be 64 lowercase hex characters"
        if not isinstance(sig["sig"], str) or not _HEX128.fullmatch(sig["sig"]):
            return f"signature {n} sig must be 128 lowercase hex characters"
    return None


def _declared_agencies(payload: dict[str, Any]) -> tuple[dict[str, str] | None, str]:
    """The rule payload's ``agencies`` (name -> public hex), or None and what is wrong."""
    agencies = payload.get("agencies")
    if not isinstance(agencies, dict) or not agencies:
        return None, 'rule payload must declare "agencies": {name: public key hex, ...}'
    for name, key in agencies.items():
        if not _AGENCY.fullmatch(name):
            return None, f"rule payload declares an invalid agency name {_short(name)}"
        if not isinstance(key, str) or not _HEX64.fullmatch(key):
            return None, f"rule payload declares a key for {name!r} that is not 64 lowercase hex characters"
    if len(set(agencies.values())) != len(agencies):
        return None, "rule payload declares the same key for two agencies"
    return dict(agencies), ""


def _signature_ok(key_hex: str, sig_hex: str, message: bytes) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex))
        public.verify(bytes.fromhex(sig_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _pin_problem(declared: dict[str, str], trusted: dict[str, str]) -> str | None:
    for agency in sorted(set(declared) | set(trusted)):
        if agency not in trusted:
            return f"rule entry declares agency {agency!r}, which is not among the trusted keys"
        if agency not in declared:
            return f"rule entry does not declare trusted agency {agency!r}"
        if declared[agency] != trusted[agency]:
            return (
                f"rule entry declares key {declared[agency][:8]}… for {agency!r}, "
                f"but the trusted key is {trusted[agency][:8]}…"
            )
    return None


@dataclass(frozen=True)
class Keyring:
    """The agencies' keys in force at some point of the ledger.

    ``current`` maps each agency that can sign to its key; ``declared`` is every agency the rule
    entry declared; ``retired`` maps every key taken out of force to its agency, the entry that
    took it out and whether it was replaced or revoked.
    """

    current: dict[str, str]
    declared: frozenset[str]
    retired: dict[str, tuple[str, int, str]] = field(default_factory=dict)

    @classmethod
    def from_rule(cls, agencies: dict[str, str]) -> Keyring:
        return cls(dict(agencies), frozenset(agencies))

    def changed(self, agency: str, key: str | None, seq: int) -> Keyring:
        """The keyring after a ``key-change`` entry ``seq`` gives ``agency`` the key ``key``
        (None: revoked)."""
        current = dict(self.current)
        retired = dict(self.retired)
        old = current.pop(agency)
        retired[old] = (agency, seq, "replaced" if key else "revoked")
        if key:
            current[agency] = key
        return Keyring(current, self.declared, retired)

    def used(self) -> set[str]:
        return set(self.current.values()) | set(self.retired)


def quorum(entry: dict[str, Any]) -> list[str]:
    """The agencies that must sign an entry by its kind alone: every agency whose scorecard an
    announcement carries, every agency a round's closing names; none for other kinds (the
    rule entry and key changes have rules of their own, see :func:`required_signers`)."""
    payload = entry.get("payload") or {}
    if not isinstance(payload, dict):
        return []
    if entry.get("kind") == "announcement" and isinstance(payload.get("scorecards"), dict):
        return sorted(payload["scorecards"])
    if entry.get("kind") == "round-close" and isinstance(payload.get("agencies"), list):
        return sorted(str(a) for a in payload["agencies"])
    return []


def required_signers(entry: dict[str, Any], ring: Keyring | None) -> list[str]:
    """The agencies that must sign ``entry`` whatever its ``quorum`` says.

    The rule entry: every agency it declares. A key change of agency A: every other agency in
    force, or A itself (with its key in force) when no other agency is. Otherwise
    :func:`quorum`.
    """
    kind, payload = entry.get("kind"), entry.get("payload") or {}
    if kind == "rule" and ring is None:
        declared, _ = _declared_agencies(payload)
        return sorted(declared or {})
    if kind == KEY_CHANGE and ring is not None and isinstance(payload, dict):
        agency = payload.get("agency")
        others = sorted(a for a in ring.current if a != agency)
        return others or ([str(agency)] if agency in ring.current else [])
    return quorum(entry)


def _key_change_problem(payload: dict[str, Any], ring: Keyring) -> str | None:
    if set(payload) - {"agency", "key", "reason"} or not {"agency", "key"} <= set(payload):
        return 'key-change payload must be {"agency", "key", "reason"}'
    agency, key = payload["agency"], payload["key"]
    if agency not in ring.declared:
        return f"key-change names {_short(agency)}, which is not a declared agency"
    if agency not in ring.current:
        return f"key-change names {agency!r}, whose key was revoked already"
    if key is not None and (not isinstance(key, str) or not _HEX64.fullmatch(key)):
        return "key-change key must be 64 lowercase hex characters, or null to revoke"
    if key is not None and key in ring.used():
        return f"key-change gives {agency!r} a key used before ({key[:8]}…); a new key is needed"
    if key is None and len(ring.current) == 1:
        return "key-change would revoke the last agency's key (nobody could sign again)"
    if not isinstance(payload.get("reason", ""), str):
        return "key-change reason must be text"
    return None


def _signer_problem(agency: str, key: str, ring: Keyring) -> str | None:
    """Why ``agency`` may not sign with ``key`` under ``ring`` (None: it may)."""
    if agency not in ring.declared:
        return f"signature by {agency!r}, which is not a declared agency (declared: {', '.join(sorted(ring.declared))})"
    if key in ring.retired and ring.retired[key][0] == agency:
        _, seq, how = ring.retired[key]
        return f"signature by {agency!r} is made with key {key[:8]}…, which was {how} at entry {seq}"
    if agency not in ring.current:
        return f"signature by {agency!r}, whose key was revoked"
    if key != ring.current[agency]:
        return (
            f"signature by {agency!r} is made with key {key[:8]}…, "
            f"not the key declared for {agency!r} ({ring.current[agency][:8]}…)"
        )
    return None


def _entry_problem(entry: dict[str, Any], ring: Keyring | None, trusted: dict[str, str] | None,
                   ) -> tuple[str | None, Keyring | None]:  # fmt: skip
    """Check an entry's payload hash, hash, signatures and quorum against the keys in force
    (``ring``; None before the rule entry). Returns (problem, keyring after the entry)."""
    if _sha256(canonical_json(entry["payload"])) != entry["payload_sha256"]:
        return "payload_sha256 does not match the payload", ring
    if entry_hash(entry) != entry["hash"]:
        return "hash does not match the entry", ring
    signatures = entry["signatures"]
    if not signatures:
        return "no signatures", ring
    kind, payload = entry["kind"], entry["payload"]
    new_key = payload.get("key") if kind == KEY_CHANGE else None
    changing = payload.get("agency") if kind == KEY_CHANGE else None
    seen: set[str] = set()
    proofs: set[str] = set()
    message = signed_bytes(entry)
    for sig in signatures:
        agency = sig["agency"]
        is_proof = (
            agency == changing and new_key is not None and sig["key"] == new_key and agency not in proofs
        )
        if is_proof:
            proofs.add(agency)
        elif agency in seen:
            return f"signed twice by {agency!r}", ring
        else:
            seen.add(agency)
        if not _signature_ok(sig["key"], sig["sig"], message):
            return f"signature by {agency!r} does not verify", ring

    if ring is None:
        if kind != "rule":
            return f"the first entry must be a 'rule' entry (got {kind!r})", ring
        declared, why = _declared_agencies(payload)
        if declared is None:
            return why, ring
        if trusted is not None and (problem := _pin_problem(declared, trusted)):
            return problem, Keyring.from_rule(declared)
        if unsigned := sorted(set(declared) - seen):
            names = ", ".join(repr(a) for a in unsigned)
            return f"rule entry is not signed by {names} (every declared agency must sign it)", ring
        ring = Keyring.from_rule(declared)
    elif kind == KEY_CHANGE and (problem := _key_change_problem(payload, ring)):
        return problem, ring
    for sig in signatures:
        if sig["agency"] in proofs and sig["key"] == new_key:
            continue
        if problem := _signer_problem(sig["agency"], sig["key"], ring):
            return problem, ring
    required = required_signers(entry, ring if kind != "rule" or entry["seq"] != 1 else None)
    if "quorum" in entry:
        q = entry["quorum"]
        if short := sorted(set(required) - set(q)):
            return (
                f"{kind} entry's quorum ({', '.join(q)}) leaves out {', '.join(repr(a) for a in short)}",
                ring,
            )
        if unsigned := sorted(set(q) - seen):
            names = ", ".join(repr(a) for a in unsigned)
            return f"{kind} entry is not signed by {names} (its quorum is {', '.join(q)})", ring
    elif unsigned := sorted(set(required) - seen):
        names = ", ".join(repr(a) for a in unsigned)
        return f"{kind} entry is not signed by {names} (every agency of the round must sign it)", ring
    if kind == KEY_CHANGE:
        if new_key is not None and changing not in proofs:
            return (f"key-change entry is not signed by the new key of {changing!r} "
                    "(it must show it holds the key)"), ring  # fmt: skip
        ring = ring.changed(str(changing), new_key, entry["seq"])
    return None, ring


def _parse_line(raw: bytes) -> tuple[str | None, dict[str, Any] | None]:
    """Parse one line (without its newline): (problem, entry)."""
    if not raw:
        return "empty line", None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not valid UTF-8", None
    try:
        entry = json.loads(text)
    except (ValueError, RecursionError):
        return "not valid JSON", None
    if problem := _structure_problem(entry):
        return problem, None
    try:
        canonical = canonical_json(entry)
    except ValueError:  # NaN or Infinity in the payload
        return "not valid JSON (NaN or Infinity)", None
    if canonical != text:
        return "line is not canonical JSON (sorted keys, no spaces)", None
    return None, entry


def _line_problem(
    raw: bytes,
    position: int,
    prev_hash: str,
    ring: Keyring | None,
    trusted: dict[str, str] | None,
) -> tuple[str | None, dict[str, Any] | None, Keyring | None]:
    """Check one line (without its newline). Returns (problem, entry, keyring after it)."""
    problem, entry = _parse_line(raw)
    if problem or entry is None:
        return problem, None, ring
    if entry["seq"] != position:
        return f"seq is {entry['seq']}, expected {position} (entries removed or reordered?)", entry, ring
    if entry["prev"] != prev_hash:
        where = f"entry {position - 1}'s hash" if position > 1 else "64 zeros (first entry)"
        return f"prev does not match {where} (entries removed or reordered?)", entry, ring
    problem, after = _entry_problem(entry, ring if position > 1 else None, trusted)
    return problem, entry, after


def _check_trusted(trusted: dict[str, str] | None) -> dict[str, str] | None:
    if trusted is None:
        return None
    if not trusted:
        raise VdtoError("no trusted keys given", "", "pass the agencies' .pub files, or none to skip pinning")
    pinned = {}
    for agency, key in trusted.items():
        _check_agency(agency)
        if not isinstance(key, str) or not _HEX64.fullmatch(key.strip().lower()):
            raise VdtoError(f"trusted key for {agency!r} is not 64 hex characters", "", "pass a .pub file")
        pinned[agency] = key.strip().lower()
    return pinned


@dataclass
class _Scan:
    """What reading a ledger's lines gave: entries, leaf hashes, keyrings after each entry."""

    entries: list[dict[str, Any]]
    leaves: list[bytes]
    rings: list[Keyring]
    report: VerifyReport

    @property
    def origin(self) -> str | None:
        return origin_of_rule(self.entries[0]) if self.entries else None

    def ring_at(self, size: int) -> Keyring:
        return self.rings[size - 1]


def _scan(data: bytes, trusted: dict[str, str] | None) -> _Scan:
    if not data:
        return _Scan(
            [], [], [], VerifyReport(False, 0, 1, "no entries (the file is empty)", None, where="entry 1")
        )
    lines = data.split(b"\n")
    complete = lines[-1] == b""
    if complete:
        lines.pop()
    count = len(lines)
    prev_hash = ZERO_HASH
    ring: Keyring | None = None
    entries: list[dict[str, Any]] = []
    leaves: list[bytes] = []
    rings: list[Keyring] = []
    for position, raw in enumerate(lines, 1):
        entry: dict[str, Any] | None = None
        if position == count and not complete:
            problem: str | None = "the last line does not end with a newline (file cut off?)"
        else:
            problem, entry, ring = _line_problem(raw, position, prev_hash, ring, trusted)
        if problem:
            report = VerifyReport(False, count, position, f"entry {position}: {problem}", None,
                                  dict(ring.current) if ring else {}, where=f"entry {position}")  # fmt: skip
            return _Scan(entries, leaves, rings, report)
        assert entry is not None and ring is not None
        entries.append(entry)
        leaves.append(leaf_of(entry))
        rings.append(ring)
        prev_hash = entry["hash"]
    report = VerifyReport(True, count, None, "", prev_hash, dict(rings[-1].current), origin=origin_of_rule(entries[0]),
                          root=merkle.root(leaves).hex())  # fmt: skip
    return _Scan(entries, leaves, rings, report)


# ------------------------------------------------------------------------------ checkpoints


@dataclass(frozen=True)
class CheckpointCheck:
    """A checkpoint that verified: its tree, the agencies that signed it, the witnesses that
    cosigned it (name -> timestamp), and the witness lines that could not be checked."""

    checkpoint: Checkpoint
    signed_by: tuple[str, ...]
    witnessed: dict[str, int]
    unknown: tuple[str, ...]


def check_note(text: str, ring: Keyring, witnesses: dict[str, str] | None = None,
               origin: str | None = None) -> CheckpointCheck:  # fmt: skip
    """Check a signed checkpoint note against the agencies' keys in force at its size.

    Every signature line named after an agency must be by that agency's key in force and
    verify; at least one agency must have signed. Lines by the ``witnesses`` given (name ->
    public hex) must be valid cosignatures; other lines are listed as ``unknown``.

    Raises
    ------
    VdtoError
        One line saying what is wrong (a malformed note, another origin, a bad signature).
    """
    body, lines = parse_note(text)
    cp = Checkpoint.parse(body)
    if origin is not None and cp.origin != origin:
        raise NoteError(f"checkpoint is for log {cp.origin!r}, not {origin!r}")
    signed: list[str] = []
    witnessed: dict[str, int] = {}
    unknown: list[str] = []
    for line in lines:
        if line.name in ring.declared:
            key = ring.current.get(line.name)
            retired = [k for k, (a, _, _) in ring.retired.items() if a == line.name]
            if key is not None and line.key_hash == key_id(line.name, bytes.fromhex(key), ALG_ED25519):
                if not verify_signature(body, line, line.name, key):
                    raise NoteError(f"signature by {line.name!r} does not verify")
                signed.append(line.name)
                continue
            for old in retired:
                if line.key_hash == key_id(line.name, bytes.fromhex(old), ALG_ED25519):
                    _, seq, how = ring.retired[old]
                    raise NoteError(
                        f"signature by {line.name!r} is made with key {old[:8]}…, which was {how} at entry {seq}"
                    )
            raise NoteError(f"signature by {line.name!r} is made with a key that is not its key in force")
        if witnesses and line.name in witnesses:
            when = verify_cosignature(body, line, line.name, witnesses[line.name])
            if when is None:
                raise NoteError(f"cosignature by witness {line.name!r} does not verify")
            witnessed[line.name] = when
            continue
        unknown.append(line.name)
    if not signed:
        raise NoteError("checkpoint is not signed by any agency in force")
    return CheckpointCheck(cp, tuple(sorted(set(signed))), witnessed, tuple(unknown))


def checkpoints_path(path: str | Path) -> Path:
    """Where the signed checkpoints of the ledger ``path`` are kept (``<ledger>.checkpoints``)."""
    return Path(str(path) + CHECKPOINTS_SUFFIX)


def _read_checkpoints(path: Path) -> tuple[list[dict[str, Any]], str | None]:
    """The checkpoint records of a sidecar file, or (records so far, problem)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], None
    except OSError as error:
        raise VdtoError(f"cannot read the checkpoints ({error.strerror or error})", str(path)) from error
    records: list[dict[str, Any]] = []
    if not data:
        return records, None
    if not data.endswith(b"\n"):
        return records, "the checkpoints file does not end with a newline (cut off?)"
    for n, raw in enumerate(data.split(b"\n")[:-1], 1):
        try:
            text = raw.decode("utf-8")
            record = json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return records, f"checkpoints line {n} is not JSON"
        if (not isinstance(record, dict) or set(record) != {"size", "note"} or not isinstance(record["note"], str)
                or not isinstance(record["size"], int) or isinstance(record["size"], bool) or record["size"] < 1):  # fmt: skip
            return records, f'checkpoints line {n} must be {{"note": text, "size": positive integer}}'
        if canonical_json(record) != text:
            return records, f"checkpoints line {n} is not canonical JSON"
        if records and record["size"] <= records[-1]["size"]:
            return (
                records,
                f"checkpoints line {n}: sizes must increase ({record['size']} after {records[-1]['size']})",
            )
        records.append(record)
    return records, None


def _check_checkpoint(text: str, size_claimed: int | None, scan: _Scan,
                      witnesses: dict[str, str] | None) -> tuple[str | None, CheckpointCheck | None]:  # fmt: skip
    """Check a signed checkpoint against the scanned ledger: (problem, check)."""
    try:
        body, _ = parse_note(text)
        cp = Checkpoint.parse(body)
    except VdtoError as error:
        return f"not a valid signed checkpoint ({error.what})", None
    if size_claimed is not None and cp.size != size_claimed:
        return f"the note says tree size {cp.size}, the record {size_claimed}", None
    if cp.origin != scan.origin:
        return f"checkpoint is for log {cp.origin!r}, not this ledger ({scan.origin})", None
    if cp.size > len(scan.entries):
        return (f"checkpoint covers {cp.size} entries but the ledger has {len(scan.entries)} "
                "(entries dropped from the end?)"), None  # fmt: skip
    try:
        check = check_note(text, scan.ring_at(cp.size), witnesses, scan.origin)
    except VdtoError as error:
        return error.what, None
    root = merkle.root(scan.leaves[: cp.size])
    if root != cp.root:
        return (f"the ledger's first {cp.size} entries hash to root {root.hex()[:16]}…, not the checkpoint's "
                f"{cp.root.hex()[:16]}… (a different history)"), None  # fmt: skip
    return None, check


def _failed(scan: _Scan, where: str, problem: str) -> VerifyReport:
    r = scan.report
    return VerifyReport(False, r.entries, None, f"{where}: {problem}", None, r.agencies, where=where,
                        origin=r.origin)  # fmt: skip


def _verify_all(data: bytes, trusted: dict[str, str] | None, sidecar: Path | None,
                witnesses: dict[str, str] | None, checkpoint: str | None) -> VerifyReport:  # fmt: skip
    scan = _scan(data, trusted)
    if not scan.report.ok:
        return scan.report
    records, problem = _read_checkpoints(sidecar) if sidecar is not None else ([], None)
    if problem:
        return _failed(scan, "checkpoints", problem)
    last: CheckpointCheck | None = None
    for record in records:
        where = f"checkpoint {record['size']}"
        problem, check = _check_checkpoint(record["note"], record["size"], scan, witnesses)
        if problem:
            return _failed(scan, where, problem)
        last = check
    if checkpoint is not None:
        problem, check = _check_checkpoint(checkpoint, None, scan, witnesses)
        if problem:
            return _failed(scan, "kept checkpoint", problem)
        if check is not None and (last is None or check.checkpoint.size >= last.checkpoint.size):
            last = check
    notes = []
    if last is None:
        notes.append("no signed checkpoint: dropping the last entries would go unnoticed; "
                     "sign one with `vdto ledger checkpoint`")  # fmt: skip
    elif last.checkpoint.size < len(scan.entries):
        notes.append(f"the latest checkpoint covers {last.checkpoint.size} of {len(scan.entries)} entries")
    if last is not None and not last.witnessed:
        notes.append("the latest checkpoint has no witness cosignature that could be checked")
    r = scan.report
    return VerifyReport(True, r.entries, None, "", r.last_hash, r.agencies, origin=r.origin, root=r.root,
                        checkpoints=len(records), checkpoint_size=last.checkpoint.size if last else None,
                        witnessed=tuple(sorted(last.witnessed)) if last else (), notes=tuple(notes))  # fmt: skip


def _verify_bytes(data: bytes, trusted: dict[str, str] | None) -> VerifyReport:
    return _scan(data, trusted).report


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as error:
        raise VdtoError("ledger file not found", str(path), "check the path") from error
    except OSError as error:
        raise VdtoError(f"cannot read the ledger ({error.strerror or error})", str(path)) from error


def verify(
    path: str | Path,
    trusted: dict[str, str] | None = None,
    *,
    witnesses: dict[str, str] | None = None,
    checkpoint: str | None = None,
) -> VerifyReport:
    """Check a ledger file line by line, then its signed checkpoints; stops at the first problem.

    Per line, in order: a JSON object in canonical form with exactly the entry keys and the
    right types; ``seq`` equals the line's position; ``prev`` equals the previous entry's
    ``hash``; ``payload_sha256``; ``hash``; the signatures (at least one, one per agency, each a
    valid Ed25519 signature); for the first entry, kind ``"rule"`` declaring the agencies and
    signed by all of them; every signature by a declared agency with its key in force at that
    entry (key changes apply from the entry that makes them); the quorum (the entry's own
    ``quorum``, which must include :func:`required_signers`).

    Then every checkpoint in ``<ledger>.checkpoints`` (:func:`checkpoints_path`) and the
    ``checkpoint`` given (for instance the one a witness kept): this log's origin, a tree size
    no larger than the ledger, the Merkle root of that many entries, signed by an agency with its
    key in force at that size; cosignatures by the ``witnesses`` given must verify.

    Parameters
    ----------
    path
        The ledger (JSON Lines).
    trusted
        Optional ``{agency: public hex}`` obtained independently of the ledger (see
        :func:`~vdto.publication.keys.load_trusted`); the rule entry must then declare exactly
        these agencies and keys.
    witnesses
        Optional ``{witness name: public hex}`` whose cosignatures are checked.
    checkpoint
        A signed checkpoint kept elsewhere (by a witness, a reader): the ledger must contain the
        tree it signs. A ledger cut short, or showing another history, fails.

    Returns
    -------
    VerifyReport
        Never raises on a bad ledger: the report says what is wrong and where.

    Raises
    ------
    VdtoError
        Only if the file does not exist or cannot be read, or ``trusted`` is malformed.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime, UTC
    >>> from vdto.publication.keys import Signer, load_trusted, new_keypair
    >>> folder = Path(tempfile.mkdtemp())
    >>> mx = Signer.load(new_keypair("mx", folder)[0])
    >>> us = Signer.load(new_keypair("us", folder)[0])
    >>> when = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
    >>> agencies = {"mx": mx.public_hex, "us": us.public_hex}
    >>> ledger = Ledger.init(folder / "ledger.jsonl", {"agencies": agencies}, [mx, us], when)
    >>> card = ledger.append("scorecard", {"round": 1, "top": ["cjng"]}, [us], when)
    >>> report = verify(ledger.path, trusted=load_trusted([folder]))
    >>> report.ok, report.entries, report.last_hash == card["hash"], report.checkpoint_size
    (True, 2, True, 2)
    >>> text = ledger.path.read_text(encoding="utf-8").replace('"cjng"', '"cdn"')
    >>> _ = ledger.path.write_text(text, encoding="utf-8")
    >>> report = verify(ledger.path)
    >>> report.ok, report.first_bad, report.problem
    (False, 2, 'entry 2: payload_sha256 does not match the payload')
    """
    pinned = _check_trusted(trusted)
    p = Path(path)
    return _verify_all(_read(p), pinned, checkpoints_path(p), witnesses, checkpoint)


# ------------------------------------------------------------------------------------ writing


def _utc_text(time: datetime | None) -> str:
    if time is None:
        time = datetime.now(UTC)
    if time.tzinfo is None or time.utcoffset() is None:
        raise VdtoError(
            f"time {time.isoformat()} has no time zone", "", "pass an aware datetime, e.g. tzinfo=UTC"
        )
    return time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def _locked(path: Path) -> Iterator[bytes | None]:
    """Hold an exclusive lock on the ledger's folder and yield the ledger's bytes (None when it
    is absent).

    The lock is taken on the folder, which is never replaced (the ledger and its checkpoints
    are, by every append), so one writer at a time reads, appends and writes both files.
    """
    folder = path.parent if str(path.parent) else Path(".")
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError as error:
        raise VdtoError(f"cannot open the ledger's folder ({error.strerror})", str(folder)) from error
    try:
        if fcntl is not None:
            fcntl.flock(dir_fd, fcntl.LOCK_EX)
        try:
            data: bytes | None = path.read_bytes()
        except FileNotFoundError:
            data = None
        except OSError as error:
            raise VdtoError(f"cannot read the ledger ({error.strerror})", str(path)) from error
        yield data
    finally:
        os.close(dir_fd)  # closing the descriptor releases the lock


def _write_atomically(path: Path, data: bytes, create: bool, what: str = "the ledger") -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then move it into place.

    With ``create``, the move fails if ``path`` appeared meanwhile (another writer started it).
    On any failure the temporary file is removed and ``path`` is left as it was.
    """
    folder = path.parent
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise VdtoError(f"cannot write in the ledger's folder ({error.strerror})", str(folder)) from error
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if create:
            try:
                os.link(tmp, path)  # fails if path exists: never clobber a ledger started meanwhile
            except FileExistsError:
                raise VdtoError(
                    "the ledger was created by someone else meanwhile", str(path), "append to it instead"
                ) from None
            except OSError:  # no hard links on this file system
                os.replace(tmp, path)
        else:
            os.replace(tmp, path)
    except OSError as error:
        raise VdtoError(
            f"cannot write {what} ({error.strerror or error}); it was left unchanged", str(path)
        ) from error
    finally:
        if tmp.exists():
            tmp.unlink()
    try:  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# ------------------------------------------------------------------ signing requests


def request_sha256(request: dict[str, Any]) -> str:
    """The SHA-256 (hex) a signing request names itself by: its canonical JSON without ``sha256``."""
    return _sha256(canonical_json({k: v for k, v in request.items() if k != "sha256"}))


REQUEST_KEYS = frozenset({"vdto_request", "origin", "entry", "checkpoint", "signers", "summary", "sha256"})
SIGNATURE_FILE_KEYS = frozenset(
    {"vdto_signature", "request_sha256", "agency", "key", "entry_sig", "checkpoint_sig"}
)


def _bad_request(what: str, where: str = "request") -> VdtoError:
    return VdtoError(what, where, "make a new request with vdto (`--request`), and sign that file unchanged")


def check_request(request: Any, where: str = "request") -> dict[str, Any]:
    """Check a signing request on its own: its form, its hash, that the entry's payload hashes to
    its ``payload_sha256`` and that the checkpoint is for the entry's tree size. Returns it.

    Raises
    ------
    VdtoError
        One line naming what is wrong; nothing is signed or appended.
    """
    if not isinstance(request, dict) or set(request) != REQUEST_KEYS or request.get("vdto_request") != 1:
        raise _bad_request("not a vdto signing request (version 1)", where)
    if request_sha256(request) != request["sha256"]:
        raise _bad_request("the request was changed after it was made (its sha256 does not match)", where)
    entry = request["entry"]
    try:
        cp = Checkpoint.parse(request["checkpoint"])
    except (VdtoError, TypeError) as error:
        raise _bad_request(
            f"the request's checkpoint is malformed ({getattr(error, 'what', error)})", where
        ) from None
    if cp.origin != request["origin"]:
        raise _bad_request("the request's checkpoint is for another log", where)
    if entry is not None:
        if not isinstance(entry, dict) or set(entry) != ENTRY_KEYS - {"signatures", "hash"} | {"quorum"}:
            raise _bad_request("the request's entry has the wrong keys", where)
        try:
            ok = _sha256(canonical_json(entry["payload"])) == entry["payload_sha256"]
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise _bad_request("the request's payload does not hash to its payload_sha256", where)
        if cp.size != entry["seq"]:
            raise _bad_request(
                f"the request's checkpoint is for tree size {cp.size}, its entry is entry {entry['seq']}",
                where,
            )
    signers = request["signers"]
    if not isinstance(signers, list) or not signers or not all(map(_signer_row_ok, signers)):
        raise _bad_request("the request's signers are malformed", where)
    return request


def _signer_row_ok(row: Any) -> bool:
    return (
        isinstance(row, dict)
        and set(row) == {"agency", "key", "entry", "checkpoint"}
        and isinstance(row["agency"], str)
        and bool(_AGENCY.fullmatch(row["agency"]))
        and isinstance(row["key"], str)
        and bool(_HEX64.fullmatch(row["key"]))
        and isinstance(row["entry"], bool)
        and isinstance(row["checkpoint"], bool)
    )


def request_bytes(request: dict[str, Any]) -> tuple[bytes | None, bytes]:
    """The exact bytes a request asks to sign: the entry's signed bytes (None for a checkpoint
    alone) and the checkpoint body."""
    entry = request["entry"]
    return (signed_bytes(entry) if entry is not None else None), request["checkpoint"].encode("utf-8")


def bad_signature_part(request: dict[str, Any], row: dict[str, Any], sig: dict[str, Any]) -> str | None:
    """Which part (``"entry"`` or ``"checkpoint"``) of a detached signature ``sig`` is not a valid
    Ed25519 signature, by the request's signer ``row``, of exactly the request's bytes; None when
    every part the row asks for is. The one check the assembler and the API both apply."""
    entry_bytes, cp_bytes = request_bytes(request)
    for part, message in (("entry", entry_bytes), ("checkpoint", cp_bytes)):
        if not row[part]:
            continue
        value = sig.get(f"{part}_sig")
        if message is None or not isinstance(value, str) or not _HEX128.fullmatch(value):
            return part
        if not _signature_ok(row["key"], value, message):
            return part
    return None


def sign_request(request: dict[str, Any], signer: Signer, where: str = "request") -> dict[str, Any]:
    """Sign a request with an agency's own key: a detached signature (public data only).

    The signer must be one the request asks for, with the same key; it signs the entry's bytes
    and the checkpoint as the request says.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime, UTC
    >>> from vdto.publication.keys import Signer, new_keypair
    >>> folder = Path(tempfile.mkdtemp())
    >>> mx = Signer.load(new_keypair("mx", folder)[0])
    >>> us = Signer.load(new_keypair("us", folder)[0])
    >>> ledger = Ledger(folder / "ledger.jsonl")
    >>> agencies = {"mx": mx.public_hex, "us": us.public_hex}
    >>> request = ledger.request("rule", {"agencies": agencies}, time=datetime(2026, 11, 21, tzinfo=UTC))
    >>> signatures = [sign_request(request, s) for s in (mx, us)]  # on two machines
    >>> ledger.assemble(request, signatures)["seq"], verify(ledger.path).checkpoint_size
    (1, 1)
    """
    check_request(request, where)
    rows = [s for s in request["signers"] if s["agency"] == signer.agency and s["key"] == signer.public_hex]
    if not rows:
        asked = ", ".join(f"{s['agency']} (key {s['key'][:8]}…)" for s in request["signers"])
        raise VdtoError(
            f"this request does not ask {signer.agency!r} with key {signer.public_hex[:8]}… to sign "
            f"(it asks {asked}); the key given for {signer.agency!r} is not the one declared",
            where, "sign with the key the request names",
        )  # fmt: skip
    row = rows[0]
    entry_bytes, cp_bytes = request_bytes(request)
    return {
        "vdto_signature": 1,
        "request_sha256": request["sha256"],
        "agency": signer.agency,
        "key": signer.public_hex,
        "entry_sig": signer.sign(entry_bytes) if row["entry"] and entry_bytes is not None else None,
        "checkpoint_sig": signer.sign(cp_bytes) if row["checkpoint"] else None,
    }


def summary_of(kind: str, payload: dict[str, Any], seq: int) -> str:
    """A one-paragraph summary of what an entry publishes, for the people who sign it."""
    if kind == "rule":
        return f"Start the ledger: the rule entry declares the agencies {', '.join(sorted(payload.get('agencies') or {}))} and their keys."
    if kind == "announcement":
        return (f"Entry {seq}: announce round {payload.get('round')}, window {' to '.join(payload.get('window') or [])}: "
                f"target {payload.get('target')}. Agencies: {', '.join(sorted(payload.get('scorecards') or {}))}.")  # fmt: skip
    if kind == "round-close":
        return f"Entry {seq}: close round {payload.get('round')} as {payload.get('outcome')} ({payload.get('reason') or 'no reason given'})."
    if kind == KEY_CHANGE:
        what = (
            "revoke the key"
            if payload.get("key") is None
            else f"replace the key with {str(payload.get('key'))[:8]}…"
        )
        return f"Entry {seq}: {what} of agency {payload.get('agency')} ({payload.get('reason') or 'no reason given'})."
    if kind == "site":
        return f"Entry {seq}: the published site of round {payload.get('round')}: {len(payload.get('files') or {})} files by their SHA-256."
    return f"Entry {seq}: publish a {kind} entry (payload SHA-256 {_sha256(canonical_json(payload))[:16]}…)."


# ------------------------------------------------------------------------------------ the ledger


class Ledger:
    """A ledger file and its signed checkpoints: read, request, sign, assemble, prove.

    The first entry is written with :meth:`init` (or :meth:`append` with kind ``"rule"`` on a
    missing or empty file): its payload must declare ``"agencies"`` and every declared agency
    must sign it. Later entries are written with :meth:`append` (keys at hand) or with
    :meth:`request`, :func:`sign_request` on each agency's machine and :meth:`assemble`. Every
    entry comes with a checkpoint of the new tree signed by the same agencies. Every append
    first verifies the whole ledger, then replaces the files atomically, so a crash leaves either
    the old ledger or the new one, never half a line.

    Examples
    --------
    See :func:`verify` and :func:`sign_request`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    @property
    def checkpoints_path(self) -> Path:
        return checkpoints_path(self.path)

    def _data(self) -> bytes:
        return _read(self.path) if self.path.exists() else b""

    def _scan_ok(self, data: bytes) -> _Scan:
        scan = _scan(data, None)
        if data and not scan.report.ok:
            raise VdtoError(
                f"ledger does not verify ({scan.report.problem}); nothing was appended",
                str(self.path), "restore it from a published copy",
            )  # fmt: skip
        return scan

    def entries(self) -> list[dict[str, Any]]:
        """The entries, in order; ``[]`` if the file does not exist or is empty.

        Raises
        ------
        VdtoError
            If the ledger does not verify (the problem is in the message).
        """
        data = self._data()
        if not data:
            return []
        report = _verify_bytes(data, None)
        if not report.ok:
            raise VdtoError(
                f"ledger does not verify ({report.problem})",
                str(self.path),
                "restore it from a published copy",
            )
        # split on b"\n" only: str.splitlines() would also split inside strings at U+2028, U+0085...
        return [json.loads(line) for line in data.split(b"\n")[:-1]]

    def verify(self, trusted: dict[str, str] | None = None, **options: Any) -> VerifyReport:
        """:func:`verify` this ledger."""
        return verify(self.path, trusted, **options)

    def checkpoints(self) -> list[dict[str, Any]]:
        """The signed checkpoints, ``{"size", "note"}``, by increasing size (unchecked)."""
        records, problem = _read_checkpoints(self.checkpoints_path)
        if problem:
            raise VdtoError(problem, str(self.checkpoints_path), "restore it from a published copy")
        return records

    def latest_checkpoint(self) -> str | None:
        """The signed note of the largest tree signed so far (None when there is none)."""
        records = self.checkpoints()
        return records[-1]["note"] if records else None

    @classmethod
    def init(
        cls,
        path: str | Path,
        rule_payload: dict[str, Any],
        signers: list[Signer],
        time: datetime | None = None,
    ) -> Ledger:
        """Start a new ledger at ``path`` with its rule entry; refuses if the file exists and is not empty.

        ``rule_payload`` must hold ``"agencies": {agency: public hex, ...}`` and ``signers``
        must be exactly those agencies with those keys. Returns the ledger; its rule entry is
        ``entries()[0]``.
        """
        ledger = cls(path)
        if ledger.path.exists() and ledger.path.stat().st_size > 0:
            raise VdtoError("ledger exists already", str(ledger.path), "append to it, or choose another path")
        ledger.append("rule", rule_payload, signers, time)
        return ledger

    # -- requests

    def _request_from(self, data: bytes, kind: str, payload: Any, agencies: list[str] | None,
                      time: datetime | None) -> dict[str, Any]:  # fmt: skip
        where = str(self.path)
        if not isinstance(kind, str) or not _KIND.fullmatch(kind):
            raise VdtoError(
                f"invalid entry kind {_short(kind)}", where, "use a short lowercase name like 'scorecard'"
            )
        if not isinstance(payload, dict):
            raise VdtoError("payload must be a JSON object (a dict)", where)
        try:
            payload = json.loads(canonical_json(payload).encode("utf-8"))
        except (TypeError, ValueError) as error:  # incl. NaN, unpaired surrogates
            raise VdtoError(f"payload is not JSON ({error})", where) from error
        stamp = _utc_text(time)
        scan = self._scan_ok(data)
        if scan.entries:
            seq, prev, ring = len(scan.entries) + 1, scan.entries[-1]["hash"], scan.rings[-1]
            if kind == KEY_CHANGE and (problem := _key_change_problem(payload, ring)):
                raise VdtoError(problem, where)
        else:
            if kind != "rule":
                raise VdtoError(
                    f"the first entry must be a 'rule' entry, not {kind!r}",
                    where,
                    "start the ledger with the rule entry declaring the agencies' keys",
                )
            declared, why = _declared_agencies(payload)
            if declared is None:
                raise VdtoError(why, where)
            seq, prev, ring = 1, ZERO_HASH, Keyring.from_rule(declared)
        entry = {"seq": seq, "kind": kind, "time": stamp, "prev": prev, "payload": payload,
                 "payload_sha256": _sha256(canonical_json(payload))}  # fmt: skip
        required = required_signers(entry, ring if seq > 1 else None)
        names = sorted(set(agencies if agencies is not None else required))
        if not names:
            raise VdtoError("an entry needs at least one signer", where, "pass the agencies' .key files")
        if seq == 1 and (unsigned := sorted(set(ring.current) - set(names))):
            raise VdtoError("the rule entry must be signed by every agency it declares; missing "
                            + ", ".join(repr(a) for a in unsigned), where)  # fmt: skip
        for name in names:
            if name not in ring.current:
                if name in ring.declared:
                    raise VdtoError(f"agency {name!r} has no key in force (revoked)", where)
                raise VdtoError(
                    f"signer {name!r} is not a declared agency (declared: {', '.join(sorted(ring.declared))})",
                    where,
                )
        if missing := sorted(set(required) - set(names)):
            raise VdtoError(
                f"the {kind} entry is not signed by {', '.join(repr(a) for a in missing)} (it must be)", where,
                "give every required agency's key or signature",
            )  # fmt: skip
        entry["quorum"] = names
        after = ring
        if kind == KEY_CHANGE:
            after = ring.changed(payload["agency"], payload["key"], seq)
        signers = [{"agency": a, "key": ring.current[a], "entry": True, "checkpoint": after.current.get(a) == ring.current[a]}
                   for a in names]  # fmt: skip
        if kind == KEY_CHANGE and payload["key"] is not None:
            signers.append(
                {"agency": payload["agency"], "key": payload["key"], "entry": True, "checkpoint": True}
            )
        if not any(s["checkpoint"] for s in signers):
            raise VdtoError("nobody in force after this entry would sign its checkpoint", where)
        leaves = [*scan.leaves, leaf_of(entry)]
        origin = origin_of_rule(entry) if seq == 1 else scan.origin
        request = {"vdto_request": 1, "origin": origin, "entry": entry,
                   "checkpoint": Checkpoint(str(origin), seq, merkle.root(leaves)).body(),
                   "signers": sorted(signers, key=lambda s: (s["agency"], s["key"])),
                   "summary": summary_of(kind, payload, seq)}  # fmt: skip
        request["sha256"] = request_sha256(request)
        return request

    def request(self, kind: str, payload: dict[str, Any], agencies: list[str] | None = None,
                time: datetime | None = None) -> dict[str, Any]:  # fmt: skip
        """A signing request for appending one entry (nothing is written).

        ``agencies`` sign it (default: the agencies that must, :func:`required_signers`); they
        sign the entry's bytes and the checkpoint of the tree that ends with it. Each agency
        signs with :func:`sign_request` on its own machine; :meth:`assemble` appends.
        """
        return self._request_from(self._data(), kind, payload, agencies, time)

    def checkpoint_request(self, agencies: list[str] | None = None) -> dict[str, Any]:
        """A signing request for a checkpoint of the ledger as it is (e.g. a ledger written before
        checkpoints existed), by ``agencies`` (default: every agency in force)."""
        scan = self._scan_ok(self._data())
        if not scan.entries:
            raise VdtoError("the ledger is empty", str(self.path), "start it with its rule entry")
        ring = scan.rings[-1]
        names = sorted(set(agencies if agencies is not None else ring.current))
        for name in names:
            if name not in ring.current:
                raise VdtoError(f"{name!r} is not an agency in force (in force: {', '.join(sorted(ring.current))})",
                                str(self.path))  # fmt: skip
        size = len(scan.entries)
        request = {"vdto_request": 1, "origin": scan.origin, "entry": None,
                   "checkpoint": Checkpoint(str(scan.origin), size, merkle.root(scan.leaves)).body(),
                   "signers": [{"agency": a, "key": ring.current[a], "entry": False, "checkpoint": True} for a in names],
                   "summary": f"Sign the checkpoint of the ledger's first {size} entries (no new entry)."}  # fmt: skip
        request["sha256"] = request_sha256(request)
        return request

    # -- assembling

    def _assemble_into(self, data: bytes | None, request: dict[str, Any], signatures: list[dict[str, Any]],
                       where: str) -> dict[str, Any] | None:  # fmt: skip
        check_request(request, where)
        scan = self._scan_ok(data or b"")
        entry = request["entry"]
        size = len(scan.entries) + (1 if entry is not None else 0)
        if entry is not None and (entry["seq"] != len(scan.entries) + 1
                                  or entry["prev"] != (scan.entries[-1]["hash"] if scan.entries else ZERO_HASH)):  # fmt: skip
            raise VdtoError(
                f"the ledger moved on since the request was made (it asks for entry {entry['seq']}; "
                f"the ledger has {len(scan.entries)}); nothing was appended", str(self.path), "make a new request",
            )  # fmt: skip
        leaves = scan.leaves + ([leaf_of(entry)] if entry is not None else [])
        origin = request["origin"] if not scan.entries else scan.origin
        expected = Checkpoint(str(origin), size, merkle.root(leaves)).body()
        if request["checkpoint"] != expected or (entry is None and not scan.entries):
            raise VdtoError("the request's checkpoint is not this ledger's tree; nothing was appended", where,
                            "make a new request from this ledger")  # fmt: skip
        by_signer: dict[tuple[str, str], dict[str, Any]] = {}
        for n, sig in enumerate(signatures, 1):
            if not isinstance(sig, dict) or set(sig) != SIGNATURE_FILE_KEYS or sig.get("vdto_signature") != 1:
                raise VdtoError(
                    f"signature {n} is not a vdto signature file", where, "pass the files `vdto sign` wrote"
                )
            if sig["request_sha256"] != request["sha256"]:
                raise VdtoError(f"signature {n} ({sig.get('agency')}) is for another request; nothing was appended",
                                where, "sign this request")  # fmt: skip
            by_signer[(str(sig["agency"]), str(sig["key"]))] = sig
        lines: list[dict[str, str]] = []
        note_lines: list[str] = []
        for row in request["signers"]:
            found = by_signer.get((row["agency"], row["key"]))
            if found is None:
                raise VdtoError(f"no signature by {row['agency']!r} (key {row['key'][:8]}…); nothing was appended",
                                where, f"ask {row['agency']} to run `vdto sign` on the request")  # fmt: skip
            if part := bad_signature_part(request, row, found):
                raise VdtoError(
                    f"the {part} signature by {row['agency']!r} is not over the request's bytes; nothing was appended",
                    where, "sign exactly this request, unchanged",
                )  # fmt: skip
            if row["entry"]:
                lines.append({"agency": row["agency"], "key": row["key"], "sig": found["entry_sig"]})
            if row["checkpoint"]:
                note_lines.append(
                    signature_line(
                        row["agency"], bytes.fromhex(row["key"]), bytes.fromhex(found["checkpoint_sig"])
                    )
                )
        written: dict[str, Any] | None = None
        out = data or b""
        if entry is not None:
            written = {**entry, "signatures": sorted(lines, key=lambda s: (s["agency"], s["key"]))}
            written["hash"] = entry_hash(written)
            line = canonical_json(written).encode("utf-8")
            problem, _, _ = _line_problem(
                line, entry["seq"], entry["prev"], scan.rings[-1] if scan.rings else None, None
            )
            if problem:
                raise VdtoError(
                    f"entry {entry['seq']} would not verify ({problem}); nothing was appended", where
                )
            out = out + line + b"\n"
        note = request["checkpoint"] + "\n" + "".join(note_lines)
        records, problem = _read_checkpoints(self.checkpoints_path)
        if problem:
            raise VdtoError(
                problem + "; nothing was appended",
                str(self.checkpoints_path),
                "restore it from a published copy",
            )
        records = [r for r in records if r["size"] < size]
        if entry is None:
            old = [r for r in self.checkpoints() if r["size"] == size]
            if old:  # same tree signed again: keep every signature
                note = add_signature_lines(old[0]["note"], note_lines)
        records.append({"size": size, "note": note})
        sidecar = b"".join(canonical_json(r).encode("utf-8") + b"\n" for r in records)
        if entry is not None:
            _write_atomically(self.path, out, create=data is None)
        try:
            _write_atomically(self.checkpoints_path, sidecar, create=False, what="the checkpoints")
        except VdtoError as error:
            if entry is None:
                raise
            raise VdtoError(
                f"entry {entry['seq']} was appended but its checkpoint could not be written "
                f"({error.what.removesuffix('; it was left unchanged')})",
                str(self.checkpoints_path), "sign a checkpoint with `vdto ledger checkpoint` once the disk is fixed",
            ) from None  # fmt: skip
        return written

    def assemble(
        self, request: dict[str, Any], signatures: list[dict[str, Any]], where: str = "request"
    ) -> dict[str, Any] | None:
        """Append the entry of a signing request with the agencies' detached signatures, and its
        signed checkpoint; refuses (nothing appended) unless every agency the request names
        signed exactly its bytes with its key in force and the ledger still ends where the
        request was made. Returns the entry written (None for a checkpoint-only request)."""
        with _locked(self.path) as data:
            return self._assemble_into(data, request, signatures, where)

    def append(
        self,
        kind: str,
        payload: dict[str, Any],
        signers: list[Signer],
        time: datetime | None = None,
    ) -> dict[str, Any]:
        """Sign and append one entry with keys at hand; returns it as written (with its ``hash``).

        The same path as two machines take: :meth:`request`, :func:`sign_request` by each
        signer, :meth:`assemble`, under one lock. ``time`` defaults to now and is stored in UTC
        to the second.

        Raises
        ------
        VdtoError
            If the existing ledger does not verify; if this is the first entry and ``kind`` is
            not ``"rule"`` or the payload does not declare the agencies or not every declared
            agency signs; if a signer is not a declared agency or holds another key; if the
            payload is not JSON; if the file cannot be written (it is then left unchanged).
        """
        where = str(self.path)
        if not signers:
            raise VdtoError("an entry needs at least one signer", where, "pass the agencies' .key files")
        names = [s.agency for s in signers]
        with _locked(self.path) as data:
            new = [s for s in signers if kind == KEY_CHANGE and s.public_hex == (payload or {}).get("key")]
            agencies = [s.agency for s in signers if s not in new]
            if len(set(agencies)) != len(agencies):
                raise VdtoError(
                    "the same agency is given twice as signer", where, "pass each agency's key once"
                )
            request = self._request_from(data or b"", kind, payload, agencies or names, time)
            ring = self._scan_ok(data or b"").rings
            for signer in signers:
                row = [r for r in request["signers"] if r["agency"] == signer.agency]
                if (
                    ring
                    and (problem := _signer_problem(signer.agency, signer.public_hex, ring[-1]))
                    and "replaced" in problem
                ):
                    raise VdtoError(problem.replace("signature by", "the key given for"), where,
                                    f"use {signer.agency}'s key in force")  # fmt: skip
                if row and all(r["key"] != signer.public_hex for r in row):
                    raise VdtoError(
                        f"the key given for {signer.agency!r} is not the one declared in the rule entry", where,
                        f"use {signer.agency}.key matching public key {row[0]['key'][:8]}…",
                    )  # fmt: skip
            signatures = [sign_request(request, s, where) for s in signers]
            written = self._assemble_into(data, request, signatures, where)
        assert written is not None
        return written

    def sign_checkpoint(self, signers: list[Signer]) -> str:
        """Sign a checkpoint of the ledger as it is with keys at hand (migrating a ledger written
        before checkpoints); returns the signed note."""
        with _locked(self.path) as data:
            if data is None:
                raise VdtoError("ledger file not found", str(self.path), "check the path")
            request = self.checkpoint_request([s.agency for s in signers])
            self._assemble_into(data, request, [sign_request(request, s) for s in signers], str(self.path))
        note = self.latest_checkpoint()
        assert note is not None
        return note

    # -- witnesses

    def add_cosignatures(self, note: str, witnesses: dict[str, str]) -> list[str]:
        """Add the witnesses' cosignatures found in ``note`` (a checkpoint they cosigned) to the
        stored checkpoint of the same tree; returns the names added.

        Only cosignatures by the ``witnesses`` given (name -> public hex) that verify are
        added; the checkpoint must be one this ledger signed.
        """
        where = str(self.path)
        with _locked(self.path) as data:
            self._scan_ok(data or b"")  # never add to a ledger that does not verify
            body, lines = parse_note(note)
            cp = Checkpoint.parse(body)
            records = self.checkpoints()
            mine = [r for r in records if r["size"] == cp.size]
            if not mine or parse_note(mine[0]["note"])[0] != body:
                raise VdtoError(f"this ledger signed no checkpoint with that tree (size {cp.size})", where,
                                "cosign a checkpoint the ledger published")  # fmt: skip
            new: list[str] = []
            added: list[str] = []
            for line in lines:
                if line.name in witnesses:
                    if verify_cosignature(body, line, line.name, witnesses[line.name]) is None:
                        raise VdtoError(
                            f"cosignature by witness {line.name!r} does not verify; nothing was added", where
                        )
                    new.append(line.line)
                    added.append(line.name)
            if not new:
                raise VdtoError(
                    "no cosignature by a known witness in the note", where, "pass the witness's public key"
                )
            mine[0]["note"] = add_signature_lines(mine[0]["note"], new)
            _write_atomically(self.checkpoints_path,
                              b"".join(canonical_json(r).encode("utf-8") + b"\n" for r in records), create=False,
                              what="the checkpoints")  # fmt: skip
        return added

    # -- proofs

    def proof(self, seqs: list[int], size: int | None = None) -> dict[str, Any]:
        """A proof bundle: the entries ``seqs`` with their inclusion proofs in the tree of the
        signed checkpoint of ``size`` (default: the latest), and the rule and key-change
        entries up to it, so that a reader can check them without the whole log
        (:func:`verify_proof`)."""
        scan = self._scan_ok(self._data())
        records = self.checkpoints()
        chosen = [r for r in records if size is None or r["size"] == size]
        if not chosen:
            raise VdtoError(
                "no signed checkpoint" + (f" of size {size}" if size else ""), str(self.path),
                "sign one with `vdto ledger checkpoint`",
            )  # fmt: skip
        record = chosen[-1]
        n = record["size"]
        for seq in seqs:
            if not 1 <= seq <= n:
                raise VdtoError(f"entry {seq} is not in the tree of size {n}", param="seq")
        lines = self._data().split(b"\n")

        def item(seq: int) -> dict[str, Any]:
            return {"seq": seq, "line": lines[seq - 1].decode("utf-8"),
                    "inclusion": [h.hex() for h in merkle.inclusion_proof(seq - 1, scan.leaves[:n])]}  # fmt: skip

        keys = [e["seq"] for e in scan.entries[:n] if e["seq"] == 1 or e["kind"] == KEY_CHANGE]
        return {"vdto_proof": 1, "origin": scan.origin, "size": n, "checkpoint": record["note"],
                "entries": [item(s) for s in seqs], "keys": [item(s) for s in keys]}  # fmt: skip

    def consistency(self, old: int, new: int | None = None) -> dict[str, Any]:
        """A consistency proof from the tree of size ``old`` to the tree of size ``new`` (default:
        the whole ledger)."""
        scan = self._scan_ok(self._data())
        n = len(scan.entries) if new is None else new
        if not 1 <= old <= n <= len(scan.entries):
            raise VdtoError(
                f"sizes must satisfy 1 <= old <= new <= {len(scan.entries)} (got {old} and {n})", param="old"
            )
        return {"vdto_consistency": 1, "origin": scan.origin, "old_size": old, "new_size": n,
                "proof": [h.hex() for h in merkle.consistency_proof(old, scan.leaves[:n])]}  # fmt: skip


# ------------------------------------------------------------------------------------ proofs


@dataclass(frozen=True)
class ProofReport:
    """What :func:`verify_proof` found: ``ok``, ``where`` and ``problem`` as in
    :class:`VerifyReport`, the checkpoint's tree size, the entries proved (seq -> entry), the
    agencies that signed the checkpoint and the witnesses that cosigned it."""

    ok: bool
    where: str
    problem: str
    size: int | None = None
    entries: dict[int, dict[str, Any]] = field(default_factory=dict)
    signed_by: tuple[str, ...] = ()
    witnessed: tuple[str, ...] = ()


def _proof_fail(where: str, problem: str, size: int | None = None) -> ProofReport:
    return ProofReport(False, where, f"{where}: {problem}", size)


def _proved_entry(item: Any, size: int, root: bytes) -> tuple[str | None, dict[str, Any] | None]:
    if (
        not isinstance(item, dict)
        or set(item) != {"seq", "line", "inclusion"}
        or not isinstance(item["line"], str)
    ):
        return "malformed (needs seq, line and inclusion)", None
    problem, entry = _parse_line(item["line"].encode("utf-8"))
    if problem or entry is None:
        return problem, None
    if entry["seq"] != item["seq"]:
        return f"the line is entry {entry['seq']}, not {item['seq']}", None
    try:
        path = [bytes.fromhex(h) for h in item["inclusion"]]
        merkle.verify_inclusion(entry["seq"] - 1, size, leaf_of(entry), path, root)
    except (ValueError, TypeError) as error:
        return f"inclusion proof is malformed ({error})", None
    except VdtoError as error:
        return error.what, None
    return None, entry


def verify_proof(bundle: Any, trusted: dict[str, str] | None = None, *, witnesses: dict[str, str] | None = None,
                 checkpoint: str | None = None) -> ProofReport:  # fmt: skip
    """Check entries against a signed checkpoint without the whole log (a :meth:`Ledger.proof`
    bundle).

    The rule entry and every key change up to the checkpoint are proved included and replayed
    (against ``trusted`` keys when given), so the checkpoint's signatures are checked against
    the keys in force at its size; then each entry's inclusion proof, hash, payload hash,
    signatures and quorum. With ``checkpoint`` (one kept earlier, e.g. by a witness) of the same
    size, its root must be the bundle's. A bundle that leaves out a key change cannot be
    told from one that has none: the full :func:`verify` and the witnesses cover that.
    """
    pinned = _check_trusted(trusted)
    if (
        not isinstance(bundle, dict)
        or bundle.get("vdto_proof") != 1
        or not {"checkpoint", "entries", "keys"} <= set(bundle)
    ):
        return _proof_fail("proof", "not a vdto proof bundle (version 1)")
    try:
        body, _ = parse_note(bundle["checkpoint"])
        cp = Checkpoint.parse(body)
    except (VdtoError, TypeError) as error:
        return _proof_fail("checkpoint", f"not a valid signed checkpoint ({getattr(error, 'what', error)})")
    if bundle.get("size") != cp.size or bundle.get("origin") != cp.origin:
        return _proof_fail("proof", f"the bundle says size {_short(bundle.get('size'))} of {_short(bundle.get('origin'))}, "
                                    f"its checkpoint {cp.size} of {cp.origin!r}", cp.size)  # fmt: skip
    if not isinstance(bundle["entries"], list) or not bundle["entries"]:
        return _proof_fail("proof", "the bundle proves no entry", cp.size)
    ring: Keyring | None = None
    keys = bundle["keys"] if isinstance(bundle["keys"], list) else []
    if not keys:
        return _proof_fail("proof", "the bundle holds no rule entry", cp.size)
    for item in keys:
        where = f"entry {item.get('seq') if isinstance(item, dict) else '?'}"
        problem, entry = _proved_entry(item, cp.size, cp.root)
        if problem or entry is None:
            return _proof_fail(where, str(problem), cp.size)
        if ring is None and entry["seq"] != 1:
            return _proof_fail(where, "the bundle's first key entry is not the rule entry", cp.size)
        if ring is not None and entry["kind"] != KEY_CHANGE:
            return _proof_fail(
                where, "only the rule entry and key changes belong in the bundle's keys", cp.size
            )
        problem, ring = _entry_problem(entry, ring, pinned)
        if problem:
            return _proof_fail(where, problem, cp.size)
    assert ring is not None
    origin = origin_of_rule(json.loads(keys[0]["line"]))
    try:
        check = check_note(bundle["checkpoint"], ring, witnesses, origin)
    except VdtoError as error:
        return _proof_fail("checkpoint", error.what, cp.size)
    if checkpoint is not None:
        try:
            other = Checkpoint.parse(parse_note(checkpoint)[0])
        except VdtoError as error:
            return _proof_fail("kept checkpoint", error.what, cp.size)
        if other.size == cp.size and other.root != cp.root:
            return _proof_fail(
                "checkpoint",
                f"two checkpoints of size {cp.size} with different roots (a split view)",
                cp.size,
            )
    proved: dict[int, dict[str, Any]] = {}
    for item in bundle["entries"]:
        where = f"entry {item.get('seq') if isinstance(item, dict) else '?'}"
        problem, entry = _proved_entry(item, cp.size, cp.root)
        if problem or entry is None:
            return _proof_fail(where, str(problem), cp.size)
        key_ring = ring  # keys in force at the checkpoint; an entry before a rotation may use an older key
        problem, _ = _entry_problem(entry, _ring_before(keys, entry["seq"], pinned) or key_ring, None)
        if problem:
            return _proof_fail(where, problem, cp.size)
        proved[entry["seq"]] = entry
    return ProofReport(True, "", "", cp.size, proved, check.signed_by, tuple(sorted(check.witnessed)))


def _ring_before(keys: list[dict[str, Any]], seq: int, pinned: dict[str, str] | None) -> Keyring | None:
    """The keyring in force just before entry ``seq``, replayed from the bundle's key entries."""
    ring: Keyring | None = None
    for item in keys:
        entry = json.loads(item["line"])
        if entry["seq"] >= seq and ring is not None:
            break
        _, ring = _entry_problem(entry, ring, pinned)
    return ring


def verify_consistency(old_note: str, new_note: str, proof: Any) -> tuple[Checkpoint, Checkpoint]:
    """Check that the checkpoint ``new_note`` extends ``old_note`` (a consistency proof file
    from :meth:`Ledger.consistency`); returns both checkpoints.

    Only the trees are compared here; the signatures are checked by :func:`check_note`.

    Raises
    ------
    VdtoError
        One line: another log, a smaller tree, a proof for other sizes, or a proof that does
        not lead to both roots (the new tree does not contain the old one).
    """
    old = Checkpoint.parse(parse_note(old_note)[0])
    new = Checkpoint.parse(parse_note(new_note)[0])
    if old.origin != new.origin:
        raise NoteError(f"the checkpoints are of two logs ({old.origin} and {new.origin})")
    if new.size < old.size:
        raise NoteError(
            f"the new checkpoint ({new.size} entries) is smaller than the old one ({old.size}): the log went back"
        )
    if new.size == old.size:
        if new.root != old.root:
            raise NoteError(f"two checkpoints of size {new.size} with different roots (a split view)")
        return old, new
    if not isinstance(proof, dict) or proof.get("vdto_consistency") != 1:
        raise NoteError("not a vdto consistency proof (version 1)")
    if proof.get("origin") != old.origin:
        raise NoteError(
            f"the proof is for log {_short(proof.get('origin'))}, the checkpoints for {old.origin!r}"
        )
    if (proof.get("old_size"), proof.get("new_size")) != (old.size, new.size):
        raise NoteError(f"the proof is for sizes {proof.get('old_size')} to {proof.get('new_size')}, "
                        f"the checkpoints are {old.size} and {new.size}")  # fmt: skip
    try:
        hashes = [bytes.fromhex(h) for h in proof["proof"]]
    except (TypeError, ValueError, KeyError):
        raise NoteError("the consistency proof's hashes are not hex") from None
    merkle.verify_consistency(old.size, new.size, old.root, new.root, hashes)
    return old, new
