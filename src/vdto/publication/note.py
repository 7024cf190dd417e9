"""Signed notes, checkpoints and witness cosignatures (C2SP signed-note, tlog-checkpoint, tlog-cosignature).

A *checkpoint* states the ledger's Merkle tree head (:mod:`vdto.publication.merkle`) as three
lines: the log's origin, the tree size and the root hash in base64 (:class:`Checkpoint`). A
*signed note* is that text, an empty line, and one line per signature::

    vdto.ledger/0123456789abcdef
    12
    O7mTeUzH8jnkVNNmAdRZM8kFRUAm5RGmHOqFM1ynxSk=

    — mx 2L0XcV2F...
    — elpais.example/witness jWbPPwAAAABk...

Agencies sign the note text with Ed25519 (:func:`sign_body`, signature type 0x01); witnesses add
timestamped cosignatures (:func:`cosign_body`, ``cosignature/v1``, type 0x04). Each line is
``— <name> base64(key ID || signature)``, the key ID being the first 4 bytes of
SHA-256(name || 0x0A || type || public key) (:func:`key_id`). :func:`parse_note` splits a note
into its text and signature lines, refusing anything the signed-note format does not allow;
:func:`verify_signature` and :func:`verify_cosignature` check one line against a trusted key.

The formats are those of https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint and
https://c2sp.org/tlog-cosignature, so other transparency tools (Go's ``golang.org/x/mod/sumdb/note``,
witnesses) read and write the same bytes. vdto's checkpoints carry no extension lines and
:meth:`Checkpoint.parse` refuses them. Every malformed input raises :class:`NoteError` with one
plain line.

Examples
--------
>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
>>> key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
>>> public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
>>> body = Checkpoint("vdto.ledger/0123456789abcdef", 1, bytes(32)).body()
>>> note = signed_note(body, [sign_body(body, "mx", key.sign, public)])
>>> text, signatures = parse_note(note)
>>> text == body, [s.name for s in signatures]
(True, ['mx'])
>>> verify_signature(text, signatures[0], "mx", public.hex())
True
>>> Checkpoint.parse(text).size
1
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vdto.errors import VdtoError

#: Signature type of Ed25519 note signatures (C2SP signed-note).
ALG_ED25519 = 0x01
#: Signature type of timestamped Ed25519 witness cosignatures (C2SP tlog-cosignature, cosignature/v1).
ALG_COSIGNATURE_V1 = 0x04

#: What starts every signature line: U+2014 EM DASH and a space.
SIGNATURE_PREFIX = "\u2014 "
#: The largest note :func:`parse_note` reads, in UTF-8 bytes (room for 16 post-quantum signatures).
MAX_NOTE_BYTES = 256 * 1024
#: The most signature lines a note may have (the signed-note format asks for at least 16).
MAX_SIGNATURES = 100
#: The longest checkpoint origin, in characters.
MAX_ORIGIN_CHARS = 255
#: The largest tree size a checkpoint may state (an unsigned 64-bit number).
MAX_TREE_SIZE = 2**64 - 1
#: The largest cosignature timestamp (C2SP tlog-cosignature: it must not exceed 2^63 - 1).
MAX_TIMESTAMP = 2**63 - 1

_ED25519_PUBLIC = 32
_ED25519_SIGNATURE = 64
_KEY_ID = 4
_ROOT_SIZE = 32
_TIMESTAMP = 8

_SIZE = re.compile(r"0|[1-9][0-9]*")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_PUBLIC_HEX = re.compile(r"[0-9a-fA-F]{64}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(VdtoError):
    """A signed note, checkpoint or signature line is malformed (one plain line)."""


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _check_text(text: object, what: str) -> str:
    """Valid UTF-8 text without control characters other than newline (signed-note rules)."""
    if not isinstance(text, str):
        raise NoteError(f"{what} must be text (got {type(text).__name__})")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise NoteError(f"{what} is not valid UTF-8 (it holds a lone surrogate character)") from None
    if size > MAX_NOTE_BYTES:
        raise NoteError(f"{what} is {size} bytes; vdto reads notes of at most {MAX_NOTE_BYTES} bytes")
    if "\r" in text:
        raise NoteError(f"{what} has a carriage return (Windows line ends?); notes end lines with '\\n' only")
    bad = _CONTROL.search(text)
    if bad:
        raise NoteError(f"{what} has the control character {bad.group()!r}; only newlines are allowed")
    return text


def _check_body(body: object, what: str = "note text") -> str:
    body = _check_text(body, what)
    if not body.endswith("\n"):
        raise NoteError(f"{what} must end with a newline")
    return body


def _check_name(name: object, what: str = "key name") -> str:
    """A key name: non-empty, no Unicode spaces, no '+', no control characters."""
    if not isinstance(name, str):
        raise NoteError(f"{what} must be text (got {type(name).__name__})")
    if not name:
        raise NoteError(f"{what} is empty")
    if any(ch.isspace() for ch in name) or "+" in name or _CONTROL.search(name):
        raise NoteError(f"{what} {_short(name)} has a space, a '+' or a control character; none is allowed")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"{what} {_short(name)} is not valid UTF-8") from None
    return name


def _check_bytes(value: object, size: int, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray):
        raise NoteError(f"{what} must be {size} bytes (got {type(value).__name__})")
    if len(value) != size:
        raise NoteError(f"{what} is {len(value)} bytes; it must be {size}")
    return bytes(value)


def _check_timestamp(timestamp: object) -> int:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise NoteError(
            f"cosignature timestamp must be a whole number of seconds (got {type(timestamp).__name__})"
        )
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"cosignature timestamp {timestamp} is outside 0 to 2^63 - 1")
    return timestamp


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str) -> bytes | None:
    """Standard base64 with padding, in its one canonical spelling; None when it is not."""
    if not _BASE64.fullmatch(text):
        return None
    data = base64.b64decode(text)
    return data if _b64encode(data) == text else None  # refuses non-zero unused bits


def _public_from_hex(public_hex: object) -> bytes:
    if not isinstance(public_hex, str) or not _PUBLIC_HEX.fullmatch(public_hex):
        raise NoteError(f"public key {_short(public_hex)} is not 64 hex characters (a 32-byte Ed25519 key)")
    return bytes.fromhex(public_hex)


def _ed25519_verifies(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# ------------------------------------------------------------------------------ checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and its Merkle root (C2SP tlog-checkpoint).

    Attributes
    ----------
    origin
        The log's name, e.g. ``vdto.ledger/0123456789abcdef``: non-empty, at most 255
        characters, without spaces, '+' or control characters.
    size
        The number of leaves, ``0 <= size <= 2^64 - 1``.
    root
        The 32-byte Merkle root (:func:`vdto.publication.merkle.root`).

    Raises
    ------
    NoteError
        If a field is invalid.

    Examples
    --------
    >>> cp = Checkpoint("example.com/log42", 20852163, bytes(32))
    >>> print(cp.body(), end="")
    example.com/log42
    20852163
    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
    >>> Checkpoint.parse(cp.body()) == cp
    True
    """

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        _check_name(self.origin, "checkpoint origin")
        if len(self.origin) > MAX_ORIGIN_CHARS:
            raise NoteError(f"checkpoint origin is {len(self.origin)} characters; at most {MAX_ORIGIN_CHARS}")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise NoteError(f"checkpoint tree size must be a whole number (got {type(self.size).__name__})")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteError(f"checkpoint tree size {self.size} is outside 0 to 2^64 - 1")
        object.__setattr__(self, "root", _check_bytes(self.root, _ROOT_SIZE, "checkpoint root hash"))

    def body(self) -> str:
        """The note text: origin, size and base64 root, each line ending in a newline."""
        return f"{self.origin}\n{self.size}\n{_b64encode(self.root)}\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Read a checkpoint's note text (without its signatures), strictly.

        The text must be exactly three lines, each ending in a newline: the origin, the size in
        decimal without leading zeros (``0`` for the empty tree), and the root hash as standard
        base64 of 32 bytes. Extension lines are refused: vdto writes none.

        Raises
        ------
        NoteError
            Saying which line is wrong and how.

        Examples
        --------
        >>> Checkpoint.parse("example.com/log42\\n007\\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\\n")
        Traceback (most recent call last):
        ...
        vdto.publication.note.NoteError: checkpoint tree size (line 2) must be a decimal number without leading zeros (got '007')
        """
        body = _check_body(body, "checkpoint text")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError(
                f"checkpoint text has {_plural(len(lines), 'line')}; it needs 3 (origin, tree size, root hash)"
            )
        if len(lines) > 3:
            raise NoteError(
                f"checkpoint has {_plural(len(lines) - 3, 'extension line')} after the root hash; "
                "vdto writes none and accepts none"
            )
        origin, size_text, root_text = lines
        if not origin:
            raise NoteError("checkpoint origin (line 1) is empty")
        if not _SIZE.fullmatch(size_text):
            raise NoteError(
                f"checkpoint tree size (line 2) must be a decimal number without leading zeros (got {_short(size_text)})"
            )
        if len(size_text) > len(str(MAX_TREE_SIZE)):  # before int(): Python refuses very long numbers
            raise NoteError(
                f"checkpoint tree size (line 2) is larger than 2^64 - 1 (got {_short(size_text)})"
            )
        root = _b64decode(root_text)
        if root is None:
            raise NoteError(f"checkpoint root hash (line 3) is not standard base64 (got {_short(root_text)})")
        if len(root) != _ROOT_SIZE:
            raise NoteError(
                f"checkpoint root hash (line 3) is {len(root)} bytes; a SHA-256 root is {_ROOT_SIZE}"
            )
        return cls(origin, int(size_text), root)


# ------------------------------------------------------------------------------ signature lines


def key_id(name: str, public: bytes, alg: int) -> bytes:
    """The 4-byte key ID of a key: SHA-256(name || 0x0A || alg || public)[:4].

    Parameters
    ----------
    name
        The key name (an agency or a witness).
    public
        The public key's bytes (32 for Ed25519).
    alg
        The signature type: :data:`ALG_ED25519` or :data:`ALG_COSIGNATURE_V1`.

    Examples
    --------
    The key of golang.org/x/mod/sumdb/note's tests, ``PeterNeumann+c74f20a3+ARpc...``:

    >>> public = base64.b64decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")[1:]
    >>> key_id("PeterNeumann", public, ALG_ED25519).hex()
    'c74f20a3'
    """
    name = _check_name(name)
    if not isinstance(public, bytes | bytearray) or not public:
        raise NoteError(f"public key must be bytes (got {type(public).__name__})")
    if isinstance(alg, bool) or not isinstance(alg, int) or not 0 <= alg <= 255:
        raise NoteError(f"signature type must be a byte value 0 to 255 (got {_short(alg)})")
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + bytes(public)).digest()[:_KEY_ID]


def signature_line(name: str, public: bytes, sig: bytes) -> str:
    """The note line of an Ed25519 signature: ``— <name> base64(key ID || sig)`` and a newline.

    Parameters
    ----------
    name
        The signer's key name (for the ledger: the agency).
    public
        The signer's 32-byte Ed25519 public key.
    sig
        The 64-byte Ed25519 signature of the note text.
    """
    public = _check_bytes(public, _ED25519_PUBLIC, "Ed25519 public key")
    sig = _check_bytes(sig, _ED25519_SIGNATURE, "Ed25519 signature")
    return f"{SIGNATURE_PREFIX}{_check_name(name)} {_b64encode(key_id(name, public, ALG_ED25519) + sig)}\n"


def cosignature_line(name: str, public: bytes, timestamp: int, sig: bytes) -> str:
    """The note line of a witness cosignature: ``— <name> base64(key ID || timestamp || sig)``.

    The timestamp is 8 bytes big-endian; the key ID uses :data:`ALG_COSIGNATURE_V1`.

    Parameters
    ----------
    name
        The witness's key name, e.g. ``elpais.example/witness``.
    public
        The witness's 32-byte Ed25519 public key.
    timestamp
        When it cosigned, in seconds since 1970 (UTC), ``0 <= timestamp <= 2^63 - 1``.
    sig
        The 64-byte Ed25519 signature of :func:`cosigned_message`.
    """
    public = _check_bytes(public, _ED25519_PUBLIC, "Ed25519 public key")
    sig = _check_bytes(sig, _ED25519_SIGNATURE, "Ed25519 signature")
    stamp = _check_timestamp(timestamp).to_bytes(_TIMESTAMP, "big")
    value = key_id(name, public, ALG_COSIGNATURE_V1) + stamp + sig
    return f"{SIGNATURE_PREFIX}{_check_name(name)} {_b64encode(value)}\n"


def cosigned_message(body: str, timestamp: int) -> bytes:
    """The bytes a witness signs: ``cosignature/v1``, ``time <timestamp>``, then the note text.

    Examples
    --------
    >>> cosigned_message("example.com/log42\\n1\\nAAAA\\n", 1679315147)
    b'cosignature/v1\\ntime 1679315147\\nexample.com/log42\\n1\\nAAAA\\n'
    """
    body = _check_body(body)
    return b"cosignature/v1\ntime %d\n" % _check_timestamp(timestamp) + body.encode("utf-8")


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note, as :func:`parse_note` reads it.

    Attributes
    ----------
    name
        The key name.
    key_hash
        The 4-byte key ID.
    value
        The bytes after the key ID: the signature (64 bytes for Ed25519), or for a cosignature
        the 8-byte timestamp and the signature.
    line
        The line exactly as in the note, ``— `` to the final newline included.
    """

    name: str
    key_hash: bytes
    value: bytes
    line: str


def _parse_signature_line(line: str, where: str) -> NoteSignature:
    """One signature line, without its final newline."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"{where} is not a signature line: it must start with '— ' (em dash, space)")
    name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not space:
        raise NoteError(f"{where} has no space between the key name and the signature")
    _check_name(name, f"key name in {where}")
    value = _b64decode(encoded)
    if value is None or not encoded:
        raise NoteError(f"{where}: the signature of {name!r} is not standard base64 (got {_short(encoded)})")
    if len(value) <= _KEY_ID:
        raise NoteError(
            f"{where}: the signature of {name!r} is {len(value)} bytes; it needs a 4-byte key ID and more"
        )
    return NoteSignature(name, value[:_KEY_ID], value[_KEY_ID:], line + "\n")


def _parse_new_line(line: object, position: int) -> NoteSignature:
    where = f"new signature line {position}"
    if not isinstance(line, str):
        raise NoteError(f"{where} must be text (got {type(line).__name__})")
    _check_text(line, where)
    if not line.endswith("\n") or "\n" in line[:-1]:
        raise NoteError(f"{where} must be one line ending in a newline")
    return _parse_signature_line(line[:-1], where)


def parse_note(text: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and its signature lines (C2SP signed-note), strictly.

    The note must be valid UTF-8 text of at most :data:`MAX_NOTE_BYTES` bytes, without control
    characters other than newline (no carriage returns), made of a text ending in a newline, an
    empty line, and 1 to :data:`MAX_SIGNATURES` signature lines ``— <name> <base64>`` each ending in a
    newline. The text ends at the last empty line. No signature is checked here.

    Returns
    -------
    tuple[str, list[NoteSignature]]
        The note text (with its final newline) and the signature lines in order.

    Raises
    ------
    NoteError
        Saying what is wrong.

    Examples
    --------
    The signed note of golang.org/x/mod/sumdb/note's tests:

    >>> note = ("If you think cryptography is the answer to your problem,\\n"
    ...         "then you don't know what your problem is.\\n\\n"
    ...         "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\\n")
    >>> body, sigs = parse_note(note)
    >>> sigs[0].name, sigs[0].key_hash.hex(), len(sigs[0].value)
    ('PeterNeumann', 'c74f20a3', 64)
    >>> parse_note(body)
    Traceback (most recent call last):
    ...
    vdto.publication.note.NoteError: note has no empty line before its signature lines
    """
    text = _check_text(text, "note")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no empty line before its signature lines")
    body, block = text[: split + 1], text[split + 2 :]
    if not block:
        raise NoteError("note has no signature lines after its empty line")
    if not block.endswith("\n"):
        raise NoteError("the note's last signature line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signature lines; vdto reads at most {MAX_SIGNATURES}")
    return body, [_parse_signature_line(line, f"signature line {i}") for i, line in enumerate(lines, 1)]


def signed_note(body: str, lines: Sequence[str]) -> str:
    """A signed note: the text, an empty line, then the signature lines (:func:`signature_line`).

    A line with the same key name and key ID as an earlier one is left out (the first is kept).

    Raises
    ------
    NoteError
        If the text or a line is malformed, there is no line, or the note is too large.
    """
    body = _check_body(body)
    kept: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for position, line in enumerate(lines, 1):
        sig = _parse_new_line(line, position)
        if (sig.name, sig.key_hash) not in seen:
            seen.add((sig.name, sig.key_hash))
            kept.append(sig.line)
    if not kept:
        raise NoteError("a signed note needs at least one signature line")
    note = body + "\n" + "".join(kept)
    parse_note(note)  # the same limits as any note read back
    return note


def add_signature_lines(note: str, lines: list[str]) -> str:
    """Add signature lines to a signed note, after the ones it has.

    A line whose key name and key ID are already in the note (or earlier in ``lines``) is left
    out: the first signature of a key stays. The note's own lines are kept exactly, in order.

    Parameters
    ----------
    note
        A signed note (:func:`parse_note` must read it).
    lines
        Signature lines (:func:`signature_line`, :func:`cosignature_line`), each ending in a newline.

    Raises
    ------
    NoteError
        If the note or a line is malformed, or the result would be too large.
    """
    body, existing = parse_note(note)
    return signed_note(body, [sig.line for sig in existing] + list(lines))


# ------------------------------------------------------------------------------ signing and checking


def verify_signature(body: str, sig: NoteSignature, name: str, public_hex: str) -> bool:
    """Whether ``sig`` is a valid Ed25519 note signature of ``body`` by the key ``name``/``public_hex``.

    False when the line names another key (another name, or a key ID that is not this key's
    under type 0x01), or the signature does not verify over the text.

    Raises
    ------
    NoteError
        If ``public_hex`` is not 64 hex characters.
    """
    public = _public_from_hex(public_hex)
    if sig.name != name or sig.key_hash != key_id(name, public, ALG_ED25519):
        return False
    if len(sig.value) != _ED25519_SIGNATURE or not isinstance(body, str):
        return False
    try:
        message = body.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return _ed25519_verifies(public, sig.value, message)


def verify_cosignature(body: str, sig: NoteSignature, name: str, public_hex: str) -> int | None:
    """The timestamp of a valid ``cosignature/v1`` line of ``body`` by the witness key, else None.

    None when the line names another key (another name, or a key ID that is not this key's
    under type 0x04), its timestamp is above 2^63 - 1, or the signature does not verify over
    :func:`cosigned_message`.

    Raises
    ------
    NoteError
        If ``public_hex`` is not 64 hex characters.
    """
    public = _public_from_hex(public_hex)
    if sig.name != name or sig.key_hash != key_id(name, public, ALG_COSIGNATURE_V1):
        return None
    if len(sig.value) != _TIMESTAMP + _ED25519_SIGNATURE or not isinstance(body, str):
        return None
    timestamp = int.from_bytes(sig.value[:_TIMESTAMP], "big")
    if timestamp > MAX_TIMESTAMP:
        return None
    try:
        message = b"cosignature/v1\ntime %d\n" % timestamp + body.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return timestamp if _ed25519_verifies(public, sig.value[_TIMESTAMP:], message) else None


def _signed(sign: Callable[[bytes], bytes], message: bytes, public: bytes, name: str) -> bytes:
    sig = sign(message)
    if not isinstance(sig, bytes | bytearray) or len(sig) != _ED25519_SIGNATURE:
        got = f"{len(sig)} bytes" if isinstance(sig, bytes | bytearray) else type(sig).__name__
        raise NoteError(f"the signer for {name!r} returned {got}; an Ed25519 signature is 64 bytes")
    if not _ed25519_verifies(public, bytes(sig), message):
        raise NoteError(
            f"the signature made for {name!r} does not verify with its public key {public[:4].hex()}…; "
            "the signer holds another key"
        )
    return bytes(sig)


def sign_body(body: str, name: str, sign: Callable[[bytes], bytes], public: bytes) -> str:
    """Sign a note text with Ed25519 and return the signature line (:func:`signature_line`).

    Parameters
    ----------
    body
        The note text (e.g. :meth:`Checkpoint.body`), ending in a newline.
    name
        The key name (for the ledger: the agency).
    sign
        Signs bytes with the private key and returns the 64-byte signature (for instance
        ``Ed25519PrivateKey.sign``; for :class:`vdto.publication.keys.Signer`, whose ``sign``
        returns hex, ``lambda m: bytes.fromhex(signer.sign(m))``).
    public
        The 32-byte public key of that private key; the signature is checked against it.

    Raises
    ------
    NoteError
        If the text or name is malformed, or the signature does not verify with ``public``.

    Examples
    --------
    The signature of golang.org/x/mod/sumdb/note's tests (Ed25519 signatures are deterministic):

    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> seed = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
    >>> public = base64.b64decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")[1:]
    >>> text = ("If you think cryptography is the answer to your problem,\\n"
    ...         "then you don't know what your problem is.\\n")
    >>> print(sign_body(text, "PeterNeumann", Ed25519PrivateKey.from_private_bytes(seed).sign, public), end="")
    — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=
    """
    body = _check_body(body)
    public = _check_bytes(public, _ED25519_PUBLIC, "Ed25519 public key")
    _check_name(name)
    return signature_line(name, public, _signed(sign, body.encode("utf-8"), public, name))


def cosign_body(body: str, name: str, sign: Callable[[bytes], bytes], public: bytes, timestamp: int) -> str:
    """Cosign a note text as a witness at ``timestamp`` and return the cosignature line.

    The signature covers :func:`cosigned_message` (``cosignature/v1``, the time, the text).

    Raises
    ------
    NoteError
        If the text, name or timestamp is malformed, or the signature does not verify with
        ``public``.

    Examples
    --------
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    >>> key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    >>> public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    >>> body = Checkpoint("vdto.ledger/0123456789abcdef", 3, bytes(32)).body()
    >>> line = cosign_body(body, "elpais.example/witness", key.sign, public, 1700000000)
    >>> _, (sig,) = parse_note(body + "\\n" + line)
    >>> verify_cosignature(body, sig, "elpais.example/witness", public.hex())
    1700000000
    >>> verify_signature(body, sig, "elpais.example/witness", public.hex())  # not an agency signature
    False
    """
    message = cosigned_message(body, timestamp)
    public = _check_bytes(public, _ED25519_PUBLIC, "Ed25519 public key")
    _check_name(name)
    return cosignature_line(name, public, timestamp, _signed(sign, message, public, name))
