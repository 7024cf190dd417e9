"""Monte Carlo over who did each event: the distribution of every organization's score.

In each draw every event is given to one of its candidate perpetrators with the event's
attribution probabilities (or to nobody, with the rest of the probability: unknown perpetrators
and non-DTO actors); an organization's score in the draw is the sum of the weights of the
events it was given.

Exact and fast: events are drawn one by one (with keyed uniforms, see :mod:`vdto.rng`)
for every event when there are at most ``exact_limit`` of them, which covers any real year of
data. Beyond that the heaviest ``exact_limit`` events, and every event of an organization with
fewer than ``min_normal_events`` events, are still drawn one by one; the sum of the many light
events that remain is a sum of independent bounded vectors, which is drawn from the
multivariate normal with its exact mean and covariance (Lindeberg-Feller central limit theorem).
The expected scores are always exact.

The events drawn one by one go through one compiled rule (:func:`vdto.scoring.kernels.pick`, Numba,
imported only when draws are made): the keyed
uniform of :func:`vdto.rng.uniforms` and the count of cumulative probabilities it reaches.
:func:`draw_scores` sums the weights it picks per organization; :func:`draw_owners` keeps who
was picked, for the person and cell Monte Carlo (:mod:`vdto.persons.montecarlo`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from vdto.rng import draw_keys, mix64, normals

EXACT_LIMIT = 50_000
MIN_NORMAL_EVENTS = 200

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class Candidates:
    """Who may have done each event: parallel arrays, one row per (event, organization)."""

    event: np.ndarray  # int64 index into the events
    entity: np.ndarray  # int64 index into the organizations
    prob: np.ndarray  # float64 attribution probability


def expected_scores(weights: np.ndarray, cand: Candidates, n_entities: int) -> np.ndarray:
    """Exact expected score of each organization: sum of probability x weight."""
    return np.bincount(cand.entity, weights=cand.prob * weights[cand.event], minlength=n_entities)


def _padded(cand: Candidates, n_events: int) -> tuple[np.ndarray, np.ndarray]:
    """(entity, cumulative probability) per event, padded to the most candidates (-1 / +inf)."""
    order = np.lexsort((cand.entity, cand.event))
    ev, ent, p = cand.event[order], cand.entity[order], cand.prob[order]
    counts = np.bincount(ev, minlength=n_events)
    kmax = max(int(counts.max()) if len(counts) else 0, 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(len(ev)) - starts[ev]
    ents = np.full((n_events, kmax), -1, dtype=np.int64)
    probs = np.zeros((n_events, kmax))
    ents[ev, slot] = ent
    probs[ev, slot] = p
    cum = np.cumsum(probs, axis=1)
    cum[ents < 0] = np.inf
    return ents, cum


def _slot_lookup(ents: np.ndarray, fill: int) -> np.ndarray:
    """Flat table of the entity each (event, slot) gives: event ``e``'s row starts at
    ``e * (kmax + 1)``.

    Slot ``k`` of an event is its ``k``-th candidate; padding slots and the extra last slot
    (the uniform passed every cumulative probability: nobody) give ``fill``.
    """
    m = ents.shape[0]
    return np.concatenate([np.where(ents < 0, fill, ents), np.full((m, 1), fill)], axis=1).ravel()


def _item_hashes(event_keys: np.ndarray) -> np.ndarray:
    """The event half of :func:`vdto.rng.uniforms`' hash, ``mix64(key + GOLDEN)``, once per event."""
    with np.errstate(over="ignore"):
        return mix64(np.asarray(event_keys, dtype=np.uint64) + _GOLDEN)


def _draw_chunk(draws: int, n_exact: int, kmax: int) -> int:
    """Draws per chunk of the exact path: about four million (event, slot) cells at a time."""
    return max(1, min(draws, 4_000_000 // max(n_exact * kmax, 1)))


def _event_block(n_events: int, draws: int, cpus: int) -> int:
    """Events per block of :func:`draw_owners`: a few blocks per CPU, at most ~4 million cells."""
    return max(1, min(-(-n_events // (4 * cpus)), 4_000_000 // max(draws, 1)))


def split_exact(
    weights: np.ndarray, cand: Candidates, n_entities: int, exact_limit: int, min_normal_events: int
) -> np.ndarray:
    """Boolean mask of the events drawn one by one (see the module docstring)."""
    n = len(weights)
    if n <= exact_limit:
        return np.ones(n, dtype=bool)
    per_entity = np.bincount(cand.entity, minlength=n_entities)
    small = per_entity < min_normal_events
    exact = np.zeros(n, dtype=bool)
    exact[cand.event[small[cand.entity]]] = True
    room = exact_limit - int(exact.sum())
    if room > 0:
        rest = np.flatnonzero(~exact)
        heaviest = rest[np.argsort(-weights[rest], kind="stable")[:room]]
        exact[heaviest] = True
    return exact


def _normal_part(
    weights, cand: Candidates, mask: np.ndarray, n_entities: int, dkeys, entity_keys
) -> np.ndarray:
    """Draws of the summed score of the events in ``mask`` from their exact mean and covariance."""
    sel = mask[cand.event]
    ev, ent, p = cand.event[sel], cand.entity[sel], cand.prob[sel]
    w = weights[ev]
    mean = np.bincount(ent, weights=p * w, minlength=n_entities)
    # Cov = sum_e w_e^2 (diag(p_e) - p_e p_e^T), accumulated pair by pair within each event
    cov = np.bincount(ent, weights=p * w * w, minlength=n_entities).astype(float)
    cov = np.diag(cov)
    order = np.argsort(ev, kind="stable")
    ev, ent, p, w = ev[order], ent[order], p[order], w[order]
    counts = np.bincount(ev)
    counts = counts[counts > 0]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    kmax = int(counts.max()) if len(counts) else 0
    for a in range(kmax):
        for b in range(kmax):
            ok = counts > max(a, b)
            ia, ib = starts[ok] + a, starts[ok] + b
            contrib = -(w[ia] ** 2) * p[ia] * p[ib]
            np.add.at(cov, (ent[ia], ent[ib]), contrib)
    used = np.flatnonzero(np.bincount(ent, minlength=n_entities) > 0)
    out = np.zeros((len(dkeys), n_entities))
    if not len(used):
        return out
    sub = cov[np.ix_(used, used)]
    vals, vecs = np.linalg.eigh((sub + sub.T) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    z = normals(dkeys, entity_keys[used])
    out[:, used] = mean[used] + z @ root.T
    return out


def _cpus() -> int:
    """CPUs this process may run on (respects affinity masks and container CPU sets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def on_threads(run: Callable[[int], None], starts: range, workers: int | None = None) -> None:
    """``run(start)`` for every start, on ``workers`` threads (default: one per CPU, at most one
    per start). The compiled loops free the GIL, so the threads run in parallel; and unlike
    Numba's own parallel loops this is safe when several threads of one process (an API
    server's) score at once, whatever threading layer Numba has."""
    workers = workers or min(len(starts), _cpus())
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, starts))
    else:
        for s in starts:
            run(s)


def draw_scores(
    weights: np.ndarray,
    cand: Candidates,
    event_keys: np.ndarray,
    entity_keys: np.ndarray,
    *,
    draws: int,
    seed: int,
    exact_limit: int = EXACT_LIMIT,
    min_normal_events: int = MIN_NORMAL_EVENTS,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    exact: np.ndarray | None = None,
) -> np.ndarray:
    """Scores of every organization in every draw: array ``(draws, n_entities)``.

    ``exact`` is the mask of events drawn one by one; by default :func:`split_exact` decides.

    The same seed gives the same array, bit for bit; an event's draws depend only on the seed,
    the draw number and the event's key (common random numbers).
    """
    n_entities = len(entity_keys)
    n_events = len(weights)
    dkeys = draw_keys(seed, range(draws))
    scores = np.zeros((draws, n_entities))
    if n_events == 0 or n_entities == 0 or draws == 0:
        return scores
    if exact is None:
        exact = split_exact(weights, cand, n_entities, exact_limit, min_normal_events)
    if (~exact).any():
        scores += _normal_part(weights, cand, ~exact, n_entities, dkeys, entity_keys)
    idx = np.flatnonzero(exact)
    keep = exact[cand.event]
    remap = np.full(n_events, -1, dtype=np.int64)
    remap[idx] = np.arange(len(idx))
    sub = Candidates(remap[cand.event[keep]], cand.entity[keep], cand.prob[keep])
    ents, cum = _padded(sub, len(idx))
    w, keys = weights[idx], event_keys[idx]
    chunk = _draw_chunk(draws, len(idx), cum.shape[1])

    nobody = n_entities  # an extra column that collects the unknown share, then dropped
    lookup = _slot_lookup(ents, nobody)
    item = _item_hashes(keys)
    from vdto.scoring import kernels  # Numba, only when draws are made

    w = np.ascontiguousarray(w, dtype=np.float64)

    def run(start: int) -> None:
        stop = min(start + chunk, draws)
        c = stop - start
        sums = np.zeros((c, n_entities + 1))
        kernels.score_chunk(dkeys[start:stop], item, cum, lookup, w, sums)  # compiled; frees the GIL
        scores[start:stop] += sums[:, :n_entities]
        if progress:
            progress(c)

    on_threads(run, range(0, draws, chunk), workers)
    return scores


def draw_owners(
    cand: Candidates,
    event_keys: np.ndarray,
    n_events: int,
    *,
    draws: int,
    seed: int,
    workers: int | None = None,
    dtype: type[np.signedinteger] = np.int32,
) -> np.ndarray:
    """Who is given each event in each draw: int32 array ``(n_events, draws)``, -1 for nobody.

    The same draws as :func:`draw_scores` with every event drawn one by one (same draw keys,
    same keyed uniforms, same slot rule): with every event exact, summing the weights of the
    events owned by each entity in draw ``d`` gives ``draw_scores(...)[d]`` bit for bit. Finer
    levels (the cells and persons of an organization, :mod:`vdto.persons.montecarlo`) use this
    to line their draws up with the organization ranking's.

    The result is event-major (C-contiguous): one event's draws are contiguous, which is how
    the person kernel reads them. It holds ``4 * n_events * draws`` bytes; beyond it the work
    needs only per-event tables (the compiled loop writes the result in place, in blocks of
    whole events shared among ``workers`` threads; by default one per CPU). ``dtype`` may be
    ``np.int16`` or ``np.int8`` instead, when the entity indices fit: the same values in a half
    or a quarter of the memory.

    Examples
    --------
    >>> import numpy as np
    >>> cand = Candidates(np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([0.5, 0.5, 1.0]))
    >>> own = draw_owners(cand, np.array([11, 12], dtype=np.uint64), 2, draws=4, seed=1)
    >>> own.shape, own.dtype, bool((own[1] == 1).all())
    ((2, 4), dtype('int32'), True)
    """
    if draws < 0 or n_events < 0:
        raise ValueError("draws and n_events must not be negative")
    if len(event_keys) != n_events:
        raise ValueError(f"event_keys has {len(event_keys)} keys for {n_events} events")
    if len(cand.event) and (cand.event.min() < 0 or cand.event.max() >= n_events):
        raise ValueError("a candidate row names an event outside 0..n_events-1")
    if np.dtype(dtype) not in (np.dtype(np.int8), np.dtype(np.int16), np.dtype(np.int32)):
        raise ValueError(f"dtype must be int8, int16 or int32, not {np.dtype(dtype)}")
    if len(cand.entity) and (cand.entity.min() < 0 or cand.entity.max() > np.iinfo(dtype).max):
        raise ValueError(f"entity indices must fit in {np.dtype(dtype)} and not be negative")
    if n_events == 0 or draws == 0:
        return np.full((n_events, draws), -1, dtype=dtype)
    # every cell is written below, each block of rows by the thread that computes it: the
    # first touch of the pages (a good share of the time for a large result) is shared too
    out = np.empty((n_events, draws), dtype=dtype)
    dkeys = draw_keys(seed, range(draws))
    ents, cum = _padded(cand, n_events)
    lookup = _slot_lookup(ents, -1).astype(dtype)
    item = _item_hashes(event_keys)
    from vdto.scoring import kernels  # Numba, only when draws are made

    # blocks of whole events (rows of ``out``): each block is written contiguously, in place
    block = _event_block(n_events, draws, _cpus())

    def run(start: int) -> None:
        stop = min(start + block, n_events)
        kernels.owner_chunk(dkeys, item, cum, lookup, start, out[start:stop])  # compiled; frees the GIL

    on_threads(run, range(0, n_events, block), workers)
    return out
