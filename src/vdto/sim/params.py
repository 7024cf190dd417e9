"""Simulation parameters and scenario files (TOML, validated by pydantic, hashed into results).

Every parameter, its default and where the default comes from is in docs/model.md. Rates that
the literature gives per week (Prieto-Curiel, Campedelli & Hope 2023) are converted to the
simulator's month with :data:`WEEKS_PER_MONTH`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vdto.data import bundled, scenario_names
from vdto.errors import VdtoError
from vdto.tomlfile import load_model

POLICIES = ("none", "volume", "kingpin", "targeted", "regional", "caribbean")
#: The four ways the targeted policy acts; each can be switched off (``[channels]``).
CHANNELS = ("incapacitation", "buyers", "restraint", "deterrence")
#: Start years the data allow: UCDP GED covers 1989-2023, CONAPO's municipal population 1990-2030.
START_YEARS = (1991, 2024)
#: Weeks in a month (52 / 12).
WEEKS_PER_MONTH = 52.0 / 12.0

#: Prieto-Curiel et al. (2023), ReclutamientoC.R: weekly recruitment per member (rho), members
#: incapacitated per week by the status quo (eta) and the weekly fragmentation term (omega).
PRIETO_RHO_WEEK = 2.527474e-3
PRIETO_ETA_WEEK = 110.0
PRIETO_OMEGA_WEEK = 4.0e-8


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Run(_Model):
    months: int = Field(120, ge=1, le=1200)
    replicates: int = Field(200, ge=1)
    seed: int = Field(1, ge=0)


class WorldSpec(_Model):
    kind: Literal["default", "grid"] = Field("default", description="default: Mexico from real data")
    start_year: int = Field(2016, description="the simulation starts on 1 January of this year")
    lookback_years: int = Field(
        3, ge=1, le=20, description="years of located events before the start that draw the starting map"
    )
    organizations: int = Field(20, ge=2, le=60, description="at most this many organizations at the start")
    spread_hops: int = Field(
        3, ge=0, le=20, description="contiguity hops a starting territory reaches beyond its event plazas"
    )
    splinter_slots: int = Field(
        60, ge=0, le=400, description="slots for organizations born of splits during a run"
    )
    rows: int = Field(8, ge=2, description="grid rows (synthetic world)")
    cols: int = Field(8, ge=2, description="grid columns (synthetic world)")
    grid_orgs: int = Field(4, ge=2, description="organizations in the synthetic world")

    @field_validator("start_year")
    @classmethod
    def _start_year(cls, v: int) -> int:
        lo, hi = START_YEARS
        if not lo <= v <= hi:
            raise ValueError(
                f"no data to start in {v}: use a start year from {lo} to {hi} (UCDP GED events 1989-2023 before it)"
            )
        return v


class People(_Model):
    members: float | None = Field(
        None, gt=0, description="members of all organizations at the start (None: from published estimates)"
    )
    recruitment: float = Field(
        PRIETO_RHO_WEEK * WEEKS_PER_MONTH, ge=0, description="recruits per member per month at the start"
    )
    revenue_elasticity: float = Field(
        1.0, ge=0, description="elasticity of recruitment to revenue per member"
    )
    pool_half: float = Field(
        10.0, gt=0, description="young men per member in its plazas at which recruitment is halved"
    )
    arrests: float = Field(
        PRIETO_ETA_WEEK * WEEKS_PER_MONTH, ge=0, description="members arrested per month by the status quo"
    )
    defection: float = Field(
        PRIETO_OMEGA_WEEK * WEEKS_PER_MONTH,
        ge=0,
        description="flow to splinters per member squared per month (splits happen at this rate)",
    )
    split_share: float = Field(0.4, gt=0, lt=1, description="share of members and plazas a splinter takes")
    enforcement_split: float = Field(
        1.0,
        ge=0,
        description="rise of the monthly split hazard per unit share of members lost to enforcement",
    )
    dismantle_below: float = Field(
        100.0, ge=0, description="an organization is dismantled below this many members"
    )


class Economy(_Model):
    territory_revenue: float = Field(1.0, ge=0, description="monthly revenue per unit of plaza value")
    buyer_revenue: float = Field(1.0, ge=0, description="monthly revenue per unit of US buyer volume")


class Violence(_Model):
    levels: list[float] = Field(default_factory=lambda: [0.0, 0.25, 0.5, 0.75, 1.0])
    cost: float = Field(0.6, ge=0, description="cost of violence per unit level and strength (revenue units)")
    response: float = Field(6.0, gt=0, description="logit response sharpness")
    adjustment: float = Field(
        0.5, gt=0, le=1, description="share of the gap to the chosen level closed each month"
    )
    attack_rate: float = Field(
        0.06, ge=0, le=1, description="attack probability per hostile edge at violence 1"
    )
    incumbent: float = Field(0.25, ge=0, description="defender's advantage in the contest success function")
    deaths_per_clash: float = Field(
        12.0,
        ge=0,
        description="mean homicides of a clash (a month's contest of a plaza) per unit of both sides' violence",
    )
    one_sided: float = Field(
        2.0, ge=0, description="homicides per 100,000 people per month in a plaza held at violence 1"
    )
    rival_share: float = Field(0.7, ge=0, le=1, description="share of victims who are rivals at violence 0")
    rival_share_drop: float = Field(
        0.4, ge=0, le=1, description="fall of the rival share from violence 0 to 1"
    )
    kin_hostility: float = Field(
        1.0, ge=0, le=1, description="hostility between organizations of one lineage"
    )
    start: float = Field(0.5, ge=0, le=1, description="starting violence level")
    horizon: float = Field(12.0, gt=0, description="months of revenue a plaza taken (or lost) is worth")

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: list[float]) -> list[float]:
        if len(v) < 2 or any(x < 0 or x > 1 for x in v) or sorted(v) != v:
            raise ValueError("levels must be at least two increasing numbers in [0, 1]")
        return v


class Enforcement(_Model):
    capacity: float = Field(
        PRIETO_ETA_WEEK * WEEKS_PER_MONTH,
        ge=0,
        description="members arrested per month by the policy's added enforcement",
    )
    start_month: int = Field(12, ge=0, description="month the policy starts (0 = from the start)")
    crackdown: float = Field(
        5.0,
        ge=0,
        description="rise of rivals' attack rate on an organization per unit share of members lost to enforcement in a year",
    )
    # kingpin
    strike_interval: int = Field(12, ge=1, description="months between leader strikes")
    strike_hit: float = Field(0.05, ge=0, le=1, description="share of members lost with the leader")
    splinter_probability: float = Field(0.6, ge=0, le=1)
    succession_months: int = Field(9, ge=0, description="months of succession fighting after a strike")
    succession_floor: float = Field(
        0.9, ge=0, le=1, description="violence floor while the succession is fought"
    )
    # violence-targeted
    score_months: int = Field(12, ge=1, description="months of violence in the published score")
    score_noise: float = Field(0.25, ge=0, description="attribution noise of published scores (relative sd)")
    target_loss: float = Field(
        6.0, ge=0, description="expected loss of being the target, in months of revenue"
    )
    lookahead_rounds: int = Field(
        3, ge=1, le=10, description="rounds of naming an organization looks ahead (1: only this month)"
    )
    discount: float = Field(0.95, gt=0, le=1, description="monthly discount factor of a future loss")
    fall_months: float = Field(
        24.0, gt=0, description="expected months from naming to the fall of a target (later rounds)"
    )
    buyer_switch: float = Field(
        0.15, ge=0, le=1, description="monthly probability a targeted supplier's buyer switches"
    )
    # regional
    hot_plazas: int = Field(50, ge=1, description="plazas the regional policy concentrates on")
    regional_loss: float = Field(
        1.0, ge=0, description="expected loss if all regional pressure fell on one organization"
    )
    # Caribbean
    caribbean_change: float = Field(
        -0.5, gt=-1, description="change of Caribbean interdiction under the Caribbean policy"
    )


class Channels(_Model):
    """The targeted policy's four channels; switching one off (same seed) isolates its effect."""

    incapacitation: bool = Field(True, description="the added capacity arrests the target's members")
    buyers: bool = Field(True, description="the target's US buyers switch supplier")
    restraint: bool = Field(True, description="the target weighs its own chance of staying named")
    deterrence: bool = Field(True, description="the others weigh their chance of being named next")


class Scenario(_Model):
    """A scenario file: what world, how long, and every parameter of the model."""

    name: str = "default"
    policies: list[str] = Field(default_factory=lambda: list(POLICIES))
    run: Run = Run()
    world: WorldSpec = WorldSpec()
    people: People = People()
    economy: Economy = Economy()
    violence: Violence = Violence()
    enforcement: Enforcement = Enforcement()
    channels: Channels = Channels()

    @field_validator("policies")
    @classmethod
    def _policies(cls, v: list[str]) -> list[str]:
        for p in v:
            check_policy(p)
        return v

    def sha256(self) -> str:
        """SHA-256 of the scenario's canonical JSON (every parameter, defaults included)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def with_values(self, values: dict[str, float], *, where: str = "") -> Scenario:
        """The scenario with parameters given by dotted name (``"violence.attack_rate"``)
        replaced and validated; a bad name or value raises :class:`VdtoError` naming it
        (``where`` prefixes the name, e.g. a file)."""
        data = self.model_dump()
        for name, v in values.items():
            section, _, key = name.partition(".")
            if not isinstance(data.get(section), dict) or key not in data[section]:
                raise VdtoError(
                    f"unknown parameter {name!r}", fix="use section.parameter as in the scenario file",
                    param=f"{where}{name}",
                )  # fmt: skip
            data[section][key] = v
        try:
            return Scenario.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = ".".join(str(x) for x in err["loc"])
            raise VdtoError(
                f"bad value ({err['msg']})", fix="use a value in range", param=f"{where}{name}"
            ) from None

    def with_channels(self, **switches: bool) -> Scenario:
        """The scenario with some of the targeted policy's channels switched (see :data:`CHANNELS`)."""
        unknown = sorted(set(switches) - set(CHANNELS))
        if unknown:
            raise VdtoError(
                f"unknown channel {unknown[0]!r}", fix=f"use {', '.join(CHANNELS)}", param="channels"
            )
        return self.model_copy(update={"channels": self.channels.model_copy(update=switches)})


def check_policy(policy: str) -> tuple[str, ...]:
    """Split a policy such as ``targeted+caribbean`` into known parts, or raise ValueError."""
    parts = tuple(p.strip() for p in policy.split("+") if p.strip())
    if not parts or any(p not in POLICIES for p in parts):
        raise ValueError(
            f"unknown policy {policy!r}: use {', '.join(POLICIES)} or combinations like targeted+caribbean"
        )
    if "none" in parts and len(parts) > 1:
        raise ValueError(f"'none' cannot be combined ({policy!r})")
    return parts


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read and validate a scenario: a bundled one by name (``default``, ``small``), a TOML file,
    or the defaults when ``path`` is None."""
    if path is None:
        return Scenario()
    if str(path) in scenario_names():
        path = bundled("scenario", str(path))
    return load_model(Scenario, path, "docs/model.md for every parameter")


def with_run(scenario: Scenario, **options: int | None) -> Scenario:
    """The scenario with some run options (``replicates``, ``months``, ``seed``) replaced; None
    keeps the scenario's own. A bad value names its option."""
    data = {**scenario.run.model_dump(), **{k: v for k, v in options.items() if v is not None}}
    try:
        run = Run.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise VdtoError(
            f"bad run option ({err['msg']})", fix="use positive numbers", param=str(err["loc"][0])
        ) from None
    return scenario.model_copy(update={"run": run})


__all__ = [
    "CHANNELS",
    "POLICIES",
    "Scenario",
    "check_policy",
    "load_scenario",
    "with_run",
]
