"""The simulator: organizations that adapt to enforcement, vectorised over replicates.

State is arrays with the replicate as first axis (``R`` replicates, ``N`` organization slots,
``M`` plazas, ``E`` directed neighbour pairs, ``B`` US buyers); one month is a handful of
array operations over all replicates at once. Randomness is *counter-based*: every uniform is a
hash of (replicate key, month, stream, item), the replicate keys coming from
``numpy.random.SeedSequence(seed).spawn``. So two policies run on the same seed use the same
draw for the same clash in the same month (common random numbers), a replicate gives the same
result whichever worker runs it, and the same seed gives the same bytes.

One month (docs/model.md has every formula and parameter):

1. revenue from held plazas (trafficking value x the flow reaching Mexico) and US buyers;
2. each organization chooses its violence by logit response over a grid of levels, weighing
   territorial gains and losses (a Tullock contest at its frontier) against the cost of
   violence and the enforcement it expects for it under the policy;
3. clashes on hostile frontier edges: plazas change hands, deaths follow (Poisson), split into
   victim kinds by the attacker's brutality;
4. enforcement capacity is spent as the policy says: none; by volume (revenue); kingpin
   (leader strikes, splinters, succession fights); violence-targeted (the published, noisy
   score names the top organization; all capacity on it and its US buyers switch away);
   regional (the most violent plazas); Caribbean (less flow through Mexico); combinations;
5. strength grows with revenue and falls with upkeep and enforcement; below a threshold an
   organization is dismantled and its plazas are left to whoever takes them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from scipy.special import ndtr

from vdto.rng import Stream, item_keys, month_keys, normal, replicate_keys, uniform, uniform_from
from vdto.sim.params import Scenario, check_policy
from vdto.sim.world import World

#: Victim kinds the model produces, with the rubric's default points per death.
KINDS = ("dto_member", "civilian", "police", "official", "journalist")
KIND_POINTS = np.array([1.0, 2.0, 3.0, 4.0, 4.0])
#: How non-rival victims split (civilians, police, officials, journalists).
OTHER_SPLIT = np.array([0.80, 0.12, 0.05, 0.03])

#: Ways to run a month's per-plaza and per-edge passes (:func:`simulate`'s ``engine``).
ENGINES = ("numba", "numpy")


def _poisson(lam: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Poisson draws by inversion of the uniforms ``u`` (means are small: a few deaths)."""
    k = np.zeros(lam.shape)
    p = np.exp(-lam)
    cdf = p.copy()
    active = u > cdf
    i = 0
    while active.any() and i < 200:
        i += 1
        p = np.where(active, p * lam / i, p)
        cdf = np.where(active, cdf + p, cdf)
        k += active
        active &= u > cdf
    return k


@dataclass
class Outputs:
    """Monthly outputs, arrays ``(replicates, months, ...)``."""

    deaths: np.ndarray  # (R, T) total deaths
    deaths_kind: np.ndarray  # (R, T, K)
    deaths_org: np.ndarray  # (R, T, N) deaths caused by each organization
    violence: np.ndarray  # (R, T, N) chosen violence (nan when dismantled)
    alive: np.ndarray  # (R, T) organizations alive
    revenue_mexico: np.ndarray  # (R, T) revenue of all organizations
    target: np.ndarray  # (R, T) organization named by the targeted policy (-1 none)
    dismantled: np.ndarray  # (R, T) organizations dismantled so far
    focal_deaths: np.ndarray  # (R, T) deaths in the plazas the focal organization held at the start
    rival_violence: np.ndarray  # (R, T) mean violence of the alive organizations other than the first named
    focal: np.ndarray  # (R,) the focal organization: the largest by revenue when the policy starts

    @classmethod
    def concat(cls, parts: list[Outputs]) -> Outputs:
        """Outputs of consecutive runs of replicates joined along the replicate axis."""
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})


def _bincount2(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return np.bincount(rows * shape[1] + cols, weights=weights, minlength=shape[0] * shape[1]).reshape(shape)


@dataclass
class _Run:
    """What stays fixed during a run: the world's arrays, the parameters and the policy."""

    parts: tuple[str, ...]
    R: int
    T: int
    n0: int
    N: int
    M: int
    src: np.ndarray
    dst: np.ndarray
    edge_keys: np.ndarray
    inc_ptr: np.ndarray  # the edges touching each plaza (to refresh the frontier where owners change)
    inc_idx: np.ndarray
    keys: np.ndarray  # one key per replicate
    rr: np.ndarray
    value: np.ndarray
    volume: np.ndarray
    levels: np.ndarray
    flow_after: float  # the share of the flow through Mexico once the policy starts
    share: float  # the capacity each enforcing part of the policy spends
    compiled: bool
    host_max: float  # the largest hostility (splits copy hostilities or set 1)
    refresh: Callable
    V: Any
    E: Any
    X: Any
    value_tiled: np.ndarray | None = None  # the NumPy engine's per-(replicate, plaza) weights
    volume_tiled: np.ndarray | None = None

    def has(self, part: str) -> bool:
        return part in self.parts


@dataclass
class _State:
    """What changes from month to month (replicates on the first axis)."""

    owner: np.ndarray  # (R, M) organization holding each plaza, -1 for nobody
    strength: np.ndarray  # (R, N)
    alive: np.ndarray  # (R, N)
    violence: np.ndarray  # (R, N)
    hostility: np.ndarray  # (R, N, N)
    succession: np.ndarray  # (R, N) months of succession fight left
    supplier: np.ndarray  # (R, B) organization supplying each US buyer
    points_hist: np.ndarray  # (R, score months, N) rubric points of the last months, newest first
    next_slot: np.ndarray  # (R,) the next free organization slot for a splinter
    focal_mask: np.ndarray  # (R, M) the plazas the focal organization held when the policy started
    last_deaths_plaza: np.ndarray  # (R, M)
    hostile: np.ndarray | None = None  # the frontier: hostile directed edges (bits when compiled)
    cand: np.ndarray | None = None  # buffers of the compiled frontier pass
    cand_u: np.ndarray | None = None
    scale: float = 1.0  # the unit of money: an organization's mean revenue at the start, at full flow


def _setup(world: World, scenario: Scenario, parts: tuple[str, ...], R: int, first: int, engine: str,
           flow_factor: float | None) -> _Run:  # fmt: skip
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    compiled = engine == "numba"
    if compiled:
        from vdto.sim import kernels

        refresh: Callable = kernels.refresh  # the frontier is kept as bits (kernels.pack)
    else:
        refresh = _refresh
    E_ = scenario.enforcement
    slots = scenario.world.splinter_slots if "kingpin" in parts else 0
    M = world.n_plazas
    src, dst = world.src.astype(np.int64), world.dst.astype(np.int64)
    n_edges = len(src)
    ends = np.concatenate([src, dst])
    order_ = np.argsort(ends, kind="stable")
    if "caribbean" in parts and flow_factor is None:
        from vdto.routes.lever import mexico_flow_factor

        flow_factor = mexico_flow_factor(E_.caribbean_change)
    enforcing = [p for p in parts if p in ("volume", "kingpin", "targeted", "regional")]
    run = _Run(
        parts=parts, R=R, T=scenario.run.months, n0=world.n_orgs, N=world.n_orgs + slots, M=M, src=src, dst=dst,
        edge_keys=item_keys(np.arange(n_edges)),
        inc_ptr=np.concatenate([[0], np.cumsum(np.bincount(ends, minlength=M))]),
        inc_idx=np.concatenate([np.arange(n_edges), np.arange(n_edges)])[order_],
        keys=replicate_keys(scenario.run.seed, R, first), rr=np.arange(R), value=world.value,
        volume=world.volume / world.volume.mean() * (world.value.sum() / max(len(world.volume), 1)),
        levels=np.asarray(scenario.violence.levels),
        flow_after=float(flow_factor) if "caribbean" in parts and flow_factor is not None else 1.0,
        share=E_.capacity / len(enforcing) if enforcing else 0.0, compiled=compiled,
        host_max=max(1.0, float(world.hostility.max())), refresh=refresh,
        V=scenario.violence, E=E_, X=scenario.economy,
    )  # fmt: skip
    if not compiled:
        run.value_tiled, run.volume_tiled = np.tile(run.value, R), np.tile(run.volume, R)
    return run


def _initial_state(world: World, run: _Run) -> _State:
    R, N, n0, M = run.R, run.N, run.n0, run.M
    # owners as the smallest integers that hold every slot: a quarter of the bytes of int32 to
    # read (the compiled frontier pass measured about a quarter faster with int8)
    owner = np.broadcast_to(world.owner, (R, M)).astype(np.int8 if N <= 127 else np.int16).copy()
    strength = np.zeros((R, N))
    strength[:, :n0] = world.strength / float(world.strength.mean())
    alive = np.zeros((R, N), bool)
    alive[:, :n0] = True
    violence = np.zeros((R, N))
    violence[:, :n0] = run.V.start
    hostility = np.ones((N, N))
    hostility[:n0, :n0] = world.hostility
    np.fill_diagonal(hostility, 0.0)
    return _State(
        owner=owner, strength=strength, alive=alive, violence=violence,
        hostility=np.broadcast_to(hostility, (R, N, N)).copy(), succession=np.zeros((R, N)),
        supplier=np.broadcast_to(world.supplier, (R, len(world.supplier))).astype(np.int64).copy(),
        points_hist=np.zeros((R, run.E.score_months, N)), next_slot=np.full(R, n0),
        focal_mask=np.zeros((R, M), bool), last_deaths_plaza=np.zeros((R, M)),
    )  # fmt: skip


def _outputs(run: _Run) -> Outputs:
    R, T, N = run.R, run.T, run.N
    return Outputs(
        deaths=np.zeros((R, T)),
        deaths_kind=np.zeros((R, T, len(KINDS))),
        deaths_org=np.zeros((R, T, N)),
        violence=np.full((R, T, N), np.nan),
        alive=np.zeros((R, T), np.int64),
        revenue_mexico=np.zeros((R, T)),
        target=np.full((R, T), -1, np.int64),
        dismantled=np.zeros((R, T), np.int64),
        focal_deaths=np.zeros((R, T)),
        rival_violence=np.full((R, T), np.nan),
        focal=np.zeros(R, np.int64),
    )


def simulate(
    world: World,
    scenario: Scenario,
    policy: str,
    *,
    replicates: int | None = None,
    first: int = 0,
    flow_factor: float | None = None,
    progress: Callable[[int], None] | None = None,
    engine: str = "numba",
) -> Outputs:
    """Run replicates ``first .. first + replicates - 1`` of one policy (pure: arrays in and out).

    ``flow_factor`` is the share of the flow through Mexico kept under the Caribbean policy
    (default: :func:`vdto.routes.mexico_flow_factor` of the scenario's change).

    ``engine`` runs the per-plaza and per-edge passes of each month either as compiled loops
    (``"numba"``, :mod:`vdto.sim.kernels`, the default) or as NumPy array operations
    (``"numpy"``); both give the same numbers. ``progress`` is called with 1 after each month.

    Examples
    --------
    >>> from vdto.sim.params import Scenario
    >>> from vdto.sim.world import grid_world
    >>> sc = Scenario.model_validate({"run": {"months": 6, "replicates": 3}})
    >>> out = simulate(grid_world(), sc, "none")
    >>> out.deaths.shape
    (3, 6)
    """
    parts = check_policy(policy)
    R = scenario.run.replicates if replicates is None else replicates
    run = _setup(world, scenario, parts, R, first, engine, flow_factor)
    st = _initial_state(world, run)
    out = _outputs(run)
    for t in range(run.T):
        _month(run, st, out, t)
        if progress is not None:
            progress(1)
    out.rival_violence[:] = _rival_violence(out, run.rr)
    return out


def _month(run: _Run, st: _State, out: Outputs, t: int) -> None:
    """One month: revenue, the frontier, the choice of violence, clashes, enforcement, strength."""
    on = t >= run.E.start_month
    flow = run.flow_after if on else 1.0
    revenue = _revenue(run, st, out, t, flow)
    frontier = _frontier(run, st, t)
    _choose_violence(run, st, revenue, frontier[:4], on, flow)
    by_org, deaths_plaza, deaths_rep, focal_deaths = _clashes(run, st, t, frontier)
    rival = np.clip(run.V.rival_share - run.V.rival_share_drop * st.violence, 0.0, 1.0)
    kinds = np.concatenate(
        [(by_org * rival)[:, :, None], (by_org * (1 - rival))[:, :, None] * OTHER_SPLIT], axis=2
    )
    st.points_hist = np.roll(st.points_hist, 1, axis=1)
    st.points_hist[:, 0, :] = kinds @ KIND_POINTS
    hit, target = _enforce(run, st, t, revenue, on)
    _grow_and_dismantle(run, st, revenue, hit)
    st.last_deaths_plaza = deaths_plaza
    _record(run, st, out, t, deaths_rep, kinds, by_org, revenue, target, focal_deaths)


def _revenue(run: _Run, st: _State, out: Outputs, t: int, flow: float) -> np.ndarray:
    """Revenue from held plazas and US buyers; the unit of money and the focal organization are
    set here (the first month, and the month the policy starts)."""
    R, N, X, E_ = run.R, run.N, run.X, run.E
    if run.compiled:
        from vdto.sim import kernels

        tv, bv = kernels.revenue(st.owner, run.value, st.supplier, run.volume, N)
    else:
        org_offset = (run.rr * N)[:, None]
        slot = np.where(st.owner >= 0, st.owner + org_offset, R * N).ravel()  # unowned plazas: a spare bin
        tv = np.bincount(slot, weights=run.value_tiled, minlength=R * N + 1)[: R * N].reshape(R, N)
        bv = np.bincount((st.supplier + org_offset).ravel(), weights=run.volume_tiled, minlength=R * N)
        bv = bv.reshape(R, N)
    revenue = flow * (X.territory_revenue * tv + X.buyer_revenue * bv) * st.alive
    if t == 0:
        # every replicate starts from the same world, so replicate 0 gives the unit exactly
        st.scale = max(float((X.territory_revenue * tv + X.buyer_revenue * bv)[0, : run.n0].mean()), 1e-9)
    if t == min(E_.start_month, run.T - 1):
        # the focal organization: the largest by revenue when the policy starts (the same in every
        # policy, since all runs share their draws until then), and the plazas it held then
        focal = np.where(st.alive, revenue, -np.inf).argmax(axis=1)
        st.focal_mask = st.owner == focal[:, None]
        out.focal[:] = focal
    return revenue


def _frontier(run: _Run, st: _State, t: int) -> tuple:
    """Per organization: value at stake on its frontier, the force met there, its own value under
    threat and the force threatening it; plus what the clashes need (the compiled pass's attack
    candidates, or the NumPy pass's hostile edges)."""
    if t == 0:
        a_own, d_own = np.take(st.owner, run.src, axis=1), np.take(st.owner, run.dst, axis=1)
        hostile = (a_own >= 0) & (a_own != d_own)  # kept up to date where owners change
        if run.compiled:
            from vdto.sim import kernels

            hostile = kernels.pack(hostile)
            # the attack candidates of a month (kernels.frontier), at most every hostile edge
            st.cand, st.cand_u = np.empty(run.R * len(run.src), np.int32), np.empty(run.R * len(run.src))
        st.hostile = hostile
    if not run.compiled:
        edges = _frontier_numpy(st.hostile, st.owner, run.src, run.dst, run.value, st.hostility, st.strength,
                                st.violence)  # fmt: skip
        return (*edges.aggregates(run.R, run.N), edges)
    from vdto.sim import kernels

    V, E_ = run.V, run.E
    # no attack probability this month can exceed `bound` (violence after the choice is between
    # the current violence and the levels, or the succession floor)
    vmax = max(float(run.levels.max()), E_.succession_floor, float(st.violence.max()))
    bound = V.attack_rate * vmax * run.host_max * (1.0 + 1e-9)
    fv, rs, pv, ap, cand_ptr = kernels.frontier(
        st.hostile, st.owner, run.src, run.dst, run.value, st.hostility, st.strength, st.violence,
        month_keys(run.keys, t, Stream.ATTACK), run.edge_keys, bound, st.cand, st.cand_u,
    )  # fmt: skip
    rs /= np.maximum(fv, 1e-12)
    ap /= np.maximum(pv, 1e-12)
    return fv, rs, pv, ap, cand_ptr


def _choose_violence(
    run: _Run, st: _State, revenue: np.ndarray, frontier: tuple, on: bool, flow: float
) -> None:
    """Each organization moves its violence towards its logit response over the levels."""
    fv, rs, pv, ap = frontier
    V, E_, X, scale = run.V, run.E, run.X, st.scale
    s = st.strength[:, :, None]
    lv = run.levels[None, None, :]
    gain = V.attack_rate * lv * fv[:, :, None] * (lv * s) / (lv * s + rs[:, :, None] + V.incumbent)
    loss = V.attack_rate * pv[:, :, None] * ap[:, :, None] / (ap[:, :, None] + lv * s + V.incumbent)
    payoff = X.territory_revenue * flow * V.horizon * (gain - loss) - V.cost * lv * s * scale
    if on and run.has("targeted"):
        payoff -= (
            E_.target_loss
            * revenue[:, :, None]
            * _p_first(st.points_hist, st.violence, lv, fv, st.alive, E_, V)
        )
    if on and run.has("regional"):
        exposure = lv * fv[:, :, None]
        total = (st.violence * fv * st.alive).sum(axis=1)[:, None, None] + 1e-9
        payoff -= E_.regional_loss * revenue[:, :, None] * exposure / (total + exposure)
    z = V.response * payoff / scale
    z -= z.max(axis=2, keepdims=True)
    w = np.exp(z)
    choice = (w * lv).sum(axis=2) / w.sum(axis=2)
    violence = st.violence + V.adjustment * (choice - st.violence)
    violence = np.where(st.succession > 0, np.maximum(violence, E_.succession_floor), violence)
    st.violence = np.where(st.alive, violence, 0.0)


def _clashes(run: _Run, st: _State, t: int, frontier: tuple) -> tuple:
    """Clashes on hostile edges (one keyed uniform per edge decides attack and victory): deaths by
    organization, by plaza, by replicate and in the focal plazas; owners change in place."""
    V = run.V
    if run.compiled:
        from vdto.sim import kernels

        by_att, by_def, deaths_plaza, deaths_rep, focal_deaths = kernels.clash(
            frontier[4], st.cand, st.cand_u, st.hostile, st.owner, run.src, run.dst, st.hostility, st.strength,
            st.violence, month_keys(run.keys, t, Stream.CLASH), run.edge_keys, run.inc_ptr, run.inc_idx,
            V.attack_rate, V.incumbent, V.deaths_per_clash, st.focal_mask, run.has("regional"),
        )  # fmt: skip
        return by_att + by_def, deaths_plaza, deaths_rep, focal_deaths
    edges = frontier[4]
    mk0, mk1 = month_keys(run.keys, t, Stream.ATTACK), month_keys(run.keys, t, Stream.CLASH)
    by_org, deaths_plaza, deaths_rep = edges.clash(
        st.owner, st.hostile, st.strength, st.violence, mk0, mk1, run.edge_keys, run.inc_ptr, run.inc_idx, V,
        (run.R, run.N, run.M),
    )  # fmt: skip
    return by_org, deaths_plaza, deaths_rep, (deaths_plaza * st.focal_mask).sum(axis=1)


def _enforce(run: _Run, st: _State, t: int, revenue: np.ndarray, on: bool) -> tuple[np.ndarray, np.ndarray]:
    """The capacity spent this month as the policy says: the hit on each organization's strength,
    and the organization the targeted policy names (-1 for none)."""
    hit = np.zeros((run.R, run.N))
    target = np.full(run.R, -1)
    if not on:
        return hit, target
    if run.has("volume"):
        rv = np.where(st.alive, revenue, 0.0)
        hit += run.share * rv / np.maximum(rv.sum(axis=1, keepdims=True), 1e-12)
    if run.has("targeted"):
        target = _targeted(run, st, t, hit)
    if run.has("regional"):
        _regional(run, st, hit)
    if run.has("kingpin"):
        _kingpin(run, st, t, revenue, hit)
    return hit, target


def _targeted(run: _Run, st: _State, t: int, hit: np.ndarray) -> np.ndarray:
    """Name the top of the published (noisy) score, put the capacity on it, and move a share of its
    US buyers, after a lag, to the least violent alive supplier."""
    E_, rr, N = run.E, run.rr, run.N
    noise = 1.0 + E_.score_noise * normal(run.keys, t, Stream.SCORE_NOISE, Stream.SCORE_NOISE_2, N)
    published = np.where(st.alive, st.points_hist.sum(axis=1) * np.maximum(noise, 0.0), -np.inf)
    target = np.where(st.alive.any(axis=1), published.argmax(axis=1), -1)
    ok = target >= 0
    hit[rr[ok], target[ok]] += run.share
    u = uniform(run.keys[:, None], t, Stream.BUYER_SWITCH, np.arange(st.supplier.shape[1])[None, :])
    cleanest = np.where(st.alive, published, np.inf)
    cleanest[rr[ok], target[ok]] = np.inf
    alt = cleanest.argmin(axis=1)
    switch = (
        (st.supplier == target[:, None])
        & (u < E_.buyer_switch)
        & ok[:, None]
        & np.isfinite(cleanest.min(axis=1))[:, None]
    )
    st.supplier = np.where(switch, alt[:, None], st.supplier)
    return target


def _regional(run: _Run, st: _State, hit: np.ndarray) -> None:
    """Capacity on the organizations holding last month's most violent plazas."""
    R, N, rr = run.R, run.N, run.rr
    k = min(run.E.hot_plazas, run.M)
    hot = np.argpartition(-st.last_deaths_plaza, k - 1, axis=1)[:, :k]
    hd = np.take_along_axis(st.last_deaths_plaza, hot, axis=1)
    ho = np.take_along_axis(st.owner, hot, axis=1)
    okp = (ho >= 0) & (hd > 0)
    tot = np.maximum((hd * okp).sum(axis=1, keepdims=True), 1e-12)
    hit += _bincount2(
        np.broadcast_to(rr[:, None], hot.shape)[okp], ho[okp], (run.share * hd / tot)[okp], (R, N)
    )


def _kingpin(run: _Run, st: _State, t: int, revenue: np.ndarray, hit: np.ndarray) -> None:
    """Capacity on the leadership of the largest organization; every ``strike_interval`` months a
    strike removes its leader, opening a succession fight and maybe a splinter."""
    E_, rr = run.E, run.rr
    rv = np.where(st.alive, revenue, -np.inf)
    struck = rv.argmax(axis=1)
    okk = np.isfinite(rv.max(axis=1))
    hit[rr[okk], struck[okk]] += run.share
    okk &= (t - E_.start_month) % E_.strike_interval == 0
    st.strength[rr[okk], struck[okk]] *= 1.0 - E_.strike_hit
    st.succession[rr[okk], struck[okk]] = E_.succession_months
    u = uniform(run.keys, t, Stream.KINGPIN, np.zeros(run.R, np.uint64))
    split = okk & (u < E_.splinter_probability) & (st.next_slot < run.N)
    for r in np.flatnonzero(split):
        _splinter(run, st, t, int(r), int(struck[r]))


def _splinter(run: _Run, st: _State, t: int, r: int, i: int) -> None:
    """Organization ``i`` of replicate ``r`` splits: a new one takes a contiguous half of its
    plazas, half its strength and half its buyers, and is hostile to it."""
    j = st.next_slot[r]
    st.next_slot[r] += 1
    take = _contiguous_half(
        st.owner[r] == i, run.src, run.dst, uniform(run.keys[r], t, Stream.SPLINTER_PLAZAS, np.arange(run.M))
    )
    st.owner[r, take] = j
    taken = np.flatnonzero(take)
    run.refresh(
        st.hostile, st.owner, run.src, run.dst, run.inc_ptr, run.inc_idx, np.full(len(taken), r), taken
    )
    st.strength[r, j] = st.strength[r, i] * 0.5
    st.strength[r, i] *= 0.5
    st.alive[r, j] = True
    st.violence[r, j] = st.violence[r, i]
    h = st.hostility
    h[r, j, :] = h[r, i, :]
    h[r, :, j] = h[r, :, i]
    h[r, i, j] = h[r, j, i] = 1.0
    h[r, j, j] = 0.0
    st.succession[r, j] = run.E.succession_months
    bu = (st.supplier[r] == i) & (
        uniform(run.keys[r], t, Stream.SPLINTER_BUYERS, np.arange(st.supplier.shape[1])) < 0.5
    )
    st.supplier[r, bu] = j


def _grow_and_dismantle(run: _Run, st: _State, revenue: np.ndarray, hit: np.ndarray) -> None:
    """Strength grows with revenue and falls with upkeep, violence and enforcement; below the
    threshold an organization is dismantled, its plazas left empty and its buyers to the largest."""
    V, X, E_, rr = run.V, run.X, run.E, run.rr
    strength = (
        st.strength
        + X.growth * revenue / st.scale
        - X.upkeep * st.strength
        - V.cost * 0.1 * st.violence * st.strength
        - hit
    )
    st.strength = np.clip(strength, 0.0, X.max_strength) * st.alive
    gone: np.ndarray = st.alive & (st.strength < E_.dismantle_below)
    if gone.any():
        st.alive &= ~gone
        if run.compiled:
            from vdto.sim import kernels

            kernels.dismantle(gone, st.owner, st.hostile, run.src, run.dst, run.inc_ptr, run.inc_idx)
        else:
            g = gone[rr[:, None], np.where(st.owner >= 0, st.owner, 0)] & (st.owner >= 0)
            st.owner[g] = -1
            _refresh(st.hostile, st.owner, run.src, run.dst, run.inc_ptr, run.inc_idx, *np.nonzero(g))
        st.violence = np.where(st.alive, st.violence, 0.0)
        best = np.asarray(np.where(st.alive, st.strength, -np.inf).argmax(axis=1))
        orphan = np.take_along_axis(gone, st.supplier, axis=1) & np.asarray(st.alive.any(axis=1))[:, None]
        st.supplier = np.where(orphan, best[:, None], st.supplier)
    st.succession = np.maximum(st.succession - 1, 0)


def _record(run: _Run, st: _State, out: Outputs, t: int, deaths_rep, kinds, by_org, revenue, target,
            focal_deaths) -> None:  # fmt: skip
    out.deaths[:, t] = deaths_rep
    out.deaths_kind[:, t] = kinds.sum(axis=1)
    out.deaths_org[:, t] = by_org
    out.violence[:, t] = np.where(st.alive, st.violence, np.nan)
    out.alive[:, t] = st.alive.sum(axis=1)
    out.revenue_mexico[:, t] = revenue.sum(axis=1)
    out.target[:, t] = target
    n0 = run.n0
    out.dismantled[:, t] = (~st.alive[:, :n0]).sum(axis=1) + (
        st.next_slot - n0 - (st.alive[:, n0:]).sum(axis=1)
    )
    out.focal_deaths[:, t] = focal_deaths


def _rival_violence(out: Outputs, rr: np.ndarray) -> np.ndarray:
    """Mean violence of the alive organizations other than the first one the policy named (the
    first target, or for other policies the focal organization), the same set in every month."""
    named = out.target >= 0
    first = np.where(named.any(axis=1), out.target[rr, named.argmax(axis=1)], out.focal)
    v = out.violence.copy()
    v[rr, :, first] = np.nan
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(v, axis=2)


@dataclass
class _Edges:
    """The hostile (replicate, edge) pairs of one month, for the NumPy engine."""

    hr: np.ndarray  # replicate of each hostile edge
    he: np.ndarray  # edge
    ai: np.ndarray  # attacker (owner of the source)
    di: np.ndarray  # defender (owner of the destination, -1 when empty)
    fa: np.ndarray  # flat (replicate, attacker) index
    fd: np.ndarray  # flat (replicate, defender) index (0 for an empty plaza)
    vac: np.ndarray  # the destination is empty
    host: np.ndarray  # hostility of the attacker towards the defender (1 for an empty plaza)
    vh: np.ndarray  # value at stake: the destination's value x hostility
    as_: np.ndarray  # attacker's strength x violence
    ds: np.ndarray  # defender's strength x violence (0 for an empty plaza)
    src: np.ndarray
    dst: np.ndarray

    def aggregates(self, R: int, N: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per organization: value at stake, force met there, own value under threat, force
        threatening it (see :func:`vdto.sim.kernels.frontier`)."""
        fa, fd, nv, vh = self.fa, self.fd, ~self.vac, self.vh
        fv = np.bincount(fa, weights=vh, minlength=R * N).reshape(R, N)
        rs = np.bincount(fa, weights=vh * self.ds, minlength=R * N).reshape(R, N) / np.maximum(fv, 1e-12)
        pv = np.bincount(fd[nv], weights=vh[nv], minlength=R * N).reshape(R, N)
        ap = np.bincount(fd[nv], weights=(vh * self.as_)[nv], minlength=R * N).reshape(R, N)
        return fv, rs, pv, ap / np.maximum(pv, 1e-12)

    def clash(self, owner, hostile, strength, violence, mk0, mk1, edge_keys, inc_ptr, inc_idx, V, shape):
        """The clashes of the month (see :func:`vdto.sim.kernels.clash`): deaths by organization
        ``(R, N)``, by plaza ``(R, M)`` and by replicate ``(R,)``; ``owner`` and ``hostile`` are
        updated in place."""
        R, N, M = shape
        src, dst = self.src, self.dst
        vf = violence.ravel()
        va = vf[self.fa]
        attack_p = V.attack_rate * va * self.host
        u1 = uniform_from(mk0[self.hr], edge_keys[self.he])
        # only the attacked edges go further (a few per cent of the frontier)
        k_ = np.flatnonzero(u1 < attack_p)
        hr, he, ai, vac, fa, fd = (
            self.hr[k_],
            self.he[k_],
            self.ai[k_],
            self.vac[k_],
            self.fa[k_],
            self.fd[k_],
        )
        u1, attack_p, va = u1[k_], attack_p[k_], va[k_]
        nv = ~vac
        sv = (strength * violence).ravel()
        as_, ds = sv[fa], np.where(vac, 0.0, sv[fd])
        win_p = as_ / (as_ + ds + V.incumbent)
        won = u1 < attack_p * win_p
        vd = np.where(vac, 0.0, vf[fd])
        u2 = uniform_from(mk1[hr], edge_keys[he])
        d = _poisson(V.deaths_per_clash * (va + vd), u2)
        # ownership: among winners of a plaza, the one with the smallest draw takes it
        if won.any():
            wr, we, wu, wa = hr[won], he[won], u1[won], ai[won]
            order = np.lexsort((wu, dst[we], wr))
            wr, we, wa = wr[order], we[order], wa[order]
            first_w = np.ones(len(wr), bool)
            first_w[1:] = (wr[1:] != wr[:-1]) | (dst[we][1:] != dst[we][:-1])
            owner[wr[first_w], dst[we[first_w]]] = wa[first_w]
            _refresh(hostile, owner, src, dst, inc_ptr, inc_idx, wr[first_w], dst[we[first_w]])
        # deaths: caused by attacker and defender in proportion to their violence
        frac_a = np.where(va + vd > 0, va / np.maximum(va + vd, 1e-12), 1.0)
        by_org = np.bincount(fa, weights=d * frac_a, minlength=R * N).reshape(R, N)
        by_org += np.bincount(fd[nv], weights=(d * (1 - frac_a))[nv], minlength=R * N).reshape(R, N)
        deaths_rep = d.sum(keepdims=True) if R == 1 else np.bincount(hr, weights=d, minlength=R)
        return by_org, _bincount2(hr, dst[he], d, (R, M)), deaths_rep


def _frontier_numpy(hostile, owner, src, dst, value, hostility, strength, violence) -> _Edges:
    """The hostile edges of the month and what the choice and the clashes need of them."""
    M, N = owner.shape[1], strength.shape[1]
    hr, he = np.divmod(np.flatnonzero(hostile), hostile.shape[1])
    own_flat = owner.ravel()
    ai = own_flat[hr * M + src[he]].astype(np.int64)
    di = own_flat[hr * M + dst[he]].astype(np.int64)
    vac = di < 0
    dsafe = np.where(vac, 0, di)
    fa, fd = hr * N + ai, hr * N + dsafe  # flat (replicate, organization) indices
    host = np.where(vac, 1.0, hostility.ravel()[fa * N + dsafe])
    vh = value[dst[he]] * host
    sv = (strength * violence).ravel()
    as_, ds = sv[fa], np.where(vac, 0.0, sv[fd])
    return _Edges(hr, he, ai, di, fa, fd, vac, host, vh, as_, ds, src, dst)


def _refresh(hostile, owner, src, dst, inc_ptr, inc_idx, rows: np.ndarray, plazas: np.ndarray) -> None:
    """Recompute the hostile flag of every edge touching the plazas whose owner just changed."""
    if len(rows) == 0:
        return
    counts = inc_ptr[plazas + 1] - inc_ptr[plazas]
    total = int(counts.sum())
    offsets = np.repeat(inc_ptr[plazas] - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    e = inc_idx[offsets + np.arange(total)]
    r = np.repeat(rows, counts)
    a, d = owner[r, src[e]], owner[r, dst[e]]
    hostile[r, e] = (a >= 0) & (a != d)


def _contiguous_half(own: np.ndarray, src: np.ndarray, dst: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Half of an organization's plazas, grown from a random plaza of it through its own
    neighbours (a faction takes a contiguous part of the territory, not every other plaza)."""
    plazas = np.flatnonzero(own)
    take = np.zeros(len(own), bool)
    if len(plazas) < 2:
        return take
    want = len(plazas) // 2
    start = plazas[np.argmin(u[plazas])]
    take[start] = True
    inside = own[src] & own[dst]
    s_in, d_in = src[inside], dst[inside]
    count = 1
    while count < want:
        ring = np.unique(d_in[take[s_in] & ~take[d_in]])
        if len(ring) == 0:  # the rest is not connected: continue from another random plaza
            rest = plazas[~take[plazas]]
            ring = rest[[np.argmin(u[rest])]]
        ring = ring[np.argsort(u[ring], kind="stable")][: want - count]
        take[ring] = True
        count += len(ring)
    return take


def _p_first(points_hist, violence, lv, fv, alive, E_, V) -> np.ndarray:
    """P(an organization tops next month's published score) at each violence level, for each
    organization, the others' scores held at their expected values (normal approximation of the
    attribution noise)."""
    base = points_hist[:, :-1, :].sum(axis=1)  # the months that stay in the window
    # expected points next month at each level: this month's points per unit of violence
    recent = points_hist[:, 0, :]
    per_unit = np.where(
        violence > 0, recent / np.maximum(violence, 1e-9), recent.mean(axis=1, keepdims=True) + 1e-9
    )
    mine = base[:, :, None] + per_unit[:, :, None] * lv
    expected = np.where(alive, base + per_unit * violence, -np.inf)
    # best rival: the largest expected score among the others (padded: one slot has no rival)
    padded = np.concatenate([expected, np.full((expected.shape[0], 1), -np.inf)], axis=1)
    top2 = np.sort(padded, axis=1)[:, -2:]
    best_other = np.where(expected >= top2[:, [1]], top2[:, [0]], top2[:, [1]])
    best_other = np.where(np.isfinite(best_other), best_other, 0.0)[:, :, None]
    sd = E_.score_noise * np.sqrt(mine**2 + best_other**2) + 1e-9
    return np.where(alive[:, :, None], ndtr((mine - best_other) / sd), 0.0)


__all__ = ["ENGINES", "KINDS", "Outputs", "replicate_keys", "simulate"]
