"""Panels: homicides and organizations by year, read the same way from real data and from runs.

A :class:`Panel` holds what the calibration compares: homicides (people) per year nationally,
per state and (where known) per municipality, deaths attributed to each lineage of
organizations, the number of active organizations and their members. Real panels come from
:mod:`vdto.sim.calibration.real`, simulated ones from :mod:`vdto.sim.calibration.simulated`;
:mod:`vdto.sim.calibration.summaries` reads both with the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Panel:
    """One history, by calendar year.

    Attributes:
        years: the calendar years ``(Y,)``.
        national: homicides (people) per year ``(Y,)``.
        state: homicides per state and year ``(Y, S)``, states in ``state_codes`` order.
        state_codes: the INEGI state codes ("01".."32").
        municipal: homicides per municipality and year ``(Y, M)``, municipalities in
            ``municipal_codes`` order, or None where no municipal series exists.
        municipal_codes: the INEGI municipality codes ("01001"...), empty without ``municipal``.
        lineage_deaths: deaths attributed to each lineage ``(Y, K)`` (an organization and the
            splinters born of it), or None.
        lineages: the organization id of each lineage ``(K,)``.
        groups: active organizations at the end of each year ``(Y,)`` (NaN where unknown).
        members: members of all organizations at the end of each year ``(Y,)`` (NaN where unknown).
        source: where the panel comes from, in words.
        notes: anything a reader needs to interpret it (measures, meaning of the month).
    """

    years: np.ndarray
    national: np.ndarray
    state: np.ndarray
    state_codes: tuple[str, ...]
    municipal: np.ndarray | None = None
    municipal_codes: tuple[str, ...] = ()
    lineage_deaths: np.ndarray | None = None
    lineages: tuple[str, ...] = ()
    groups: np.ndarray | None = None
    members: np.ndarray | None = None
    source: str = ""
    notes: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        Y = len(self.years)
        checks = [
            ("national", self.national, (Y,)),
            ("state", self.state, (Y, len(self.state_codes))),
        ]
        if self.municipal is not None:
            checks.append(("municipal", self.municipal, (Y, len(self.municipal_codes))))
        if self.lineage_deaths is not None:
            checks.append(("lineage_deaths", self.lineage_deaths, (Y, len(self.lineages))))
        for name in ("groups", "members"):
            value = getattr(self, name)
            if value is not None:
                checks.append((name, value, (Y,)))
        for name, value, shape in checks:
            if np.shape(value) != shape:
                raise ValueError(f"Panel.{name} has shape {np.shape(value)}, expected {shape}")

    def window(self, first: int, last: int) -> Panel:
        """The years ``first`` to ``last`` (both included) of the panel."""
        keep = (self.years >= first) & (self.years <= last)
        if not keep.any():
            raise ValueError(f"the panel has no year from {first} to {last} (it covers {self.span()})")

        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else np.asarray(a)[keep]

        return Panel(
            years=self.years[keep],
            national=self.national[keep],
            state=self.state[keep],
            state_codes=self.state_codes,
            municipal=cut(self.municipal),
            municipal_codes=self.municipal_codes,
            lineage_deaths=cut(self.lineage_deaths),
            lineages=self.lineages,
            groups=cut(self.groups),
            members=cut(self.members),
            source=self.source,
            notes=self.notes,
        )

    def span(self) -> str:
        return f"{int(self.years[0])}-{int(self.years[-1])}" if len(self.years) else "no years"


__all__ = ["Panel"]
