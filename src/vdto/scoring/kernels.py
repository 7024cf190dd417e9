"""The compiled loops of the attribution Monte Carlo's exact path (Numba).

Apart from :mod:`vdto.scoring.montecarlo` so that importing the scoring package does not import
Numba (about 0.8 s): only a call that draws loads these (the regional commands never do).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from vdto.rng import mix64_scalar

_mix64 = njit(cache=True, inline="always")(mix64_scalar)
_S11 = np.uint64(11)
_TO_UNIT = 2.0**-53


@njit(cache=True, inline="always")
def pick(dkey, item, cum, lookup, e):
    """The entry of ``lookup`` event ``e`` is given in the draw with key ``dkey``.

    The one attribution rule of the Monte Carlo, shared by :func:`vdto.scoring.montecarlo.draw_scores`
    and :func:`vdto.scoring.montecarlo.draw_owners`: the keyed uniform is :func:`vdto.rng.uniforms`' (bit for bit), and the
    chosen slot is how many of the event's cumulative probabilities it reaches (padding is
    ``+inf``, never reached).
    """
    u = np.float64(_mix64(dkey ^ item[e]) >> _S11) * _TO_UNIT
    kmax = cum.shape[1]
    slot = 0
    for j in range(kmax):
        slot += u >= cum[e, j]
    return lookup[e * (kmax + 1) + slot]


@njit(cache=True, nogil=True)
def score_chunk(dkeys, item, cum, lookup, w, out):
    """``out[d, entity] += w[e]`` for the entity each event goes to in each draw, in event order
    within a draw (the order ``np.bincount`` sums in); ``out``'s last column is nobody's."""
    for d in range(len(dkeys)):
        for e in range(len(item)):
            out[d, pick(dkeys[d], item, cum, lookup, e)] += w[e]


@njit(cache=True, nogil=True)
def owner_chunk(dkeys, item, cum, lookup, first, out):
    """``out[i, d]``: the entity event ``first + i`` goes to in draw ``d``."""
    for i in range(out.shape[0]):
        for d in range(len(dkeys)):
            out[i, d] = pick(dkeys[d], item, cum, lookup, first + i)
