"""The agency's pseudonymisation key and the keyed hash that turns a case-file identifier into a
pseudonym.

A person's identifier in the agency's case files (a file number, a national ID) never reaches
the store unless the agency asks for it explicitly: at import it becomes
``p_`` + the first 24 hex digits (96 bits) of ``HMAC-SHA256(key, "vdto-person-v1" | agency | id)``.
The key is 32 random bytes that the agency holds in a file of its own (``vdto persons key``); the
store keeps only the key's fingerprint, an HMAC of a fixed label, so an import made with another
key is refused instead of silently making new pseudonyms for the same people. Without the key,
a pseudonym cannot be turned back into the identifier, nor can an identifier be checked against
the store.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from vdto.errors import InputFileError, VdtoError
from vdto.files import atomic_write

KEY_BYTES = 32
_LABEL = b"vdto-person-v1"
_CHECK = b"vdto-person-key-check-v1"
_HEX = re.compile(r"^[0-9a-f]{64}$")
#: What a pseudonym looks like.
PSEUDONYM = re.compile(r"^p_[0-9a-f]{24}$")


@dataclass(frozen=True, repr=False)
class PersonKey:
    """An agency's pseudonymisation key (its bytes never appear in ``repr``).

    Examples
    --------
    >>> key = PersonKey(bytes(32))
    >>> key.pseudonym("mx", "AP-2021-0042")[:2], len(key.pseudonym("mx", "AP-2021-0042"))
    ('p_', 26)
    >>> key.pseudonym("mx", " AP-2021-0042 ") == key.pseudonym("mx", "AP-2021-0042")
    True
    >>> key.pseudonym("us", "AP-2021-0042") == key.pseudonym("mx", "AP-2021-0042")
    False
    >>> key.pseudonym("mx", "Jos\u00e9") == key.pseudonym("mx", "Jose\u0301")  # NFC
    True
    >>> key.pseudonym("mx", "ap-1") == key.pseudonym("mx", "AP-1")  # case-sensitive
    False
    """

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"a person key has {KEY_BYTES} bytes")

    def __repr__(self) -> str:
        return f"PersonKey(fingerprint={self.fingerprint})"

    @property
    def fingerprint(self) -> str:
        """16 hex digits that identify the key without revealing it (kept in the store)."""
        return hmac.new(self.secret, _CHECK, hashlib.sha256).hexdigest()[:16]

    def pseudonym(self, agency: str, identifier: str) -> str:
        """The pseudonym of one identifier of ``agency``.

        Surrounding spaces do not count, and the identifier is Unicode NFC-normalised after
        stripping, so "José" typed with a composed ``é`` or with ``e`` and a combining accent
        gives one pseudonym. Identifiers stay case-sensitive: ``ap-1`` and ``AP-1`` are two
        persons (case files are expected to spell an identifier one way).
        """
        ident = unicodedata.normalize("NFC", identifier.strip())
        msg = b"\x1f".join([_LABEL, agency.encode(), ident.encode("utf-8")])
        return "p_" + hmac.new(self.secret, msg, hashlib.sha256).hexdigest()[:24]

    def pseudonyms(self, agency: str, identifiers) -> list[str]:
        """:meth:`pseudonym` of each identifier (each distinct one hashed once)."""
        memo: dict[str, str] = {}
        out = []
        for ident in identifiers:
            p = memo.get(ident)
            if p is None:
                p = memo[ident] = self.pseudonym(agency, ident)
            out.append(p)
        return out


def new_key() -> PersonKey:
    """A fresh random key."""
    return PersonKey(secrets.token_bytes(KEY_BYTES))


def write_key(path: str | Path) -> PersonKey:
    """Make a new key and write it to ``path`` (hex, readable by the owner only); never overwrites."""
    path = Path(path)
    taken = VdtoError(
        "a file is already there",
        str(path),
        "give a new path: overwriting a key would orphan every pseudonym made with it",
        param="out",
    )
    if path.exists() or path.is_symlink():
        raise taken
    key = new_key()
    text = key.secret.hex() + "\n"
    tmp = atomic_write(
        path.with_name(f".{path.name}.new"), lambda t: t.write_text(text, encoding="ascii"), mode=0o600
    )
    try:
        # unlike a rename, a link fails if a file appeared there meanwhile: a key is never replaced
        os.link(tmp, path)
    except FileExistsError:
        raise taken from None
    finally:
        tmp.unlink(missing_ok=True)
    return key


def read_key(path: str | Path) -> PersonKey:
    """The key in ``path`` (as written by :func:`write_key`), with one-line errors."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(
            "no key file there", str(path), "give the agency's key file (`vdto persons key` makes one)"
        )
    try:
        text = path.read_text(encoding="ascii").strip().lower()
    except (UnicodeDecodeError, OSError):
        text = ""
    if not _HEX.match(text):
        raise InputFileError(
            f"not a person key (expected {KEY_BYTES * 2} hex digits)",
            str(path),
            "give the file `vdto persons key` wrote",
        )
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise InputFileError(
            "the key file can be read by other users",
            str(path),
            f"restrict it to its owner: chmod 600 {path}",
        )
    return PersonKey(bytes.fromhex(text))
