"""The publication ledger: an append-only, hash-chained, Ed25519-signed log in JSON Lines.

Each agency that takes part (for instance ``mx`` and ``us``) holds an Ed25519 key pair. Every
publication (a rule, a scorecard, the close of a round) is appended to the ledger as one line of
canonical JSON that names the previous line's hash and carries the signatures of the agencies
that publish it. Anyone holding the ledger file, and ideally the agencies' public keys, can check
with :func:`verify` that no line was changed, removed, inserted or reordered, and who signed
what. docs/ledger.md describes the format and what verification can and cannot detect.

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
from vdto.publication.keys import _AGENCY, _HEX64, _check_agency, _short

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
        True when every line checks out.
    entries
        The number of lines (entries) in the file.
    first_bad
        1-based position of the first bad line; None when ``ok``. An empty file reports 1 (the
        rule entry is missing).
    problem
        One line saying what is wrong, e.g. ``"entry 3: signature by 'us' does not verify"``;
        empty when ``ok``.
    last_hash
        The last entry's ``hash`` when ``ok`` (publications quote it); None otherwise.
    agencies
        The agencies and public keys declared by the rule entry, when it could be read.
    """

    ok: bool
    entries: int
    first_bad: int | None
    problem: str
    last_hash: str | None
    agencies: dict[str, str] = field(default_factory=dict)


def signed_bytes(entry: dict[str, Any]) -> bytes:
    """The bytes every signature of ``entry`` is over (the same for all co-signers).

    The UTF-8 of ``canonical_json`` of the entry's ``seq``, ``kind``, ``time``, ``prev`` and
    ``payload_sha256``.

    Examples
    --------
    >>> entry = {"seq": 1, "kind": "rule", "time": "2026-11-21T23:00:00Z", "prev": ZERO_HASH,
    ...          "payload": {"agencies": {}}, "payload_sha256": "ab" * 32, "signatures": []}
    >>> signed_bytes(entry).startswith(b'{"kind":"rule","payload_sha256":"abab')
    True
    >>> b"agencies" in signed_bytes(entry)  # the payload is signed through its hash
    False
    """
    return canonical_json({k: entry[k] for k in ("seq", "kind", "time", "prev", "payload_sha256")}).encode(
        "utf-8"
    )


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


def _structure_problem(entry: Any) -> str | None:
    """What is wrong with the keys and types of a parsed line, or None."""
    if not isinstance(entry, dict):
        return "not a JSON object"
    keys = set(entry)
    if keys != ENTRY_KEYS:
        parts = []
        if missing := sorted(ENTRY_KEYS - keys):
            parts.append("missing " + ", ".join(missing))
        if extra := sorted(keys - ENTRY_KEYS):
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
    return dict(agencies), ""


def _signature_ok(sig: dict[str, str], message: bytes) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sig["key"]))
        public.verify(bytes.fromhex(sig["sig"]), message)
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


def quorum(entry: dict[str, Any]) -> list[str]:
    """The agencies that must sign an entry: every agency whose scorecard an announcement
    carries, every agency a round's closing names; none for other kinds."""
    payload = entry.get("payload") or {}
    if not isinstance(payload, dict):
        return []
    if entry.get("kind") == "announcement" and isinstance(payload.get("scorecards"), dict):
        return sorted(payload["scorecards"])
    if entry.get("kind") == "round-close" and isinstance(payload.get("agencies"), list):
        return sorted(str(a) for a in payload["agencies"])
    return []


def _line_problem(
    raw: bytes,
    position: int,
    prev_hash: str,
    agencies: dict[str, str] | None,
    trusted: dict[str, str] | None,
) -> tuple[str | None, dict[str, Any] | None, dict[str, str] | None]:
    """Check one line (without its newline). Returns (problem, entry, declared agencies)."""
    if not raw:
        return "empty line", None, agencies
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not valid UTF-8", None, agencies
    try:
        entry = json.loads(text)
    except (ValueError, RecursionError):
        return "not valid JSON", None, agencies
    if problem := _structure_problem(entry):
        return problem, None, agencies
    try:
        canonical = canonical_json(entry)
    except ValueError:  # NaN or Infinity in the payload
        return "not valid JSON (NaN or Infinity)", None, agencies
    if canonical != text:
        return "line is not canonical JSON (sorted keys, no spaces)", None, agencies
    if entry["seq"] != position:
        return f"seq is {entry['seq']}, expected {position} (entries removed or reordered?)", entry, agencies
    if entry["prev"] != prev_hash:
        where = f"entry {position - 1}'s hash" if position > 1 else "64 zeros (first entry)"
        return f"prev does not match {where} (entries removed or reordered?)", entry, agencies
    if _sha256(canonical_json(entry["payload"])) != entry["payload_sha256"]:
        return "payload_sha256 does not match the payload", entry, agencies
    if entry_hash(entry) != entry["hash"]:
        return "hash does not match the entry", entry, agencies

    signatures = entry["signatures"]
    if not signatures:
        return "no signatures", entry, agencies
    seen: set[str] = set()
    message = signed_bytes(entry)
    for sig in signatures:
        if sig["agency"] in seen:
            return f"signed twice by {sig['agency']!r}", entry, agencies
        seen.add(sig["agency"])
        if not _signature_ok(sig, message):
            return f"signature by {sig['agency']!r} does not verify", entry, agencies

    if position == 1:
        if entry["kind"] != "rule":
            return f"the first entry must be a 'rule' entry (got {entry['kind']!r})", entry, agencies
        declared, why = _declared_agencies(entry["payload"])
        if declared is None:
            return why, entry, agencies
        agencies = declared
        if trusted is not None and (problem := _pin_problem(declared, trusted)):
            return problem, entry, agencies
        if unsigned := sorted(set(declared) - seen):
            names = ", ".join(repr(a) for a in unsigned)
            return (
                f"rule entry is not signed by {names} (every declared agency must sign it)",
                entry,
                agencies,
            )
    assert agencies is not None
    for sig in signatures:
        agency = sig["agency"]
        if agency not in agencies:
            declared_names = ", ".join(sorted(agencies))
            return (
                f"signature by {agency!r}, which is not a declared agency (declared: {declared_names})",
                entry,
                agencies,
            )
        if sig["key"] != agencies[agency]:
            return (
                f"signature by {agency!r} is made with key {sig['key'][:8]}…, "
                f"not the key declared for {agency!r} ({agencies[agency][:8]}…)",
                entry,
                agencies,
            )
    if unsigned := sorted(set(quorum(entry)) - seen):
        names = ", ".join(repr(a) for a in unsigned)
        return (f"{entry['kind']} entry is not signed by {names} (every agency of the round must sign it)", entry,
                agencies)  # fmt: skip
    return None, entry, agencies


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


def _verify_bytes(data: bytes, trusted: dict[str, str] | None) -> VerifyReport:
    if not data:
        return VerifyReport(False, 0, 1, "no entries (the file is empty)", None)
    lines = data.split(b"\n")
    complete = lines[-1] == b""
    if complete:
        lines.pop()
    count = len(lines)
    prev_hash = ZERO_HASH
    agencies: dict[str, str] | None = None
    for position, raw in enumerate(lines, 1):
        if position == count and not complete:
            problem: str | None = "the last line does not end with a newline (file cut off?)"
        else:
            problem, entry, agencies = _line_problem(raw, position, prev_hash, agencies, trusted)
        if problem:
            return VerifyReport(False, count, position, f"entry {position}: {problem}", None, agencies or {})
        assert entry is not None
        prev_hash = entry["hash"]
    return VerifyReport(True, count, None, "", prev_hash, agencies or {})


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as error:
        raise VdtoError("ledger file not found", str(path), "check the path") from error
    except OSError as error:
        raise VdtoError(f"cannot read the ledger ({error.strerror or error})", str(path)) from error


def verify(path: str | Path, trusted: dict[str, str] | None = None) -> VerifyReport:
    """Check a ledger file line by line; stops at the first bad line.

    Per line, in order: a JSON object in canonical form with exactly the entry keys and the
    right types; ``seq`` equals the line's position; ``prev`` equals the previous entry's
    ``hash``; ``payload_sha256``; ``hash``; the signatures (at least one, one per agency, each a
    valid Ed25519 signature); for the first entry, kind ``"rule"`` declaring the agencies and
    signed by all of them; every signature by a declared agency with its declared key; an
    announcement signed by every agency whose scorecard it carries and a round's closing by
    every agency of the round (:func:`quorum`).

    Parameters
    ----------
    path
        The ledger (JSON Lines).
    trusted
        Optional ``{agency: public hex}`` obtained independently of the ledger (see
        :func:`~vdto.publication.keys.load_trusted`); the rule entry must then declare exactly
        these agencies and keys. Without it, the ledger is only checked against the keys it
        declares itself.

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
    >>> report.ok, report.entries, report.last_hash == card["hash"]
    (True, 2, True)
    >>> text = ledger.path.read_text(encoding="utf-8").replace('"cjng"', '"cdn"')
    >>> _ = ledger.path.write_text(text, encoding="utf-8")
    >>> report = verify(ledger.path)
    >>> report.ok, report.first_bad, report.problem
    (False, 2, 'entry 2: payload_sha256 does not match the payload')
    """
    pinned = _check_trusted(trusted)
    return _verify_bytes(_read(Path(path)), pinned)


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
    """Hold an exclusive lock on the ledger file and yield its bytes (None when it is absent).

    The lock is taken on the file itself; since an append replaces the file, a writer that was
    waiting finds the path now names another file and starts over on the new one.
    """
    while True:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            yield None
            return
        except OSError as error:
            raise VdtoError(f"cannot open the ledger ({error.strerror})", str(path)) from error
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = os.stat(path)
            except FileNotFoundError:
                current = None
            if current is not None and os.path.samestat(os.fstat(fd), current):
                try:
                    with os.fdopen(fd, "rb", closefd=False) as file:
                        data = file.read()
                except OSError as error:
                    raise VdtoError(f"cannot read the ledger ({error.strerror})", str(path)) from error
                yield data
                return
        finally:
            os.close(fd)


def _write_atomically(path: Path, data: bytes, create: bool) -> None:
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
            f"cannot write the ledger ({error.strerror or error}); it was left unchanged", str(path)
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


class Ledger:
    """A ledger file: read its entries, start it with a rule entry, append signed entries.

    The first entry is written with :meth:`init` (or :meth:`append` with kind ``"rule"`` on a
    missing or empty file): its payload must declare ``"agencies"`` and every declared agency
    must sign it. Later entries are written with :meth:`append`, signed by one or more declared
    agencies. Every append first verifies the whole ledger, then replaces the file atomically,
    so a crash leaves either the old ledger or the new one, never half a line.

    Examples
    --------
    See :func:`verify`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def entries(self) -> list[dict[str, Any]]:
        """The entries, in order; ``[]`` if the file does not exist or is empty.

        Raises
        ------
        VdtoError
            If the ledger does not verify (the problem is in the message).
        """
        if not self.path.exists():
            return []
        data = _read(self.path)
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

    def verify(self, trusted: dict[str, str] | None = None) -> VerifyReport:
        """:func:`verify` this ledger."""
        return verify(self.path, trusted)

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

    def append(
        self,
        kind: str,
        payload: dict[str, Any],
        signers: list[Signer],
        time: datetime | None = None,
    ) -> dict[str, Any]:
        """Sign and append one entry; returns it as written (with its ``hash``).

        Every signer signs the same bytes (:func:`signed_bytes`). ``time`` defaults to now and
        is stored in UTC to the second.

        Raises
        ------
        VdtoError
            If the existing ledger does not verify; if this is the first entry and ``kind`` is
            not ``"rule"`` or the payload does not declare the agencies or not every declared
            agency signs; if a signer is not a declared agency or holds another key; if the
            payload is not JSON; if the file cannot be written (it is then left unchanged).
        """
        where = str(self.path)
        if not isinstance(kind, str) or not _KIND.fullmatch(kind):
            raise VdtoError(
                f"invalid entry kind {_short(kind)}", where, "use a short lowercase name like 'scorecard'"
            )
        if not isinstance(payload, dict):
            raise VdtoError("payload must be a JSON object (a dict)", where)
        if not signers:
            raise VdtoError("an entry needs at least one signer", where, "pass the agencies' .key files")
        names = [s.agency for s in signers]
        if len(set(names)) != len(names):
            raise VdtoError("the same agency is given twice as signer", where, "pass each agency's key once")
        try:
            payload = json.loads(canonical_json(payload).encode("utf-8"))
        except (TypeError, ValueError) as error:  # incl. NaN, unpaired surrogates
            raise VdtoError(f"payload is not JSON ({error})", where) from error
        stamp = _utc_text(time)

        with _locked(self.path) as data:
            if data:
                report = _verify_bytes(data, None)
                if not report.ok:
                    raise VdtoError(
                        f"ledger does not verify ({report.problem}); nothing was appended",
                        where,
                        "restore it from a published copy",
                    )
                seq, prev, agencies = report.entries + 1, report.last_hash or ZERO_HASH, report.agencies
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
                if unsigned := sorted(set(declared) - set(names)):
                    raise VdtoError(
                        "the rule entry must be signed by every agency it declares; missing "
                        + ", ".join(repr(a) for a in unsigned),
                        where,
                    )
                seq, prev, agencies = 1, ZERO_HASH, declared
            for signer in signers:
                if signer.agency not in agencies:
                    raise VdtoError(
                        f"signer {signer.agency!r} is not a declared agency "
                        f"(declared: {', '.join(sorted(agencies))})",
                        where,
                    )
                if signer.public_hex != agencies[signer.agency]:
                    raise VdtoError(
                        f"the key given for {signer.agency!r} is not the one declared in the rule entry",
                        where,
                        f"use {signer.agency}.key matching public key {agencies[signer.agency][:8]}…",
                    )

            entry: dict[str, Any] = {
                "seq": seq,
                "kind": kind,
                "time": stamp,
                "prev": prev,
                "payload": payload,
                "payload_sha256": _sha256(canonical_json(payload)),
            }
            message = signed_bytes(entry)
            entry["signatures"] = [
                {"agency": s.agency, "key": s.public_hex, "sig": s.sign(message)}
                for s in sorted(signers, key=lambda s: s.agency)
            ]
            entry["hash"] = entry_hash(entry)
            line = canonical_json(entry).encode("utf-8")
            # the new line must pass the very checks verify() applies to it
            problem, _, _ = _line_problem(line, seq, prev, None if seq == 1 else agencies, None)
            if problem:
                raise VdtoError(f"entry {seq} would not verify ({problem}); nothing was appended", where)
            _write_atomically(self.path, (data or b"") + line + b"\n", create=data is None)
        return entry
