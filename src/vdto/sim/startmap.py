"""The starting map as a distribution: each replicate draws who holds each plaza at the start.

Two steps, neither of which depends on the order the organizations are listed in:

1. **Event plazas.** A plaza with claims (organizations with located events there, weighted by
   their attributed probabilities) goes to one claimant drawn with probability proportional to
   its weight. The draw is an exponential race: claimant ``o`` of plaza ``m`` gets
   ``E = -log(1 - u) / w``, ``u`` a keyed uniform of (replicate, plaza, organization id); the
   smallest ``E`` wins, which happens with probability ``w_o / sum(w)`` exactly. A tie in
   weight is a fair coin, not a rule that favours one index.
2. **Spread.** Hop by hop (up to ``spread_hops``), an unplaced plaza next to placed ones joins
   the organization of one of its placed neighbours, each neighbouring edge with one keyed
   uniform (the smallest wins), so an organization with more neighbouring plazas is more likely;
   an organization may only spread into the states where it is seen (``world.allowed``).
   Plazas still unplaced belong to nobody.

Every uniform is keyed by (replicate key, stream, plaza or edge, organization id), so a replicate
draws the same map whichever worker runs it and however the organizations are ordered.

>>> from vdto.sim.world import grid_world
>>> from vdto.rng import replicate_keys
>>> w = grid_world(4, 4, 2)
>>> draw(w, replicate_keys(1, 3)).shape
(3, 16)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vdto.rng import Stream, item_keys, month_keys, uniform_from
from vdto.sim.world import World


def draw(world: World, keys: np.ndarray) -> np.ndarray:
    """Starting owners ``(len(keys), plazas)`` (``-1``: nobody), one map per replicate key."""
    R, M = len(keys), world.n_plazas
    owner = np.full((R, M), -1, np.int64)
    counts = np.diff(world.claim_ptr)
    if len(world.claim_org):
        mk = month_keys(keys, 0, Stream.START_OWNER)[:, None]
        u = uniform_from(mk, item_keys(world.claim_keys)[None, :])
        race = -np.log1p(-u) / world.claim_weight[None, :]
        plaza = np.repeat(np.arange(M), counts)
        # the smallest race per plaza: sort each replicate's claims by (plaza, race)
        order = np.lexsort((race, np.broadcast_to(plaza, race.shape)), axis=1)
        first = np.flatnonzero(np.r_[True, plaza[1:] != plaza[:-1]])  # a plaza's first claim slot
        winners = np.take_along_axis(order, np.broadcast_to(first, (R, len(first))), axis=1)
        owner[:, plaza[first]] = world.claim_org[winners]
    if world.spread_hops > 0 and len(world.src):
        owner = _spread(world, keys, owner)
    return owner


def _spread(world: World, keys: np.ndarray, owner: np.ndarray) -> np.ndarray:
    from vdto.sim import kernels

    hops = np.stack([month_keys(keys, hop, Stream.START_SPREAD) for hop in range(1, world.spread_hops + 1)])
    kernels.spread(
        owner, world.src.astype(np.int64), world.dst.astype(np.int64), world.state, world.allowed, hops,
        item_keys(np.arange(len(world.src))),
    )  # fmt: skip
    return owner


def distribution(world: World, keys: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Per organization, plazas held at the start over the replicate keys (5%, median, 95%,
    mean) and the probability of each organization holding each plaza ``(N, M)``.

    >>> from vdto.sim.world import grid_world
    >>> from vdto.rng import replicate_keys
    >>> table, prob = distribution(grid_world(4, 4, 2), replicate_keys(1, 5))
    >>> table["median"].tolist(), prob.shape
    ([8.0, 8.0], (2, 16))
    """
    owner = draw(world, keys)
    n = world.n_orgs
    held = np.stack([(owner == i).sum(axis=1) for i in range(n)], axis=1)  # (R, N)
    prob = np.stack([(owner == i).mean(axis=0) for i in range(n)])
    q = np.quantile(held, [0.05, 0.5, 0.95], axis=0)
    table = pd.DataFrame(
        {
            "org_id": world.org_ids,
            "name": world.names,
            "members": world.members,
            "q05": q[0],
            "median": q[1],
            "q95": q[2],
            "mean": held.mean(axis=0),
        }
    )
    return table.sort_values(["mean", "org_id"], ascending=[False, True], ignore_index=True), prob


__all__ = ["distribution", "draw"]
