"""Monte Carlo of cell and person scores, drawn on top of the organization draws.

A *unit* is a person or a cell. Its score in draw ``d`` is the sum of the weights ``w_e`` of the
events credited to it: event ``e`` is credited iff, in draw ``d``, the organization Monte Carlo
gave ``e`` to the unit's organization (``owners[e, d]``, from
:func:`vdto.scoring.montecarlo.draw_owners`) AND at least one of the unit's links to ``e`` is
true. Link ``l`` is true in draw ``d`` with probability its confidence ``c_l``, independently of
everything else, through the keyed uniform of :func:`vdto.rng.uniforms`::

    true(l, d)  <=>  uniform(draw_key[d], link_key[l]) < c_l

so the same link is true in the same draws whichever units it counts for (a person and the
person's cell), and a unit's draws line up with its organization's (common random numbers).

The data are nested as CSR arrays (:class:`Units`): units -> (unit, event) *pairs* -> links.
One pair per (unit, event): a cell whose two members are linked to one event has one pair with
two links, so the event counts once, with probability ``1 - prod(1 - c_l)``.

:func:`score_units` runs a Numba kernel, parallel over contiguous blocks of units: each unit's
draws go into a buffer of length ``draws`` (never a draws x units matrix), from which its mean
and 90% interval are taken; the best unit of each (group, draw) is kept for P(rank 1).

Speed (``benchmarks/bench_persons.py``): the draw loops have no branch per draw, so they
vectorize. Every link is hashed in every draw and tested in integers (:func:`_thresholds`),
which gives exactly what hashing only the draws where the organization got the event would;
the 5th/95th percentiles come from a quickselect on the few values a sample brackets
(:func:`_rank_pair`), with ``np.quantile``'s arithmetic, so they equal it bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from vdto.rng import draw_keys, mix64, mix64_scalar
from vdto.scoring.montecarlo import _cpus, on_threads

__all__ = ["UnitScores", "Units", "expected_unit_scores", "score_units"]

_mix64 = njit(cache=True, inline="always")(mix64_scalar)
_S11 = np.uint64(11)
_MAX53 = np.uint64((1 << 53) - 1)  # the largest _hash53
_SAMPLE = 128  # values sampled to bracket a quantile (see _rank_pair)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_Q_LO, _Q_HI = 0.05, 0.95
_TIE = np.uint64(0xD1B54A32D192ED03)  # separates the tie hashes from the links' uniforms


@dataclass(frozen=True)
class Units:
    """Units (persons or cells) in CSR nesting: units -> (unit, event) pairs -> links.

    Pairs ``unit_ptr[u]:unit_ptr[u+1]`` belong to unit ``u``; links ``pair_ptr[p]:pair_ptr[p+1]``
    to pair ``p``.
    """

    unit_ptr: np.ndarray  # int64 (n_units + 1) into the pairs
    pair_event: np.ndarray  # int64 row of ``owners`` (the event)
    pair_entity: np.ndarray  # int32 the organization (entity index) the event must go to
    pair_weight: np.ndarray  # float64 event weight (>= 0)
    pair_prob: np.ndarray  # float64 P(event given to that entity), for the exact expectation
    pair_ptr: np.ndarray  # int64 (n_pairs + 1) into the links
    link_conf: np.ndarray  # float64 confidence in (0, 1]
    link_key: np.ndarray  # uint64 keyed-uniform key of each link (vdto.rng.keys of a label)
    group: np.ndarray  # int64 per unit: the ranking group (an organization, a region's list)
    unit_key: np.ndarray | None = None  # uint64 per unit: breaks ties for rank 1 (default: by index)

    @property
    def n_units(self) -> int:
        return len(self.unit_ptr) - 1


@dataclass(frozen=True)
class UnitScores:
    """Per unit: exact expected score, 90% interval and mean of the draws, P(rank 1 in group)."""

    expected: np.ndarray
    lo90: np.ndarray
    hi90: np.ndarray
    mean: np.ndarray
    p_rank1: np.ndarray


def _check_ptr(ptr: np.ndarray, n: int, what: str, into: str) -> None:
    if ptr.ndim != 1 or len(ptr) < 1:
        raise ValueError(f"{what} must be a 1-D array of at least one offset")
    if ptr[0] != 0 or ptr[-1] != n:
        raise ValueError(f"{what} must start at 0 and end at the number of {into} ({n})")
    if (np.diff(ptr) < 0).any():
        raise ValueError(f"{what} must not decrease")


def _validate(units: Units) -> None:
    """Shapes and ranges of ``units`` (internal API: clear errors, no repair)."""
    n_pairs, n_links = len(units.pair_event), len(units.link_conf)
    _check_ptr(units.unit_ptr, n_pairs, "unit_ptr", "pairs")
    for name in ("pair_entity", "pair_weight", "pair_prob"):
        if len(getattr(units, name)) != n_pairs:
            raise ValueError(f"{name} has {len(getattr(units, name))} rows for {n_pairs} pairs")
    if len(units.pair_ptr) != n_pairs + 1:
        raise ValueError(f"pair_ptr has {len(units.pair_ptr)} offsets for {n_pairs} pairs")
    _check_ptr(units.pair_ptr, n_links, "pair_ptr", "links")
    if len(units.link_key) != n_links:
        raise ValueError(f"link_key has {len(units.link_key)} keys for {n_links} links")
    if len(units.group) != units.n_units:
        raise ValueError(f"group has {len(units.group)} rows for {units.n_units} units")
    if n_links and not ((units.link_conf > 0) & (units.link_conf <= 1)).all():
        raise ValueError("link confidences must be in (0, 1]")
    if n_pairs and not ((units.pair_prob >= 0) & (units.pair_prob <= 1)).all():
        raise ValueError("pair probabilities must be in [0, 1]")
    if n_pairs and not (np.isfinite(units.pair_weight) & (units.pair_weight >= 0)).all():
        raise ValueError("pair weights must be finite and not negative")
    if n_pairs and units.pair_entity.min() < 0:
        raise ValueError("pair_entity must not be negative (-1 is nobody, never a unit's owner)")


def expected_unit_scores(units: Units) -> np.ndarray:
    """Exact expected score of each unit.

    ``E[unit] = sum over its pairs of w_e * p(e, org) * (1 - prod over the pair's links (1 - c_l))``:
    the event must go to the unit's organization and at least one of its links must be true.

    Examples
    --------
    >>> import numpy as np
    >>> u = Units(
    ...     unit_ptr=np.array([0, 1]), pair_event=np.array([0]), pair_entity=np.array([0], np.int32),
    ...     pair_weight=np.array([2.0]), pair_prob=np.array([0.5]), pair_ptr=np.array([0, 2]),
    ...     link_conf=np.array([0.5, 0.5]), link_key=np.array([1, 2], np.uint64), group=np.array([0]),
    ... )
    >>> expected_unit_scores(u)  # 2 * 0.5 * (1 - 0.5 * 0.5)
    array([0.75])
    """  # fmt: skip
    _validate(units)
    n_pairs = len(units.pair_event)
    if n_pairs == 0:
        return np.zeros(units.n_units)
    lengths = np.diff(units.pair_ptr)
    miss = np.ones(n_pairs)  # P(no link of the pair is true) = prod (1 - c_l)
    has = lengths > 0
    if has.any():
        # reduceat over the non-empty pairs only: consecutive non-empty pairs' starts bound
        # exactly their own links (the empty pairs between them have none)
        miss[has] = np.multiply.reduceat(1.0 - units.link_conf, units.pair_ptr[:-1][has])
    value = units.pair_weight * units.pair_prob * (1.0 - miss)
    pair_unit = np.repeat(np.arange(units.n_units), np.diff(units.unit_ptr))
    return np.bincount(pair_unit, weights=value, minlength=units.n_units)


# ------------------------------------------------------------------------------------ kernel


@njit(cache=True, inline="always")
def _hash53(dkey, item):
    """The 53 bits behind :func:`vdto.rng.uniforms`: its uniform is ``_hash53(...) * 2**-53``."""
    return _mix64(dkey ^ item) >> _S11


def _thresholds(conf: np.ndarray) -> np.ndarray:
    """Integer form of ``uniform < c``: with ``m = _hash53(...)`` (an integer below 2**53) the
    uniform is ``m * 2**-53`` exactly, so ``uniform < c  <=>  m < c * 2**53  <=>  m < ceil(c *
    2**53)`` (scaling by a power of two is exact). Integer compares let the draw loop vectorize.
    """
    return np.ceil(np.asarray(conf, dtype=np.float64) * 2.0**53).astype(np.uint64)


@njit(cache=True)
def _select(a, lo, hi, k):
    """Partition ``a[lo:hi]`` in place so that ``a[k]`` holds the value of rank ``k`` (the
    k-th smallest), with nothing larger before it and nothing smaller after it (quickselect,
    Hoare partition around the median of three: linear time, fine with many equal values)."""
    hi -= 1
    while hi > lo:
        mid = (lo + hi) // 2
        # median of three into a[mid]; a[lo] <= a[mid] <= a[hi] are sentinels for the scans
        if a[mid] < a[lo]:
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[hi] < a[mid]:
            a[hi], a[mid] = a[mid], a[hi]
        pivot = a[mid]
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        # now a[lo..j] <= pivot <= a[i..hi], and a[j+1..i-1] == pivot
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return


@njit(cache=True, inline="always")
def _min_from(a, lo, hi):
    out = a[lo]
    for i in range(lo + 1, hi):
        out = min(out, a[i])
    return out


_BRACKET = 8  # sample gaps kept on each side of the wanted rank (see _rank_pair)


@njit(cache=True)
def _rank_pair(buf, k, sample, tmp):
    """The values of rank ``k`` and ``k + 1`` of ``buf`` (0-based; ``k + 1 < len(buf)``);
    ``buf`` is left as it is.

    A quickselect over the whole buffer costs a few mispredicted branches per value, for each
    of 100,000 units. Instead: a spread sample of ``len(sample)`` values brackets the wanted
    ranks (sample values ``a <= b`` about ``_BRACKET`` sample gaps either side), one branchless
    pass counts the values below ``a`` and gathers those in ``[a, b]``, and the quickselect runs
    on those few. If the bracket missed (rare; the sample decides only the speed, never the
    answer) the whole buffer is selected.
    """
    n = len(buf)
    m = len(sample)
    if n > 2 * m:
        for i in range(m):
            sample[i] = buf[(i * n) // m]
        j = (k * m) // n
        ilo, ihi = j - _BRACKET, j + _BRACKET + 1
        a, b = -np.inf, np.inf
        done = 0
        if ilo >= 0:
            _select(sample, 0, m, ilo)
            a = sample[ilo]
            done = ilo + 1
        if ihi < m:
            _select(sample, done, m, ihi)
            b = sample[ihi]
        below = 0
        cnt = 0
        for i in range(n):
            v = buf[i]
            below += v < a
            tmp[cnt] = v
            cnt += (v >= a) & (v <= b)
        r = k - below
        if r >= 0 and r + 1 < cnt:
            if a == b:  # every gathered value equals a: typically a run of zeros
                return a, a
            _select(tmp, 0, cnt, r)
            return tmp[r], _min_from(tmp, r + 1, cnt)
    for i in range(n):
        tmp[i] = buf[i]
    _select(tmp, 0, n, k)
    return tmp[k], _min_from(tmp, k + 1, n)


@njit(cache=True, inline="always")
def _lerp(a, b, t):
    """numpy's ``_lerp`` (``np.quantile``'s linear interpolation), bit for bit."""
    diff = b - a
    if t >= 0.5:
        return b - diff * (1.0 - t)
    return a + diff * t


@njit(cache=True, inline="always")
def _quantile(buf, q, sample, tmp):
    """``np.quantile(buf, q)`` with the default linear method, the same arithmetic: the virtual
    index ``(n - 1) * q``, its floor ``k`` and fraction ``t``, and ``_lerp`` of ranks ``k, k+1``."""
    n = len(buf)
    virtual = (n - 1) * q
    if virtual >= n - 1:  # numpy takes the largest value
        out = buf[0]
        for i in range(1, n):
            out = max(out, buf[i])
        return out
    k = int(np.floor(virtual))
    lo, hi = _rank_pair(buf, k, sample, tmp)
    return _lerp(lo, hi, virtual - k)


@njit(cache=True, inline="always")
def _unit_draws(u, buf, flag, unit_ptr, pair_event, pair_entity, pair_weight, pair_ptr, thresh, item, owners, dkeys):  # fmt: skip
    """Unit ``u``'s score in every draw, into ``buf`` (``flag`` is scratch of the same length).

    A pair adds its weight in draw ``d`` iff ``owners[e, d]`` is the pair's organization and at
    least one of its links is true. Every link is hashed in every draw (no branch per draw:
    the loops vectorize, and reading the owners row costs more than the hashes); what a link
    does in draws where the event went elsewhere does not matter, so the result is the same
    as hashing only where the organization got the event and stopping at the first true link.
    """
    draws = len(buf)
    for d in range(draws):
        buf[d] = 0.0
    for p in range(unit_ptr[u], unit_ptr[u + 1]):
        l0, l1 = pair_ptr[p], pair_ptr[p + 1]
        if l1 == l0:
            continue
        row, ent, w = owners[pair_event[p]], pair_entity[p], pair_weight[p]
        if l1 - l0 == 1:  # one link (most person pairs)
            key, t = item[l0], thresh[l0]
            for d in range(draws):
                ok = (row[d] == ent) & (_hash53(dkeys[d], key) < t)
                buf[d] += w if ok else 0.0  # adding 0.0 leaves the sum as it is
            continue
        certain = False  # a link of confidence 1 is true in every draw (uniform < 1)
        for li in range(l0, l1):
            certain |= thresh[li] > _MAX53
        if certain:
            for d in range(draws):
                buf[d] += w if row[d] == ent else 0.0
            continue
        for d in range(draws):
            flag[d] = False
        for li in range(l0, l1):
            key, t = item[li], thresh[li]
            for d in range(draws):
                flag[d] |= _hash53(dkeys[d], key) < t
        for d in range(draws):
            buf[d] += w if (row[d] == ent) & flag[d] else 0.0


@njit(cache=True, inline="always")
def _beats(v, u, best_v, best_u, dkey, ukeys):
    """Whether unit ``u`` with score ``v`` takes rank 1 from ``best_u`` (score ``best_v``) in the
    draw with key ``dkey``: a higher score, or an equal positive one and a smaller tie hash of
    (draw, unit). Tied units share the draw at random, one each time, never by their order."""
    if v > best_v:
        return True
    if v < best_v or v <= 0.0 or best_u < 0:
        return False
    return _mix64(dkey ^ ukeys[u]) < _mix64(dkey ^ ukeys[best_u])


@njit(cache=True, inline="always")
def _merge(best_v, best_u, v, u, dkeys, ukeys):
    """Fold another stretch of a group's units into its running best (the same rule as within one)."""
    for d in range(len(best_v)):
        if u[d] >= 0 and _beats(v[d], u[d], best_v[d], best_u[d], dkeys[d], ukeys):
            best_v[d] = v[d]
            best_u[d] = u[d]


@njit(cache=True, inline="always")
def _credit(wins, best_v, best_u):
    """Count one rank-1 draw for each draw's best unit, unless the group's maximum is 0."""
    for d in range(len(best_v)):
        if best_v[d] > 0.0:
            wins[best_u[d]] += 1


@njit(cache=True, nogil=True)
def _block(b, order, bounds, group, ukeys, unit_ptr, pair_event, pair_entity, pair_weight, pair_ptr, thresh, item, owners,
           dkeys, mean, lo, hi, wins, head_v, head_u, tail_v, tail_u):  # fmt: skip
    """Mean, quantiles and rank-1 counts of the units of block ``b`` (``order[bounds[b]:bounds[b+1]]``).

    A tie for rank 1 goes to the unit with the smaller tie hash of (draw, unit key)
    (:func:`_beats`). The first and the last group of the block may continue in the previous or the
    next block: their running bests are handed back (``head_v[b]``, ``tail_v[b]``) and folded in
    block order by :func:`_fold`; every group that starts and ends inside the block is credited
    here. A block writes only its own units' entries and its own rows, so blocks run on separate
    threads (the GIL is released) without locks.
    """
    draws = len(dkeys)
    buf = np.empty(draws)
    flag = np.empty(draws, dtype=np.bool_)
    sample = np.empty(min(_SAMPLE, draws))
    tmp = np.empty(draws)
    best_v = np.zeros(draws)
    best_u = np.zeros(draws, dtype=np.int64)
    start, stop = bounds[b], bounds[b + 1]
    for i in range(start, stop):
        u = order[i]
        g = group[u]
        if i == start or group[order[i - 1]] != g:  # a group starts: reset its best
            best_v[:] = 0.0
            best_u[:] = -1
        _unit_draws(
            u,
            buf,
            flag,
            unit_ptr,
            pair_event,
            pair_entity,
            pair_weight,
            pair_ptr,
            thresh,
            item,
            owners,
            dkeys,
        )
        s = 0.0
        for d in range(draws):
            s += buf[d]
            if buf[d] >= best_v[d] and _beats(buf[d], u, best_v[d], best_u[d], dkeys[d], ukeys):
                best_v[d] = buf[d]
                best_u[d] = u
        mean[u] = s / draws  # sequential sum: what x.mean(axis=0) gives on a (draws, units) matrix
        lo[u] = _quantile(buf, _Q_LO, sample, tmp)
        hi[u] = _quantile(buf, _Q_HI, sample, tmp)
        if i == stop - 1 or group[order[i + 1]] != g:  # the group ends in this block
            first = group[order[start]] == g
            last = i == stop - 1
            if first:  # may have begun in an earlier block
                head_v[b] = best_v
                head_u[b] = best_u
            if last and not first:  # may go on in a later block
                tail_v[b] = best_v
                tail_u[b] = best_u
            if not first and not last:
                _credit(wins, best_v, best_u)


@njit(cache=True)
def _fold(order, bounds, group, dkeys, ukeys, wins, head_v, head_u, tail_v, tail_u):
    """Credit the groups at the blocks' edges, folding their running bests in block order."""
    n_blocks = len(bounds) - 1
    draws = head_v.shape[1]
    cur_v = np.zeros(draws)
    cur_u = np.full(draws, -1, dtype=np.int64)
    cur_g = np.int64(0)
    have = False
    for b in range(n_blocks):
        start, stop = bounds[b], bounds[b + 1]
        if stop == start:
            continue
        g_first, g_last = group[order[start]], group[order[stop - 1]]
        if have and cur_g == g_first:
            _merge(cur_v, cur_u, head_v[b], head_u[b], dkeys, ukeys)
        else:
            if have:
                _credit(wins, cur_v, cur_u)
            cur_v[:] = head_v[b]
            cur_u[:] = head_u[b]
            cur_g = g_first
            have = True
        if g_last != g_first:  # the head group ended inside this block; the tail group goes on
            _credit(wins, cur_v, cur_u)
            cur_v[:] = tail_v[b]
            cur_u[:] = tail_u[b]
            cur_g = g_last
    if have:
        _credit(wins, cur_v, cur_u)


def _kernel(order, bounds, group, ukeys, *arrays, workers: int | None = None):
    """Every block on its own thread (:func:`_block`), then the edges folded (:func:`_fold`).

    Python threads over compiled code that frees the GIL (:func:`vdto.scoring.montecarlo.on_threads`,
    as the organization draws run).
    """
    n_units = len(arrays[0]) - 1
    draws = len(arrays[-1])
    n_blocks = len(bounds) - 1
    mean, lo, hi = np.zeros(n_units), np.zeros(n_units), np.zeros(n_units)
    # a block credits only groups that lie wholly inside it, so only its own units: no races
    wins = np.zeros(n_units, dtype=np.int64)
    edges = (np.zeros((n_blocks, draws)), np.zeros((n_blocks, draws), dtype=np.int64),
             np.zeros((n_blocks, draws)), np.zeros((n_blocks, draws), dtype=np.int64))  # fmt: skip

    def run(b: int) -> None:
        _block(b, order, bounds, group, ukeys, *arrays, mean, lo, hi, wins, *edges)  # type: ignore[call-arg]

    on_threads(run, range(n_blocks), workers)
    _fold(order, bounds, group, arrays[-1], ukeys, wins, *edges)
    return mean, lo, hi, wins


def unit_tie_keys(units: Units) -> np.ndarray:
    """Each unit's tie key, hashed (``units.unit_key``, or the unit's index when none is given)."""
    base = units.unit_key if units.unit_key is not None else np.arange(units.n_units, dtype=np.uint64)
    if len(base) != units.n_units:
        raise ValueError(f"unit_key has {len(base)} keys for {units.n_units} units")
    with np.errstate(over="ignore"):
        return mix64(np.asarray(base, dtype=np.uint64) + _TIE)


def _blocks(order: np.ndarray, units: Units, n_blocks: int) -> np.ndarray:
    """Bounds of ``n_blocks`` contiguous stretches of ``order`` with about equal work (a unit
    costs its draws buffer, plus a pass over the draws per pair and per link)."""
    per_unit = np.diff(units.unit_ptr)
    links_per_pair = np.diff(units.pair_ptr)
    pair_unit = np.repeat(np.arange(units.n_units), per_unit)
    links = np.bincount(pair_unit, weights=links_per_pair, minlength=units.n_units)
    cost = np.cumsum((4.0 + per_unit + links)[order])
    targets = cost[-1] * np.arange(1, n_blocks) / n_blocks
    inner = np.searchsorted(cost, targets, side="left")
    return np.concatenate([[0], inner, [len(order)]]).astype(np.int64)


def _threads() -> int:
    """Blocks to split the units into: one per CPU this process may use."""
    return _cpus()


def score_units(units: Units, owners: np.ndarray, *, seed: int, draws: int) -> UnitScores:
    """Draw every unit's score: exact expectation, mean and 90% interval of the draws, and the
    share of draws in which the unit ranks first in its group.

    ``owners`` is :func:`vdto.scoring.montecarlo.draw_owners` for the same ``seed`` and
    ``draws`` (rows: the events ``pair_event`` points to). The draw keys are
    ``vdto.rng.draw_keys(seed, range(draws))``, the organization Monte Carlo's, so draw ``d``
    of a unit is the same world as draw ``d`` of the organization ranking. Its rows may be
    int8 or int16 as well as int32 (``draw_owners(..., dtype=...)``): a smaller matrix is
    quicker to read. Only the rows that pairs point to need to exist: pass draw_owners the
    events that some link names.

    P(rank 1): in each draw the unit with the highest score in its group gets the draw; a tie
    goes to one of the tied units at random, by a hash of the draw's key and the unit's
    ``unit_key`` (so two units with the same draws share rank 1 about evenly, whatever their
    order); a draw in which the group's maximum is 0 counts for nobody. The interval is the 5th and
    95th percentiles of the draws (``np.quantile``'s default linear method). The same seed
    gives the same result bit for bit, whatever the number of threads.

    Examples
    --------
    >>> import numpy as np
    >>> from vdto.rng import keys
    >>> from vdto.scoring.montecarlo import Candidates, draw_owners
    >>> cand = Candidates(np.array([0]), np.array([0]), np.array([0.5]))
    >>> owners = draw_owners(cand, keys(["t:1"]), 1, draws=1000, seed=7)
    >>> u = Units(
    ...     unit_ptr=np.array([0, 1]), pair_event=np.array([0]), pair_entity=np.array([0], np.int32),
    ...     pair_weight=np.array([1.0]), pair_prob=np.array([0.5]), pair_ptr=np.array([0, 1]),
    ...     link_conf=np.array([1.0]), link_key=keys(["p1|t:1"]), group=np.array([0]),
    ... )
    >>> s = score_units(u, owners, seed=7, draws=1000)
    >>> float(s.expected[0]), bool(s.p_rank1[0] == s.mean[0])  # credited iff the org got it
    (0.5, True)
    """  # fmt: skip
    _validate(units)
    if draws < 1:
        raise ValueError("draws must be at least 1")
    if owners.ndim != 2 or owners.shape[1] != draws:
        raise ValueError(f"owners must be (n_events, {draws}), got {owners.shape}")
    if owners.dtype not in (np.dtype(np.int8), np.dtype(np.int16), np.dtype(np.int32)):
        raise ValueError(f"owners must be int8, int16 or int32 (draw_owners), got {owners.dtype}")
    n_pairs = len(units.pair_event)
    if n_pairs and (units.pair_event.min() < 0 or units.pair_event.max() >= owners.shape[0]):
        raise ValueError(f"pair_event must index the {owners.shape[0]} rows of owners")
    expected = expected_unit_scores(units)
    n = units.n_units
    if n == 0:
        empty = np.zeros(0)
        return UnitScores(expected, empty, empty.copy(), empty.copy(), empty.copy())
    owners = np.ascontiguousarray(owners)
    dkeys = draw_keys(seed, range(draws))
    item = mix64(np.asarray(units.link_key, dtype=np.uint64) + _GOLDEN)  # uniforms' item hash
    _, group = np.unique(np.asarray(units.group, dtype=np.int64), return_inverse=True)
    group = group.astype(np.int64).ravel()
    order = np.lexsort((np.arange(n), group)).astype(np.int64)  # by group, then index
    bounds = _blocks(order, units, max(1, min(_threads(), n)))
    ukeys = unit_tie_keys(units)
    mean, lo, hi, wins = _kernel(
        order,
        bounds,
        group,
        ukeys,
        np.asarray(units.unit_ptr, dtype=np.int64),
        np.asarray(units.pair_event, dtype=np.int64),
        np.asarray(units.pair_entity, dtype=np.int32),
        np.asarray(units.pair_weight, dtype=np.float64),
        np.asarray(units.pair_ptr, dtype=np.int64),
        _thresholds(units.link_conf),
        item,
        owners,
        dkeys,
    )
    return UnitScores(expected, lo, hi, mean, wins / draws)
