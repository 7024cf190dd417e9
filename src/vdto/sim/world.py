"""The world a simulation runs on: plazas, their neighbours, organizations, US buyers and the
distribution the starting map is drawn from.

A :class:`World` is plain arrays, built once and shared by every replicate and policy:

* plazas ``m`` (municipalities, or grid cells in the synthetic world): ``value`` (trafficking
  value, mean 1), ``population``, ``young`` (men aged 15-29, the recruitment pool),
  ``baseline`` (expected homicides a month that are not organized-crime killings), the
  ``state`` each belongs to, and the directed neighbour pairs ``src -> dst`` (queen contiguity,
  both directions);
* organizations ``i``: ``org_ids`` (their registry ids: every random draw about an organization
  is keyed by its id, never by its position), ``names``, starting ``members`` and the
  ``hostility`` between each pair (1 rivals, 0.5 neutral, 0.1 allies);
* the starting map as a distribution: ``claims`` (for each plaza, the organizations with
  located events there and their attributed weight, in CSR form ``claim_ptr``/``claim_org``/
  ``claim_weight``), where each organization may be (``allowed``, organizations x states) and
  how far a territory reaches beyond its event plazas (``spread_hops``); see
  :mod:`vdto.sim.startmap`;
* US buyers ``b`` (wholesalers and distributors): their starting ``supplier`` and ``volume``.

:func:`grid_world` makes the small synthetic world of the tests; the world from real data is
:func:`vdto.sim.world_real.mexico_world`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np

from vdto.errors import VdtoError
from vdto.rng import keys as label_keys
from vdto.rng import mix64


def claim_keys(plaza: np.ndarray, org_key: np.ndarray) -> np.ndarray:
    """The item key of a claim (plaza, organization): a hash of the plaza's index and the
    organization's key, so a claim draws the same number whatever the organizations' order."""
    with np.errstate(over="ignore"):
        return mix64(mix64(np.asarray(plaza, np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ org_key)


@dataclass(frozen=True)
class World:
    """Plazas, organizations, buyers and the starting map's distribution as arrays (see the
    module docstring)."""

    codes: np.ndarray  # (M,) str
    value: np.ndarray  # (M,) float64, mean 1
    population: np.ndarray  # (M,) float64
    young: np.ndarray  # (M,) float64, men aged 15-29
    baseline: np.ndarray  # (M,) float64, expected non-organized-crime homicides per month
    state: np.ndarray  # (M,) int64, index into state_codes
    state_codes: tuple[str, ...]  # (S,)
    src: np.ndarray  # (E,) int32
    dst: np.ndarray  # (E,) int32
    org_ids: tuple[str, ...]  # (N,)
    names: tuple[str, ...]  # (N,)
    members: np.ndarray  # (N,) float64, people
    hostility: np.ndarray  # (N, N) float64, symmetric, zero diagonal
    claim_ptr: np.ndarray  # (M + 1,) int64
    claim_org: np.ndarray  # (C,) int64
    claim_weight: np.ndarray  # (C,) float64 > 0
    allowed: np.ndarray  # (N, S) bool
    supplier: np.ndarray  # (B,) int32
    volume: np.ndarray  # (B,) float64
    spread_hops: int = 3
    start_year: int = 0
    label: str = "world"
    notes: dict = field(default_factory=dict)

    @property
    def n_plazas(self) -> int:
        return len(self.codes)

    @property
    def n_orgs(self) -> int:
        return len(self.org_ids)

    @property
    def n_states(self) -> int:
        return len(self.state_codes)

    @property
    def org_keys(self) -> np.ndarray:
        """One 64-bit key per organization, from its id."""
        return label_keys(list(self.org_ids))

    @property
    def claim_keys(self) -> np.ndarray:
        """One 64-bit key per claim (see :func:`claim_keys`)."""
        plaza = np.repeat(np.arange(self.n_plazas), np.diff(self.claim_ptr))
        return claim_keys(plaza, self.org_keys[self.claim_org])

    def sha256(self) -> str:
        """Hash of every array (the world is part of what makes a result reproducible)."""
        h = hashlib.sha256()
        for a in (self.value, self.population, self.young, self.baseline, self.state, self.src, self.dst,
                  self.members, self.hostility, self.claim_ptr, self.claim_org, self.claim_weight,
                  self.allowed, self.supplier, self.volume):  # fmt: skip
            h.update(np.ascontiguousarray(a).tobytes())
        for labels in (self.codes, self.state_codes, self.org_ids, self.names):
            h.update("|".join(map(str, labels)).encode())
        h.update(f"{self.spread_hops}|{self.start_year}".encode())
        return h.hexdigest()

    def permuted(self, order: np.ndarray) -> World:
        """The same world with its organizations listed in ``order`` (``order[k]`` is the old
        index of the new ``k``-th organization): what a test of order invariance compares."""
        order = np.asarray(order, dtype=np.int64)
        if sorted(order.tolist()) != list(range(self.n_orgs)):
            raise VdtoError(
                "order must be a permutation of the organizations", "order", "pass e.g. rng.permutation(n)"
            )
        new_of_old = np.empty_like(order)
        new_of_old[order] = np.arange(len(order))
        return replace(
            self,
            org_ids=tuple(self.org_ids[i] for i in order),
            names=tuple(self.names[i] for i in order),
            members=self.members[order],
            hostility=self.hostility[np.ix_(order, order)],
            claim_org=new_of_old[self.claim_org],
            allowed=self.allowed[order],
            supplier=new_of_old[self.supplier].astype(np.int32),
        )

    def check(self) -> World:
        m, n, s = self.n_plazas, self.n_orgs, self.n_states
        problems = []
        if any(len(a) != m for a in (self.value, self.population, self.young, self.baseline, self.state)):
            problems.append("plaza arrays differ in length")
        if len(self.src) != len(self.dst) or (len(self.src) and (self.src.max() >= m or self.dst.max() >= m)):
            problems.append("neighbour pairs name unknown plazas")
        if self.hostility.shape != (n, n) or len(self.members) != n or len(self.names) != n:
            problems.append("organization arrays differ in length")
        if len(set(self.org_ids)) != n:
            problems.append("two organizations share an id")
        if (self.members <= 0).any():
            problems.append("an organization starts with no members")
        if len(self.claim_ptr) != m + 1 or self.claim_ptr[-1] != len(self.claim_org) != len(
            self.claim_weight
        ):
            problems.append("claims are not one list per plaza")
        if len(self.claim_org) and ((self.claim_org < 0).any() or (self.claim_org >= n).any()):
            problems.append("a claim names an unknown organization")
        if (self.claim_weight <= 0).any():
            problems.append("a claim has no weight")
        if self.allowed.shape != (n, s) or (
            len(self.state) and (self.state.min() < 0 or self.state.max() >= s)
        ):
            problems.append("presence by state does not match the organizations and states")
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
    members: float = 25_000.0,
) -> World:
    """A synthetic world: a ``rows`` x ``cols`` grid of plazas with queen neighbours, split into
    ``n_orgs`` vertical bands (one organization each, claimed with certainty), all rivals, every
    plaza of value 1 except the top row (the border) worth ``1 + hot_value``; 100,000 people a
    plaza, one state, no homicides outside organized crime, ``members`` members each.

    >>> w = grid_world(4, 4, 2)
    >>> w.n_plazas, w.n_orgs, w.org_ids
    (16, 2, ('org0', 'org1'))
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
    m = rows * cols
    value = np.ones(m)
    value[idx[0]] += hot_value
    value /= value.mean()
    band = (np.arange(cols) * n_orgs) // cols
    owner = np.repeat(band[None, :], rows, axis=0).ravel().astype(np.int64)
    supplier = np.repeat(np.arange(n_orgs, dtype=np.int32), buyers_per_org)
    population = np.full(m, 1e5)
    return World(
        codes=np.array([f"g{r:02d}{c:02d}" for r in range(rows) for c in range(cols)]),
        value=value,
        population=population,
        young=population * 0.132,
        baseline=np.zeros(m),
        state=np.zeros(m, np.int64),
        state_codes=("grid",),
        src=np.array(src, dtype=np.int32),
        dst=np.array(dst, dtype=np.int32),
        org_ids=tuple(f"org{i}" for i in range(n_orgs)),
        names=tuple(f"org{i}" for i in range(n_orgs)),
        members=np.full(n_orgs, float(members)),
        hostility=1.0 - np.eye(n_orgs),
        claim_ptr=np.arange(m + 1, dtype=np.int64),
        claim_org=owner,
        claim_weight=np.ones(m),
        allowed=np.ones((n_orgs, 1), bool),
        supplier=supplier,
        volume=np.ones(len(supplier)),
        spread_hops=0,
        label=f"grid {rows}x{cols}, {n_orgs} organizations",
    ).check()


__all__ = ["World", "claim_keys", "grid_world"]
