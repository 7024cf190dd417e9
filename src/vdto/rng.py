"""Counter-based random numbers: every draw is a hash of who asks, when and for what.

Two users, one hash (SplitMix64's finalizer, Steele, Lea & Flood 2014, which passes BigCrush used
this way):

- **Scoring** (:func:`draw_keys`, :func:`uniforms`, :func:`normals`): the uniform used to pick
  the perpetrator of an event in Monte Carlo draw ``d`` is a hash of the seed, ``d`` and a 64-bit
  key of the event's (source, source_id). It does not depend on which other events are in the
  data, on their order, or on the rubric, so two rubrics (or two data sets sharing events)
  scored with the same seed use exactly the same draws for the same event: their differences
  are differences of substance, not Monte Carlo noise.
- **The simulator** (:func:`replicate_keys`, :class:`Stream`, :func:`uniform`, :func:`normal`):
  every uniform is a hash of (replicate key, month, named stream, item). Streams have names and
  distinct numbers (:class:`Stream` refuses a repeat, as Starsim refuses two streams with one
  seed), so two policies run on the same seed draw the same number for the same clash in the same
  month (common random numbers), and a replicate gives the same result on whichever worker runs it.
"""

from __future__ import annotations

from enum import IntEnum, unique

import numpy as np
import pandas as pd

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer, elementwise on uint64 (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def keys(labels: pd.Series | list[str]) -> np.ndarray:
    """Stable 64-bit keys for string labels (e.g. ``"ucdp-ged:182027"``, an org id)."""
    series = pd.Series(labels, dtype=object).astype(str)
    return pd.util.hash_pandas_object(series, index=False, hash_key="vdto-draws-v1-00").to_numpy(
        dtype=np.uint64
    )


def draw_keys(seed: int, draws: range | np.ndarray) -> np.ndarray:
    """One 64-bit key per Monte Carlo draw, from the seed."""
    d = np.asarray(draws, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return mix64(
            mix64(np.asarray(np.uint64(seed) * _GOLDEN + np.uint64(0x632BE59BD9B4E019))) + d * _GOLDEN
        )


def uniforms(draw_key: np.ndarray, item_key: np.ndarray) -> np.ndarray:
    """Uniforms in [0, 1): one per (draw, item), shape ``(len(draw_key), len(item_key))``."""
    with np.errstate(over="ignore"):
        h = mix64(draw_key[:, None] ^ mix64(item_key[None, :] + _GOLDEN))
    return (h >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def normals(draw_key: np.ndarray, item_key: np.ndarray) -> np.ndarray:
    """Standard normals per (draw, item) by the Box-Muller transform of two keyed uniforms."""
    u1 = uniforms(draw_key, item_key)
    u2 = uniforms(mix64(draw_key + np.uint64(1)), item_key)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def mix64_scalar(x):
    """:func:`mix64` on one ``np.uint64`` (plain Python that Numba compiles too; see
    :mod:`vdto.sim.kernels`)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


# ------------------------------------------------------------------------------------ simulator

#: Streams per month (a stream's number and its month make one 64-bit counter: ``month * 64 + stream``).
STREAMS_PER_MONTH = 64


@unique
class Stream(IntEnum):
    """The simulator's named random streams; two names never share a number (``@unique``)."""

    ATTACK = 0  #: whether a hostile frontier edge is attacked this month
    CLASH = 1  #: who wins a clash, and its deaths
    SCORE_NOISE = 2  #: the published score's attribution noise (first uniform of a normal)
    BUYER_SWITCH = 3  #: which US buyers of the target switch supplier
    KINGPIN = 4  #: whether a leader strike succeeds
    SPLINTER_PLAZAS = 5  #: which plazas a splinter takes
    SPLINTER_BUYERS = 6  #: which buyers follow a splinter
    START_OWNER = 7  #: which claimant holds an event plaza on the starting map
    START_SPREAD = 8  #: which neighbour's organization an unplaced plaza joins on the starting map
    ONE_SIDED = 9  #: homicides by the organization holding a plaza, per state
    BASELINE = 10  #: homicides that are not organized-crime killings, per state
    SPLIT = 11  #: whether an organization splits this month
    PLACE = 12  #: which municipality each one-sided and baseline homicide happens in (municipal panel)
    SCORE_NOISE_2 = 34  #: second uniform of the score noise's normal (Box-Muller)


def _check_streams() -> None:
    if any(not 0 <= s < STREAMS_PER_MONTH for s in Stream):
        raise ValueError(f"every stream must be below {STREAMS_PER_MONTH}")


_check_streams()


def replicate_keys(seed: int, replicates: int, first: int = 0) -> np.ndarray:
    """One 64-bit key per replicate from ``SeedSequence(seed).spawn`` (replicate ``r`` always
    gets the same key, however the replicates are split among workers)."""
    children = np.random.SeedSequence(seed).spawn(first + replicates)[first:]
    return np.array([c.generate_state(1, dtype=np.uint64)[0] for c in children], dtype=np.uint64)


def month_keys(rep_key: np.ndarray, month: int, stream: Stream) -> np.ndarray:
    """The (replicate, month, stream) part of a simulator draw's hash (computed once per month)."""
    with np.errstate(over="ignore"):
        counter = np.asarray(np.uint64(month * STREAMS_PER_MONTH + int(stream) + 1) * _GOLDEN)
        return mix64(rep_key ^ mix64(counter))


def item_keys(item: np.ndarray) -> np.ndarray:
    """The item part of a simulator draw's hash (computed once per run)."""
    with np.errstate(over="ignore"):
        return mix64(np.asarray(item, dtype=np.uint64) * _GOLDEN + _GOLDEN)


def uniform_from(month_key: np.ndarray, item_key: np.ndarray) -> np.ndarray:
    """Uniforms from precomputed parts (:func:`month_keys`, :func:`item_keys`), broadcast together."""
    return (mix64(month_key ^ item_key) >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def uniform(rep_key: np.ndarray, month: int, stream: Stream, item: np.ndarray) -> np.ndarray:
    """Keyed uniforms in [0, 1) for (replicate, month, stream, item); ``rep_key`` and ``item``
    broadcast together."""
    return uniform_from(month_keys(rep_key, month, stream), item_keys(item))


def normal(keys: np.ndarray, month: int, first: Stream, second: Stream, n: int) -> np.ndarray:
    """Standard normals, ``(len(keys), n)``, by Box-Muller from two named streams."""
    items = np.arange(n)[None, :]
    u1 = uniform(keys[:, None], month, first, items)
    u2 = uniform(keys[:, None], month, second, items)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
