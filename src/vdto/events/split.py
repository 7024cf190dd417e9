"""Split one event file between several agencies, each seeing its own overlapping share of the
incidents: a reproducible way to try the two-country workflow on real data.

Each agency keeps each incident with probability ``share``, decided by a hash of (seed, agency,
incident id), so the split does not depend on the file's row order and the same seed gives the
same files. The agencies' copies overlap the way two countries' registers of one war would: most
incidents are in both, some in only one, and some in neither.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"id": range(1000), "best": 1})
>>> parts = split_agencies(frame, ["mx", "us"], share=0.8, seed=1)
>>> [len(parts[a]) for a in ("mx", "us")]
[815, 809]
>>> both = set(parts["mx"]["id"]) & set(parts["us"]["id"])
>>> round(len(both) / 1000, 2)
0.66
>>> split_agencies(frame.iloc[::-1], ["mx", "us"], share=0.8, seed=1)["mx"]["id"].sort_values().tolist() \\
...     == parts["mx"]["id"].tolist()
True
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from vdto.errors import VdtoError


def keep_probability(ids: pd.Series, agency: str, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per incident id, from SHA-256 of ``seed:agency:id``."""
    values = [
        int.from_bytes(hashlib.sha256(f"{seed}:{agency}:{i}".encode()).digest()[:8], "big") / 2.0**64
        for i in ids.astype(str)
    ]
    return np.asarray(values, dtype=float)


def split_agencies(
    frame: pd.DataFrame, agencies: list[str], *, share: float = 0.8, seed: int = 1, id_column: str = "id"
) -> dict[str, pd.DataFrame]:
    """Each agency's copy of ``frame``: the rows whose incident it keeps (``share`` of them, drawn
    independently per agency), in the file's order."""
    if not 0 < share <= 1:
        raise VdtoError(f"share must be in (0, 1] (got {share:g})", fix="e.g. 0.8", param="share")
    if len(set(agencies)) != len(agencies) or len(agencies) < 2:
        raise VdtoError(
            f"need two or more distinct agencies (got {', '.join(agencies) or 'none'})",
            fix="e.g. mx,us",
            param="agencies",
        )
    if id_column not in frame:
        raise VdtoError(
            f"no {id_column!r} column", fix="give the file's incident id column", param="id_column"
        )
    return {a: frame[keep_probability(frame[id_column], a, seed) < share] for a in agencies}
