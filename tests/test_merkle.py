"""RFC 9162 Merkle trees (vdto.publication.merkle): published vectors, a naive recomputation, bad input."""

from __future__ import annotations

import contextlib
import doctest
import hashlib
import time
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vdto.errors import VdtoError
from vdto.publication import merkle as merkle_module
from vdto.publication.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    consistency_proof_length,
    inclusion_proof,
    inclusion_proof_length,
    leaf_hash,
    node_hash,
    root,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)

# ---------------------------------------------------------------------------------------------
# Known-answer vectors, copied as data from the Certificate Transparency test suite of
# github.com/transparency-dev/merkle (the Go library behind Trillian and CT's RFC 6962 trees):
#   - LEAF_INPUTS, NODE_HASHES, ROOTS: testonly/constants.go
#     (commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1: LeafInputs, NodeHashes, RootHashes)
#   - INCLUSION_VECTORS, CONSISTENCY_VECTORS: proof/verify_test.go
#     (commit 02194e9afb6c1d95b5381350007963aa70fff472: inclusionProofs, consistencyProofs;
#     there the leaf is numbered from 1, here it is the 0-based index)
#   - INCLUSION_NODES, CONSISTENCY_NODES: proof/proof_test.go
#     (commit 02a3e2029520f515596d5238c54fb0ac9e19bff4: TestInclusion, TestConsistency; the
#     expected proofs as tree node positions, mapped to hashes here through NODE_HASHES)
# The same eight leaves and roots are in the C++ CT merkle_tree_test and in certificate-transparency-go.
# ---------------------------------------------------------------------------------------------

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

# NODE_HASHES[level][index]: the complete subtrees of the 8-leaf tree (level 0 = leaf hashes).
NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

# ROOTS[n]: the root of the tree of the first n leaves.
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# (index, size, proof)
INCLUSION_VECTORS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (old size, new size, proof)
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

# Proofs as node positions (level, index) in the 8-leaf tree; "ij" is the node hash of level-1
# node 2 (i) and leaf 6 (j), which proof_test.go lists as a rehash of (j, i).
# (index, size, nodes)
INCLUSION_NODES = [
    (0, 2, [(0, 1)]),
    (1, 2, [(0, 0)]),
    (1, 3, [(0, 0), (0, 2)]),
    (0, 7, [(0, 1), (1, 1), "ij"]),
    (2, 7, [(0, 3), (1, 0), "ij"]),
    (4, 7, [(0, 5), (0, 6), (2, 0)]),
    (6, 7, [(1, 2), (2, 0)]),
    (2, 4, [(0, 3), (1, 0)]),
    (3, 5, [(0, 2), (1, 0), (0, 4)]),
    (3, 6, [(0, 2), (1, 0), (1, 2)]),
    (4, 6, [(0, 5), (2, 0)]),
]
# (old size, new size, nodes)
CONSISTENCY_NODES = [
    (1, 2, [(0, 1)]),
    (1, 4, [(0, 1), (1, 1)]),
    (1, 6, [(0, 1), (1, 1), (1, 2)]),
    (2, 3, [(0, 2)]),
    (2, 8, [(1, 1), (2, 1)]),
    (3, 7, [(0, 2), (0, 3), (1, 0), "ij"]),
    (4, 7, ["ij"]),
    (5, 7, [(0, 4), (0, 5), (0, 6), (2, 0)]),
    (6, 7, [(1, 2), (0, 6), (2, 0)]),
    (7, 8, [(0, 6), (0, 7), (1, 2), (2, 0)]),
    (2, 4, [(1, 1)]),
    (3, 5, [(0, 2), (0, 3), (1, 0), (0, 4)]),
    (3, 6, [(0, 2), (0, 3), (1, 0), (1, 2)]),
    (4, 6, [(1, 2)]),
    (1, 7, [(0, 1), (1, 1), "ij"]),
]

LEAVES = [leaf_hash(data) for data in LEAF_INPUTS]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def h(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in hexes]


def node(position: tuple[int, int] | str) -> bytes:
    if isinstance(position, str):  # "ij"
        return node_hash(bytes.fromhex(NODE_HASHES[1][2]), bytes.fromhex(NODE_HASHES[0][6]))
    level, index = position
    return bytes.fromhex(NODE_HASHES[level][index])


# ------------------------------------------------------------------------------ known answers


def test_leaf_and_node_hashes_match_the_published_tree():
    assert [leaf.hex() for leaf in LEAVES] == NODE_HASHES[0]
    for level in range(1, 4):
        below = h(NODE_HASHES[level - 1])
        assert [
            node_hash(below[2 * i], below[2 * i + 1]).hex() for i in range(len(below) // 2)
        ] == NODE_HASHES[level]


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_published_roots(size):
    assert root(LEAVES[:size]).hex() == ROOTS[size]


def test_empty_tree_root_is_sha256_of_nothing():
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_proofs_match_the_published_proofs(index, size, proof):
    assert inclusion_proof(index, LEAVES[:size]) == h(proof)
    head = bytes.fromhex(ROOTS[size])
    assert root_from_inclusion(index, size, LEAVES[index], h(proof)) == head
    verify_inclusion(index, size, LEAVES[index], h(proof), head)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_consistency_proofs_match_the_published_proofs(old, new, proof):
    assert consistency_proof(old, LEAVES[:new]) == h(proof)
    verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), h(proof))


@pytest.mark.parametrize(("index", "size", "nodes"), INCLUSION_NODES)
def test_inclusion_proofs_take_the_published_nodes(index, size, nodes):
    proof = inclusion_proof(index, LEAVES[:size])
    assert proof == [node(p) for p in nodes]
    verify_inclusion(index, size, LEAVES[index], proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "nodes"), CONSISTENCY_NODES)
def test_consistency_proofs_take_the_published_nodes(old, new, nodes):
    proof = consistency_proof(old, LEAVES[:new])
    assert proof == [node(p) for p in nodes]
    verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


def _inclusion_probes(index, size, proof, head, leaf):
    """Corruptions of a good inclusion proof, after transparency-dev/merkle's corruptInclusionProof."""
    probes = [
        (index - 1, size, leaf, proof, head),
        (index + 1, size, leaf, proof, head),
        (index ^ 2, size, leaf, proof, head),
        (index, size * 2, leaf, proof, head),
        (index, size // 2, leaf, proof, head),
        (index, size, SOME_HASH, proof, head),
        (index, size, leaf, proof, EMPTY_ROOT),
        (index, size, leaf, proof, SOME_HASH),
        (index, size, leaf, [*proof, b""], head),
        (index, size, leaf, [*proof, head], head),
        (index, size, leaf, [b"", *proof], head),
        (index, size, leaf, [head, *proof], head),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 8]) + wrong[i][1:]
        probes.append((index, size, leaf, wrong, head))
    if proof:
        probes.append((index, size, leaf, proof[:-1], head))
    if len(proof) > 1:
        probes.append((index, size, leaf, [proof[0], SOME_HASH, *proof[1:]], head))
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS[1:])
def test_corrupted_published_inclusion_proofs_fail(index, size, proof):
    head = bytes.fromhex(ROOTS[size])
    for probe in _inclusion_probes(index, size, h(proof), head, LEAVES[index]):
        with pytest.raises(ProofError):
            verify_inclusion(*probe)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS[1:])
def test_corrupted_published_consistency_proofs_fail(old, new, proof):
    """After transparency-dev/merkle's corruptConsistencyProof."""
    r1, r2, p = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), h(proof)
    probes = [
        (old - 1, new, r1, r2, p),
        (old + 1, new, r1, r2, p),
        (old ^ 2, new, r1, r2, p),
        (old, new * 2, r1, r2, p),
        (old, new // 2, r1, r2, p),
        (old, new, SOME_HASH, r2, p),
        (old, new, r1, SOME_HASH, p),
        (old, new, r2, r1, p),
        (old, new, r1, r2, []),
        (old, new, r1, r2, [*p, b""]),
        (old, new, r1, r2, [*p, r1]),
        (old, new, r1, r2, [*p, r2]),
        (old, new, r1, r2, [b"", *p]),
        (old, new, r1, r2, [r1, *p]),
        (old, new, r1, r2, [r2, *p]),
        (old, new, r1, r2, [p[0], *p]),
        (old, new, r1, r2, p[:-1]),
    ]
    for i in range(len(p)):
        wrong = list(p)
        wrong[i] = bytes([wrong[i][0] ^ 16]) + wrong[i][1:]
        probes.append((old, new, r1, r2, wrong))
    for probe in probes:
        with pytest.raises(ProofError):
            verify_consistency(*probe)


def test_consistency_edge_cases():
    a, b = EMPTY_ROOT, SOME_HASH
    verify_consistency(0, 0, a, a, [])
    verify_consistency(0, 1, a, b, [])  # the empty tree is extended by every tree
    verify_consistency(1, 1, b, b, [])
    bad = [
        ((0, 0, a, b, []), "different roots"),
        ((1, 1, a, b, []), "different roots"),
        ((0, 1, b, b, []), "empty tree"),
        ((1, 0, a, b, []), "old size 1 is larger than new size 0"),
        ((2, 1, a, b, []), "old size 2 is larger than new size 1"),
        ((1, 2, a, b, []), "consistency proof has 0 hashes; from size 1 to size 2 it needs 1"),
        ((0, 0, a, a, [a]), "has 1 hash;"),
        ((0, 1, a, a, [a]), "has 1 hash;"),
        ((1, 1, a, a, [a]), "has 1 hash;"),
    ]
    for args, message in bad:
        with pytest.raises(ProofError, match=message):
            verify_consistency(*args)


def test_inclusion_edge_cases():
    single = leaf_hash(b"data")
    verify_inclusion(0, 1, single, [], single)  # a one-leaf tree's root is its leaf
    for index, size in [(0, 0), (1, 0), (1, 1), (2, 1), (8, 8)]:
        with pytest.raises(ProofError, match=f"leaf index {index} is outside a tree of size {size}"):
            verify_inclusion(index, size, single, [], single)
    with pytest.raises(ProofError, match="leaf hash is 0 bytes"):
        verify_inclusion(0, 1, b"", [], single)
    with pytest.raises(ProofError, match="root is 0 bytes"):
        verify_inclusion(0, 1, single, [], b"")


def test_error_messages_say_what_failed():
    leaves = [leaf_hash(bytes([i])) for i in range(8)]
    proof = inclusion_proof(5, leaves)
    with pytest.raises(ProofError) as err:
        root_from_inclusion(5, 8, leaves[5], proof[:2])
    assert str(err.value) == "inclusion proof has 2 hashes; a tree of size 8 needs 3 for index 5"
    assert isinstance(err.value, VdtoError) and err.value.exit_code == 2
    with pytest.raises(ProofError) as err:
        verify_inclusion(5, 8, leaves[4], proof, root(leaves))
    assert str(err.value).startswith("inclusion proof leads to root ")
    assert str(err.value).endswith(f", not the checkpoint's {root(leaves)[:4].hex()}…")
    old, new = root(leaves[:6]), root(leaves)
    cproof = consistency_proof(6, leaves)
    with pytest.raises(ProofError, match=r"^consistency proof does not lead to the old root$"):
        verify_consistency(6, 8, SOME_HASH, new, cproof)
    with pytest.raises(ProofError, match=r"^consistency proof does not lead to the new root$"):
        verify_consistency(6, 8, old, SOME_HASH, cproof)
    with pytest.raises(ProofError, match=r"^old size 9 is larger than new size 5$"):
        verify_consistency(9, 5, old, new, cproof)
    with pytest.raises(
        ProofError, match=r"^consistency proof has 2 hashes; from size 6 to size 8 it needs 3$"
    ):
        verify_consistency(6, 8, old, new, cproof[:2])
    with pytest.raises(ProofError, match=r"^old size 9 is larger than new size 8$"):
        consistency_proof(9, leaves)
    with pytest.raises(ProofError, match=r"^leaf index 8 is outside a tree of size 8"):
        inclusion_proof(8, leaves)


# ------------------------------------------------------------------------------ naive recomputation

N = 64
DATA = [b"entry %d" % i for i in range(N)]
HASHES = [leaf_hash(d) for d in DATA]


@cache
def mth(lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) straight from RFC 9162 2.1.1 (recursive, memoized over the fixed leaves)."""
    n = hi - lo
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + DATA[lo]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi)).digest()


def naive_path(m: int, lo: int, hi: int) -> list[bytes]:
    """PATH(m, D[lo:hi]) straight from RFC 9162 2.1.3.1."""
    n = hi - lo
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*naive_path(m, lo, lo + k), mth(lo + k, hi)]
    return [*naive_path(m - k, lo + k, hi), mth(lo, lo + k)]


def naive_subproof(m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[lo:hi], b) straight from RFC 9162 2.1.4.1."""
    n = hi - lo
    if m == n:
        return [] if whole else [mth(lo, hi)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, lo, lo + k, whole), mth(lo + k, hi)]
    return [*naive_subproof(m - k, lo + k, hi, False), mth(lo, lo + k)]


def flip(value: bytes, at: int = 0) -> bytes:
    return value[:at] + bytes([value[at] ^ 1]) + value[at + 1 :]


def test_root_equals_the_naive_tree_hash_for_every_size():
    for n in range(N + 1):
        assert root(HASHES[:n]) == mth(0, n), n


def test_every_inclusion_proof_verifies_and_a_flipped_byte_fails():
    for n in range(1, N + 1):
        head = mth(0, n)
        leaves = HASHES[:n]
        for m in range(n):
            proof = inclusion_proof(m, leaves)
            assert proof == naive_path(m, 0, n), (m, n)
            assert len(proof) == inclusion_proof_length(m, n)
            verify_inclusion(m, n, HASHES[m], proof, head)
            with pytest.raises(ProofError):
                verify_inclusion(m, n, flip(HASHES[m], m % 32), proof, head)
            with pytest.raises(ProofError):
                verify_inclusion(m, n, HASHES[m], proof, flip(head, 31))
            for i in range(len(proof)):
                wrong = [*proof[:i], flip(proof[i], (m + i) % 32), *proof[i + 1 :]]
                with pytest.raises(ProofError):
                    verify_inclusion(m, n, HASHES[m], wrong, head)


def test_every_consistency_proof_verifies_and_fails_against_a_wrong_root():
    for n in range(1, N + 1):
        new = mth(0, n)
        for m in range(1, n + 1):
            old = mth(0, m)
            proof = consistency_proof(m, HASHES[:n])
            assert proof == (naive_subproof(m, 0, n, True) if m < n else []), (m, n)
            assert len(proof) == consistency_proof_length(m, n)
            verify_consistency(m, n, old, new, proof)
            with pytest.raises(ProofError):
                verify_consistency(m, n, flip(old, 5), new, proof)
            with pytest.raises(ProofError):
                verify_consistency(m, n, old, flip(new, 7), proof)
            if proof:
                with pytest.raises(ProofError):
                    verify_consistency(m, n, old, new, [flip(proof[0]), *proof[1:]])


def test_a_hundred_thousand_leaves():
    """root() and the proofs are iterative and linear: 100k leaves take well under a second each."""
    n = 100_000
    leaves = [hashlib.sha256(b"\x00" + i.to_bytes(4, "big")).digest() for i in range(n)]
    start = time.perf_counter()
    head = root(leaves)
    # a different algorithm: fold the leaves into a stack of perfect subtrees (a compact range)
    stack: list[tuple[int, bytes]] = []
    for leaf in leaves:
        size, value = 1, leaf
        while stack and stack[-1][0] == size:
            size, value = size * 2, node_hash(stack.pop()[1], value)
        stack.append((size, value))
    folded = stack[-1][1]
    for _, value in reversed(stack[:-1]):
        folded = node_hash(value, folded)
    assert head == folded
    verify_inclusion(77_777, n, leaves[77_777], inclusion_proof(77_777, leaves), head)
    verify_consistency(65_537, n, root(leaves[:65_537]), head, consistency_proof(65_537, leaves))
    assert time.perf_counter() - start < 10  # generous: this is about recursion, not speed


# ------------------------------------------------------------------------------ malformed input

sizes = st.one_of(st.integers(-3, 70), st.integers(-(2**70), 2**70))
hash_like = st.one_of(
    st.binary(min_size=32, max_size=32),
    st.binary(max_size=40),
    st.none(),
    st.integers(),
    st.text(max_size=3),
)
proofs = st.one_of(
    st.lists(hash_like, max_size=10), st.lists(st.binary(min_size=32, max_size=32), max_size=10)
)
any_input = st.one_of(hash_like, proofs)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(index=sizes, size=sizes, leaf=hash_like, proof=proofs, head=hash_like)
def test_inclusion_never_raises_anything_but_proof_error(index, size, leaf, proof, head):
    try:
        verify_inclusion(index, size, leaf, proof, head)
    except ProofError as error:
        assert "\n" not in str(error)
    try:
        got = root_from_inclusion(index, size, leaf, proof)
    except ProofError:
        pass
    else:
        assert isinstance(got, bytes) and len(got) == 32


@FAST
@given(old=sizes, new=sizes, r1=hash_like, r2=hash_like, proof=proofs)
def test_consistency_never_raises_anything_but_proof_error(old, new, r1, r2, proof):
    try:
        verify_consistency(old, new, r1, r2, proof)
    except ProofError as error:
        assert "\n" not in str(error)


@FAST
@given(index=st.one_of(sizes, st.none(), st.booleans(), st.floats()), leaves=any_input)
def test_making_proofs_never_raises_anything_but_proof_error(index, leaves):
    for make in (inclusion_proof, consistency_proof):
        try:
            proof = make(index, leaves)
        except ProofError:
            continue
        assert all(len(p) == 32 for p in proof)
    with contextlib.suppress(ProofError):
        root(leaves)


@FAST
@given(size=st.integers(1, 64), data=st.data())
def test_a_proof_of_the_wrong_length_is_refused(size, data):
    index = data.draw(st.integers(0, size - 1))
    need = inclusion_proof_length(index, size)
    count = data.draw(st.integers(0, need + 3).filter(lambda c: c != need))
    proof = [SOME_HASH] * count
    with pytest.raises(ProofError, match=f"needs {need} for index {index}"):
        root_from_inclusion(index, size, SOME_HASH, proof)
    old = data.draw(st.integers(0, size))
    need = consistency_proof_length(old, size)
    count = data.draw(st.integers(0, need + 3).filter(lambda c: c != need))
    with pytest.raises(ProofError, match=f"it needs {need}$"):
        verify_consistency(old, size, SOME_HASH, SOME_HASH, [SOME_HASH] * count)


@FAST
@given(size=st.integers(0, 2**64), extra=st.integers(0, 2**64))
def test_an_index_outside_the_tree_is_refused(size, extra):
    with pytest.raises(ProofError, match="is outside a tree of size"):
        root_from_inclusion(size + extra, size, SOME_HASH, [])
    with pytest.raises(ProofError, match="is larger than new size"):
        verify_consistency(size + extra + 1, size, SOME_HASH, SOME_HASH, [])


def test_doc_examples_run():
    result = doctest.testmod(merkle_module)
    assert result.attempted >= 20 and result.failed == 0
