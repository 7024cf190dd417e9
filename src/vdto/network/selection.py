"""Choosing the cases: budgeted maximum coverage of the target's revenue units.

The candidates are US buyers, each with a cost; a revenue unit is denied when any candidate on
its path is chosen (``member``: units × candidates, ``value``: each unit's value). This module
finds the selection within the budget that denies the most value, knowing nothing of networks:

- safe pruning (:func:`_prune`, :func:`_bound_prune`) and reduction (:func:`_reduce`) of the
  candidates, then the coverage model (:func:`_model`), whose LP relaxation and MILP are solved
  with SciPy's HiGHS (:func:`_lp_relaxation`, :func:`_solve_milp`);
- the lazy greedy heuristic (:func:`_greedy`), the fallback and a lower bound;
- :func:`_select`, which runs them in that order and returns the selection with its bounds.

docs/network.md describes the model and why the pruning is safe.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, fields

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

#: Greedy guarantees for budgeted maximum coverage.
GUARANTEE_CASES = 1.0 - 1.0 / math.e
GUARANTEE_HOURS = 0.5 * (1.0 - 1.0 / math.e)


def _budget_slots(cost: np.ndarray, budget: float) -> int:
    """Most candidates that fit in the budget together (cheapest first)."""
    return int(np.searchsorted(np.cumsum(np.sort(cost)), budget * (1 + 1e-12), side="right"))


def _prune(member: sp.csr_matrix, value: np.ndarray, cost: np.ndarray, budget: float) -> np.ndarray:
    """Candidates that can be left out of the MILP without changing its optimum (mask of kept).

    Dropped: candidates that deny nothing or cost more than the whole budget, and every
    candidate b outside a witness pool that has at least k pool members a, each no dearer than
    b, with ``h(a) >= v(b)``: ``v(b)`` is the revenue b denies alone and ``h(a)`` a lower bound on
    what a adds to any selection of up to k - 1 others (its value minus its k - 1 largest
    overlaps), k being the most cases the budget can pay for. See docs/network.md for the proof.
    """
    nc = member.shape[1]
    mt = member.T.tocsr()
    v = np.asarray(mt @ value).ravel()
    keep = (v > 0) & (cost <= budget * (1 + 1e-12))
    k = _budget_slots(cost[keep], budget)
    if k == 0:
        return np.zeros(nc, dtype=bool)
    if k >= keep.sum():
        return keep
    # overlaps: value of units containing both a and t
    ov = (mt.multiply(value[None, :]).tocsr() @ member).tocoo()
    off = ov.row != ov.col
    ov = sp.csr_matrix((ov.data[off], (ov.row[off], ov.col[off])), shape=(nc, nc))
    rows = np.repeat(np.arange(nc), np.diff(ov.indptr))
    # what k - 1 others can take from a: at most its k - 1 largest overlaps ...
    o = np.lexsort((-ov.data, rows))
    rank = np.arange(len(o)) - ov.indptr[rows[o]]
    top = np.bincount(rows[o][rank < k - 1], weights=ov.data[o][rank < k - 1], minlength=nc)
    # ... and at most a fractional knapsack of its overlaps within the budget
    c_t = cost[ov.indices]
    o = np.lexsort((-ov.data / c_t, rows))
    csum = np.cumsum(c_t[o])
    csum -= np.repeat(np.r_[0.0, csum][ov.indptr[:-1]], np.diff(ov.indptr))
    frac = np.clip((budget - (csum - c_t[o])) / c_t[o], 0.0, 1.0)
    knap = np.bincount(rows[o], weights=ov.data[o] * frac, minlength=nc)
    h = np.where(keep, v - np.minimum(top, knap), -np.inf)
    # equal costs: the k best are the witnesses; otherwise a larger pool offers cheaper ones
    equal = bool(np.all(cost[keep] == cost[keep][0]))
    pool_size = k if equal else min(int(keep.sum()), 4 * k + 100)
    pool = np.argsort(-h, kind="stable")[:pool_size]
    in_pool = np.zeros(nc, dtype=bool)
    in_pool[pool] = True
    # kth[i]: the k-th largest h among the i cheapest pool members
    po = pool[np.argsort(cost[pool], kind="stable")]
    pcost = cost[po]
    kth = np.full(len(po) + 1, -np.inf)
    heap: list[float] = []
    for i, a in enumerate(po):
        if len(heap) < k:
            heapq.heappush(heap, float(h[a]))
        elif h[a] > heap[0]:
            heapq.heapreplace(heap, float(h[a]))
        if len(heap) == k:
            kth[i + 1] = heap[0]
    i_b = np.searchsorted(pcost, cost, side="right")
    dominated = (~in_pool) & (kth[i_b] >= v)
    return keep & ~dominated


@dataclass
class _Reduced:
    kept: np.ndarray  # candidate indices kept
    coef: np.ndarray  # value of units whose only kept member is the candidate
    sets: list[np.ndarray]  # units with two or more kept members (positions in kept)
    set_value: np.ndarray


def _reduce(member: sp.csr_matrix, value: np.ndarray, keep: np.ndarray) -> _Reduced:
    kept = np.flatnonzero(keep)
    mk = member[:, kept].tocsr()
    cnt = np.diff(mk.indptr)
    one = cnt == 1
    coef = np.bincount(mk.indices[np.repeat(one, cnt)], weights=value[one], minlength=len(kept))
    groups: dict[tuple[int, ...], float] = {}
    for u in np.flatnonzero(cnt >= 2):
        key = tuple(sorted(mk.indices[mk.indptr[u] : mk.indptr[u + 1]].tolist()))
        groups[key] = groups.get(key, 0.0) + float(value[u])
    sets = [np.array(s, dtype=np.int64) for s in groups]
    return _Reduced(kept, coef, sets, np.array(list(groups.values()), dtype=float))


def _model(red: _Reduced, cost: np.ndarray, budget: float):
    nk, ny = len(red.kept), len(red.sets)
    c = -np.concatenate([red.coef, red.set_value])
    lens = np.array([len(s) for s in red.sets], dtype=np.int64)
    rows = np.concatenate([np.repeat(np.arange(ny), lens), np.arange(ny), np.full(nk, ny)])
    cols = np.concatenate(
        [np.concatenate(red.sets) if ny else np.empty(0, np.int64), nk + np.arange(ny), np.arange(nk)]
    )
    data = np.concatenate([-np.ones(int(lens.sum())), np.ones(ny), cost[red.kept]])
    a = sp.csr_matrix((data, (rows, cols)), shape=(ny + 1, nk + ny))
    ub = np.concatenate([np.zeros(ny), [budget]])
    return c, a, ub


def _bound_prune(
    v: np.ndarray, cost: np.ndarray, budget: float, keep: np.ndarray, lower: float
) -> np.ndarray:
    """Mask of candidates that can be in an optimal selection, given a feasible value ``lower``.

    A selection containing b denies at most ``v(b) + K(budget - cost(b))``, K being the best
    fractional knapsack of the other candidates' stand-alone values; when that is below
    ``lower`` (what a known selection denies), b is in no optimal selection.
    """
    kept = np.flatnonzero(keep)
    if not len(kept) or lower <= 0:
        return keep.copy()
    o = kept[np.argsort(-v[kept] / cost[kept], kind="stable")]
    xs = np.r_[0.0, np.cumsum(cost[o])]
    ys = np.r_[0.0, np.cumsum(v[o])]
    upper = v + np.interp(np.clip(budget - cost, 0.0, None), xs, ys)
    return keep & (upper >= lower * (1 - 1e-9))


def _knapsack_bound(v: np.ndarray, cost: np.ndarray, budget: float) -> float:
    """Upper bound on the optimum: the best fractional knapsack of stand-alone values (a set
    denies at most the sum of what its members deny alone)."""
    if not len(v):
        return 0.0
    o = np.argsort(-v / cost, kind="stable")
    csum = np.cumsum(cost[o])
    frac = np.clip((budget - (csum - cost[o])) / cost[o], 0.0, 1.0)
    return float((v[o] * frac).sum())


def _denied(member: sp.csr_matrix, value: np.ndarray, chosen: np.ndarray) -> float:
    if not len(chosen):
        return 0.0
    hit = np.asarray(member[:, chosen].sum(axis=1)).ravel() > 0
    return float(value[hit].sum())


def _greedy(
    member: sp.csr_matrix, value: np.ndarray, cost: np.ndarray, budget: float, unit_cost: bool
) -> tuple[list[int], str]:
    """Lazy greedy for budgeted maximum coverage (gain per unit of cost)."""
    mt = member.T.tocsr()
    v = np.asarray(mt @ value).ravel()
    covered = np.zeros(len(value), dtype=bool)
    ok = np.flatnonzero((v > 0) & (cost <= budget * (1 + 1e-12)))
    heap = list(zip((-(v[ok] / cost[ok])).tolist(), ok.tolist(), strict=True))
    heapq.heapify(heap)
    left = float(budget) * (1 + 1e-12)
    chosen: list[int] = []
    total = 0.0
    while heap:
        _, b = heapq.heappop(heap)
        if cost[b] > left:
            continue
        us = mt.indices[mt.indptr[b] : mt.indptr[b + 1]]
        gain = float(value[us][~covered[us]].sum())
        ratio = gain / cost[b]
        if heap and ratio < -heap[0][0]:
            heapq.heappush(heap, (-ratio, b))
            continue
        if gain <= 0:
            break
        chosen.append(b)
        covered[us] = True
        total += gain
        left -= cost[b]
    how = "greedy (largest denied revenue per case)"
    if not unit_cost and len(ok):
        best = int(ok[np.argmax(v[ok])])
        if v[best] > total:
            return [best], "best single case (it beats the cost-benefit greedy)"
        how = "greedy (largest denied revenue per agent-hour)"
    return chosen, how


def _order_selected(
    member: sp.csr_matrix, value: np.ndarray, chosen: list[int]
) -> tuple[list[int], list[float]]:
    """Selected candidates in the order each adds the most (lazy greedy), with what each adds."""
    mt = member.T.tocsr()
    covered = np.zeros(len(value), dtype=bool)
    heap = [(-float(value[mt.indices[mt.indptr[b] : mt.indptr[b + 1]]].sum()), b) for b in chosen]
    heapq.heapify(heap)
    order, gains = [], []
    while heap:
        _, b = heapq.heappop(heap)
        us = mt.indices[mt.indptr[b] : mt.indptr[b + 1]]
        gain = float(value[us][~covered[us]].sum())
        if heap and gain < -heap[0][0]:
            heapq.heappush(heap, (-gain, b))
            continue
        covered[us] = True
        order.append(b)
        gains.append(gain)
    return order, gains


# ---------------------------------------------------------------------------------------------
# the whole selection: prune, solve exactly or fall back to greedy


@dataclass
class _Pruned:
    """What is left after both pruning rules (reduced), and the greedy selection made on the way."""

    red: _Reduced
    v_alone: np.ndarray  # value each candidate denies alone
    greedy_chosen: np.ndarray
    greedy_how: str
    greedy_objective: float


@dataclass
class _Model:
    """The pruned coverage MILP: minimise ``c @ [x, y]`` subject to ``a @ [x, y] <= ub``, with
    ``nk`` binaries x (the kept candidates) then ``ny`` continuous y (the shared units); ``c`` is
    divided by ``scale`` so that it lies in [-1, 0]."""

    red: _Reduced
    c: np.ndarray
    a: sp.csr_matrix
    ub: np.ndarray
    scale: float

    @property
    def nk(self) -> int:
        return len(self.red.kept)

    @property
    def ny(self) -> int:
        return len(self.red.sets)

    def size(self, member: sp.csr_matrix) -> dict[str, int]:
        """Candidates and revenue units before pruning; kept candidates, variables, binaries and
        constraints of the model."""
        return {
            "candidates": member.shape[1],
            "units": member.shape[0],
            "kept": int(self.nk),
            "variables": int(self.nk + self.ny),
            "binaries": int(self.nk),
            "constraints": int(self.a.shape[0]),
        }


@dataclass
class _Solved:
    """How the selection was made: by the MILP or, falling back, by greedy."""

    method: str
    status: str
    guarantee: str
    chosen: list[int]
    mip_gap: float | None
    solve_seconds: float
    dual_bound: float | None  # HiGHS's bound on the optimum, when it gives one
    notes: list[str]


@dataclass
class Solution:
    """How a selection was made and how good it is (a :class:`~vdto.network.package.Package`
    carries the same fields; see its docstring)."""

    method: str
    status: str
    guarantee: str
    objective: float
    bound: float
    gap: float
    lp_bound: float | None
    lp_gap: float | None
    mip_gap: float | None
    greedy_objective: float
    solve_seconds: float

    def solution(self) -> dict:
        """The :class:`Solution` fields of this object, by name."""
        return {f.name: getattr(self, f.name) for f in fields(Solution)}


@dataclass
class _Selection(Solution):
    """The chosen candidates (in the order each adds the most) and how good the choice is."""

    order: list[int]
    gains: list[float]
    v_alone: np.ndarray
    size: dict[str, int]
    notes: list[str]


def _prune_with_greedy(
    member: sp.csr_matrix,
    value: np.ndarray,
    cost: np.ndarray,
    budget: float,
    unit_cost: bool,
    timings: dict[str, float],
) -> _Pruned:
    """Prune by dominance, run greedy on the rest, then prune by bound against greedy's value."""
    t0 = time.perf_counter()
    keep = _prune(member, value, cost, budget)
    timings["prune"] = time.perf_counter() - t0
    # greedy on what is left: the fallback, and a lower bound for the second pruning rule
    t0 = time.perf_counter()
    kept0 = np.flatnonzero(keep)
    picked, how = _greedy(member[:, kept0].tocsr(), value, cost[kept0], budget, unit_cost)
    greedy_chosen = kept0[np.array(picked, dtype=np.int64)]
    greedy_objective = _denied(member, value, greedy_chosen)
    timings["greedy"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    v_alone = np.asarray(member.T @ value).ravel()
    keep &= _bound_prune(v_alone, cost, budget, keep, greedy_objective)
    red = _reduce(member, value, keep)
    timings["prune"] += time.perf_counter() - t0
    return _Pruned(red, v_alone, greedy_chosen, how, greedy_objective)


def _scaled_model(red: _Reduced, cost: np.ndarray, budget: float) -> _Model:
    """The coverage model of the reduced candidates, its objective scaled to [-1, 0]."""
    c, a, ub = _model(red, cost, budget)
    scale = float(np.abs(c).max()) if len(c) and np.abs(c).max() > 0 else 1.0
    return _Model(red, c / scale, a, ub, scale)  # HiGHS works best on well-scaled costs


def _lp_relaxation(
    m: _Model, cost: np.ndarray, budget: float, time_limit: float
) -> tuple[float | None, np.ndarray | None]:
    """The LP relaxation's optimum (None when HiGHS does not reach it) and, when that optimum is
    integral and within the budget, the candidates it selects."""
    nk = m.nk
    lp = linprog(
        m.c, A_ub=m.a, b_ub=m.ub, bounds=(0, 1), method="highs", options={"time_limit": float(time_limit)}
    )
    if lp.status != 0:
        return None, None
    lp_bound = float(-lp.fun) * m.scale
    xr = np.round(lp.x[:nk])
    if np.all(np.abs(lp.x[:nk] - xr) <= 1e-7) and cost[m.red.kept] @ xr <= budget * (1 + 1e-12):
        return lp_bound, m.red.kept[np.flatnonzero(xr > 0.5)]
    return lp_bound, None


def _solve_milp(
    m: _Model,
    lp_integral: np.ndarray | None,
    small: bool,
    max_milp_columns: int,
    time_limit: float,
    mip_rel_gap: float,
) -> tuple[str, str, list[int], float | None, float | None]:
    """Solve the model exactly: ``(method, status, chosen, mip_gap, dual_bound)``.

    ``method`` turns ``"greedy"`` when the model is too large (not ``small``), HiGHS fails or
    stops short of an optimum; ``dual_bound`` is HiGHS's bound on the optimum, when it gives one.
    """
    nk, ny = m.nk, m.ny
    method, status, mip_gap, dual_bound = "milp", "", None, None
    chosen: list[int] = []
    res = None
    if nk == 0:
        status = "optimal (nothing to select)"
    elif lp_integral is not None:
        # an integral optimum of the relaxation is optimal for the MILP: no branching needed
        chosen = lp_integral.tolist()
        status = "optimal (the LP relaxation has an integral optimum)"
        mip_gap = 0.0
    elif not small:
        status = f"MILP not attempted: {nk + ny:,} columns after pruning (limit {max_milp_columns:,})"
        method = "greedy"
    else:
        try:
            res = milp(
                m.c,
                integrality=np.r_[np.ones(nk), np.zeros(ny)],
                bounds=Bounds(0, 1),
                constraints=LinearConstraint(m.a, -np.inf, m.ub),
                options={"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap)},
            )
        except Exception as exc:  # any solver failure falls back to greedy
            status = f"MILP failed ({type(exc).__name__}: {exc})"
            method = "greedy"
    if res is not None:
        if res.status == 0 and res.x is not None:
            chosen = m.red.kept[np.flatnonzero(res.x[:nk] > 0.5)].tolist()
            status = "optimal"
            mip_gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
            dual = getattr(res, "mip_dual_bound", None)
            if dual is not None and np.isfinite(dual):
                dual_bound = float(-dual) * m.scale
        else:
            status = f"MILP stopped ({res.message})"
            method = "greedy"
    return method, status, chosen, mip_gap, dual_bound


def _solve(
    m: _Model,
    pr: _Pruned,
    lp_integral: np.ndarray | None,
    small: bool,
    *,
    solver: str,
    unit_cost: bool,
    time_limit: float,
    mip_rel_gap: float,
    max_milp_columns: int,
    timings: dict[str, float],
) -> _Solved:
    """The MILP's selection (``solver="milp"``), or greedy's when asked for or when the MILP is
    not attempted, fails or stops short (a note says so)."""
    method, status, mip_gap, dual, solve_s = solver, "", None, None, 0.0
    chosen: list[int] = []
    notes: list[str] = []
    if solver == "milp":
        t0 = time.perf_counter()
        method, status, chosen, mip_gap, dual = _solve_milp(
            m, lp_integral, small, max_milp_columns, time_limit, mip_rel_gap
        )
        solve_s = time.perf_counter() - t0
        timings["milp"] = solve_s
        if method == "greedy":
            notes.append(f"{status}; fell back to greedy")
    guarantee = "optimal (exact MILP)"
    if method == "greedy":
        chosen = pr.greedy_chosen.tolist()
        solve_s += timings["greedy"]
        status = f"{status}; {pr.greedy_how}" if status else pr.greedy_how
        factor = GUARANTEE_CASES if unit_cost else GUARANTEE_HOURS
        guarantee = f"greedy: at least {factor:.1%} of the optimum " + (
            "(1 - 1/e, unit costs)" if unit_cost else "(½(1 - 1/e), costs in agent-hours)"
        )
    return _Solved(method, status, guarantee, chosen, mip_gap, solve_s, dual, notes)


def _useful_order(
    member: sp.csr_matrix, value: np.ndarray, chosen: list[int]
) -> tuple[list[int], list[float]]:
    """The chosen candidates in the order each adds the most, without those that add nothing once
    the others are pressured (same denied revenue), and what each adds."""
    order, gains = _order_selected(member, value, chosen)
    useful = [i for i, gain in enumerate(gains) if gain > 0]
    return [order[i] for i in useful], [gains[i] for i in useful]


def _select(
    member: sp.csr_matrix,
    value: np.ndarray,
    cost: np.ndarray,
    budget: float,
    *,
    unit_cost: bool,
    solver: str,
    time_limit: float,
    mip_rel_gap: float,
    max_milp_columns: int,
    timings: dict[str, float],
) -> _Selection:
    """The selection within ``budget`` that denies the most ``value``: safe pruning, then the
    MILP (``solver="milp"``; its LP relaxation first) or greedy, with the best known bounds.

    Adds the seconds of each stage to ``timings`` (``prune``, ``greedy``, ``lp_relaxation`` and,
    for the MILP, ``milp``).
    """
    pr = _prune_with_greedy(member, value, cost, budget, unit_cost, timings)
    m = _scaled_model(pr.red, cost, budget)
    small = m.nk + m.ny <= max_milp_columns
    # upper bounds on the optimum: the smallest is reported
    bounds = [_knapsack_bound(pr.v_alone[m.red.kept], cost[m.red.kept], budget)]
    t0 = time.perf_counter()
    lp_bound, lp_integral = _lp_relaxation(m, cost, budget, time_limit) if m.nk and small else (None, None)
    timings["lp_relaxation"] = time.perf_counter() - t0
    solved = _solve(
        m,
        pr,
        lp_integral,
        small,
        solver=solver,
        unit_cost=unit_cost,
        time_limit=time_limit,
        mip_rel_gap=mip_rel_gap,
        max_milp_columns=max_milp_columns,
        timings=timings,
    )
    order, gains = _useful_order(member, value, solved.chosen)
    objective = _denied(member, value, np.array(order, dtype=np.int64))
    bounds += [b for b in (lp_bound, solved.dual_bound) if b is not None]
    if solved.method == "greedy" and objective > 0:
        bounds.append(objective / (GUARANTEE_CASES if unit_cost else GUARANTEE_HOURS))
    bound = max(min(bounds), objective)  # rounding can put a bound a hair below the objective
    return _Selection(
        method=solved.method,
        status=solved.status,
        guarantee=solved.guarantee,
        order=order,
        gains=gains,
        objective=objective,
        bound=bound,
        gap=(bound - objective) / bound if bound > 0 else 0.0,
        lp_bound=lp_bound,
        lp_gap=max(0.0, (lp_bound - objective) / lp_bound) if lp_bound else None,
        mip_gap=solved.mip_gap,
        greedy_objective=pr.greedy_objective,
        solve_seconds=solved.solve_seconds,
        v_alone=pr.v_alone,
        size=m.size(member),
        notes=solved.notes,
    )
