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
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from vdto.rng import draw_keys, normals, uniforms

EXACT_LIMIT = 50_000
MIN_NORMAL_EVENTS = 200


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
    chunk = max(1, min(draws, 4_000_000 // max(len(idx) * cum.shape[1], 1)))

    kmax = cum.shape[1]
    nobody = n_entities  # an extra column that collects the unknown share, then dropped
    lookup = np.concatenate(
        [np.where(ents < 0, nobody, ents), np.full((len(idx), 1), nobody)], axis=1
    ).ravel()
    base = np.arange(len(idx), dtype=np.int64) * (kmax + 1)

    def run(start: int) -> None:
        stop = min(start + chunk, draws)
        c = stop - start
        u = uniforms(dkeys[start:stop], keys)  # (c, m)
        slot = np.zeros(u.shape, dtype=np.int64)
        for j in range(kmax):  # the chosen slot is how many cumulative probabilities u reaches
            slot += u >= cum[:, j]
        chosen = lookup[base + slot]
        chosen += np.arange(c, dtype=np.int64)[:, None] * (n_entities + 1)
        sums = np.bincount(
            chosen.ravel(), weights=np.broadcast_to(w, (c, len(w))).ravel(), minlength=c * (n_entities + 1)
        )
        scores[start:stop] += sums.reshape(c, n_entities + 1)[:, :n_entities]
        if progress:
            progress(c)

    starts = range(0, draws, chunk)
    workers = workers or min(len(starts), _cpus())
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, starts))
    else:
        for s in starts:
            run(s)
    return scores
