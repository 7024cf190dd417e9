"""Trafficking routes: the corridor network, route choice and the Caribbean interdiction lever.

* :mod:`vdto.routes.corridors`: the corridor network (TOML, validated) and its routes;
* :mod:`vdto.routes.assign`: logit route choice with congestion (stochastic user equilibrium);
* :mod:`vdto.routes.calibrate`: the fit to published corridor shares;
* :mod:`vdto.routes.lever`: change Caribbean interdiction, see flows, revenue and violence move;
* :mod:`vdto.routes.chart`: flows before and after, as a chart.
"""

from vdto.routes.assign import Assignment, assign
from vdto.routes.calibrate import Calibration, calibrate, default_calibration
from vdto.routes.corridors import CorridorNetwork, load_corridors, routes_of
from vdto.routes.lever import Shift, mexico_flow_factor, shift

__all__ = [
    "Assignment",
    "Calibration",
    "CorridorNetwork",
    "Shift",
    "assign",
    "calibrate",
    "default_calibration",
    "load_corridors",
    "mexico_flow_factor",
    "routes_of",
    "shift",
]
