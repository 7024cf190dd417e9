"""The world a simulation runs on: plazas, their neighbours, organizations and US buyers.

A :class:`World` is plain arrays, built once and shared by every replicate and policy:

* plazas ``m`` (municipalities, or grid cells in the synthetic world): ``value`` (trafficking
  value, mean 1), ``population`` and the directed neighbour pairs ``src -> dst`` (queen
  contiguity, both directions);
* organizations ``i``: ``names``, starting ``strength`` and the ``hostility`` between each pair
  (1 rivals, 0.5 neutral, 0.1 allies), and the starting ``owner`` of each plaza (-1: nobody);
* US buyers ``b`` (wholesalers and distributors): their starting ``supplier`` and ``volume``.

:func:`grid_world` makes the small synthetic world of the tests; the default world from real
data is :func:`vdto.sim.world_real.default_world`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from vdto.errors import VdtoError


@dataclass(frozen=True)
class World:
    """Plazas, organizations and buyers as arrays (see the module docstring)."""

    codes: np.ndarray  # (M,) str
    value: np.ndarray  # (M,) float64, mean 1
    population: np.ndarray  # (M,) float64
    src: np.ndarray  # (E,) int32
    dst: np.ndarray  # (E,) int32
    names: tuple[str, ...]  # (N,)
    strength: np.ndarray  # (N,) float64
    hostility: np.ndarray  # (N, N) float64, symmetric, zero diagonal
    owner: np.ndarray  # (M,) int32, -1 = nobody
    supplier: np.ndarray  # (B,) int32
    volume: np.ndarray  # (B,) float64
    label: str = "world"
    notes: dict = field(default_factory=dict)

    @property
    def n_plazas(self) -> int:
        return len(self.codes)

    @property
    def n_orgs(self) -> int:
        return len(self.names)

    def sha256(self) -> str:
        """Hash of every array (the world is part of what makes a result reproducible)."""
        h = hashlib.sha256()
        for a in (self.value, self.population, self.src, self.dst, self.strength, self.hostility, self.owner,
                  self.supplier, self.volume):  # fmt: skip
            h.update(np.ascontiguousarray(a).tobytes())
        h.update("|".join(map(str, self.codes)).encode())
        h.update("|".join(self.names).encode())
        return h.hexdigest()

    def check(self) -> World:
        m, n = self.n_plazas, self.n_orgs
        problems = []
        if len(self.value) != m or len(self.population) != m or len(self.owner) != m:
            problems.append("plaza arrays differ in length")
        if len(self.src) != len(self.dst) or (len(self.src) and (self.src.max() >= m or self.dst.max() >= m)):
            problems.append("neighbour pairs name unknown plazas")
        if self.hostility.shape != (n, n) or len(self.strength) != n:
            problems.append("organization arrays differ in length")
        if (self.owner >= n).any() or (self.owner < -1).any():
            problems.append("a plaza is owned by an unknown organization")
        if len(self.supplier) != len(self.volume) or (self.supplier >= n).any():
            problems.append("a buyer's supplier is unknown")
        if problems:
            raise VdtoError("; ".join(problems), "world", "rebuild the world")
        return self


def grid_world(
    rows: int = 8,
    cols: int = 8,
    n_orgs: int = 4,
    *,
    buyers_per_org: int = 5,
    hot_value: float = 1.0,
) -> World:
    """A synthetic world: a ``rows`` x ``cols`` grid of plazas with queen neighbours, split into
    ``n_orgs`` vertical bands (one organization each), all rivals, every plaza of value 1 except
    the top row (the border) worth ``1 + hot_value``.

    >>> w = grid_world(4, 4, 2)
    >>> w.n_plazas, w.n_orgs, sorted(set(w.owner.tolist()))
    (16, 2, [0, 1])
    """
    if rows < 1 or cols < 1 or n_orgs < 1 or n_orgs > cols:
        raise VdtoError(
            "a grid needs rows, cols >= 1 and 1 <= n_orgs <= cols", "world", "use e.g. 8 x 8 with 4"
        )
    idx = np.arange(rows * cols).reshape(rows, cols)
    src, dst = [], []
    for r in range(rows):
        for c in range(cols):
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    if (dr or dc) and 0 <= r + dr < rows and 0 <= c + dc < cols:
                        src.append(idx[r, c])
                        dst.append(idx[r + dr, c + dc])
    value = np.ones(rows * cols)
    value[idx[0]] += hot_value
    value /= value.mean()
    band = (np.arange(cols) * n_orgs) // cols
    owner = np.repeat(band[None, :], rows, axis=0).ravel().astype(np.int32)
    hostility = 1.0 - np.eye(n_orgs)
    supplier = np.repeat(np.arange(n_orgs, dtype=np.int32), buyers_per_org)
    return World(
        codes=np.array([f"g{r:02d}{c:02d}" for r in range(rows) for c in range(cols)]),
        value=value,
        population=np.full(rows * cols, 1e5),
        src=np.array(src, dtype=np.int32),
        dst=np.array(dst, dtype=np.int32),
        names=tuple(f"org{i}" for i in range(n_orgs)),
        strength=np.ones(n_orgs),
        hostility=hostility,
        owner=owner,
        supplier=supplier,
        volume=np.ones(len(supplier)),
        label=f"grid {rows}x{cols}, {n_orgs} organizations",
    ).check()


__all__ = ["World", "grid_world"]
