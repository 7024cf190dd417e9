"""Merkle tree hashing for the publication ledger (RFC 9162 section 2.1, Certificate Transparency v2).

The ledger's entries are the leaves of a Merkle tree: leaf ``i`` (0-based) is the signed body of
entry ``i + 1``. This module works on raw bytes only: a hash is 32 ``bytes``, a list of leaf
hashes is the tree. It computes the tree head (:func:`root`), inclusion proofs (a leaf is in the
tree: :func:`inclusion_proof`, :func:`verify_inclusion`) and consistency proofs (a tree is an
extension of an older one: :func:`consistency_proof`, :func:`verify_consistency`), exactly as
RFC 9162 sections 2.1.1 to 2.1.4 define them, so any Certificate Transparency tool can check them.

- leaf hash = SHA-256(0x00 || data); node hash = SHA-256(0x01 || left || right);
- the root of the empty tree is SHA-256 of nothing; a tree of ``n > 1`` leaves splits at the
  largest power of two smaller than ``n``.

Every malformed input (an index outside the tree, a proof of the wrong length, a hash that is not
32 bytes) raises :class:`ProofError` with one plain line; a proof that does not lead to the
expected root raises it too, naming which root. Nothing here raises another exception for bad
input.

Examples
--------
>>> leaves = [leaf_hash(bytes([i])) for i in range(5)]
>>> head = root(leaves)
>>> proof = inclusion_proof(3, leaves)
>>> verify_inclusion(3, 5, leaves[3], proof, head)  # None: it verifies
>>> old = root(leaves[:2])
>>> verify_consistency(2, 5, old, head, consistency_proof(2, leaves))
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from vdto.errors import VdtoError

#: Size of every hash in the tree (SHA-256), in bytes.
HASH_SIZE = 32
#: The root of the empty tree: SHA-256 of nothing.
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class ProofError(VdtoError):
    """A Merkle proof is malformed or does not lead to the expected root (one plain line)."""


def _short(digest: bytes) -> str:
    """The first 8 hex characters of a hash, for messages: ``'5dc9da79…'``."""
    return bytes(digest[:4]).hex() + "…"


def _check_count(value: object, what: str) -> int:
    """A non-negative whole number (an index or a size), else :class:`ProofError`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProofError(f"{what} must be a whole number (got {type(value).__name__})")
    if value < 0:
        raise ProofError(f"{what} must not be negative (got {value})")
    return value


def _check_hash(value: object, what: str) -> bytes:
    """A 32-byte hash, else :class:`ProofError`."""
    if not isinstance(value, bytes | bytearray):
        raise ProofError(f"{what} must be {HASH_SIZE} bytes (got {type(value).__name__})")
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes; a SHA-256 hash is {HASH_SIZE}")
    return bytes(value)


def _check_hashes(values: Sequence[bytes], what: str) -> list[bytes]:
    if isinstance(values, bytes | bytearray | str):  # a single hash passed where a list is expected
        raise ProofError(
            f"{what}es must be a list of {HASH_SIZE}-byte hashes, not one {type(values).__name__}"
        )
    try:
        items = list(values)
    except TypeError:
        raise ProofError(
            f"{what}es must be a list of {HASH_SIZE}-byte hashes (got {type(values).__name__})"
        ) from None
    return [_check_hash(value, f"{what} {i}") for i, value in enumerate(items)]


def _hashes_word(count: int) -> str:
    return f"{count} hash" if count == 1 else f"{count} hashes"


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || data) (RFC 9162 section 2.1.1).

    Parameters
    ----------
    data
        The leaf's bytes (for the ledger: the signed body of an entry).

    Returns
    -------
    bytes
        32 bytes.

    Examples
    --------
    >>> leaf_hash(b"").hex()
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'
    """
    return hashlib.sha256(_LEAF_PREFIX + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: SHA-256(0x01 || left || right) (RFC 9162 section 2.1.1).

    Examples
    --------
    >>> node_hash(leaf_hash(b""), leaf_hash(b"\\x00")).hex()
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'
    """
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n >= 2``): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_root(hashes: list[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) without recursion: pair the nodes level by level, carrying an odd last node up.

    Carrying the odd node up builds the same tree as splitting at the largest power of two below
    the size (the left part is always a perfect tree), with ``hi - lo - 1`` node hashes in all.
    """
    if hi <= lo:
        return EMPTY_ROOT
    level = hashes[lo:hi]
    sha256 = hashlib.sha256
    while len(level) > 1:
        paired = [
            sha256(_NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash MTH of a list of leaf hashes (RFC 9162 section 2.1.1).

    Takes time in proportion to the number of leaves (``n - 1`` node hashes), without recursion.

    Parameters
    ----------
    leaf_hashes
        The leaves' hashes (:func:`leaf_hash`), in order; each 32 bytes.

    Returns
    -------
    bytes
        The 32-byte root; SHA-256 of nothing for the empty tree.

    Raises
    ------
    ProofError
        If a leaf hash is not 32 bytes.

    Examples
    --------
    The eight leaves of the Certificate Transparency test suite:

    >>> data = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    ...         "606162636465666768696a6b6c6d6e6f"]
    >>> leaves = [leaf_hash(bytes.fromhex(d)) for d in data]
    >>> root(leaves).hex()
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'
    >>> root([]) == EMPTY_ROOT
    True
    """
    hashes = _check_hashes(leaf_hashes, "leaf hash")
    return _subtree_root(hashes, 0, len(hashes))


def _check_index(index: int, size: int) -> None:
    if index >= size:
        raise ProofError(
            f"leaf index {index} is outside a tree of size {size} (indexes run from 0 to size - 1)"
        )


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The inclusion proof (audit path) of leaf ``index`` in the tree of ``leaf_hashes``.

    RFC 9162 section 2.1.3.1: the sibling subtree hashes from the leaf up to the root. Takes time
    in proportion to the number of leaves.

    Parameters
    ----------
    index
        The leaf's 0-based index, ``0 <= index < len(leaf_hashes)``.
    leaf_hashes
        The tree's leaf hashes.

    Returns
    -------
    list[bytes]
        The proof, bottom (the leaf's sibling) first; empty for a tree of one leaf.

    Raises
    ------
    ProofError
        If the index is outside the tree or a leaf hash is not 32 bytes.

    Examples
    --------
    >>> leaves = [leaf_hash(bytes([i])) for i in range(3)]
    >>> proof = inclusion_proof(2, leaves)
    >>> proof == [node_hash(leaves[0], leaves[1])]
    True
    >>> root_from_inclusion(2, 3, leaves[2], proof) == root(leaves)
    True
    """
    index = _check_count(index, "leaf index")
    hashes = _check_hashes(leaf_hashes, "leaf hash")
    _check_index(index, len(hashes))
    path: list[bytes] = []  # top first; reversed at the end
    lo, hi = 0, len(hashes)
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            path.append(_subtree_root(hashes, lo + k, hi))
            hi = lo + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            path.append(_subtree_root(hashes, lo, lo + k))
            lo += k
    path.reverse()
    return path


def inclusion_proof_length(index: int, size: int) -> int:
    """How many hashes the inclusion proof of leaf ``index`` in a tree of ``size`` leaves has.

    Examples
    --------
    >>> inclusion_proof_length(5, 8), inclusion_proof_length(2, 3), inclusion_proof_length(0, 1)
    (3, 1, 0)
    """
    index = _check_count(index, "leaf index")
    size = _check_count(size, "tree size")
    _check_index(index, size)
    inner = (index ^ (size - 1)).bit_length()  # levels where the path and the last leaf's path part
    border = (index >> inner).bit_count()  # levels above, where the tree's right border runs
    return inner + border


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that an inclusion proof leads to (RFC 9162 section 2.1.3.2).

    Parameters
    ----------
    index
        The leaf's 0-based index in the tree.
    size
        The tree's size (number of leaves).
    leaf
        The leaf's hash (:func:`leaf_hash`, 32 bytes).
    proof
        The inclusion proof (:func:`inclusion_proof`).

    Returns
    -------
    bytes
        The root the proof leads to; compare it with a trusted root (or use
        :func:`verify_inclusion`).

    Raises
    ------
    ProofError
        If ``index >= size``, a hash is not 32 bytes, or the proof has the wrong number of hashes
        for that index and size.

    Examples
    --------
    >>> leaves = [leaf_hash(bytes([i])) for i in range(8)]
    >>> root_from_inclusion(5, 8, leaves[5], inclusion_proof(5, leaves)) == root(leaves)
    True
    >>> root_from_inclusion(5, 8, leaves[5], inclusion_proof(5, leaves)[:2])
    Traceback (most recent call last):
    ...
    vdto.publication.merkle.ProofError: inclusion proof has 2 hashes; a tree of size 8 needs 3 for index 5
    """
    index = _check_count(index, "leaf index")
    size = _check_count(size, "tree size")
    _check_index(index, size)
    r = _check_hash(leaf, "leaf hash")
    path = _check_hashes(proof, "inclusion proof hash")
    need = inclusion_proof_length(index, size)
    if len(path) != need:
        raise ProofError(
            f"inclusion proof has {_hashes_word(len(path))}; a tree of size {size} needs {need} for index {index}"
        )
    fn, sn = index, size - 1
    for p in path:
        if sn == 0:  # cannot happen once the length is right; kept from the RFC's algorithm
            raise ProofError(f"inclusion proof is too long for index {index} in a tree of size {size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # cannot happen once the length is right
        raise ProofError(f"inclusion proof is too short for index {index} in a tree of size {size}")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Check that leaf ``index`` with hash ``leaf`` is in the tree of ``size`` leaves with ``root``.

    Returns
    -------
    None
        When the proof leads to ``root``.

    Raises
    ------
    ProofError
        If the proof is malformed (see :func:`root_from_inclusion`) or leads to another root.

    Examples
    --------
    >>> leaves = [leaf_hash(bytes([i])) for i in range(4)]
    >>> head = root(leaves)
    >>> verify_inclusion(1, 4, leaves[1], inclusion_proof(1, leaves), head)
    >>> verify_inclusion(1, 4, leaves[2], inclusion_proof(1, leaves), head)  # another leaf
    Traceback (most recent call last):
    ...
    vdto.publication.merkle.ProofError: inclusion proof leads to root 4dbb51f4…, not the checkpoint's 9bcd5124…
    """
    expected = _check_hash(root, "root")
    got = root_from_inclusion(index, size, leaf, proof)
    if got != expected:
        raise ProofError(
            f"inclusion proof leads to root {_short(got)}, not the checkpoint's {_short(expected)}"
        )


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The proof that the tree of ``leaf_hashes`` extends its first ``old_size`` leaves.

    RFC 9162 section 2.1.4.1, PROOF(m, D[n]) with ``m = old_size`` and ``n = len(leaf_hashes)``.
    Takes time in proportion to the number of leaves.

    Parameters
    ----------
    old_size
        The older tree's size, ``0 <= old_size <= len(leaf_hashes)``.
    leaf_hashes
        The newer tree's leaf hashes.

    Returns
    -------
    list[bytes]
        The proof; empty when ``old_size`` is 0 or equals the new size.

    Raises
    ------
    ProofError
        If ``old_size`` is negative or larger than the tree, or a leaf hash is not 32 bytes.

    Examples
    --------
    >>> leaves = [leaf_hash(bytes([i])) for i in range(3)]
    >>> consistency_proof(2, leaves) == [leaves[2]]
    True
    >>> consistency_proof(3, leaves), consistency_proof(0, leaves)
    ([], [])
    """
    old_size = _check_count(old_size, "old size")
    hashes = _check_hashes(leaf_hashes, "leaf hash")
    new_size = len(hashes)
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size in (0, new_size):
        return []
    path: list[bytes] = []  # top first; reversed at the end
    lo, hi, m, whole = 0, new_size, old_size, True  # SUBPROOF(m, D[lo:hi], whole)
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            path.append(_subtree_root(hashes, lo + k, hi))
            hi = lo + k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            path.append(_subtree_root(hashes, lo, lo + k))
            lo += k
            m -= k
            whole = False
    if not whole:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        path.append(_subtree_root(hashes, lo, hi))
    path.reverse()
    return path


def consistency_proof_length(old_size: int, new_size: int) -> int:
    """How many hashes the consistency proof from ``old_size`` to ``new_size`` leaves has.

    Examples
    --------
    >>> consistency_proof_length(6, 8), consistency_proof_length(4, 8), consistency_proof_length(8, 8)
    (3, 1, 0)
    """
    old_size = _check_count(old_size, "old size")
    new_size = _check_count(new_size, "new size")
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size in (0, new_size):
        return 0
    inner = ((old_size - 1) ^ (new_size - 1)).bit_length()
    border = ((old_size - 1) >> inner).bit_count()
    shift = (old_size & -old_size).bit_length() - 1  # trailing zero bits of old_size
    seed = 0 if old_size == 1 << shift else 1  # the old tree's own root is left out when it is perfect
    return seed + inner - shift + border


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``new_size`` leaves with ``new_root`` extends the one of ``old_size``.

    RFC 9162 section 2.1.4.2. A tree of size 0 is extended by every tree (its root must be
    SHA-256 of nothing); a tree is consistent with itself when the roots are equal. Both take
    an empty proof.

    Returns
    -------
    None
        When the proof leads to both roots.

    Raises
    ------
    ProofError
        Naming what failed: the sizes (old larger than new), the proof's length, a hash that is
        not 32 bytes, or the root that the proof does not lead to (old or new).

    Examples
    --------
    >>> leaves = [leaf_hash(bytes([i])) for i in range(8)]
    >>> old, new = root(leaves[:6]), root(leaves)
    >>> proof = consistency_proof(6, leaves)
    >>> verify_consistency(6, 8, old, new, proof)
    >>> verify_consistency(6, 8, new, new, proof)
    Traceback (most recent call last):
    ...
    vdto.publication.merkle.ProofError: consistency proof does not lead to the old root
    >>> verify_consistency(9, 5, old, new, proof)
    Traceback (most recent call last):
    ...
    vdto.publication.merkle.ProofError: old size 9 is larger than new size 5
    """
    old_size = _check_count(old_size, "old size")
    new_size = _check_count(new_size, "new size")
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    first = _check_hash(old_root, "old root")
    second = _check_hash(new_root, "new root")
    path = _check_hashes(proof, "consistency proof hash")
    need = consistency_proof_length(old_size, new_size)
    if len(path) != need:
        raise ProofError(
            f"consistency proof has {_hashes_word(len(path))}; "
            f"from size {old_size} to size {new_size} it needs {need}"
        )
    if old_size == new_size and first != second:
        raise ProofError(f"trees of the same size {old_size} have different roots")
    if old_size == 0 and first != EMPTY_ROOT:
        raise ProofError(f"the old root of an empty tree must be {_short(EMPTY_ROOT)} (SHA-256 of nothing)")
    if old_size in (0, new_size):
        return
    if old_size == 1 << ((old_size & -old_size).bit_length() - 1):  # a power of two: seed with the old root
        path.insert(0, first)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # cannot happen once the length is right; kept from the RFC's algorithm
            raise ProofError(f"consistency proof is too long from size {old_size} to size {new_size}")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # cannot happen once the length is right
        raise ProofError(f"consistency proof is too short from size {old_size} to size {new_size}")
    if fr != first:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != second:
        raise ProofError("consistency proof does not lead to the new root")
