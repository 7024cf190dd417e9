"""Counter-based random numbers keyed by (seed, draw, event): common random numbers for free.

The uniform used to pick the perpetrator of an event in Monte Carlo draw ``d`` is a hash of the
seed, ``d`` and a 64-bit key of the event's (source, source_id). It does not depend on which
other events are in the data, on their order, or on the rubric, so two rubrics (or two data
sets sharing events) scored with the same seed use exactly the same draws for the same event:
their differences are differences of substance, not Monte Carlo noise. The mixing function is
SplitMix64's finalizer (Steele, Lea & Flood 2014), which passes BigCrush when used this way.
"""

from __future__ import annotations

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
        return mix64(mix64(np.uint64(seed) * _GOLDEN + np.uint64(0x632BE59BD9B4E019)) + d * _GOLDEN)


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
