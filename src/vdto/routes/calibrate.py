"""Calibration of the corridor network to published corridor shares (US INCSR, DEA/UNODC).

The published figures say how US-bound cocaine split between corridors in a few years. The
network's structural numbers (costs, hazards, capacities) are held at their stated values; the
calibration fits, by least squares (SciPy), one Caribbean interdiction intensity per year and
one cost factor for the Eastern Pacific leg shared by all years. With six targets and six free
parameters the fit is exactly identified: what it tests is whether the network can produce the
published shares at all with plausible intensities, and the residuals say how close it gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy import optimize

from vdto.errors import ConfigError
from vdto.routes.assign import Assignment, assign
from vdto.routes.corridors import CorridorNetwork, Routes, load_corridors, routes_of


@dataclass(frozen=True)
class Target:
    year: int
    measure: str  # via_mexico | caribbean | eastern_pacific
    share: float
    low: float
    high: float
    source: str


#: Published corridor shares (docs/routes.md gives the full references).
TARGETS: tuple[Target, ...] = (
    Target(1992, "via_mexico", 0.75, 0.70, 0.80, "US INCSR: about 70-80% through Mexico in the early 1990s"),
    Target(1999, "caribbean", 0.45, 0.40, 0.50, "US INCSR: up to about half through the Caribbean around 1999"),
    Target(2006, "via_mexico", 0.90, 0.88, 0.92, "US INCSR: about 90% through the Mexico/Central America corridor"),
    Target(2012, "via_mexico", 0.80, 0.78, 0.82, "US INCSR 2014: 80% in 2012"),
    Target(2013, "via_mexico", 0.86, 0.84, 0.88, "US INCSR 2014: 86% in the first half of 2013"),
    Target(2013, "eastern_pacific", 0.74, 0.70, 0.78, "DEA via UNODC (2023): 74% of northbound flow uses the Eastern Pacific"),
)  # fmt: skip

#: The year whose calibrated intensity is the default scenario ("now").
BASE_YEAR = 2013
#: Shares must come within this many percentage points of the published figure.
TOLERANCE_PP = 2.0


def measure(a: Assignment, name: str) -> float:
    """A corridor share of an assignment: ``via_mexico``, ``caribbean``, ``eastern_pacific``..."""
    if name == "via_mexico":
        return a.via_mexico
    return float(a.by_corridor()[name])


@dataclass(frozen=True)
class Calibration:
    """Fitted intensities per year, the Eastern Pacific cost factor and the residuals."""

    routes: Routes
    intensity: dict[int, float]
    ep_cost_factor: float
    fit: pd.DataFrame  # one row per target: year, measure, published, model, residual_pp, within

    @property
    def base_intensity(self) -> float:
        return self.intensity[BASE_YEAR]

    @property
    def ep_link(self) -> int:
        return _ep_link(self.routes.network)

    def to_toml(self) -> str:
        """The ``[calibration]`` table to store in the network file."""
        lines = [
            "[calibration]",
            f"base_year = {BASE_YEAR}",
            f"ep_cost_factor = {self.ep_cost_factor:.6f}",
            "",
        ]
        lines += ["[calibration.intensity]"] + [f'"{y}" = {v:.6f}' for y, v in sorted(self.intensity.items())]
        return "\n".join(lines) + "\n"

    def assign(self, intensity: float | None = None) -> Assignment:
        """Assignment under the calibrated network at a Caribbean intensity (default: base year)."""
        return assign(
            self.routes,
            caribbean_intensity=self.base_intensity if intensity is None else intensity,
            cost_multiplier={self.ep_link: self.ep_cost_factor},
        )


def _ep_link(network: CorridorNetwork) -> int:
    k = next(
        (
            k
            for k, ln in enumerate(network.link)
            if ln.source == network.source and ln.target == "eastern_pacific"
        ),
        None,
    )
    if k is None:
        raise ConfigError(
            f"no link from {network.source!r} to 'eastern_pacific'",
            "link",
            "the calibration fits that link's cost: add it (see docs/routes.md)",
        )
    return k


def calibrate(network: CorridorNetwork | None = None, targets: tuple[Target, ...] = TARGETS) -> Calibration:
    """Fit the Caribbean intensity of each target year and the Eastern Pacific cost factor."""
    network = network or load_corridors()
    routes = routes_of(network)
    years = sorted({t.year for t in targets})
    ep = _ep_link(network)

    def model(theta: np.ndarray) -> list[float]:
        intens = dict(zip(years, np.exp(theta[:-1]), strict=True))
        factor = float(np.exp(theta[-1]))
        out = []
        cache_: dict[int, Assignment] = {}
        for t in targets:
            if t.year not in cache_:
                cache_[t.year] = assign(
                    routes, caribbean_intensity=intens[t.year], cost_multiplier={ep: factor}
                )
            out.append(measure(cache_[t.year], t.measure))
        return out

    def residuals(theta: np.ndarray) -> np.ndarray:
        return (np.array(model(theta)) - np.array([t.share for t in targets])) * 100.0

    start = np.zeros(len(years) + 1)
    start[:-1] = np.log(3.0)
    bounds = (np.log(np.full(len(start), 0.05)), np.log(np.full(len(start), 20.0)))
    res = optimize.least_squares(residuals, start, bounds=bounds, diff_step=1e-3, xtol=1e-10, ftol=1e-10)
    intensity = dict(zip(years, map(float, np.exp(res.x[:-1])), strict=True))
    return evaluate(network, intensity, float(np.exp(res.x[-1])), targets)


def evaluate(
    network: CorridorNetwork,
    intensity: dict[int, float],
    ep_cost_factor: float,
    targets: tuple[Target, ...] = TARGETS,
) -> Calibration:
    """The fit of given parameters to the targets (no fitting)."""
    routes = routes_of(network)
    ep = _ep_link(network)
    runs = {
        y: assign(routes, caribbean_intensity=v, cost_multiplier={ep: ep_cost_factor})
        for y, v in intensity.items()
    }
    got = np.array([measure(runs[t.year], t.measure) for t in targets])
    pub = np.array([t.share for t in targets])
    fit = pd.DataFrame(
        {
            "year": [t.year for t in targets],
            "measure": [t.measure for t in targets],
            "published": pub,
            "range": [f"{t.low:.0%}-{t.high:.0%}" for t in targets],
            "model": got,
            "residual_pp": (got - pub) * 100.0,
            "source": [t.source for t in targets],
        }
    )
    fit["within"] = fit["residual_pp"].abs() <= TOLERANCE_PP
    return Calibration(routes, dict(intensity), ep_cost_factor, fit)


def load_calibration(network: CorridorNetwork) -> Calibration:
    """The network's stored calibration, or a fresh fit when it has none."""
    c = network.calibration
    if c is None:
        return calibrate(network)
    return evaluate(network, {int(k): v for k, v in c.intensity.items()}, c.ep_cost_factor)


@cache
def default_calibration() -> Calibration:
    """The calibration stored with the bundled network (loaded once per process)."""
    return load_calibration(load_corridors())


__all__ = [
    "BASE_YEAR",
    "TARGETS",
    "TOLERANCE_PP",
    "Calibration",
    "Target",
    "calibrate",
    "default_calibration",
]
