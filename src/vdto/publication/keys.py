"""Agency keys for the publication ledger: Ed25519 key pairs, signers and trusted public keys.

Each agency that takes part (for instance ``mx`` and ``us``) holds an Ed25519 key pair, made
with :func:`new_keypair`: ``<agency>.key`` (the private key, PEM, readable by its owner only)
and ``<agency>.pub`` (the public key, 64 hex characters). :class:`Signer` loads a private key
to sign ledger entries; :func:`load_public_key` and :func:`load_trusted` read public keys to
pin when verifying a ledger (:func:`vdto.publication.ledger.verify`); :func:`repository_warning`
says when a private key was written where git would commit it. docs/ledger.md describes the
files.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vdto.errors import VdtoError

#: An agency name: 1 to 32 characters from a-z, 0-9, '_' and '-'.
_AGENCY = re.compile(r"[a-z0-9_-]{1,32}")
#: A public key (or a SHA-256) as lowercase hex.
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_agency(agency: str, where: str = "") -> str:
    if not isinstance(agency, str) or not _AGENCY.fullmatch(agency):
        raise VdtoError(
            f"invalid agency name {_short(agency)}",
            where,
            "use 1 to 32 characters from a-z, 0-9, '_' and '-', e.g. 'mx' or 'us'",
        )
    return agency


def new_keypair(agency: str, folder: str | Path) -> tuple[Path, Path]:
    """Create an Ed25519 key pair for ``agency``: ``folder/<agency>.key`` and ``folder/<agency>.pub``.

    The private key is written as unencrypted PEM (PKCS8) to a file created with mode 0600, so it
    is never readable by others, not even for an instant. The public key file holds the raw
    32-byte key as 64 hex characters and a newline. Neither file may exist already. ``folder`` is
    created (mode 0700) when missing. The private key is never printed or returned.

    Parameters
    ----------
    agency
        The agency's name, ``^[a-z0-9_-]{1,32}$`` (e.g. ``"mx"``); it names both files.
    folder
        Where to write the files.

    Returns
    -------
    tuple[Path, Path]
        The private key path and the public key path.

    Raises
    ------
    VdtoError
        If the name is invalid, a file exists already or cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> key, pub = new_keypair("mx", folder)
    >>> key.name, pub.name, oct(key.stat().st_mode & 0o777)
    ('mx.key', 'mx.pub', '0o600')
    >>> len(load_public_key(pub))
    64
    """
    _check_agency(agency)
    folder = Path(folder)
    key_path, pub_path = folder / f"{agency}.key", folder / f"{agency}.pub"
    for path in (key_path, pub_path):
        if path.exists() or path.is_symlink():
            raise VdtoError(
                "file exists already; keys are never overwritten",
                str(path),
                "choose another folder or delete the file",
            )
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise VdtoError(f"cannot create the key folder ({error.strerror})", str(folder)) from error

    private = Ed25519PrivateKey.generate()
    write_key_files(
        private, key_path, [(pub_path, (_public_hex(private.public_key()) + "\n").encode())], folder
    )
    return key_path, pub_path


def write_key_files(private: Ed25519PrivateKey, key_path: Path, public_files: list[tuple[Path, bytes]],
                    folder: Path) -> None:  # fmt: skip
    """Write a private key (PEM PKCS8, mode 0600 from the start) and its public files (mode
    0644); none may exist. On failure nothing is left behind."""
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    written: list[Path] = []
    try:
        for path, data, mode in [(key_path, pem, 0o600), *((p, d, 0o644) for p, d in public_files)]:
            fd = os.open(path, flags, mode)
            written.append(path)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
    except FileExistsError as error:
        _remove(written)
        raise VdtoError(
            "file exists already; keys are never overwritten",
            str(error.filename),
            "choose another folder or delete the file",
        ) from error
    except OSError as error:
        _remove(written)
        raise VdtoError(
            f"cannot write the key file ({error.strerror})", str(error.filename or folder)
        ) from error


def repository_warning(key_path: str | Path) -> str | None:
    """A one-line warning when the private key ``key_path`` lies inside a git work tree and git
    would not ignore it (so a ``git add .`` would publish it); None otherwise.

    The work tree is found by walking up from the key's folder to the first ``.git`` entry (a
    folder, or a file in a linked work tree or submodule). Whether the key is ignored is asked
    of ``git check-ignore``; when git is not on PATH or cannot answer, the key counts as not
    ignored.

    Examples
    --------
    >>> import tempfile
    >>> repository_warning(Path(tempfile.mkdtemp()) / "mx.key") is None  # no repository there
    True
    """
    path = Path(os.path.abspath(key_path))
    root = _work_tree(path.parent)
    if root is None:
        return None
    git = shutil.which("git")
    if git is None:
        why = "git is not on PATH to check that it is ignored"
    elif _ignored(git, root, path):
        return None
    else:
        why = "it is not ignored"
    return (
        f"warning: the private key {key_path} is inside the git repository at {root}; {why}: "
        "add it to .gitignore or keep keys outside the repository"
    )


def _work_tree(folder: Path) -> Path | None:
    """The nearest folder at or above ``folder`` that holds a ``.git`` entry, or None."""
    for candidate in (folder, *folder.parents):
        with suppress(OSError):
            if (candidate / ".git").exists():
                return candidate
    return None


def _ignored(git: str, root: Path, path: Path) -> bool:
    """Whether git ignores ``path`` in the work tree ``root`` (False when git cannot tell)."""
    try:
        done = subprocess.run(
            [git, "-C", str(root), "check-ignore", "-q", "--", str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        with suppress(OSError):
            path.unlink()


def _public_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


class Signer:
    """An agency's private signing key, loaded from ``<agency>.key`` with :meth:`load`.

    Attributes
    ----------
    agency
        The agency's name (the key file's stem).
    public_hex
        The public key, 64 hex characters.

    Examples
    --------
    >>> import tempfile
    >>> key, pub = new_keypair("us", tempfile.mkdtemp())
    >>> signer = Signer.load(key)
    >>> signer.agency, signer.public_hex == load_public_key(pub), len(signer.sign(b"hello"))
    ('us', True, 128)
    """

    def __init__(self, agency: str, private_key: Ed25519PrivateKey) -> None:
        self.agency = _check_agency(agency)
        self._key = private_key
        self.public_hex = _public_hex(private_key.public_key())

    def __repr__(self) -> str:  # never shows the private key
        return f"Signer(agency={self.agency!r}, public_hex={self.public_hex!r})"

    @classmethod
    def load(cls, path: str | Path) -> Signer:
        """Load a private key file written by :func:`new_keypair`.

        Raises
        ------
        VdtoError
            If the file is missing or unreadable, is readable or writable by group or others,
            is not an unencrypted Ed25519 PEM key, or its name is not ``<agency>.key``.
        """
        path = Path(path)
        agency = _check_agency(path.stem, str(path))
        return cls(agency, load_private_key(path))

    def sign(self, data: bytes) -> str:
        """Sign ``data``; returns the 64-byte Ed25519 signature as 128 hex characters."""
        return self._key.sign(data).hex()


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Load an unencrypted Ed25519 PEM private key that only its owner can read.

    Raises
    ------
    VdtoError
        If the file is missing or unreadable, is readable or writable by group or others, or is
        not an unencrypted Ed25519 PEM key.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as error:
        raise VdtoError("private key file not found", str(path), "check the path") from error
    except OSError as error:
        raise VdtoError(f"cannot read the private key file ({error.strerror})", str(path)) from error
    if not stat.S_ISREG(mode):
        raise VdtoError("private key path is not a file", str(path), "pass the <agency>.key file")
    if os.name != "nt" and mode & 0o077:
        raise VdtoError("private key is readable by others", str(path), f"chmod 600 {path}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise VdtoError(f"cannot read the private key file ({error.strerror})", str(path)) from error
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as error:  # encrypted with a password
        raise VdtoError(
            "private key is encrypted; an unencrypted PKCS8 PEM key is needed",
            str(path),
            "create keys with vdto's key generation",
        ) from error
    except (ValueError, UnsupportedAlgorithm) as error:
        raise VdtoError(
            "not a PEM private key", str(path), "pass the <agency>.key file written with the public key"
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise VdtoError("not an Ed25519 private key", str(path), "create keys with vdto's key generation")
    return key


def load_public_key(path: str | Path) -> str:
    """Read a ``<agency>.pub`` file; returns the public key as 64 lowercase hex characters.

    Raises
    ------
    VdtoError
        If the file is missing or unreadable or does not hold a 32-byte Ed25519 key in hex.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise VdtoError("public key file not found", str(path), "check the path") from error
    except (OSError, UnicodeDecodeError) as error:
        raise VdtoError("cannot read the public key file as text", str(path)) from error
    if "PRIVATE KEY" in text:
        raise VdtoError(
            "this is a private key, not a public key",
            str(path),
            "pass the <agency>.pub file and keep the .key file secret",
        )
    value = text.strip().lower()
    if not _HEX64.fullmatch(value):
        raise VdtoError(
            "not a public key (expected 64 hex characters)",
            str(path),
            "pass the <agency>.pub file written with the key pair",
        )
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(value))
    except ValueError as error:
        raise VdtoError("not a valid Ed25519 public key", str(path)) from error
    return value


def load_trusted(paths: Iterable[str | Path]) -> dict[str, str]:
    """Read public keys to pin: each path is a ``<agency>.pub`` file or a folder of them.

    Returns ``{agency: public_hex}`` for :func:`~vdto.publication.ledger.verify`'s ``trusted``.
    The agency is the file's stem. A folder with no ``.pub`` file, or the same agency given twice
    with different keys, is a :class:`VdtoError`.
    """
    trusted: dict[str, str] = {}
    for item in paths:
        item = Path(item)
        files = sorted(item.glob("*.pub")) if item.is_dir() else [item]
        if not files:
            raise VdtoError(
                "no .pub file in the folder", str(item), "pass a folder holding <agency>.pub files"
            )
        for file in files:
            agency = _check_agency(file.stem, str(file))
            key = load_public_key(file)
            if trusted.get(agency, key) != key:
                raise VdtoError(
                    f"two different keys given for agency {agency!r}", str(file), "pass one key per agency"
                )
            trusted[agency] = key
    return trusted
