"""The simulator: organizations of people that recruit, fight, kill, are arrested and split,
and choose how violent to be under an enforcement policy, vectorised over replicates.

State is arrays with the replicate as first axis (``R`` replicates, ``N`` organization slots:
the founding organizations and room for those born of splits, ``M`` plazas, ``E`` directed
neighbour pairs, ``B`` US buyers, ``S`` states). Randomness is *counter-based*: every uniform
is a hash of (replicate key, month, named stream, item), the items being plazas, edges,
states or organizations' keys (never their positions), the replicate keys coming from
``numpy.random.SeedSequence(seed).spawn``. So two policies run on the same seed use the same
draw for the same clash in the same month (common random numbers), a replicate gives the same
result whichever worker runs it, and the same seed gives the same bytes.

Each replicate starts from its own draw of the starting map (:mod:`vdto.sim.startmap`). One
month (docs/model.md has every formula and parameter):

1. revenue from held plazas (trafficking value x the flow reaching Mexico) and US buyers;
2. each organization chooses its violence by logit response over a grid of levels, weighing
   territorial gains and losses (a Tullock contest at its frontier) against the cost of
   violence and the enforcement it expects under the policy (under the targeted policy, its
   discounted chance of being named in the coming rounds);
3. clashes on hostile frontier edges: plazas change hands, homicides in people, members killed;
4. one-sided killings where organizations hold plazas, and homicides that are not
   organized-crime killings (a baseline per state);
5. arrests: the status quo's, in proportion to members, and the policy's added capacity as the
   policy says (volume, kingpin with leader strikes, violence-targeted with its four channels,
   regional, Caribbean, combinations);
6. people: recruitment from revenue and the pool of young men, members killed and arrested;
   splits (a hazard growing with size and with enforcement, and kingpin successions) make new
   organizations; below a threshold an organization is dismantled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from vdto.rng import Stream, item_keys, mix64, month_keys, replicate_keys, uniform, uniform_from
from vdto.sim import kernels, startmap
from vdto.sim.params import Scenario, check_policy
from vdto.sim.world import World

#: Victim kinds of organized-crime homicides, with the rubric's default points per death.
KINDS = ("dto_member", "civilian", "police", "official", "journalist")
KIND_POINTS = np.array([1.0, 2.0, 3.0, 4.0, 4.0])
#: How victims who are not members split (civilians, police, officials, journalists).
OTHER_SPLIT = np.array([0.80, 0.12, 0.05, 0.03])
#: Where homicides come from (``Outputs.homicides_source``).
SOURCES = ("clash", "one_sided", "baseline")
#: Organizations compared by the look-ahead beyond the rounds it looks ahead.
CONTENDERS_EXTRA = 4
#: Longest time to a target's fall an organization reckons with (months).
MAX_FALL = 120.0


@dataclass
class Outputs:
    """Monthly outputs, arrays ``(replicates, months, ...)``. Homicides are in people."""

    homicides: np.ndarray  # (R, T) all homicides
    homicides_state: np.ndarray  # (R, T, S) float32
    homicides_source: np.ndarray  # (R, T, 3) clash, one-sided, baseline
    deaths_kind: np.ndarray  # (R, T, K) organized-crime homicides by victim kind
    members: np.ndarray  # (R, T) members of all organizations at the end of the month
    recruits: np.ndarray  # (R, T)
    arrests: np.ndarray  # (R, T) members arrested (status quo and policy)
    members_killed: np.ndarray  # (R, T)
    alive: np.ndarray  # (R, T) organizations alive
    splits: np.ndarray  # (R, T) organizations born of splits so far
    splits_blocked: np.ndarray  # (R, T) splits that found no free slot so far
    dismantled: np.ndarray  # (R, T) organizations dismantled so far
    revenue: np.ndarray  # (R, T) revenue of all organizations (money units)
    target: np.ndarray  # (R, T) slot named by the targeted policy (-1 none)
    focal_deaths: (
        np.ndarray
    )  # (R, T) homicides in the plazas the focal organization held at the start of the policy
    rival_violence: (
        np.ndarray
    )  # (R, T) mean violence of the alive organizations other than the first named (from the policy's start)
    violence_mean: np.ndarray  # (R, T) mean violence of the alive organizations
    focal: np.ndarray  # (R,) the focal organization: the largest by revenue when the policy starts
    start_held: np.ndarray  # (R, n0) plazas each founding organization holds on the starting map
    # per organization slot, (R, T, N) with ``detail=True``, else (R, T, 0)
    org_violence: np.ndarray  # chosen violence (nan when not alive)
    org_points: np.ndarray  # rubric points of the homicides it caused (what the score adds up)
    org_members: np.ndarray  # members at the end of the month
    # by calendar year of the run (year y: months 12y .. 12y + 11), with ``panel=True``, else
    # zero-sized: homicides per plaza (R, Y, M) float32 (by month, (R, T, M), with
    # ``panel="monthly"``), and homicides caused by each founding organization's lineage (itself
    # and the splinters born of it) (R, Y, n0)
    homicides_municipal: np.ndarray
    lineage_deaths: np.ndarray
    # with ``panel="monthly"``, else (R, 0, 0): where each kingpin strike falls, (R, T, M) int8:
    # 1 the capture municipality (the struck organization's most populous plaza), 2 its plazas
    # bordering it, 0 elsewhere
    strike_role: np.ndarray

    @classmethod
    def concat(cls, parts: list[Outputs]) -> Outputs:
        """Outputs of consecutive runs of replicates joined along the replicate axis."""
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})

    @property
    def deaths(self) -> np.ndarray:
        """All homicides ``(R, T)`` (people)."""
        return self.homicides


@dataclass
class _Run:
    """What stays fixed during a run: the world's arrays, the parameters and the policy."""

    parts: tuple[str, ...]
    R: int
    T: int
    n0: int
    N: int
    M: int
    S: int
    world: World
    src: np.ndarray
    dst: np.ndarray
    edge_keys: np.ndarray
    state_keys: np.ndarray
    plaza_keys: np.ndarray
    buyer_keys: np.ndarray
    inc_ptr: np.ndarray  # the edges touching each plaza (to refresh the frontier where owners change)
    inc_idx: np.ndarray
    adj_ptr: np.ndarray  # neighbours of each plaza (splits grow through them)
    adj_idx: np.ndarray
    keys: np.ndarray  # one key per replicate
    rr: np.ndarray
    volume: np.ndarray
    levels: np.ndarray
    baseline_state: np.ndarray  # (S,) expected baseline homicides per month
    flow_after: float  # the share of the flow through Mexico once the policy starts
    share: float  # the capacity each enforcing part of the policy spends (members a month)
    h0: np.ndarray  # (n0, n0) founders' hostility
    host_max: float
    scale: float  # the unit of money: a founding organization's mean revenue, all plazas held
    member_unit: float  # the unit of strength: a founding organization's mean members
    revenue_per_member: float  # at the start, all plazas held
    pool0: float  # the recruitment pool factor of the whole country at the start
    panel: bool  # record the municipal panel (homicides per plaza and lineage deaths by year)
    monthly: bool  # ... homicides per plaza by month, and where kingpin strikes fall
    state_order: np.ndarray  # (M,) plazas grouped by state (stable), for placing homicides
    state_ptr: np.ndarray  # (S + 1,) where each state's plazas start in state_order
    bl_cum: np.ndarray  # (M,) the baseline means, cumulated over state_order
    V: Any
    E: Any
    X: Any
    P: Any
    C: Any

    def has(self, part: str) -> bool:
        return part in self.parts


@dataclass
class _State:
    """What changes from month to month (replicates on the first axis)."""

    owner: np.ndarray  # (R, M) organization slot holding each plaza, -1 for nobody
    members: np.ndarray  # (R, N)
    alive: np.ndarray  # (R, N)
    violence: np.ndarray  # (R, N)
    root: np.ndarray  # (R, N) founding organization of each slot's lineage
    org_key: np.ndarray  # (R, N) each organization's key (random draws about it use it)
    org_item: np.ndarray  # (R, N) item_keys(org_key), kept with it
    succession: np.ndarray  # (R, N) months of succession fight left
    weakness: np.ndarray  # (R, N) share of members lost to the policy's enforcement, last year
    supplier: np.ndarray  # (R, B) organization supplying each US buyer
    points_hist: (
        np.ndarray
    )  # (R, score months, N) rubric points of the last months; month t in slot t % months
    next_slot: np.ndarray  # (R,)
    blocked: np.ndarray  # (R,) splits that found no free slot
    target_prev: np.ndarray  # (R,) last month's target (-1 none)
    first_named: np.ndarray  # (R,) the first target (-1 none)
    members_prev: np.ndarray  # (R, N) members a month ago
    struck: np.ndarray  # (R,) the organization a kingpin strike splits this month (-1 none)
    pairs: tuple[
        np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
    ]  # people per (organization, state) held at the start of the month (kernels.revenue)
    focal_mask: np.ndarray  # (R, M) the plazas the focal organization held when the policy started
    focal_baseline: np.ndarray  # (R,) expected baseline homicides a month in those plazas
    last_deaths_plaza: np.ndarray  # (R, M) (regional policy)
    start_owner: np.ndarray | None = None  # (R, M) owners at the start of the month (regional policy)
    hostile: np.ndarray | None = None  # the frontier as bits (kernels.pack)
    cand: np.ndarray | None = None  # buffers of the frontier pass
    pair_k: np.ndarray | None = None  # (R, N x S) one-sided homicides of each pair (kernels.killings)
    strike_now: np.ndarray | None = None  # (R,) the organization a kingpin strike hit this month (-1 none)
    cand_u: np.ndarray | None = None


def _setup(world: World, scenario: Scenario, parts: tuple[str, ...], R: int, first: int,
           flow_factor: float | None, panel: bool | str = False) -> _Run:  # fmt: skip
    E_, P = scenario.enforcement, scenario.people
    M, n0 = world.n_plazas, world.n_orgs
    src, dst = world.src.astype(np.int64), world.dst.astype(np.int64)
    n_edges = len(src)
    ends = np.concatenate([src, dst])
    order_ = np.argsort(ends, kind="stable")
    by_src = np.argsort(src, kind="stable")
    if "caribbean" in parts and flow_factor is None:
        from vdto.routes.lever import mexico_flow_factor

        flow_factor = mexico_flow_factor(E_.caribbean_change)
    enforcing = [p for p in parts if p in ("volume", "kingpin", "targeted", "regional")]
    X = scenario.economy
    volume = world.volume / world.volume.mean() * (world.value.sum() / max(len(world.volume), 1))
    money = X.territory_revenue * world.value.sum() + X.buyer_revenue * volume.sum()
    members0 = float(world.members.sum())
    young = float(world.young.sum())
    baseline_state = np.bincount(world.state, weights=world.baseline, minlength=world.n_states)
    state_order = np.argsort(world.state, kind="stable")
    return _Run(
        parts=parts, R=R, T=scenario.run.months, n0=n0, N=n0 + scenario.world.splinter_slots, M=M,
        S=world.n_states, world=world, src=src, dst=dst, edge_keys=item_keys(np.arange(n_edges)),
        state_keys=item_keys(np.arange(world.n_states) + (1 << 40)), plaza_keys=item_keys(np.arange(M)),
        buyer_keys=item_keys(np.arange(len(world.supplier))),
        inc_ptr=np.concatenate([[0], np.cumsum(np.bincount(ends, minlength=M))]),
        inc_idx=np.concatenate([np.arange(n_edges), np.arange(n_edges)])[order_],
        adj_ptr=np.concatenate([[0], np.cumsum(np.bincount(src, minlength=M))]), adj_idx=dst[by_src],
        keys=replicate_keys(scenario.run.seed, R, first), rr=np.arange(R), volume=volume,
        levels=np.asarray(scenario.violence.levels), baseline_state=baseline_state,
        flow_after=float(flow_factor) if "caribbean" in parts and flow_factor is not None else 1.0,
        share=E_.capacity / len(enforcing) if enforcing else 0.0, h0=np.ascontiguousarray(world.hostility),
        host_max=max(float(world.hostility.max(initial=0.0)), scenario.violence.kin_hostility, 1.0),
        scale=money / n0, member_unit=members0 / n0, revenue_per_member=money / members0,
        pool0=young / (young + P.pool_half * members0), panel=bool(panel), monthly=panel == "monthly",
        state_order=state_order,
        state_ptr=np.concatenate([[0], np.cumsum(np.bincount(world.state, minlength=world.n_states))]),
        bl_cum=np.cumsum(world.baseline[state_order]),
        V=scenario.violence, E=E_, X=X, P=P, C=scenario.channels,
    )  # fmt: skip


def _initial_state(world: World, run: _Run) -> _State:
    R, N, n0, M = run.R, run.N, run.n0, run.M
    owner = startmap.draw(world, run.keys).astype(np.int16 if N < 32767 else np.int32)
    members = np.zeros((R, N))
    members[:, :n0] = world.members
    alive = np.zeros((R, N), bool)
    alive[:, :n0] = True
    violence = np.zeros((R, N))
    violence[:, :n0] = run.V.start
    root = np.zeros((R, N), np.int64)
    root[:, :n0] = np.arange(n0)
    org_key = np.zeros((R, N), np.uint64)
    org_key[:, :n0] = world.org_keys
    return _State(
        owner=owner, members=members, alive=alive, violence=violence, root=root, org_key=org_key,
        org_item=item_keys(org_key),
        succession=np.zeros((R, N)), weakness=np.zeros((R, N)),
        supplier=np.broadcast_to(world.supplier, (R, len(world.supplier))).astype(np.int64).copy(),
        points_hist=np.zeros((R, run.E.score_months, N)), next_slot=np.full(R, n0), blocked=np.zeros(R, np.int64),
        target_prev=np.full(R, -1), first_named=np.full(R, -1), members_prev=members.copy(), struck=np.full(R, -1),
        pairs=(np.zeros((R, N * run.S), np.int64), np.zeros((R, N * run.S), np.int64), np.zeros((R, N * run.S)),
               np.zeros((R, N * run.S)), np.zeros(R, np.int64)), pair_k=np.zeros((R, N * run.S)),
        focal_mask=np.zeros((R, M), bool), focal_baseline=np.zeros(R), last_deaths_plaza=np.zeros((R, M)),
    )  # fmt: skip


def _outputs(run: _Run, detail: bool) -> Outputs:
    R, T = run.R, run.T
    per_org = (R, T, run.N if detail else 0)
    Y = -(-T // 12) if run.panel else 0
    by = T if run.monthly else Y

    def z(dtype=np.float64):
        return np.zeros((R, T), dtype)

    return Outputs(
        homicides=z(), homicides_state=np.zeros((R, T, run.S), np.float32),
        homicides_source=np.zeros((R, T, len(SOURCES))), deaths_kind=np.zeros((R, T, len(KINDS))),
        members=z(), recruits=z(), arrests=z(), members_killed=z(), alive=z(np.int64), splits=z(np.int64),
        splits_blocked=z(np.int64), dismantled=z(np.int64), revenue=z(), target=np.full((R, T), -1, np.int64),
        focal_deaths=z(), rival_violence=np.full((R, T), np.nan), violence_mean=np.full((R, T), np.nan),
        focal=np.zeros(R, np.int64), start_held=np.zeros((R, run.n0), np.int64),
        org_violence=np.full(per_org, np.nan), org_points=np.zeros(per_org), org_members=np.zeros(per_org),
        homicides_municipal=np.zeros((R, by, run.M if run.panel else 0), np.float32),
        lineage_deaths=np.zeros((R, Y, run.n0)),
        strike_role=np.zeros((R, T, run.M) if run.monthly else (R, 0, 0), np.int8),
    )  # fmt: skip


def simulate(
    world: World,
    scenario: Scenario,
    policy: str,
    *,
    replicates: int | None = None,
    first: int = 0,
    flow_factor: float | None = None,
    progress: Callable[[int], None] | None = None,
    detail: bool = False,
    panel: bool | str = False,
) -> Outputs:
    """Run replicates ``first .. first + replicates - 1`` of one policy (pure: arrays in and out).

    ``flow_factor`` is the share of the flow through Mexico kept under the Caribbean policy
    (default: :func:`vdto.routes.mexico_flow_factor` of the scenario's change). ``progress`` is
    called with 1 after each month. ``detail`` also records each organization's violence,
    score points and members per month; ``panel`` the homicides of each plaza and those caused
    by each founding organization's lineage, by year of the run; ``panel="monthly"`` the
    homicides of each plaza by month and where kingpin strikes fall (the other outputs are the
    same bytes with or without either).

    Examples
    --------
    >>> from vdto.sim.params import Scenario
    >>> from vdto.sim.world import grid_world
    >>> sc = Scenario.model_validate({"run": {"months": 6, "replicates": 3}})
    >>> out = simulate(grid_world(), sc, "none")
    >>> out.homicides.shape
    (3, 6)
    """
    parts = check_policy(policy)
    R = scenario.run.replicates if replicates is None else replicates
    run = _setup(world, scenario, parts, R, first, flow_factor, panel)
    st = _initial_state(world, run)
    out = _outputs(run, detail)
    out.start_held[:] = np.stack([(st.owner == i).sum(axis=1) for i in range(run.n0)], axis=1)
    for t in range(run.T):
        _month(run, st, out, t)
        if progress is not None:
            progress(1)
    return out


def _month(run: _Run, st: _State, out: Outputs, t: int) -> None:
    """One month: revenue, the frontier, the choice of violence, clashes, killings, arrests,
    people."""
    on = t >= run.E.start_month
    flow = run.flow_after if on else 1.0
    revenue, young_held = _revenue(run, st, out, t, flow)
    frontier = _frontier(run, st, t)
    _choose_violence(run, st, t, revenue, frontier[:4], on, flow)
    c_caused, lost, c_state, c_plaza, c_total, c_focal = _clashes(run, st, t, frontier[4])
    os_org, os_state, bl_state, os_focal = kernels.killings(
        *st.pairs, st.violence, run.V.one_sided, st.org_key, run.state_keys, month_keys(run.keys, t, Stream.ONE_SIDED),
        run.baseline_state, month_keys(run.keys, t, Stream.BASELINE), run.N, st.pair_k,
    )  # fmt: skip
    if run.panel:
        _record_panel(run, st, out, t, c_plaza, c_caused + os_org, bl_state)
    plaza_deaths = None
    if run.has("regional"):  # clash homicides and the expected one-sided ones of each plaza
        start = st.start_owner if st.start_owner is not None else st.owner
        held = start >= 0
        v = np.take_along_axis(st.violence, np.where(held, start, 0).astype(np.int64), axis=1)
        plaza_deaths = c_plaza + held * v * run.world.population * (run.V.one_sided / 1e5)
    rival = np.clip(run.V.rival_share - run.V.rival_share_drop * st.violence, 0.0, 1.0)
    kinds = np.concatenate(
        [
            (c_caused * rival)[:, :, None],
            ((c_caused * (1 - rival))[:, :, None] + os_org[:, :, None]) * OTHER_SPLIT,
        ],
        axis=2,
    )
    st.points_hist[:, t % run.E.score_months, :] = kinds @ KIND_POINTS
    hit, target = _enforce(run, st, t, revenue, on)
    if run.monthly and st.strike_now is not None:
        _record_strikes(run, st, out, t)
    recruits, arrested = _people(run, st, t, revenue, young_held, hit, lost)
    if plaza_deaths is not None:
        st.last_deaths_plaza = plaza_deaths  # what the regional policy acts on next month
    homicides_state = c_state + os_state + bl_state
    out.homicides[:, t] = homicides_state.sum(axis=1)
    out.homicides_state[:, t] = homicides_state
    out.homicides_source[:, t] = np.stack([c_total, os_state.sum(axis=1), bl_state.sum(axis=1)], axis=1)
    out.deaths_kind[:, t] = kinds.sum(axis=1)
    out.members_killed[:, t] = lost.sum(axis=1)
    out.recruits[:, t] = recruits
    out.arrests[:, t] = arrested
    out.revenue[:, t] = revenue.sum(axis=1)
    out.target[:, t] = target
    out.focal_deaths[:, t] = c_focal + os_focal + st.focal_baseline
    if out.org_points.shape[2]:
        out.org_points[:, t] = st.points_hist[:, t % run.E.score_months, :]
    _record_people(run, st, out, t, on)


def _record_strikes(run: _Run, st: _State, out: Outputs, t: int) -> None:
    """Where this month's kingpin strikes fall: the struck organization's most populous plaza
    at the start of the month (the capture municipality; ties: the first in the catalog) and
    its plazas bordering it."""
    owner = st.start_owner if st.start_owner is not None else st.owner
    struck = st.strike_now if st.strike_now is not None else np.full(run.R, -1)
    pop = run.world.population
    for r in np.flatnonzero(struck >= 0):
        held = np.flatnonzero(owner[r] == struck[r])
        if not len(held):
            continue
        capture = int(held[np.argmax(pop[held])])
        nb = run.adj_idx[run.adj_ptr[capture] : run.adj_ptr[capture + 1]]
        out.strike_role[r, t, nb[owner[r, nb] == struck[r]]] = 2
        out.strike_role[r, t, capture] = 1
    st.strike_now = None


def _record_panel(run: _Run, st: _State, out: Outputs, t: int, c_plaza: np.ndarray, caused: np.ndarray,
                  bl_state: np.ndarray) -> None:  # fmt: skip
    """The month's homicides per plaza (clashes where they were fought, one-sided killings and
    the baseline placed by :func:`vdto.sim.kernels.place`) and the homicides each lineage
    caused, added to the year's."""
    y = t // 12
    plaza = c_plaza.copy()
    start = st.start_owner if st.start_owner is not None else st.owner
    kernels.place(
        start, run.world.state, run.world.population, st.pairs[0], st.pairs[1], st.pair_k, st.pairs[4], bl_state,
        run.state_order, run.state_ptr, run.bl_cum, st.org_key, run.state_keys, month_keys(run.keys, t, Stream.PLACE),
        run.N, plaza,
    )  # fmt: skip
    out.homicides_municipal[:, t if run.monthly else y] += plaza.astype(np.float32)
    flat = (run.rr[:, None] * run.n0 + st.root).ravel()
    out.lineage_deaths[:, y] += np.bincount(flat, caused.ravel(), minlength=run.R * run.n0).reshape(
        run.R, run.n0
    )


def _revenue(run: _Run, st: _State, out: Outputs, t: int, flow: float) -> tuple[np.ndarray, np.ndarray]:
    """Revenue from held plazas and US buyers, and the young men in each organization's plazas;
    the focal organization is set the month the policy starts."""
    X, E_ = run.X, run.E
    w = run.world
    if run.has("regional") or run.panel:
        st.start_owner = st.owner.copy()
    tv, bv, yv = kernels.revenue(st.owner, w.value, w.young, w.population, w.state, st.focal_mask, st.supplier,
                                 run.volume, run.N, *st.pairs)  # fmt: skip
    revenue = flow * (X.territory_revenue * tv + X.buyer_revenue * bv) * st.alive
    if t == min(E_.start_month, run.T - 1):
        # the focal organization: the largest by revenue when the policy starts (the same in every
        # policy, since all runs share their draws until then), and the plazas it held then
        focal = np.where(st.alive, revenue, -np.inf).argmax(axis=1)
        st.focal_mask = st.owner == focal[:, None]
        st.focal_baseline = st.focal_mask @ w.baseline
        out.focal[:] = focal
        kernels.revenue(st.owner, w.value, w.young, w.population, w.state, st.focal_mask, st.supplier, run.volume,
                        run.N, *st.pairs)  # the people of the focal plazas  # fmt: skip
    return revenue, yv


def _surge(run: _Run, st: _State) -> np.ndarray:
    """How much more often an organization's plazas are attacked when enforcement has weakened it."""
    return 1.0 + run.E.crackdown * st.weakness


def _frontier(run: _Run, st: _State, t: int) -> tuple:
    """Per organization: value at stake on its frontier, the force met there, its own value under
    threat and the force threatening it; plus where the month's attack candidates start."""
    if t == 0:
        a_own, d_own = np.take(st.owner, run.src, axis=1), np.take(st.owner, run.dst, axis=1)
        st.hostile = kernels.pack((a_own >= 0) & (a_own != d_own))  # kept up to date where owners change
        st.cand, st.cand_u = np.empty(run.R * len(run.src), np.int32), np.empty(run.R * len(run.src))
    V, E_ = run.V, run.E
    surge = _surge(run, st)
    # no attack probability this month can exceed `bound` (violence after the choice is between
    # the current violence and the levels, or the succession floor)
    vmax = np.maximum(max(float(run.levels.max()), E_.succession_floor), st.violence.max(axis=1))
    bound = V.attack_rate * vmax * run.host_max * surge.max(axis=1) * (1.0 + 1e-9)
    fv, rs, pv, ap, cand_ptr = kernels.frontier(
        st.hostile, st.owner, run.src, run.dst, run.world.value, st.root, run.h0, V.kin_hostility, surge,
        _strength(run, st), st.violence, month_keys(run.keys, t, Stream.ATTACK), run.edge_keys, bound, st.cand,
        st.cand_u,
    )  # fmt: skip
    rs /= np.maximum(fv, 1e-12)
    ap /= np.maximum(pv, 1e-12)
    return fv, rs, pv, ap, cand_ptr


def _strength(run: _Run, st: _State) -> np.ndarray:
    return st.members / run.member_unit


def _choose_violence(
    run: _Run, st: _State, t: int, revenue: np.ndarray, frontier: tuple, on: bool, flow: float
) -> None:
    """Each organization moves its violence towards its logit response over the levels
    (:func:`vdto.sim.kernels.choose`; payoffs in money units)."""
    fv, rs, pv, ap = frontier
    V, E_, X = run.V, run.E, run.X
    ahead = _named_ahead(run, st, t) if on and run.has("targeted") else np.zeros((run.R, run.N, 0))
    st.violence = kernels.choose(
        fv, rs, pv, ap, _strength(run, st), st.violence, st.alive, st.succession, revenue, run.levels, ahead,
        on and run.has("regional"), V.attack_rate, V.incumbent, X.territory_revenue * flow * V.horizon / run.scale,
        V.cost, V.response, V.adjustment, E_.succession_floor, E_.target_loss / run.scale,
        E_.regional_loss / run.scale,
    )  # fmt: skip


def _named_ahead(run: _Run, st: _State, t: int) -> np.ndarray:
    """Each organization's discounted chance of being named within the look-ahead, per level
    ``(R, N, L)``: ``sum_k w_k P(k others above it)``, ``w_0 = 1`` (named now) and ``w_k =
    discount ** (months to the current target's fall + (k - 1) fall_months)``. The restraint
    and deterrence channels switch the term off for the current target and for the others."""
    E_, C = run.E, run.C
    months = run.E.score_months
    # (this month's points are not in yet: the last month's are in slot t - 1)
    recent = st.points_hist[:, (t - 1) % months, :]
    base = st.points_hist.sum(axis=1) - st.points_hist[:, t % months, :]  # the months that stay
    # points per unit of violence; at violence 0, the mean of the alive organizations' points
    alive_mean = (recent * st.alive).sum(axis=1, keepdims=True) / np.maximum(
        st.alive.sum(axis=1, keepdims=True), 1
    )
    per_unit = np.where(st.violence > 0, recent / np.maximum(st.violence, 1e-9), alive_mean + 1e-9)
    tgt = st.target_prev
    has_t = tgt >= 0
    tsafe = np.where(has_t, tgt, 0)
    shrink = st.members_prev[run.rr, tsafe] - st.members[run.rr, tsafe]
    left = np.maximum(st.members[run.rr, tsafe] - run.P.dismantle_below, 0.0)
    to_fall = np.where(shrink > 0, left / np.maximum(shrink, 1e-9), MAX_FALL)
    to_fall = np.where(has_t, np.clip(to_fall, 1.0, MAX_FALL), E_.fall_months)
    k = np.arange(E_.lookahead_rounds)
    months = np.where(k == 0, 0.0, to_fall[:, None] + np.maximum(k - 1, 0) * E_.fall_months)
    weights = E_.discount**months
    ahead = kernels.lookahead(
        base, per_unit, st.violence, st.alive, st.org_key, run.levels, E_.score_noise, weights,
        E_.lookahead_rounds + CONTENDERS_EXTRA,
    )  # fmt: skip
    is_target = np.zeros(st.alive.shape, bool)
    is_target[run.rr[has_t], tgt[has_t]] = True
    weigh = np.where(is_target, C.restraint, C.deterrence)
    return ahead * weigh[:, :, None]


def _clashes(run: _Run, st: _State, t: int, cand_ptr: np.ndarray) -> tuple:
    """Clashes on the attack candidates (one keyed uniform per edge decides attack and victory,
    a second the homicides); owners change in place."""
    V = run.V
    return kernels.clash(
        cand_ptr, st.cand, st.cand_u, st.hostile, st.owner, run.src, run.dst, st.root, run.h0, V.kin_hostility,
        _surge(run, st), _strength(run, st), st.violence, month_keys(run.keys, t, Stream.CLASH), run.edge_keys,
        run.inc_ptr, run.inc_idx, run.world.state, run.S, V.attack_rate, V.incumbent, V.deaths_per_clash,
        V.rival_share, V.rival_share_drop, st.focal_mask, run.has("regional") or run.panel,
    )  # fmt: skip


def _enforce(run: _Run, st: _State, t: int, revenue: np.ndarray, on: bool) -> tuple[np.ndarray, np.ndarray]:
    """The policy's added capacity as the policy says: members arrested from each organization
    ``(R, N)``, and the organization the targeted policy names (-1 for none)."""
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


def _published(run: _Run, st: _State, t: int) -> np.ndarray:
    """The published score: the points of the last months x max(0, 1 + noise x a standard
    normal drawn per organization key and month); -inf for the dismantled."""
    ik = st.org_item
    u1 = uniform_from(month_keys(run.keys, t, Stream.SCORE_NOISE)[:, None], ik)
    u2 = uniform_from(month_keys(run.keys, t, Stream.SCORE_NOISE_2)[:, None], ik)
    eps = np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
    noise = np.maximum(1.0 + run.E.score_noise * eps, 0.0)
    return np.where(st.alive, st.points_hist.sum(axis=1) * noise, -np.inf)


def _targeted(run: _Run, st: _State, t: int, hit: np.ndarray) -> np.ndarray:
    """Name the top of the published (noisy) score; the capacity arrests its members
    (incapacitation channel) and a share of its US buyers moves to the alive supplier with the
    lowest published score (buyers channel)."""
    E_, rr, C = run.E, run.rr, run.C
    published = _published(run, st, t)
    target = np.where(st.alive.any(axis=1), published.argmax(axis=1), -1)
    ok = target >= 0
    if C.incapacitation:
        hit[rr[ok], target[ok]] += run.share
    st.target_prev = target
    st.first_named = np.where(st.first_named < 0, target, st.first_named)
    if C.buyers:
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
    """Capacity on the organizations holding last month's most violent plazas: the
    ``hot_plazas`` with most homicides, and every plaza tied with the last of them."""
    R, N = run.R, run.N
    k = min(run.E.hot_plazas, run.M)
    d = st.last_deaths_plaza
    kth = -np.partition(-d, k - 1, axis=1)[:, k - 1 : k]
    hot = (d >= kth) & (d > 0) & (st.owner >= 0)
    tot = np.maximum((d * hot).sum(axis=1, keepdims=True), 1e-12)
    r_idx, m_idx = np.nonzero(hot)
    flat = r_idx * N + st.owner[r_idx, m_idx].astype(np.int64)
    hit += np.bincount(flat, weights=(run.share * d / tot)[r_idx, m_idx], minlength=R * N).reshape(R, N)


def _kingpin(run: _Run, st: _State, t: int, revenue: np.ndarray, hit: np.ndarray) -> None:
    """Capacity on the largest organization; every ``strike_interval`` months a strike removes
    its leader (and a share of its members), opening a succession fight and maybe a split."""
    E_, rr = run.E, run.rr
    rv = np.where(st.alive, revenue, -np.inf)
    struck = rv.argmax(axis=1)
    okk = np.isfinite(rv.max(axis=1))
    hit[rr[okk], struck[okk]] += run.share
    okk &= (t - E_.start_month) % E_.strike_interval == 0
    hit[rr[okk], struck[okk]] += E_.strike_hit * st.members[rr[okk], struck[okk]]
    st.succession[rr[okk], struck[okk]] = E_.succession_months
    st.strike_now = np.where(okk, struck, -1)
    u = uniform(run.keys, t, Stream.KINGPIN, np.zeros(run.R, np.uint64))
    # the split itself comes with the month's other splits, after the arrests (_people)
    st.struck = np.where(okk & (u < E_.splinter_probability), struck, -1)


def _people(run: _Run, st: _State, t: int, revenue: np.ndarray, young_held: np.ndarray, hit: np.ndarray,
            lost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Recruitment, arrests (status quo and policy) and members killed; splits; dismantling.
    Returns recruits and arrests per replicate."""
    P = run.P
    n = st.members
    alive = st.alive
    total = np.maximum((n * alive).sum(axis=1, keepdims=True), 1e-12)
    status_quo = P.arrests * n * alive / total
    policy = np.minimum(hit, n)
    arrested = np.minimum(status_quo + policy, n)
    per_member = revenue / np.maximum(n, 1e-12) / run.revenue_per_member
    pool = young_held / (young_held + P.pool_half * np.maximum(n, 1e-12)) / run.pool0
    recruits = P.recruitment * n * np.minimum(per_member, 3.0) ** P.revenue_elasticity * pool * alive
    st.members_prev = n.copy()
    shrunk = np.maximum(n - arrested - np.minimum(lost, n), 0.0)
    st.weakness = st.weakness * (11.0 / 12.0) + policy / np.maximum(n, 1e-12) * alive
    st.members = np.where(alive, shrunk + recruits, 0.0)
    # splits: a hazard that carries Prieto-Curiel et al.'s fragmentation flow (defection x n^2
    # members a month, a share split_share of an organization at a time), raised by enforcement
    hazard = P.defection * st.members / P.split_share + P.enforcement_split * policy / np.maximum(n, 1e-12)
    u = uniform_from(month_keys(run.keys, t, Stream.SPLIT)[:, None], st.org_item)
    split = alive & (u < hazard)
    kingpin = st.struck >= 0  # a strike's split (with a succession); at most one split a month each
    split[run.rr[kingpin], st.struck[kingpin]] = True
    _splits(run, st, t, split, kingpin)
    st.struck[:] = -1
    _dismantle(run, st)
    st.succession = np.maximum(st.succession - 1, 0)
    return recruits.sum(axis=1), arrested.sum(axis=1)


def _splits(run: _Run, st: _State, t: int, split: np.ndarray, kingpin: np.ndarray) -> None:
    """The organizations ``split`` marks ``(R, N)`` split: each new one (same lineage, so at kin
    hostility with its parent) takes a contiguous ``split_share`` of its parent's plazas, that
    share of its members and each of its buyers with that probability, in the next free slot
    (in the order of the parents' keys, so not of their positions); a split without a free slot
    is counted and does not happen. A kingpin strike's split (``kingpin`` ``(R,)``, the parent
    ``st.struck``) also opens a succession in the new organization."""
    rows, parents = np.nonzero(split & st.alive)
    if len(rows) == 0:
        return
    order = np.lexsort((st.org_key[rows, parents], rows))
    rows, parents = rows[order], parents[order]
    first = np.searchsorted(rows, rows)  # where each replicate's splits start
    child = st.next_slot[rows] + (np.arange(len(rows)) - first)
    free = child < run.N
    np.add.at(st.blocked, rows[~free], 1)
    rows, parents, child = rows[free], parents[free], child[free]
    if len(rows) == 0:
        return
    np.add.at(st.next_slot, rows, 1)
    share = run.P.split_share
    pkey = st.org_key[rows, parents]
    kernels.split_many(
        st.owner, st.hostile, st.supplier, rows, parents, child, share,
        month_keys(run.keys, t, Stream.SPLINTER_PLAZAS)[rows] ^ pkey, run.plaza_keys,
        month_keys(run.keys, t, Stream.SPLINTER_BUYERS)[rows] ^ pkey, run.buyer_keys,
        run.src, run.dst, run.inc_ptr, run.inc_idx, run.adj_ptr, run.adj_idx,
    )  # fmt: skip
    with np.errstate(over="ignore"):  # the new organization's key: its parent's, the month and its slot
        salt = (np.uint64(t * 1024) + child.astype(np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
        st.org_key[rows, child] = mix64(pkey ^ mix64(salt))
    st.org_item[rows, child] = item_keys(st.org_key[rows, child])
    for name in ("members", "members_prev"):
        a = getattr(st, name)
        a[rows, child] = a[rows, parents] * share
        a[rows, parents] *= 1.0 - share
    st.alive[rows, child] = True
    st.violence[rows, child] = st.violence[rows, parents]
    st.root[rows, child] = st.root[rows, parents]
    st.weakness[rows, child] = st.weakness[rows, parents]
    st.points_hist[rows, :, child] = 0.0
    struck = kingpin[rows] & (st.struck[rows] == parents)
    st.succession[rows[struck], child[struck]] = run.E.succession_months


def _dismantle(run: _Run, st: _State) -> None:
    """Below ``dismantle_below`` members an organization is dismantled: its plazas are left
    empty and its buyers go to the largest organization left."""
    gone = st.alive & (st.members < run.P.dismantle_below)
    if not gone.any():
        return
    st.alive &= ~gone
    st.members = np.where(st.alive, st.members, 0.0)
    kernels.dismantle(gone, st.owner, st.hostile, run.src, run.dst, run.inc_ptr, run.inc_idx)
    st.violence = np.where(st.alive, st.violence, 0.0)
    best = np.asarray(np.where(st.alive, st.members, -np.inf).argmax(axis=1))
    orphan = np.take_along_axis(gone, st.supplier, axis=1) & np.asarray(st.alive.any(axis=1))[:, None]
    st.supplier = np.where(orphan, best[:, None], st.supplier)


def _record_people(run: _Run, st: _State, out: Outputs, t: int, on: bool) -> None:
    n0 = run.n0
    out.members[:, t] = st.members.sum(axis=1)
    if out.org_members.shape[2]:
        out.org_members[:, t] = st.members
        out.org_violence[:, t] = np.where(st.alive, st.violence, np.nan)
    out.alive[:, t] = st.alive.sum(axis=1)
    out.splits[:, t] = st.next_slot - n0
    out.splits_blocked[:, t] = st.blocked
    out.dismantled[:, t] = st.next_slot - st.alive.sum(axis=1)
    v = np.where(st.alive, st.violence, np.nan)
    n_alive = st.alive.sum(axis=1)
    out.violence_mean[:, t] = np.where(n_alive > 0, np.nansum(v, axis=1) / np.maximum(n_alive, 1), np.nan)
    if on:
        first = np.where(st.first_named >= 0, st.first_named, out.focal)
        others = st.alive.copy()
        others[run.rr, first] = False
        k = others.sum(axis=1)
        out.rival_violence[:, t] = np.where(
            k > 0, (st.violence * others).sum(axis=1) / np.maximum(k, 1), np.nan
        )


__all__ = ["KINDS", "SOURCES", "Outputs", "replicate_keys", "simulate"]
