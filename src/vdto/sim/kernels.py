"""Compiled month kernels: the simulator's per-plaza and per-edge work as Numba loops.

:func:`vdto.sim.engine.simulate` spends most of a month in three passes: revenue over every
(replicate, plaza), the frontier over every hostile (replicate, edge), and the clashes. Written
with NumPy (``engine="numpy"``), each pass is a chain of gathers, temporaries and ``bincount``
calls over arrays of a million elements; written here, each is one loop per replicate. The
hostile edges are kept between months as bits (:func:`pack`) and refreshed only around plazas
that change hands; the frontier pass also draws every hostile edge's attack uniform and keeps
the few below a bound on the month's attack probabilities, so the clash pass looks only at those.

The loops visit replicates, then plazas or edges, in ascending order, which is the order
``np.bincount`` adds its weights in, so every sum is the same float as the NumPy engine's
(``tests/test_sim_engines.py`` checks that the two engines give the same bytes). The keyed
uniforms are the same SplitMix64 hash as :func:`vdto.rng.mix64`:
``mix64(month_key[r] ^ edge_key[e])``, with the month and edge parts computed by the caller.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from vdto.rng import mix64_scalar

_mix64 = njit(cache=True, inline="always")(mix64_scalar)
_S11 = np.uint64(11)
_TO_UNIT = 2.0**-53
_ONE, _63 = np.uint64(1), np.int64(63)


def pack(hostile: np.ndarray) -> np.ndarray:
    """A ``(R, E)`` boolean mask as ``(R, ceil(E / 64))`` 64-bit words: bit ``e % 64`` of word
    ``e // 64`` is edge ``e`` (the kernels walk the set bits in ascending edge order)."""
    R, E = hostile.shape
    words = -(-E // 64)
    padded = np.zeros((R, words * 64), bool)
    padded[:, :E] = hostile
    return np.packbits(padded, axis=1, bitorder="little").view("<u8").astype(np.uint64)


def unpack(bits: np.ndarray, n_edges: int) -> np.ndarray:
    """The boolean mask of :func:`pack`."""
    as_bytes = np.ascontiguousarray(bits.astype("<u8")).view(np.uint8)
    return np.unpackbits(as_bytes, axis=1, bitorder="little")[:, :n_edges].astype(bool)


@njit(cache=True, inline="always")
def _set(bits, r, e, on):
    mask = _ONE << np.uint64(e & _63)
    if on:
        bits[r, e >> 6] |= mask
    else:
        bits[r, e >> 6] &= ~mask


@njit(cache=True)
def refresh(bits, owner, src, dst, inc_ptr, inc_idx, rows, plazas):
    """Recompute the hostile bit of every edge touching the (replicate, plaza) pairs given, whose
    owner just changed."""
    for j in range(len(rows)):
        _refresh_plaza(bits, owner, src, dst, inc_ptr, inc_idx, rows[j], plazas[j])


@njit(cache=True, inline="always")
def _refresh_plaza(bits, owner, src, dst, inc_ptr, inc_idx, r, p):
    for k in range(inc_ptr[p], inc_ptr[p + 1]):
        e = inc_idx[k]
        a = owner[r, src[e]]
        _set(bits, r, e, a >= 0 and a != owner[r, dst[e]])


@njit(cache=True, inline="always")
def _uniform(month_key, item_key):
    return np.float64(_mix64(month_key ^ item_key) >> _S11) * _TO_UNIT


@njit(cache=True)
def revenue(owner, value, supplier, volume, n_orgs):
    """Trafficking value of the plazas each organization holds, and volume of the buyers it
    supplies: two ``(R, N)`` arrays. A run of plazas with the same owner is added in a register
    (the same additions, in the same order, as one at a time into the array)."""
    R, M = owner.shape
    tv = np.zeros((R, n_orgs))
    bv = np.zeros((R, n_orgs))
    for r in range(R):
        current = -1
        acc = 0.0
        for m in range(M):
            o = owner[r, m]
            if o < 0:
                continue
            if o != current:
                if current >= 0:
                    tv[r, current] = acc
                current = o
                acc = tv[r, o]
            acc += value[m]
        if current >= 0:
            tv[r, current] = acc
        for b in range(supplier.shape[1]):
            bv[r, supplier[r, b]] += volume[b]
    return tv, bv


@njit(cache=True)
def dismantle(gone, owner, bits, src, dst, inc_ptr, inc_idx):
    """Leave empty every plaza of the organizations ``gone`` ``(R, N)`` marks, and recompute the
    hostile bits around them."""
    R, M = owner.shape
    emptied = np.empty(M, np.int64)
    for r in range(R):
        if not gone[r].any():
            continue
        n = 0
        for m in range(M):
            o = owner[r, m]
            if o >= 0 and gone[r, o]:
                owner[r, m] = -1
                emptied[n] = m
                n += 1
        for j in range(n):
            _refresh_plaza(bits, owner, src, dst, inc_ptr, inc_idx, r, emptied[j])


@njit(cache=True)
def frontier(
    hostile, owner, src, dst, value, hostility, strength, violence, month_key0, edge_key, bound, cand, cand_u
):
    """One pass over the hostile edges (the bits of ``hostile``, see :func:`pack`) of every
    replicate, before the organizations choose their violence.

    Per organization, four ``(R, N)`` sums: over the edges it attacks from, the value at stake
    ``fv`` and the force it meets there (value x hostility x the defender's strength x violence,
    unnormalised); over the edges into its plazas, its value under threat ``pv`` and the force
    threatening it (unnormalised). The edges an attacker owns come in runs (edges are sorted by
    their source plaza), so its two sums are carried in registers along a run: the same
    additions in the same order as one at a time into the array.

    It also draws each edge's attack uniform (stream 0) and keeps the *candidates*, the edges
    whose draw is below ``bound`` (no attack probability this month can exceed it), in ``cand``
    (edge) and ``cand_u`` (draw), replicate after replicate, in ascending edge order; returns
    where each replicate's candidates start, ``cand_ptr`` ``(R + 1,)``, after the sums.
    """
    R, W = hostile.shape
    N = strength.shape[1]
    fv = np.zeros((R, N))
    rs = np.zeros((R, N))
    pv = np.zeros((R, N))
    ap = np.zeros((R, N))
    cand_ptr = np.zeros(R + 1, np.int64)
    sv = np.empty(N)
    n = 0
    for r in range(R):
        for i in range(N):
            sv[i] = strength[r, i] * violence[r, i]
        key = month_key0[r]
        current = -1
        acc_f = 0.0
        acc_r = 0.0
        for w in range(W):
            word = hostile[r, w]
            while word != 0:
                e = w * 64 + trailing_zeros(word)
                word &= word - _ONE
                a = owner[r, src[e]]
                if a != current:
                    if current >= 0:
                        fv[r, current] = acc_f
                        rs[r, current] = acc_r
                    current = a
                    acc_f = fv[r, a]
                    acc_r = rs[r, a]
                p = dst[e]
                d = owner[r, p]
                if d < 0:  # an empty plaza: no defender, hostility 1
                    acc_f += value[p]
                else:
                    vh = value[p] * hostility[r, a, d]
                    acc_f += vh
                    acc_r += vh * sv[d]
                    pv[r, d] += vh
                    ap[r, d] += vh * sv[a]
                u = _uniform(key, edge_key[e])
                cand[n] = e  # written always, kept when below the bound (no branch to mispredict)
                cand_u[n] = u
                n += u < bound
        if current >= 0:
            fv[r, current] = acc_f
            rs[r, current] = acc_r
        cand_ptr[r + 1] = n
    return fv, rs, pv, ap, cand_ptr


@njit(cache=True)
def clash(
    cand_ptr,
    cand,
    cand_u,
    hostile,
    owner,
    src,
    dst,
    hostility,
    strength,
    violence,
    month_key1,
    edge_key,
    inc_ptr,
    inc_idx,
    attack_rate,
    incumbent,
    deaths_per_clash,
    focal_mask,
    by_plaza,
):
    """Clashes of one month on the candidate edges :func:`frontier` kept (an edge is attacked
    when its draw is below ``attack_rate`` x the attacker's violence x hostility); plazas change
    hands in place (``owner`` and the bits of ``hostile`` are updated).

    Returns the deaths each organization caused as attacker and as defender ``(R, N)`` each,
    the deaths in each plaza ``(R, M)`` (``(R, 0)`` unless ``by_plaza``), in each replicate
    ``(R,)`` and in the plazas ``focal_mask`` ``(R, M)`` marks ``(R,)``.
    """
    R = hostile.shape[0]
    N = strength.shape[1]
    M = owner.shape[1]
    by_att = np.zeros((R, N))
    by_def = np.zeros((R, N))
    plaza_deaths = np.zeros((R, M if by_plaza else 0))
    deaths = np.zeros(R)
    focal = np.zeros(R)
    best_u = np.full(M, np.inf)
    best_a = np.zeros(M, owner.dtype)
    touched = np.empty(M, np.int64)
    for r in range(R):
        n_touched = 0
        for j in range(cand_ptr[r], cand_ptr[r + 1]):
            e = cand[j]
            u1 = cand_u[j]
            a = owner[r, src[e]]
            plaza = dst[e]
            d = owner[r, plaza]
            vac = d < 0
            va = violence[r, a]
            attack_p = attack_rate * va * (1.0 if vac else hostility[r, a, d])
            if not u1 < attack_p:
                continue
            as_ = strength[r, a] * va
            ds = 0.0 if vac else strength[r, d] * violence[r, d]
            win_p = as_ / (as_ + ds + incumbent)
            vd = 0.0 if vac else violence[r, d]
            # Poisson deaths by inversion of the second uniform
            lam = deaths_per_clash * (va + vd)
            u2 = _uniform(month_key1[r], edge_key[e])
            p = np.exp(-lam)
            cdf = p
            k = 0.0
            i = 0
            while u2 > cdf and i < 200:
                i += 1
                p = p * lam / i
                cdf = cdf + p
                k += 1.0
            frac_a = va / max(va + vd, 1e-12) if va + vd > 0 else 1.0
            by_att[r, a] += k * frac_a
            if not vac:
                by_def[r, d] += k * (1 - frac_a)
            if by_plaza:
                plaza_deaths[r, plaza] += k
            deaths[r] += k
            if focal_mask[r, plaza]:
                focal[r] += k
            if u1 < attack_p * win_p:  # won: among the winners of a plaza, the smallest draw
                if best_u[plaza] == np.inf:
                    touched[n_touched] = plaza
                    n_touched += 1
                if u1 < best_u[plaza]:
                    best_u[plaza] = u1
                    best_a[plaza] = a
        for j in range(n_touched):
            plaza = touched[j]
            owner[r, plaza] = best_a[plaza]
            best_u[plaza] = np.inf
        for j in range(n_touched):
            _refresh_plaza(hostile, owner, src, dst, inc_ptr, inc_idx, r, touched[j])
    return by_att, by_def, plaza_deaths, deaths, focal
