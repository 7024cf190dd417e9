"""Route choice: logit assignment with congestion (stochastic user equilibrium).

Traffickers choose among the routes by generalised cost per kg,

``c_r = sum over links of cost_a(x_a) + value_at_risk x P(seized on r) + delay_cost x delay_r``

with ``cost_a(x) = cost_a x (1 + alpha (x / capacity_a)^beta)`` (congestion, BPR form),
``P(seized on r) = 1 - exp(-sum of hazard_a x intensity_a)`` and route shares
``s_r = exp(-theta c_r) / sum exp(-theta c)``. Because congestion makes costs depend on the
shares, the shares are the fixed point, found as the unique minimum of Fisk's (1980) convex
program

``min  sum_a integral_0^{x_a} cost_a(w) dw + sum_r s_r k_r + (1/theta) sum_r s_r ln s_r``

over the simplex (``k_r`` the flow-independent seizure and delay cost), solved with SciPy's
SLSQP. In the spirit of Dell (2015), whose trafficking model routes drugs along least-cost
paths with congestion; see docs/routes.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from vdto.errors import VdtoError
from vdto.routes.corridors import CORRIDORS, Routes


@dataclass(frozen=True)
class Assignment:
    """Route shares at equilibrium and what follows from them (flows are shares of the total)."""

    routes: Routes
    shares: np.ndarray  # per route
    link_flow: np.ndarray  # per link
    route_cost: np.ndarray  # generalised cost per kg at equilibrium
    seizure: np.ndarray  # probability a kg on the route is seized
    caribbean_intensity: float

    def by_corridor(self) -> pd.Series:
        s = pd.Series(self.shares, index=self.routes.corridor).groupby(level=0).sum()
        return s.reindex(list(CORRIDORS), fill_value=0.0)

    def by_entry(self) -> pd.Series:
        entries = [n.id for n in self.routes.network.node if n.entry]
        return (
            pd.Series(self.shares, index=self.routes.entry)
            .groupby(level=0)
            .sum()
            .reindex(entries, fill_value=0.0)
        )

    @property
    def via_mexico(self) -> float:
        """Share of US-bound flow that crosses Mexico."""
        return float(self.shares[self.routes.via_mexico].sum())

    @property
    def delivered(self) -> float:
        """Share of the shipped flow that is not seized on the way."""
        return float((self.shares * (1 - self.seizure)).sum())

    def table(self) -> pd.DataFrame:
        """One row per route: corridor, entry, via Mexico, share, cost, seizure probability."""
        return pd.DataFrame(
            {
                "route": [self.routes.label(i) for i in range(len(self.shares))],
                "corridor": self.routes.corridor,
                "entry": self.routes.entry,
                "via_mexico": self.routes.via_mexico,
                "share": self.shares,
                "cost_usd_per_kg": self.route_cost,
                "p_seized": self.seizure,
            }
        ).sort_values("share", ascending=False, kind="stable", ignore_index=True)


def _intensity(routes: Routes, caribbean: float, extra: dict[int, float] | None = None) -> np.ndarray:
    a = routes.arrays
    m = np.where(a["caribbean"], caribbean, 1.0)
    for k, v in (extra or {}).items():
        m[k] *= v
    return m


def assign(
    routes: Routes,
    *,
    caribbean_intensity: float = 1.0,
    cost_multiplier: dict[int, float] | None = None,
    tol: float = 1e-12,
) -> Assignment:
    """Equilibrium route shares for a Caribbean interdiction intensity (1 = the network's own).

    ``caribbean_intensity`` multiplies the interdiction hazard and the delay of every link marked
    ``caribbean``; ``cost_multiplier`` maps link indices to a factor on their base cost.

    Examples
    --------
    >>> from vdto.routes.corridors import load_corridors, routes_of
    >>> r = routes_of(load_corridors())
    >>> a, b = assign(r), assign(r, caribbean_intensity=0.5)
    >>> bool(b.by_corridor()["caribbean"] > a.by_corridor()["caribbean"])
    True
    """
    if not np.isfinite(caribbean_intensity) or caribbean_intensity < 0:
        raise VdtoError(
            f"Caribbean interdiction intensity must be >= 0 (got {caribbean_intensity})",
            fix="use a change above -100%",
            param="caribbean_change",
        )
    net = routes.network
    a = routes.arrays
    A = routes.incidence  # routes x links
    cost0 = a["cost"].copy()
    for k, v in (cost_multiplier or {}).items():
        cost0[k] *= v
    m = _intensity(routes, caribbean_intensity)
    hazard = A @ (a["hazard"] * m)
    seizure = 1.0 - np.exp(-hazard)
    fixed = net.value_at_risk * seizure + net.delay_cost * (A @ (a["delay"] * m))
    alpha, beta, cap, theta = net.congestion_alpha, net.congestion_beta, a["capacity"], net.dispersion

    def link_cost(x: np.ndarray) -> np.ndarray:
        return cost0 * (1.0 + alpha * (x / cap) ** beta)

    # scaled by theta (the entropy term is then of order one) and by the largest theta x cost,
    # so that SLSQP's steps stay well conditioned however sharp the choice is
    scale = 1.0 / max(1.0, theta * float((A @ cost0 + fixed).max()))

    def objective(s: np.ndarray) -> tuple[float, np.ndarray]:
        s = np.maximum(s, 1e-300)
        x = s @ A
        integral = cost0 * (x + alpha * x ** (beta + 1) / ((beta + 1) * cap**beta))
        value = theta * (integral.sum() + s @ fixed) + (s * np.log(s)).sum()
        grad = theta * (A @ link_cost(x) + fixed) + np.log(s) + 1.0
        return float(value) * scale, grad * scale

    # start from the uncongested logit shares
    c0 = A @ cost0 + fixed
    start = np.exp(-theta * (c0 - c0.min()))
    start /= start.sum()
    n = len(start)
    res = optimize.minimize(
        objective,
        start,
        jac=True,
        method="SLSQP",
        bounds=[(1e-15, 1.0)] * n,
        constraints=[{"type": "eq", "fun": lambda s: s.sum() - 1.0, "jac": lambda s: np.ones(n)}],
        options={"ftol": tol * scale, "maxiter": 1000},
    )
    if not res.success:  # pragma: no cover - SLSQP converges on every network tested
        raise VdtoError(
            f"route assignment did not converge ({res.message})", "network", "check the network file"
        )
    shares = np.clip(res.x, 0.0, None)
    shares /= shares.sum()
    x = shares @ A
    cost = A @ link_cost(x) + fixed
    # the answer must be the logit fixed point; SLSQP can stop early and still say it succeeded
    logit = np.exp(-theta * (cost - cost.min()))
    logit /= logit.sum()
    if np.abs(logit - shares).max() > 1e-4:
        raise VdtoError(
            "route assignment did not reach equilibrium",
            "network.dispersion",
            "use a smaller dispersion or check costs",
        )
    return Assignment(routes, shares, x, cost, seizure, caribbean_intensity)


__all__ = ["Assignment", "assign"]
