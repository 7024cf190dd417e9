"""Simulated panels: the outputs of a run with ``panel=True`` as one :class:`Panel` per replicate."""

from __future__ import annotations

import numpy as np

from vdto.sim.calibration.panel import Panel
from vdto.sim.engine import Outputs
from vdto.sim.world import World


def simulated_panels(out: Outputs, world: World) -> list[Panel]:
    """One panel per replicate, over the run's whole years (year ``y`` of the run is calendar
    year ``world.start_year + y``; a last year of fewer than 12 months is left out).

    Examples
    --------
    >>> from vdto.sim.engine import simulate
    >>> from vdto.sim.params import Scenario
    >>> from vdto.sim.world import grid_world
    >>> sc = Scenario.model_validate({"run": {"months": 26, "replicates": 2}})
    >>> panels = simulated_panels(simulate(grid_world(), sc, "none", panel=True), grid_world())
    >>> len(panels), panels[0].years.tolist()
    (2, [0, 1])
    """
    if out.homicides_municipal.shape[1] == 0:
        raise ValueError("the run has no municipal panel: simulate with panel=True")
    R, T = out.homicides.shape
    Y = T // 12
    years = world.start_year + np.arange(Y)

    def by_year(a: np.ndarray) -> np.ndarray:  # (T, ...) -> (Y, ...)
        return a[: 12 * Y].reshape(Y, 12, *a.shape[1:]).sum(axis=1)

    end = 12 * np.arange(1, Y + 1) - 1
    municipal = out.homicides_municipal
    if municipal.shape[1] == T and T != -(-T // 12):  # by month: add up the years
        municipal = municipal[:, : 12 * Y].reshape(R, Y, 12, -1).sum(axis=2)
    return [
        Panel(
            years=years,
            national=by_year(out.homicides[r]),
            state=by_year(out.homicides_state[r].astype(np.float64)),
            state_codes=tuple(world.state_codes),
            municipal=municipal[r, :Y].astype(np.float64),
            municipal_codes=tuple(str(c) for c in world.codes),
            lineage_deaths=out.lineage_deaths[r, :Y],
            lineages=tuple(world.org_ids),
            groups=out.alive[r, end].astype(np.float64),
            members=out.members[r, end],
            source=f"simulated, replicate {r}",
        )
        for r in range(R)
    ]


__all__ = ["simulated_panels"]
