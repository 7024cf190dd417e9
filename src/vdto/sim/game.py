"""The dynamic concentration game: random enforcement versus an announced priority order.

``n`` actors each choose to **comply** (paying a compliance cost ``C_i``, e.g. giving up
violence) or to **violate**. The enforcer can sanction (``P``) at most ``k`` violators per
period. Two regimes:

* ``"uniform"``: with ``v`` violators, each is sanctioned with probability ``min(1, k / v)``,
  so a violator expects ``P * min(1, k / v)``;
* ``"priority"`` (dynamic concentration): the enforcer announces a ranking (the order of
  ``cost``, first = top priority) and sanctions the ``k`` highest-ranked violators for sure.

An actor complies when the sanction it would expect by violating exceeds its compliance cost,
``expected > C_i``; an indifferent actor (``expected == C_i``) violates. An equilibrium is a
profile in which every actor plays that best response to the others' actions (each such
profile is a pure-strategy Nash equilibrium).

Results (derived in ``docs/game.md``, computed by the functions below):

* uniform, identical costs: the only equilibria are ``v = 0`` (when ``P > C``) and ``v = n``
  (when ``P * min(1, k / n) <= C``); with ``n = 2, k = 1, C < P < 2C`` both hold (bistable);
  universal compliance is the unique equilibrium iff ``P > C * max(1, n / k)``; with costs
  ``c_(1) >= c_(2) >= ...`` that threshold is ``max_v c_(v) * max(1, v / k)``;
* priority: the equilibrium is unique and found by walking down the ranking; everyone complies
  iff ``P > max C_i``; from universal violation the top ``k`` tip in the first period, the
  next ``k`` in the second, ..., everyone by period ``ceil(n / k)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Literal

import numpy as np
import pandas as pd

from vdto.errors import VdtoError

Regime = Literal["uniform", "priority"]
REGIMES: tuple[Regime, ...] = ("uniform", "priority")
STARTS: tuple[str, ...] = ("all_violate", "all_comply")
UPDATES: tuple[str, ...] = ("simultaneous", "sequential")
PATH_SHOWN = 12  # short_path(): entries of the violators' path a terminal shows before "..."

Cost = float | Sequence[float] | np.ndarray
Equilibria = list[int] | list[frozenset[int]]


# ---------------------------------------------------------------------------------- validation


def _count(value: object, name: str, param: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise VdtoError(
            f"{name} must be a whole number >= 1 (got {value!r})", fix="pass 1 or more", param=param
        )
    return int(value)


def _sanction(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value <= 0:
        raise VdtoError(
            f"the sanction must be a finite number > 0 (got {value!r})",
            fix="pass 1.5, say",
            param="sanction",
        )
    return float(value)


def _costs(n: int, cost: object) -> tuple[np.ndarray, bool]:
    """The costs as a float array of length ``n`` and whether one cost was given for all."""
    values: np.ndarray | None
    scalar = isinstance(cost, Real) and not isinstance(cost, bool)
    if isinstance(cost, Real) and scalar:
        values = np.full(n, float(cost))
    else:
        if isinstance(cost, str | bytes | bool) or cost is None:
            values = None
        else:
            try:
                values = np.asarray(cost, dtype=float)
            except (TypeError, ValueError):
                values = None
        if values is None or values.ndim != 1:
            raise VdtoError(
                f"the cost must be a number or a list of numbers (got {cost!r})",
                fix="pass 1 (every actor) or one cost per actor, in priority order",
                param="cost",
            )
        if len(values) != n:
            raise VdtoError(
                f"{len(values)} costs for {n} actors",
                fix=f"give one cost per actor ({n}), or a single cost",
                param="cost",
            )
    assert values is not None
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise VdtoError(
            f"compliance costs must be finite and >= 0 (got {cost!r})",
            fix="pass costs of 0 or more",
            param="cost",
        )
    return values, scalar


def _regime(regime: object) -> Regime:
    for known in REGIMES:
        if regime == known:
            return known
    raise VdtoError(f"unknown regime {regime!r}", fix=f"use one of: {', '.join(REGIMES)}", param="regime")


def _inputs(n: object, k: object, cost: object) -> tuple[int, int, np.ndarray, bool]:
    n_ = _count(n, "the number of actors", "n")
    k_ = _count(k, "the enforcement capacity", "k")
    costs, scalar = _costs(n_, cost)
    return n_, k_, costs, scalar


# ---------------------------------------------------------------------------------- best responses


def best_response(
    k: int, costs: np.ndarray, sanction: float, regime: str, violating: np.ndarray
) -> np.ndarray:
    """Whether each actor would violate, given the others' actions in ``violating``.

    The sanction an actor expects if it violates: under ``"priority"``, ``P`` when fewer than
    ``k`` higher-ranked actors violate, else 0; under ``"uniform"``, ``P * min(1, k / v)`` with
    ``v`` the violators counting itself. It complies iff that exceeds its cost.

    Examples
    --------
    >>> import numpy as np
    >>> best_response(1, np.array([1.0, 1.0]), 1.5, "uniform", np.array([True, True])).tolist()
    [True, True]
    >>> best_response(1, np.array([1.0, 1.0]), 1.5, "priority", np.array([True, True])).tolist()
    [False, True]
    """
    violating = np.asarray(violating, dtype=bool)
    if regime == "priority":
        ahead = np.cumsum(violating) - violating  # violators ranked above each actor
        return ~((ahead < k) & (sanction > costs))
    v = violating.sum() - violating + 1  # violators if this actor violates
    return ~(sanction * np.minimum(k, v) > costs * v)  # P * min(1, k/v) > C, without dividing


# ---------------------------------------------------------------------------------- equilibria


def _uniform_counts(n: int, k: int, cost: float, sanction: float) -> list[int]:
    # Interior counts are never equilibria with identical costs: a violator stays iff
    # P*k/v <= C, a complier stays iff P*k/(v+1) > C, and P*k/(v+1) < P*k/v.
    counts = [0] if sanction > cost else []
    if sanction * min(k, n) <= cost * n:
        counts.append(n)
    return counts


def _uniform_sets(k: int, costs: np.ndarray, sanction: float) -> list[frozenset[int]]:
    n = len(costs)
    order = np.argsort(-costs, kind="stable")  # highest cost first
    v = np.arange(1, n + 1)
    # stays[v-1]: with v violators (the v highest costs), the v-th still prefers to violate.
    # A complier with the (v+1)-th cost deviates iff stays[v], so v is an equilibrium iff
    # stays[v-1] and not stays[v] (stays[-1] := True for v = 0, stays[n] := False).
    stays = sanction * np.minimum(k, v) <= costs[order] * v
    edge = np.concatenate([[True], stays, [False]])
    counts = np.flatnonzero(edge[:-1] & ~edge[1:])
    return [frozenset(int(i) for i in order[:c]) for c in counts]


def _priority_violating(k: int, costs: np.ndarray, sanction: float) -> np.ndarray:
    # Walk down the ranking: an actor with sanction <= cost violates whatever happens; once k
    # of them rank above an actor, it is never sanctioned and violates too.
    hard = ~(sanction > costs)
    hard_ahead: np.ndarray = np.cumsum(hard) - hard
    return hard | (hard_ahead >= k)


def equilibria(n: int, k: int, cost: Cost, sanction: float, regime: Regime) -> Equilibria:
    """All pure-strategy equilibria of the game.

    Parameters
    ----------
    n
        Number of actors (>= 1).
    k
        Enforcement capacity: violators that can be sanctioned per period (>= 1).
    cost
        Compliance cost: one number for identical actors, or one per actor (>= 0) listed in the
        enforcer's priority order (first = top priority; the order matters only for
        ``"priority"``).
    sanction
        The sanction ``P`` (> 0).
    regime
        ``"uniform"`` (random enforcement) or ``"priority"`` (announced order).

    Returns
    -------
    list[int] or list[frozenset[int]]
        With one cost: the numbers of violators ``v*`` that are equilibria, ascending. With
        one cost per actor: the sets of violators (positions in ``cost``), smallest first.
        ``"priority"`` always has exactly one equilibrium.

    Raises
    ------
    VdtoError
        On ``n < 1``, ``k < 1``, a negative cost, ``sanction <= 0`` or an unknown regime.

    Examples
    --------
    Two actors, capacity 1, ``C < P < 2C``: uniform enforcement is bistable, priority is not.

    >>> equilibria(2, 1, 1.0, 1.5, "uniform")
    [0, 2]
    >>> equilibria(2, 1, 1.0, 1.5, "priority")
    [0]
    >>> equilibria(10, 3, 1.0, 4.0, "uniform")
    [0]

    An actor whose cost exceeds the sanction keeps violating; ranked first, it absorbs the
    capacity and shields everyone behind it; ranked last, it shields no one.

    >>> equilibria(3, 1, [5.0, 1.0, 1.0], 2.0, "priority")
    [frozenset({0, 1, 2})]
    >>> equilibria(3, 1, [1.0, 1.0, 5.0], 2.0, "priority")
    [frozenset({2})]
    """
    n, k, costs, scalar = _inputs(n, k, cost)
    sanction = _sanction(sanction)
    regime = _regime(regime)
    if regime == "priority":
        violating = _priority_violating(k, costs, sanction)
        return [int(violating.sum())] if scalar else [frozenset(int(i) for i in np.flatnonzero(violating))]
    if scalar:
        return _uniform_counts(n, k, float(costs[0]), sanction)
    return _uniform_sets(k, costs, sanction)


def tipping_sanction(n: int, k: int, cost: Cost, regime: Regime) -> float:
    """The sanction above which universal compliance is the only equilibrium.

    Universal compliance is the unique equilibrium iff ``sanction > tipping_sanction(...)``.
    Under ``"priority"`` that is ``max C_i`` (the ranking does not matter). Under
    ``"uniform"``, with the costs sorted ``c_(1) >= c_(2) >= ... >= c_(n)``, it is
    ``max_v c_(v) * max(1, v / k)``; for identical costs ``C * max(1, n / k)``, ``n / k``
    times the priority threshold when ``k < n``.

    Parameters
    ----------
    n, k, cost, regime
        As in :func:`equilibria`.

    Returns
    -------
    float
        The threshold sanction (an infimum: the sanction must exceed it).

    Examples
    --------
    >>> tipping_sanction(2, 1, 1.0, "uniform"), tipping_sanction(2, 1, 1.0, "priority")
    (2.0, 1.0)
    >>> tipping_sanction(10, 3, 1.0, "uniform")  # 10/3
    3.3333333333333335
    >>> tipping_sanction(4, 1, [1.0, 1.0, 1.0, 3.0], "uniform")  # max(3*1, 1*2, 1*3, 1*4)
    4.0
    """
    n, k, costs, scalar = _inputs(n, k, cost)
    regime = _regime(regime)
    if regime == "priority":
        return float(costs.max())
    if scalar:
        return float(costs[0]) * n / min(k, n)
    v = np.arange(1, n + 1)
    return float(np.max(np.sort(costs)[::-1] * v / np.minimum(k, v)))


# ---------------------------------------------------------------------------------- dynamics


def _step(k: int, costs: np.ndarray, sanction: float, regime: str, x: np.ndarray, update: str) -> np.ndarray:
    if update == "simultaneous":
        return best_response(k, costs, sanction, regime, x)
    x = x.copy()  # one actor at a time, in priority order, each seeing the revisions before it
    ahead, total = 0, int(x.sum())
    for i, c in enumerate(costs):
        if regime == "priority":
            violate = not (ahead < k and sanction > c)
        else:
            v = total - int(x[i]) + 1
            violate = not (sanction * min(k, v) > c * v)
        total += int(violate) - int(x[i])
        x[i] = violate
        ahead += int(violate)
    return x


def _simulate(
    k: int,
    costs: np.ndarray,
    sanction: float,
    regime: str,
    periods: int,
    start: str,
    update: str,
    settle: bool,
) -> pd.DataFrame:
    x = np.full(len(costs), start == "all_violate")
    counts = [int(x.sum())]
    for _ in range(periods):
        nxt = _step(k, costs, sanction, regime, x, update)
        if settle and np.array_equal(nxt, x):
            break
        x = nxt
        counts.append(int(x.sum()))
    violators = np.array(counts, dtype=np.int64)
    return pd.DataFrame(
        {
            "period": np.arange(len(counts), dtype=np.int64),
            "violators": violators,
            "compliers": len(costs) - violators,
            "sanctions": np.minimum(k, violators),
        }
    )


def play(
    n: int,
    k: int,
    cost: Cost,
    sanction: float,
    regime: Regime,
    periods: int = 20,
    start: Literal["all_violate", "all_comply"] = "all_violate",
    *,
    update: Literal["simultaneous", "sequential"] = "simultaneous",
) -> pd.DataFrame:
    """Play the game period by period, every actor best-responding; deterministic.

    Period 0 is the starting profile. In each later period every actor best-responds to the
    profile of the period before (``update="simultaneous"``): under ``"priority"`` from
    universal violation the top ``k`` comply in period 1, the next ``k`` in period 2, and
    with identical costs ``C < P`` no one violates from period ``ceil(n / k)`` on. With
    ``update="sequential"`` actors revise one at a time in priority order, each seeing the
    revisions made before it, so under ``"priority"`` the whole cascade happens within one
    period.

    Parameters
    ----------
    n, k, cost, sanction, regime
        As in :func:`equilibria`.
    periods
        Periods played after period 0 (>= 0).
    start
        ``"all_violate"`` or ``"all_comply"``.
    update
        ``"simultaneous"`` or ``"sequential"`` (see above).

    Returns
    -------
    pandas.DataFrame
        One row per period ``0..periods``: ``period``, ``violators``, ``compliers`` and
        ``sanctions`` (sanctions imposed that period: ``min(k, violators)`` in both regimes).

    Examples
    --------
    >>> play(10, 3, 1.0, 1.5, "priority", periods=5)["violators"].tolist()
    [10, 7, 4, 1, 0, 0]
    >>> play(10, 3, 1.0, 1.5, "priority", periods=5)["sanctions"].tolist()
    [3, 3, 3, 1, 0, 0]
    >>> play(2, 1, 1.0, 1.5, "uniform", periods=3)["violators"].tolist()
    [2, 2, 2, 2]
    >>> play(10, 3, 1.0, 1.5, "priority", periods=2, update="sequential")["violators"].tolist()
    [10, 0, 0]
    """
    n, k, costs, _ = _inputs(n, k, cost)
    sanction = _sanction(sanction)
    regime = _regime(regime)
    if isinstance(periods, bool) or not isinstance(periods, Integral) or periods < 0:
        raise VdtoError(
            f"periods must be a whole number >= 0 (got {periods!r})", fix="pass 20, say", param="periods"
        )
    if start not in STARTS:
        raise VdtoError(f"unknown start {start!r}", fix=f"use one of: {', '.join(STARTS)}", param="start")
    if update not in UPDATES:
        raise VdtoError(f"unknown update {update!r}", fix=f"use one of: {', '.join(UPDATES)}", param="update")
    return _simulate(k, costs, sanction, regime, int(periods), start, update, settle=False)


# ---------------------------------------------------------------------------------- summary


@dataclass(frozen=True, eq=False)
class GameResult:
    """One regime solved: its equilibria, threshold and path from universal violation.

    ``path`` is :func:`play`'s table from ``"all_violate"`` up to the period after which the
    profile no longer changes (``periods_to_settle``); ``periods_to_tip`` is the first period
    with no violator (None if never); ``sanctions_used`` sums ``path["sanctions"]``;
    ``final_sanctions`` are those imposed per period once settled.
    """

    regime: str
    equilibria: Equilibria
    tipping_sanction: float
    path: pd.DataFrame
    periods_to_settle: int
    periods_to_tip: int | None
    sanctions_used: int
    final_violators: int
    final_sanctions: int

    @property
    def unique_compliance(self) -> bool:
        """Whether universal compliance is the only equilibrium."""
        return self.equilibria in ([0], [frozenset()])


def solve(n: int, k: int, cost: Cost, sanction: float, regime: Regime) -> GameResult:
    """Solve one regime: equilibria, tipping sanction and the path from universal violation.

    Examples
    --------
    >>> r = solve(10, 3, 1.0, 1.5, "priority")
    >>> r.equilibria, r.periods_to_tip, r.sanctions_used, r.final_sanctions
    ([0], 4, 10, 0)
    >>> solve(2, 1, 1.0, 1.5, "uniform").periods_to_tip is None
    True
    """
    found = equilibria(n, k, cost, sanction, regime)
    n, k, costs, _ = _inputs(n, k, cost)
    # From universal violation both regimes settle within n periods (priority: actor i's
    # choice is fixed from period i + 1; uniform: violators only ever fall).
    path = _simulate(k, costs, float(sanction), regime, n + 1, "all_violate", "simultaneous", settle=True)
    zero = np.flatnonzero(path["violators"].to_numpy() == 0)
    return GameResult(
        regime=regime,
        equilibria=found,
        tipping_sanction=tipping_sanction(n, k, cost, regime),
        path=path,
        periods_to_settle=len(path) - 1,
        periods_to_tip=int(zero[0]) if len(zero) else None,
        sanctions_used=int(path["sanctions"].sum()),
        final_violators=int(path["violators"].iloc[-1]),
        final_sanctions=int(path["sanctions"].iloc[-1]),
    )


def _show(found: Equilibria) -> str:
    if found and isinstance(found[0], frozenset):
        return "; ".join("{" + ",".join(str(i) for i in sorted(s)) + "}" for s in found)
    return ", ".join(str(v) for v in found)


def summary(n: int, k: int, cost: Cost, sanction: float) -> pd.DataFrame:
    """One row per regime (``uniform``, ``priority``), for ``vdto game``.

    Columns: ``regime``; ``equilibria`` (numbers of violators, or sets of positions in
    ``cost``, as text); ``unique_compliance``; ``tipping_sanction``; ``violators_path`` (from
    universal violation until it settles, as text, every period: :func:`short_path` shortens it
    for a terminal); ``periods_to_settle``; ``periods_to_tip``
    (``<NA>`` if never); ``sanctions_used`` (in total along the path); ``final_violators``;
    ``final_sanctions`` (per period once settled). See :class:`GameResult`.

    Examples
    --------
    >>> table = summary(2, 1, 1.0, 1.5)
    >>> table[["regime", "equilibria", "violators_path", "periods_to_tip", "final_sanctions"]]
         regime equilibria violators_path  periods_to_tip  final_sanctions
    0   uniform       0, 2              2            <NA>                1
    1  priority          0          2 1 0               2                0
    """
    rows = []
    for regime in REGIMES:
        r = solve(n, k, cost, sanction, regime)
        counts = [str(v) for v in r.path["violators"]]
        rows.append(
            {
                "regime": regime,
                "equilibria": _show(r.equilibria),
                "unique_compliance": r.unique_compliance,
                "tipping_sanction": r.tipping_sanction,
                "violators_path": " ".join(counts),
                "periods_to_settle": r.periods_to_settle,
                "periods_to_tip": r.periods_to_tip,
                "sanctions_used": r.sanctions_used,
                "final_violators": r.final_violators,
                "final_sanctions": r.final_sanctions,
            }
        )
    table = pd.DataFrame(rows)
    table["periods_to_tip"] = table["periods_to_tip"].astype("Int64")
    return table


def short_path(path: str, shown: int = PATH_SHOWN) -> str:
    """A violators' path of :func:`summary` as a terminal shows it: at most ``shown`` entries,
    the last one kept (the data keep the whole path).

    >>> short_path(" ".join(str(v) for v in range(30, -1, -1)))
    '30 29 28 27 26 25 24 23 22 21 ... 0'
    >>> short_path("2 1 0")
    '2 1 0'
    """
    counts = path.split()
    if len(counts) > shown:
        counts = [*counts[: shown - 2], "...", counts[-1]]
    return " ".join(counts)


def provenance(n: int, k: int, cost: Cost, sanction: float) -> dict:
    """Where a :func:`summary` came from: the vdto version, the game's parameters and the
    SHA-256 of their canonical JSON (``settings_sha256``), as every vdto output carries.

    >>> meta = provenance(2, 1, 1.0, 1.5)
    >>> meta["n"], meta["k"], meta["cost"], meta["sanction"], len(meta["settings_sha256"])
    (2, 1, 1.0, 1.5, 64)
    """
    import hashlib
    import json

    import vdto

    costs = np.asarray(cost, dtype=float)
    settings = {
        "n": int(n),
        "k": int(k),
        "cost": float(costs) if costs.ndim == 0 else [float(c) for c in costs],
        "sanction": float(sanction),
        "start": "all_violate",
        "update": "simultaneous",
    }
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return {
        "vdto_version": vdto.__version__,
        "model": "dynamic concentration game (Kleiman & Kilmer 2009), docs/game.md",
        **settings,
        "settings_sha256": hashlib.sha256(text.encode()).hexdigest(),
    }
