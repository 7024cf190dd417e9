"""Compiled month kernels: the simulator's per-plaza, per-edge and per-organization work as
Numba loops, one loop per replicate.

* :func:`revenue`: trafficking value, US buyer volume and young men in each organization's plazas;
* :func:`frontier`: the sums an organization's choice of violence needs over its hostile
  frontier, and the attack candidates (the few edges whose draw can fall below this month's
  largest attack probability);
* :func:`clash`: the month's clashes on the candidates (plazas change hands, deaths in people,
  members killed on each side);
* :func:`killings`: homicides by the organization holding a plaza and homicides that are not
  organized-crime killings, per state;
* :func:`lookahead`: each organization's discounted chance of being named in the coming rounds
  of the violence-targeted policy, at each violence level;
* :func:`split_part`: the contiguous part of an organization's territory a splinter takes.

Hostility between two organizations comes from their lineages: ``root[r, i]`` is the founding
organization an organization descends from; two of one lineage have ``kin`` hostility, two of
different lineages the founders' ``h0[root_a, root_d]``.

Every random number is the same keyed SplitMix64 hash as :func:`vdto.rng.mix64`:
``mix64(month_key[r] ^ item_key)``, the month and item parts computed by the caller. The hostile
edges are kept between months as bits (:func:`pack`) and refreshed only around plazas that
change hands.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from vdto.rng import mix64_scalar

_mix64 = njit(cache=True, inline="always")(mix64_scalar)
_S11 = np.uint64(11)
_TO_UNIT = 2.0**-53
_ONE, _63 = np.uint64(1), np.int64(63)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


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


@njit(cache=True, inline="always")
def _offer(best_u, best_o, touched, n, plaza, u, o):
    """Offer ``plaza`` to ``o`` with draw ``u``: the smallest draw wins; a plaza offered for the
    first time is appended to ``touched`` (``n`` entries so far). Returns the new ``n``."""
    if best_u[plaza] == np.inf:
        touched[n] = plaza
        n += 1
    if u < best_u[plaza]:
        best_u[plaza] = u
        best_o[plaza] = o
    return n


@njit(cache=True, inline="always")
def _host(root, h0, kin, r, a, d):
    ra = root[r, a]
    rd = root[r, d]
    return kin if ra == rd else h0[ra, rd]


@njit(cache=True)
def poisson(lam, key):
    """One Poisson draw of mean ``lam`` from the keyed stream ``key`` (uniform ``j`` of the stream
    is ``mix64(key ^ mix64(j * golden))``): inversion below a mean of 10, above it the
    transformed rejection of Hörmann (1993, "PTRS"), as NumPy uses; both exact."""
    if lam <= 0.0:
        return 0.0
    if lam < 10.0:
        u = _uniform(key, _mix64(_GOLDEN))
        p = math.exp(-lam)
        cdf = p
        k = 0.0
        i = 0
        while u > cdf and i < 400:
            i += 1
            p = p * lam / i
            cdf += p
            k += 1.0
        return k
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    j = np.uint64(1)
    while True:
        u = _uniform(key, _mix64(j * _GOLDEN)) - 0.5
        v = _uniform(key, _mix64((j + _ONE) * _GOLDEN))
        j += np.uint64(2)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= -lam + k * loglam - math.lgamma(
            k + 1.0
        ):
            return k


@njit(cache=True)
def revenue(owner, value, young, population, state, focal_mask, supplier, volume, n_orgs, pair_org, pair_state,
            pair_pop, pair_focal, n_pairs):  # fmt: skip
    """Per organization ``(R, N)``: trafficking value of the plazas it holds, volume of the
    buyers it supplies and men aged 15-29 living in its plazas (a run of plazas with one owner is
    added in registers). In the same pass, the people living in each organization's plazas per
    state, as pairs: for replicate ``r``, ``n_pairs[r]`` entries of ``pair_org``,
    ``pair_state``, ``pair_pop`` and ``pair_focal`` (people in the plazas ``focal_mask`` marks),
    in the order first met (the arrays, ``(R, N x S)``, are filled in place)."""
    R, M = owner.shape
    S = pair_pop.shape[1] // n_orgs
    tv = np.zeros((R, n_orgs))
    bv = np.zeros((R, n_orgs))
    yv = np.zeros((R, n_orgs))
    slot = np.full((n_orgs, S), -1, np.int64)
    for r in range(R):
        current = -1
        acc = 0.0
        accy = 0.0
        n = 0
        k = -1
        k_state = -1
        for m in range(M):
            o = owner[r, m]
            if o < 0:
                continue
            s = state[m]
            if o != current:
                if current >= 0:
                    tv[r, current] = acc
                    yv[r, current] = accy
                current = o
                acc = tv[r, o]
                accy = yv[r, o]
                k_state = -1
            acc += value[m]
            accy += young[m]
            if s != k_state:  # the (organization, state) pair changes: find or open its entry
                k_state = s
                k = slot[o, s]
                if k < 0:
                    k = n
                    slot[o, s] = n
                    pair_org[r, n] = o
                    pair_state[r, n] = s
                    pair_pop[r, n] = 0.0
                    pair_focal[r, n] = 0.0
                    n += 1
            pair_pop[r, k] += population[m]
            if focal_mask[r, m]:
                pair_focal[r, k] += population[m]
        if current >= 0:
            tv[r, current] = acc
            yv[r, current] = accy
        for k in range(n):
            slot[pair_org[r, k], pair_state[r, k]] = -1
        n_pairs[r] = n
        for b in range(supplier.shape[1]):
            bv[r, supplier[r, b]] += volume[b]
    return tv, bv, yv


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
def frontier(hostile, owner, src, dst, value, root, h0, kin, surge, strength, violence, month_key0, edge_key,
             bound, cand, cand_u):  # fmt: skip
    """One pass over the hostile edges (the bits of ``hostile``) of every replicate, before the
    organizations choose their violence.

    An edge from a plaza held by ``a`` into one held by ``d`` weighs ``value x hostility x
    surge[d]`` (``surge``: how much more often a weakened organization's plazas are attacked;
    an empty plaza has hostility 1 and surge 1). Per organization, four ``(R, N)`` sums: over the
    edges it attacks from, the weight at stake ``fv`` and the force it meets there (weight x the
    defender's strength x violence, unnormalised); over the edges into its plazas, its weight
    under threat ``pv`` and the force threatening it (unnormalised).

    It also draws each edge's attack uniform and keeps the *candidates*, the edges whose draw is
    below ``bound[r]`` (no attack probability of replicate ``r`` this month can exceed it), in
    ``cand`` and ``cand_u``,
    replicate after replicate, in ascending edge order; returns where each replicate's
    candidates start, ``cand_ptr`` ``(R + 1,)``, after the sums.
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
        limit = bound[r]
        own = owner[r]  # this replicate's rows (views)
        lineage = root[r]
        surge_r = surge[r]
        pv_r = pv[r]
        ap_r = ap[r]
        current = -1
        acc_f = 0.0
        acc_r = 0.0
        for w in range(W):
            word = hostile[r, w]
            while word != 0:
                e = w * 64 + trailing_zeros(word)
                word &= word - _ONE
                a = own[src[e]]
                if a != current:
                    if current >= 0:
                        fv[r, current] = acc_f
                        rs[r, current] = acc_r
                    current = a
                    acc_f = fv[r, a]
                    acc_r = rs[r, a]
                p = dst[e]
                d = own[p]
                if d < 0:  # an empty plaza: no defender, hostility 1
                    acc_f += value[p]
                else:
                    ra, rd = lineage[a], lineage[d]
                    vh = value[p] * (kin if ra == rd else h0[ra, rd]) * surge_r[d]
                    acc_f += vh
                    acc_r += vh * sv[d]
                    pv_r[d] += vh
                    ap_r[d] += vh * sv[a]
                u = _uniform(key, edge_key[e])
                cand[n] = e  # written always, kept when below the bound
                cand_u[n] = u
                n += u < limit
        if current >= 0:
            fv[r, current] = acc_f
            rs[r, current] = acc_r
        cand_ptr[r + 1] = n
    return fv, rs, pv, ap, cand_ptr


@njit(cache=True)
def clash(cand_ptr, cand, cand_u, hostile, owner, src, dst, root, h0, kin, surge, strength, violence,
          month_key1, edge_key, inc_ptr, inc_idx, state, n_states, attack_rate, incumbent, deaths_per_clash,
          rival_share, rival_drop, focal_mask, by_plaza):  # fmt: skip
    """Clashes of one month on the candidate edges :func:`frontier` kept: an edge is attacked
    when its draw is below ``attack_rate x`` the attacker's violence ``x`` hostility ``x`` surge,
    and won when below that times the contest's success probability; a plaza won from several
    edges goes to the winner with the smallest draw (``owner`` and the bits of ``hostile`` are
    updated in place). An attacked edge has Poisson(``deaths_per_clash`` x both sides'
    violence) homicides, caused by the two sides in proportion to their violence; of those
    each side causes, a share ``rival_share - rival_drop x`` its violence are members of the
    other side (on an empty plaza, of nobody).

    Returns per organization the homicides caused ``(R, N)`` and the members lost ``(R, N)``;
    homicides per state ``(R, S)``, per plaza ``(R, M)`` (``(R, 0)`` unless ``by_plaza``), per
    replicate ``(R,)`` and in the plazas ``focal_mask`` marks ``(R,)``.
    """
    R = hostile.shape[0]
    N = strength.shape[1]
    M = owner.shape[1]
    caused = np.zeros((R, N))
    lost = np.zeros((R, N))
    per_state = np.zeros((R, n_states))
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
            attack_p = attack_rate * va * (1.0 if vac else _host(root, h0, kin, r, a, d) * surge[r, d])
            if not u1 < attack_p:
                continue
            as_ = strength[r, a] * va
            ds = 0.0 if vac else strength[r, d] * violence[r, d]
            win_p = as_ / (as_ + ds + incumbent)
            vd = 0.0 if vac else violence[r, d]
            k = poisson(deaths_per_clash * (va + vd), _mix64(month_key1[r] ^ edge_key[e]))
            frac_a = va / max(va + vd, 1e-12) if va + vd > 0 else 1.0
            caused[r, a] += k * frac_a
            if not vac:
                caused[r, d] += k * (1.0 - frac_a)
                lost[r, d] += k * frac_a * min(max(rival_share - rival_drop * va, 0.0), 1.0)
                lost[r, a] += k * (1.0 - frac_a) * min(max(rival_share - rival_drop * vd, 0.0), 1.0)
            if by_plaza:
                plaza_deaths[r, plaza] += k
            per_state[r, state[plaza]] += k
            deaths[r] += k
            if focal_mask[r, plaza]:
                focal[r] += k
            if u1 < attack_p * win_p:  # won: among the winners of a plaza, the smallest draw
                n_touched = _offer(best_u, best_a, touched, n_touched, plaza, u1, a)
        for j in range(n_touched):
            plaza = touched[j]
            owner[r, plaza] = best_a[plaza]
            best_u[plaza] = np.inf
        for j in range(n_touched):
            _refresh_plaza(hostile, owner, src, dst, inc_ptr, inc_idx, r, touched[j])
    return caused, lost, per_state, plaza_deaths, deaths, focal


@njit(cache=True)
def killings(pair_org, pair_state, pair_pop, pair_focal, n_pairs, violence, rate, org_key, state_key, month_key_os,
             baseline_state, month_key_bl, n_orgs, pair_k):  # fmt: skip
    """Homicides of the month outside clashes, per replicate.

    *One-sided killings* by the organization holding a plaza: for each (organization, state)
    pair of :func:`revenue` (the plazas held at the start of the month), the mean is ``rate x``
    its violence ``x`` the people living there / 100,000, drawn as one Poisson keyed by the
    organization's and the state's keys. *Baseline* homicides (not organized-crime killings):
    one Poisson per state of mean ``baseline_state``.

    Returns the one-sided homicides per organization ``(R, N)`` and per state ``(R, S)``, the
    baseline per state ``(R, S)`` and the one-sided homicides in the plazas the focal mask of
    :func:`revenue` marked (each pair's count shared by population) ``(R,)``; each pair's
    homicides are written in ``pair_k`` ``(R, >= n_pairs)`` (for :func:`place`).
    """
    R = violence.shape[0]
    S = len(baseline_state)
    by_org = np.zeros((R, n_orgs))
    os_state = np.zeros((R, S))
    bl_state = np.zeros((R, S))
    focal = np.zeros(R)
    scale = rate / 1e5
    for r in range(R):
        for j in range(n_pairs[r]):
            i, s = pair_org[r, j], pair_state[r, j]
            lam = scale * violence[r, i] * pair_pop[r, j]
            pair_k[r, j] = 0.0
            if lam <= 0.0:
                continue
            k = poisson(lam, _mix64(month_key_os[r] ^ org_key[r, i] ^ state_key[s]))
            pair_k[r, j] = k
            by_org[r, i] += k
            os_state[r, s] += k
            if pair_focal[r, j] > 0.0:
                focal[r] += k * pair_focal[r, j] / pair_pop[r, j]
        for s in range(S):
            bl_state[r, s] = poisson(baseline_state[s], _mix64(month_key_bl[r] ^ state_key[s]))
    return by_org, os_state, bl_state, focal


@njit(cache=True)
def place(owner, state, population, pair_org, pair_state, pair_k, n_pairs, bl_state, state_order, state_ptr,
          bl_cum, org_key, state_key, month_key, n_orgs, out):  # fmt: skip
    """Where the month's homicides outside clashes happen, added to ``out`` ``(R, M)``.

    Each one-sided homicide of an (organization, state) pair of :func:`killings` (``pair_k``)
    falls in one of the plazas the organization held in that state at the start of the month
    (``owner``), with probability proportional to the people living there; each baseline
    homicide of a state (``bl_state`` ``(R, S)``) in one of its municipalities with probability
    proportional to its baseline mean (``bl_cum``: the cumulative baseline over ``state_order``,
    the plazas grouped by state, state ``s`` in ``state_ptr[s]:state_ptr[s + 1]``). One keyed
    uniform per homicide (the pair's or state's key and the homicide's rank), so the totals per
    pair and state are those of :func:`killings`, to the unit.
    """
    R, M = owner.shape
    S = len(state_ptr) - 1
    slot = np.full(n_orgs * S, -1, np.int64)
    ptr = np.zeros(n_orgs * S + 1, np.int64)
    fill = np.zeros(n_orgs * S, np.int64)
    members = np.empty(M, np.int64)
    cum = np.empty(M)
    for r in range(R):
        n = n_pairs[r]
        for j in range(n):
            slot[pair_org[r, j] * S + pair_state[r, j]] = j
            ptr[j + 1] = 0
        for m in range(M):  # the plazas of each pair, grouped (a counting sort)
            o = owner[r, m]
            if o >= 0:
                ptr[slot[o * S + state[m]] + 1] += 1
        for j in range(n):
            ptr[j + 1] += ptr[j]
            fill[j] = ptr[j]
        for m in range(M):
            o = owner[r, m]
            if o >= 0:
                j = slot[o * S + state[m]]
                members[fill[j]] = m
                fill[j] += 1
        for j in range(n):
            k = int(pair_k[r, j])
            lo, hi = ptr[j], ptr[j + 1]
            if k <= 0 or hi <= lo:
                continue
            acc = 0.0
            for q in range(lo, hi):
                acc += population[members[q]]
                cum[q] = acc
            key = _mix64(month_key[r] ^ org_key[r, pair_org[r, j]] ^ state_key[pair_state[r, j]])
            for i in range(k):
                u = _uniform(key, _mix64(np.uint64(i) + _GOLDEN)) * acc
                q = lo + np.searchsorted(cum[lo:hi], u, side="right")
                out[r, members[min(q, hi - 1)]] += 1.0
        for j in range(n):
            slot[pair_org[r, j] * S + pair_state[r, j]] = -1
        for s in range(S):
            k = int(bl_state[r, s])
            lo, hi = state_ptr[s], state_ptr[s + 1]
            if k <= 0 or hi <= lo:
                continue
            base = bl_cum[lo - 1] if lo > 0 else 0.0
            total = bl_cum[hi - 1] - base
            if total <= 0.0:
                continue
            key = _mix64(month_key[r] ^ state_key[s] ^ _GOLDEN)
            for i in range(k):
                u = base + _uniform(key, _mix64(np.uint64(i) + _GOLDEN)) * total
                q = lo + np.searchsorted(bl_cum[lo:hi], u, side="right")
                out[r, state_order[min(q, hi - 1)]] += 1.0


@njit(cache=True, inline="always")
def _phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


@njit(cache=True)
def lookahead(base, per_unit, violence, alive, org_key, levels, noise, weights, contenders):
    """For each organization and violence level ``(R, N, L)``: ``sum_k weights[r, k] P(X = k)``,
    ``X`` the number of organizations whose published score next month is above its own.

    An organization's expected score at level ``l`` is ``base + per_unit x l``, the others' at
    their current violence; each published score is the true one x (1 + noise x a standard
    normal), so another is above with probability ``Phi((y - x) / (noise sqrt(x^2 + y^2)))``
    (normal approximation), independently, and ``P(X = k)`` is their Poisson-binomial
    distribution (for ``k`` below ``len(weights)``). Only the ``contenders`` organizations with
    the highest attainable scores are compared (ties by ``org_key``, not by position); the
    others get 0 (they cannot be named within the horizon).
    """
    R, N = base.shape
    L = len(levels)
    H = weights.shape[1]
    out = np.zeros((R, N, L))
    top = np.empty(N)
    cont = np.empty(contenders, np.int64)
    picked = np.zeros(N, np.bool_)
    expected = np.empty(N)
    dist = np.empty(H)
    for r in range(R):
        # the contenders: the highest attainable scores among the alive (ties: the smaller key)
        n_alive = 0
        for i in range(N):
            picked[i] = False
            if alive[r, i]:
                top[i] = base[r, i] + per_unit[r, i] * levels[L - 1]
                n_alive += 1
            expected[i] = base[r, i] + per_unit[r, i] * violence[r, i]
        k_c = min(contenders, n_alive)
        for c in range(k_c):
            best = -1
            for i in range(N):
                if not alive[r, i] or picked[i]:
                    continue
                if (
                    best < 0
                    or top[i] > top[best]
                    or (top[i] == top[best] and org_key[r, i] < org_key[r, best])
                ):
                    best = i
            picked[best] = True
            cont[c] = best
        for c in range(k_c):
            i = cont[c]
            for li in range(L):
                x = base[r, i] + per_unit[r, i] * levels[li]
                dist[:] = 0.0
                dist[0] = 1.0
                for c2 in range(k_c):
                    if c2 == c:
                        continue
                    y = expected[cont[c2]]
                    sd = noise * math.sqrt(x * x + y * y) + 1e-9
                    p = _phi((y - x) / sd)
                    for k in range(H - 1, 0, -1):
                        dist[k] = dist[k] * (1.0 - p) + dist[k - 1] * p
                    dist[0] *= 1.0 - p
                acc = 0.0
                for k in range(H):
                    acc += weights[r, k] * dist[k]
                out[r, i, li] = acc
    return out


@njit(cache=True)
def split_part(owner_row, parent, want, u, adj_ptr, adj_idx):
    """The plazas of ``parent`` (in one replicate's ``owner_row``) a splinter takes: ``want`` of
    them grown from the plaza with the smallest draw ``u``, ring by ring through the parent's
    own neighbours (in order of their draws), from another plaza when the rest is not
    connected. Returns the plazas taken."""
    M = len(owner_row)
    taken = np.zeros(M, np.bool_)
    out = np.empty(want, np.int64)
    n = 0
    ring = np.empty(M, np.int64)
    ring_u = np.empty(M)
    while n < want:
        # a new seed: the parent's untaken plaza with the smallest draw
        best = -1
        for m in range(M):
            if owner_row[m] == parent and not taken[m] and (best < 0 or u[m] < u[best]):
                best = m
        if best < 0:
            break
        taken[best] = True
        out[n] = best
        n += 1
        frontier_start = n - 1
        while n < want:
            n_ring = 0
            for j in range(frontier_start, n):
                p = out[j]
                for k in range(adj_ptr[p], adj_ptr[p + 1]):
                    q = adj_idx[k]
                    if owner_row[q] == parent and not taken[q]:
                        taken[q] = True
                        ring[n_ring] = q
                        ring_u[n_ring] = u[q]
                        n_ring += 1
            if n_ring == 0:
                break
            order = np.argsort(ring_u[:n_ring], kind="mergesort")
            frontier_start = n
            for j in range(n_ring):
                q = ring[order[j]]
                if n < want:
                    out[n] = q
                    n += 1
                else:
                    taken[q] = False
    return out[:n]


@njit(cache=True)
def split_many(owner, hostile, supplier, rows, parents, children, share, plaza_key, plaza_keys, buyer_key,
               buyer_keys, src, dst, inc_ptr, inc_idx, adj_ptr, adj_idx):  # fmt: skip
    """The month's splits, in order: in replicate ``rows[k]``, ``children[k]`` takes
    ``round(share x`` the plazas of ``parents[k]`` ``)`` (:func:`split_part`, with the draws
    ``uniform(plaza_key[k], plaza_keys[m])``) and each of its buyers whose draw
    ``uniform(buyer_key[k], buyer_keys[b])`` is below ``share``; ``owner``, the hostile bits
    and ``supplier`` are updated in place."""
    M = owner.shape[1]
    u = np.empty(M)
    for k in range(len(rows)):
        r, i, j = rows[k], parents[k], children[k]
        count = 0
        for m in range(M):
            if owner[r, m] == i:
                u[m] = _uniform(plaza_key[k], plaza_keys[m])
                count += 1
        want = np.int64(np.rint(count * share))
        if want > 0:
            taken = split_part(owner[r], i, want, u, adj_ptr, adj_idx)
            for q in taken:
                owner[r, q] = j
            for q in taken:
                _refresh_plaza(hostile, owner, src, dst, inc_ptr, inc_idx, r, q)
        for b in range(supplier.shape[1]):
            if supplier[r, b] == i and _uniform(buyer_key[k], buyer_keys[b]) < share:
                supplier[r, b] = j


@njit(cache=True)
def spread(owner, src, dst, state, allowed, hop_keys, edge_key):
    """The starting map's spread (:mod:`vdto.sim.startmap`), in place: for each hop ``h`` (a row
    of ``hop_keys`` ``(H, R)``), every plaza empty at the start of the hop and next to placed
    ones joins the organization of the neighbouring edge with the smallest draw
    ``uniform(hop_keys[h, r], edge_key[e])`` among those whose organization is ``allowed`` in
    the plaza's state."""
    R, M = owner.shape
    best_u = np.full(M, np.inf)
    best_o = np.empty(M, owner.dtype)
    touched = np.empty(M, np.int64)
    for r in range(R):
        for h in range(hop_keys.shape[0]):
            n = 0
            for e in range(len(src)):
                a = owner[r, src[e]]
                p = dst[e]
                if a < 0 or owner[r, p] >= 0 or not allowed[a, state[p]]:
                    continue
                n = _offer(best_u, best_o, touched, n, p, _uniform(hop_keys[h, r], edge_key[e]), a)
            if n == 0:
                break
            for j in range(n):
                p = touched[j]
                owner[r, p] = best_o[p]
                best_u[p] = np.inf


@njit(cache=True)
def choose(fv, rs, pv, ap, strength, violence, alive, succession, revenue, levels, ahead, regional, attack_rate,
           incumbent, value_per_month, cost_unit, response, adjustment, floor, target_loss, regional_loss):  # fmt: skip
    """Each alive organization's violence after its logit response over ``levels`` and partial
    adjustment (docs/model.md, "Choice"). Per level ``l`` and organization ``i``::

        gain = attack_rate l fv_i (l s_i) / (l s_i + rs_i + incumbent)
        loss = attack_rate pv_i ap_i / (ap_i + l s_i + incumbent)
        payoff = value_per_month (gain - loss) - cost_unit l s_i
                 - target_loss revenue_i ahead[i, l]           (targeted: ``ahead`` (R, N, L), else (R, N, 0))
                 - regional_loss revenue_i l fv_i / (total + l fv_i)   (when ``regional``)

    with ``total`` the replicate's sum of ``v_j fv_j`` over the alive, every term already divided
    by the money unit; the response weights are ``exp(response x payoff)``. Returns the new
    violence ``(R, N)`` (0 for the dismantled; at least ``floor`` during a succession).
    """
    R, N = strength.shape
    L = len(levels)
    out = np.zeros((R, N))
    z = np.empty(L)
    targeted = ahead.shape[2] > 0
    for r in range(R):
        total = 1e-9
        if regional:
            for i in range(N):
                if alive[r, i]:
                    total += violence[r, i] * fv[r, i]
        for i in range(N):
            if not alive[r, i]:
                continue
            s = strength[r, i]
            zmax = -np.inf
            for li in range(L):
                lv = levels[li]
                gain = attack_rate * lv * fv[r, i] * (lv * s) / (lv * s + rs[r, i] + incumbent)
                loss = attack_rate * pv[r, i] * ap[r, i] / (ap[r, i] + lv * s + incumbent)
                payoff = value_per_month * (gain - loss) - cost_unit * lv * s
                if targeted:
                    payoff -= target_loss * revenue[r, i] * ahead[r, i, li]
                if regional:
                    exposure = lv * fv[r, i]
                    payoff -= regional_loss * revenue[r, i] * exposure / (total + exposure)
                z[li] = response * payoff
                if z[li] > zmax:
                    zmax = z[li]
            num = 0.0
            den = 0.0
            for li in range(L):
                w = math.exp(z[li] - zmax)
                num += w * levels[li]
                den += w
            v = violence[r, i] + adjustment * (num / den - violence[r, i])
            if succession[r, i] > 0 and v < floor:
                v = floor
            out[r, i] = v
    return out
