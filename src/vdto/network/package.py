"""The enforcement package: which US buyers to pressure so the target loses the most revenue.

Pure functions over a :class:`~vdto.network.graph.SupplyNetwork`'s frames, computed with NumPy
and SciPy sparse arrays. :func:`enforcement_package` takes the target's supply
(:mod:`vdto.network.supply`), splits it into revenue units (pieces of supply, each with the
candidate buyers on its path and its value to the target), chooses the cases under a budget
(number of cases or agent-hours) that deny the target the most revenue (:mod:`vdto.network.selection`:
an exact coverage MILP with SciPy's HiGHS, with a greedy fallback) and returns a :class:`Package`.
:mod:`vdto.network.substitution` says where the pressured buyers would take their business and
who may take over the target's territory.

docs/network.md describes the model, its assumptions and why the candidate pruning is safe.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from vdto.errors import VdtoError
from vdto.network.graph import BUYER_TYPES, NodeType, SupplyNetwork
from vdto.network.selection import Solution, _select, _Selection
from vdto.network.supply import _paths, _propagate, _ranges, _Shares, _Supply
from vdto.render import fmt

#: Default time limit of the MILP (seconds) before falling back to greedy.
DEFAULT_TIME_LIMIT = 20.0
#: Largest pruned MILP (columns) handed to HiGHS; larger ones go to greedy (HiGHS's presolve does
#: not stop at the time limit: it ran for 291 s on a 247,395-column model with a 5 s limit).
MILP_COLUMN_LIMIT = 20_000
#: Most revenue units (path pieces) the package builds before giving up with an error.
MAX_UNITS = 20_000_000


# ---------------------------------------------------------------------------------------------
# revenue units


@dataclass
class _Units:
    """Revenue units: pieces of the target's supply, each with the set of candidate buyers its
    path passes through (``member``: units × candidates) and its value to the target."""

    cand: np.ndarray  # node index of each candidate
    member: sp.csr_matrix
    value: np.ndarray
    price: np.ndarray  # per node, NaN filled
    notes: list[str]


def _fill_prices(net: SupplyNetwork, g: _Supply) -> tuple[np.ndarray, list[str]]:
    """Node prices with missing buyer prices filled by the median of their type (1 when none is
    known), and a note for each type filled."""
    price = net.nodes["price"].to_numpy(dtype=float).copy()
    notes: list[str] = []
    for t in sorted(BUYER_TYPES):
        is_t = g.of_type(t)
        missing = is_t & np.isnan(price)
        if not missing.any():
            continue
        known = price[is_t & ~np.isnan(price)]
        fill = float(np.median(known)) if len(known) else 1.0
        price[missing] = fill
        how = f"the median {t} price ({fill:,.2f})" if len(known) else "1 (revenue counted in volume units)"
        notes.append(f"{int(missing.sum())} {t}(s) without a price valued at {how}")
    return price, notes


def _units(sh: _Shares, net: SupplyNetwork, max_units: int) -> _Units:
    """The target's supply split into revenue units over the candidate buyers (the US buyers it
    reaches); more than ``max_units`` pieces raise :class:`VdtoError`."""
    g = sh.g
    n = g.n
    is_buyer = g.of_type(*BUYER_TYPES) & sh.reach & ~sh.is_t
    cand = np.flatnonzero(is_buyer)
    local = np.full(n, -1, dtype=np.int64)
    local[cand] = np.arange(len(cand))
    price, notes = _fill_prices(net, g)
    # the target's supply retained (sold on outside the network) at each candidate
    retained = np.clip(sh.inflow - sh.outflow, 0.0, None) * sh.share
    entry, back = _back_links(sh, is_buyer)
    node, parent, amt = _expand_paths(cand[retained[cand] > 0], retained, back, max_units)
    amt = amt * entry[node]  # the part of the piece that entered at node
    value = amt * price[node]  # valued at the price the first US buyer on the path pays
    units = np.flatnonzero(value > 0)
    member = _membership(units, node, parent, local, len(cand))
    return _Units(cand, member, value[units], price, notes)


@dataclass
class _BackLinks:
    """Supply edges between candidate buyers, grouped by buyer (``indptr`` over node index): the
    seller of each and the fraction of the target's supply at the buyer that came through it."""

    src: np.ndarray
    frac: np.ndarray
    indptr: np.ndarray


def _back_links(sh: _Shares, is_buyer: np.ndarray) -> tuple[np.ndarray, _BackLinks]:
    """The part of the target's supply at each node that entered there (not through another
    candidate buyer), and the links back to the candidate buyers it came through."""
    g = sh.g
    n = g.n
    # backward fractions: of the target's supply at c, the part that came through buyer p
    bb = np.flatnonzero(is_buyer[g.src] & is_buyer[g.dst])
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(
            sh.share[g.dst[bb]] > 0, g.eshare[bb] * sh.share[g.src[bb]] / sh.share[g.dst[bb]], 0.0
        )
    entry = np.clip(1.0 - np.bincount(g.dst[bb], weights=frac, minlength=n), 0.0, 1.0)
    o = np.argsort(g.dst[bb], kind="stable")
    indptr = np.searchsorted(g.dst[bb][o], np.arange(n + 1))
    return entry, _BackLinks(g.src[bb][o], frac[o], indptr)


def _expand_paths(
    start: np.ndarray, retained: np.ndarray, back: _BackLinks, max_units: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Path records expanded backwards from where the supply ends (``start``): each record's
    node, parent record (-1 for none) and amount of the target's supply."""
    rec_node = [start]
    rec_parent = [np.full(len(start), -1, dtype=np.int64)]
    rec_amt = [retained[start]]
    front_node, front_amt, front_id = start, retained[start], np.arange(len(start))
    total = len(start)
    while len(front_node):
        lo, hi = back.indptr[front_node], back.indptr[front_node + 1]
        k = hi - lo
        if not k.any():
            break
        pos = _ranges(lo, hi)
        nn = back.src[pos]
        amt = np.repeat(front_amt, k) * back.frac[pos]
        par = np.repeat(front_id, k)
        keep = amt > 0
        nn, amt, par = nn[keep], amt[keep], par[keep]
        ids = np.arange(total, total + len(nn))
        total += len(nn)
        if total > max_units:
            raise VdtoError(
                f"the target's supply splits into more than {max_units:,} paths through buyers",
                "enforcement_package",
                "merge parallel chains of buyers, or raise max_units",
            )
        rec_node.append(nn)
        rec_parent.append(par)
        rec_amt.append(amt)
        front_node, front_amt, front_id = nn, amt, ids
    return np.concatenate(rec_node), np.concatenate(rec_parent), np.concatenate(rec_amt)


def _membership(
    units: np.ndarray, node: np.ndarray, parent: np.ndarray, local: np.ndarray, n_cand: int
) -> sp.csr_matrix:
    """Units × candidates: every candidate on each unit's path (``local``: node -> candidate)."""
    r_idx, c_idx = [], []
    cur, uid = units, np.arange(len(units))
    while len(cur):
        r_idx.append(uid)
        c_idx.append(local[node[cur]])
        nxt = parent[cur]
        ok = nxt >= 0
        cur, uid = nxt[ok], uid[ok]
    rows = np.concatenate(r_idx) if r_idx else np.empty(0, dtype=np.int64)
    cols = np.concatenate(c_idx) if c_idx else np.empty(0, dtype=np.int64)
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(len(units), n_cand))


# ---------------------------------------------------------------------------------------------
# the package


@dataclass
class Package(Solution):
    """An enforcement package against one target organization.

    ``buyers``: every US wholesaler and distributor the target supplies (directly or through
    intermediaries), with ``share``, ``volume`` and ``revenue`` as in :func:`supply_shares`,
    ``revenue_at_stake`` (the target's revenue denied if this buyer alone is pressured),
    ``hours`` (node cost), ``budget_cost`` (what one case against it takes from the budget),
    ``path`` and ``selected``. ``selected``: the chosen cases in the order each adds the most,
    with ``denied`` (what it adds) and ``cumulative``. ``objective``: the revenue denied by the
    selection (US$ per year when volumes are per year and prices per unit). ``bound``: the
    smallest known upper bound on the best possible (HiGHS's dual bound, the LP relaxation of
    the pruned MILP, the fractional knapsack of stand-alone values, and for greedy objective /
    guarantee); ``gap``: (bound - objective) / bound. ``lp_bound`` and ``lp_gap``: the LP
    relaxation alone (None when the pruned MILP was too large to try). ``mip_gap``: HiGHS's
    final relative gap. ``size``: candidates, revenue units, candidates kept after pruning and
    the MILP's variables, binaries and constraints.
    """

    target: str
    target_name: str
    budget: float
    budget_kind: str
    total_revenue: float
    buyers: pd.DataFrame
    selected: pd.DataFrame
    size: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def denied_share(self) -> float:
        return self.objective / self.total_revenue if self.total_revenue > 0 else 0.0

    def summary(self) -> dict[str, object]:
        """Key figures as one flat mapping (for printing or JSON)."""
        return {
            "target": self.target,
            "target_name": self.target_name,
            "budget": self.budget,
            "budget_kind": self.budget_kind,
            "method": self.method,
            "status": self.status,
            "buyers_reached": len(self.buyers),
            "cases_selected": len(self.selected),
            "budget_used": float(self.selected["budget_cost"].sum()) if len(self.selected) else 0.0,
            "revenue_denied": self.objective,
            "revenue_total": self.total_revenue,
            "denied_share": self.denied_share,
            "bound": self.bound,
            "gap": self.gap,
            "lp_bound": self.lp_bound,
            "lp_gap": self.lp_gap,
            "greedy_objective": self.greedy_objective,
            "mip_gap": self.mip_gap,
            "guarantee": self.guarantee,
            "solve_seconds": self.solve_seconds,
            **{f"size_{k}": v for k, v in self.size.items()},
        }

    def summary_text(self) -> dict[str, str]:
        """:meth:`summary` as a reader takes it in: money in US dollars a year, shares and gaps
        as percentages, seconds with their unit, budgets in cases or agent-hours, counts with
        thousands separators, three meaningful digits at most and solver noise (below 1e-12) as
        0. :meth:`summary` keeps every value at full precision for files."""
        unit = "agent-hours" if self.budget_kind == "hours" else "cases"

        def gap(x: object) -> str:  # a relative gap: 2.1e-15 -> "0%", 0.0123 -> "1.23%"
            return f"{fmt.sig(100 * x)}%" if isinstance(x, int | float) and fmt.finite(x) else fmt.MISSING

        def usd(x: object) -> str:
            return fmt.MISSING if not fmt.finite(x) else f"{fmt.money(x)} a year"

        rules: dict[str, Callable[[object], str]] = {
            "budget": lambda x: f"{fmt.sig(x)} {unit}",
            "budget_used": lambda x: f"{fmt.sig(x)} {unit}",
            "revenue_denied": usd,
            "revenue_total": usd,
            "bound": usd,
            "lp_bound": usd,
            "greedy_objective": usd,
            "denied_share": fmt.pct,
            "gap": gap,
            "lp_gap": gap,
            "mip_gap": gap,
            "solve_seconds": lambda x: f"{fmt.sig(x)} s" if fmt.finite(x) else fmt.MISSING,
        }
        return {k: rules[k](v) if k in rules else fmt.cell(v, k) for k, v in self.summary().items()}


def enforcement_package(
    net: SupplyNetwork,
    target: str,
    budget: float,
    *,
    budget_kind: str = "cases",
    solver: str = "milp",
    time_limit: float = DEFAULT_TIME_LIMIT,
    mip_rel_gap: float = 0.0,
    max_units: int = MAX_UNITS,
    max_milp_columns: int = MILP_COLUMN_LIMIT,
) -> Package:
    """The cases to build under ``budget`` that deny the target organization the most revenue.

    Pressuring a buyer makes it switch suppliers, which denies the target the revenue of all of
    its supply that flows through that buyer. The target's supply is split into revenue units
    (each piece of supply from where it enters a US buyer to where it leaves the network), each
    valued at the price its first US buyer pays; a unit is denied when any buyer on its path is
    pressured, so a wholesaler and one of its distributors never count the same revenue twice.
    The selection maximises the denied value: binary ``x_b`` per candidate buyer, ``y_u <= sum
    x_b`` over the buyers on unit u's path, ``sum cost_b x_b <= budget``.

    ``budget_kind`` is ``"cases"`` (each buyer costs one case) or ``"hours"`` (agent-hours from
    the node ``cost`` column). ``solver="milp"`` solves exactly after safe pruning
    (docs/network.md): when the LP relaxation of the pruned model has an integral optimum that
    is the answer, otherwise SciPy's HiGHS branches (``time_limit`` seconds for the LP and for
    the MILP, relative gap ``mip_rel_gap``). ``"greedy"``, a MILP that fails or stops at its time
    limit, and a pruned model of more than ``max_milp_columns`` columns use the greedy
    heuristic, and the result says so (``method="greedy"``, ``status``, ``notes`` and the
    guarantee). ``max_units`` caps the number of revenue units (an error beyond it).
    """
    t_all = time.perf_counter()
    _check_options(budget, budget_kind, solver)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    sh = _propagate(net, target)
    timings["shares"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    un = _units(sh, net, max_units)
    timings["units"] = time.perf_counter() - t0
    hours, cost = _case_costs(net, sh, un.cand, budget_kind)
    sel = _select(
        un.member,
        un.value,
        cost,
        float(budget),
        unit_cost=budget_kind == "cases",
        solver=solver,
        time_limit=time_limit,
        mip_rel_gap=mip_rel_gap,
        max_milp_columns=max_milp_columns,
        timings=timings,
    )
    t0 = time.perf_counter()
    buyers, selected = _tables(net, sh, un.cand, sel, hours, cost)
    timings["tables"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_all
    return _package(net, sh, float(budget), budget_kind, un, sel, buyers, selected, timings)


def _check_options(budget: float, budget_kind: str, solver: str) -> None:
    """Raise :class:`VdtoError` for an unknown budget kind or solver, or a budget that is not a
    positive finite number."""
    if budget_kind not in ("cases", "hours"):
        raise VdtoError(f"unknown budget kind {budget_kind!r}", "budget_kind", "use 'cases' or 'hours'")
    if solver not in ("milp", "greedy"):
        raise VdtoError(f"unknown solver {solver!r}", "solver", "use 'milp' or 'greedy'")
    if isinstance(budget, bool) or not (
        isinstance(budget, numbers.Real) and math.isfinite(budget) and budget > 0
    ):
        raise VdtoError(f"budget must be a positive number (got {budget!r})", "budget", "pass a budget > 0")


def _case_costs(
    net: SupplyNetwork, sh: _Shares, cand: np.ndarray, budget_kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's agent-hours (the node ``cost``) and what a case against it takes from the
    budget: its hours, or 1 for a budget in cases. Hours must be known for a budget in hours."""
    hours = net.nodes["cost"].to_numpy(dtype=float)[cand]
    if budget_kind != "hours":
        return hours, np.ones(len(cand))
    missing = np.flatnonzero(np.isnan(hours) | (hours <= 0))
    if len(missing):
        raise VdtoError(
            f"{sh.g.types[cand[missing[0]]]} {sh.g.ids[cand[missing[0]]]!r} has no cost in agent-hours"
            f" ({len(missing)} candidate buyer(s) without one)",
            "nodes.cost",
            "fill the cost column for every wholesaler and distributor, or use a budget in cases",
        )
    return hours, hours


def _tables(
    net: SupplyNetwork, sh: _Shares, cand: np.ndarray, sel: _Selection, hours: np.ndarray, cost: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The package's ``buyers`` (every candidate, by revenue at stake) and ``selected`` (the
    chosen cases in order, with what each denies) tables."""
    depth, paths = _paths(sh, cand)
    nodes = net.nodes.iloc[cand]
    vol = sh.share[cand] * sh.inflow[cand]
    price = nodes["price"].to_numpy(dtype=float)
    buyers = pd.DataFrame(
        {
            "id": nodes["id"].to_numpy(),
            "type": nodes["type"].astype(str).to_numpy(),
            "name": nodes["name"].to_numpy(),
            "region": nodes["region"].to_numpy(),
            "share": sh.share[cand],
            "volume": vol,
            "price": price,
            "revenue": vol * price,
            "revenue_at_stake": sel.v_alone,
            "hours": hours,
            "budget_cost": cost,
            "depth": depth,
            "path": paths,
            "selected": np.isin(np.arange(len(cand)), sel.order),
        }
    )
    selected = buyers.iloc[sel.order].copy()
    selected.insert(0, "order", np.arange(1, len(sel.order) + 1))
    selected["denied"] = sel.gains
    selected["cumulative"] = np.cumsum(sel.gains)
    selected = selected.reset_index(drop=True)
    buyers = buyers.sort_values(["revenue_at_stake", "id"], ascending=[False, True], kind="stable")
    return buyers.reset_index(drop=True), selected


def _package(
    net: SupplyNetwork,
    sh: _Shares,
    budget: float,
    budget_kind: str,
    un: _Units,
    sel: _Selection,
    buyers: pd.DataFrame,
    selected: pd.DataFrame,
    timings: dict[str, float],
) -> Package:
    """The :class:`Package`, named after the target's organization node (or its first node)."""
    name = net.nodes["name"].to_numpy(dtype=object)[sh.tnodes]
    types = sh.g.types[sh.tnodes]
    org_names = name[types == NodeType.ORGANIZATION.value]
    return Package(
        **sel.solution(),
        target=sh.target,
        target_name=str(org_names[0] if len(org_names) else name[0]),
        budget=budget,
        budget_kind=budget_kind,
        total_revenue=float(un.value.sum()),
        buyers=buyers,
        selected=selected,
        size=sel.size,
        timings=timings,
        notes=[*un.notes, *sel.notes],
    )
