"""The Caribbean lever: change Caribbean interdiction and see where the cocaine goes.

``shift(-0.5)`` halves the Caribbean interdiction intensity of the calibrated base year and
re-solves the route choice. It reports corridor and entry-region shares before and after, the
change of the flow (and so of the revenue) through Mexico, and the expected change of Mexican
violence through an elasticity with its uncertainty.

The elasticity (docs/routes.md): Castillo, Mejía & Restrepo find that the 2006-09 Colombian
supply shortage explains 10-14% of the rise of Mexico's violence; homicides rose from 8,867 in
2007 to 25,757 in 2010 (INEGI), so the shortage added 19-27% of the 2007 level. Their mechanism
is the value of the trade at stake; how much the shortage raised that value is not given in the
sources at hand, so vdto assumes it rose by 40-100% (uniform). Dividing gives an elasticity of
violence to the value at stake of about 0.2-0.7, drawn with a seed. With US prices unchanged, a
routing change moves the value at stake in Mexico in proportion to the flow through Mexico.

:func:`mexico_flow_factor` is the single source of the Caribbean policy's effect for the
simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import vdto
from vdto.errors import VdtoError
from vdto.routes.assign import Assignment
from vdto.routes.calibrate import Calibration, default_calibration
from vdto.units import share_of

#: INEGI homicides (REFERENCES: Mexico, violence and enforcement).
HOMICIDES_2007, HOMICIDES_2010 = 8_867, 25_757
#: Share of the 2007-10 rise explained by the supply shortage (Castillo, Mejía & Restrepo).
SHORTAGE_SHARE = (0.10, 0.14)
#: Assumed rise of the value at stake during the shortage (not in the sources: an assumption).
VALUE_RISE = (0.40, 1.00)
DEFAULT_DRAWS = 10_000


def elasticity_draws(draws: int, seed: int) -> np.ndarray:
    """Draws of the elasticity of Mexican violence to the value of the cocaine trade at stake."""
    rng = np.random.default_rng(seed)
    share = rng.uniform(*SHORTAGE_SHARE, size=draws)
    rise = rng.uniform(*VALUE_RISE, size=draws)
    added = share * (HOMICIDES_2010 - HOMICIDES_2007) / HOMICIDES_2007
    return added / rise


def parse_change(text: str) -> float:
    """``-50%`` or ``-0.5`` to -0.5; must be above -100%.

    >>> parse_change("-50%"), parse_change("0.25")
    (-0.5, 0.25)
    """
    value = share_of(text, param="caribbean_change", what="a change", example="-50% or -0.5")
    if value <= -1.0:
        raise VdtoError(
            f"a change of {text} leaves no interdiction to scale",
            fix="use a change above -100%",
            param="caribbean_change",
        )
    return value


@dataclass
class Shift:
    """Before and after a change of Caribbean interdiction."""

    change: float
    before: Assignment
    after: Assignment
    violence: np.ndarray  # draws of the relative change of Mexican violence
    meta: dict = field(default_factory=dict)

    @property
    def mexico_flow_change(self) -> float:
        """Relative change of the flow through Mexico (and of the revenue at stake there)."""
        return self.after.via_mexico / self.before.via_mexico - 1.0

    def violence_summary(self) -> dict[str, float]:
        lo, mid, hi = np.quantile(self.violence, [0.05, 0.5, 0.95])
        return {"median": float(mid), "lo90": float(lo), "hi90": float(hi)}

    def table(self) -> pd.DataFrame:
        """Shares before and after by corridor, by US entry region and through Mexico."""
        rows = []
        for kind, b, a in (
            ("corridor", self.before.by_corridor(), self.after.by_corridor()),
            ("entry", self.before.by_entry(), self.after.by_entry()),
        ):
            for name in b.index:
                rows.append((kind, name, b[name], a[name]))
        rows.append(("total", "via_mexico", self.before.via_mexico, self.after.via_mexico))
        out = pd.DataFrame(rows, columns=["kind", "name", "before", "after"])
        out["change_pp"] = (out["after"] - out["before"]) * 100.0
        return out


def shift(
    change: float,
    *,
    calibration: Calibration | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> Shift:
    """Change the Caribbean interdiction intensity by ``change`` (-0.5 = halve it).

    Examples
    --------
    >>> s = shift(-0.5)
    >>> bool(s.after.by_corridor()["caribbean"] > s.before.by_corridor()["caribbean"]), s.mexico_flow_change < 0
    (True, True)
    """
    if not np.isfinite(change) or change <= -1.0:
        raise VdtoError(
            f"a change of {change:+.0%} leaves no interdiction",
            fix="use a change above -100%",
            param="caribbean_change",
        )
    if draws < 1:
        raise VdtoError(f"draws must be at least 1 (got {draws})", fix="use e.g. 10000", param="draws")
    cal = calibration or default_calibration()
    before = cal.assign()
    after = cal.assign(cal.base_intensity * (1.0 + change))
    flow_change = after.via_mexico / before.via_mexico - 1.0
    violence = elasticity_draws(draws, seed) * flow_change
    net = cal.routes.network
    meta = {
        "vdto_version": vdto.__version__,
        "network": net.name,
        "network_sha256": net.sha256(),
        "base_year": min(cal.intensity, key=lambda y: abs(cal.intensity[y] - cal.base_intensity)),
        "caribbean_change": change,
        "seed": seed,
        "draws": draws,
    }
    return Shift(change, before, after, violence, meta)


def mexico_flow_factor(change: float, calibration: Calibration | None = None) -> float:
    """Flow through Mexico after changing Caribbean interdiction by ``change``, relative to now.

    The simulator's Caribbean policy multiplies the trafficking value of Mexican plazas by this.

    >>> 0 < mexico_flow_factor(-0.5) < 1 == mexico_flow_factor(0.0)
    True
    """
    if change == 0:
        return 1.0
    cal = calibration or default_calibration()
    return cal.assign(cal.base_intensity * (1.0 + change)).via_mexico / cal.assign().via_mexico


__all__ = ["Shift", "elasticity_draws", "mexico_flow_factor", "parse_change", "shift"]
