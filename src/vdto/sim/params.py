"""Simulation parameters and scenario files (TOML, validated by pydantic, hashed into results).

Every parameter, its default and where the default comes from is in docs/model.md.
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


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Run(_Model):
    months: int = Field(120, ge=1, le=1200)
    replicates: int = Field(200, ge=1)
    seed: int = Field(1, ge=0)


class WorldSpec(_Model):
    kind: Literal["default", "grid"] = "default"
    organizations: int = Field(20, ge=2, le=60, description="organizations in the default world")
    rows: int = Field(8, ge=2, description="grid rows (synthetic world)")
    cols: int = Field(8, ge=2, description="grid columns (synthetic world)")
    grid_orgs: int = Field(4, ge=2, description="organizations in the synthetic world")
    splinter_slots: int = Field(8, ge=0, le=60, description="spare slots for factions born of splits")


class Economy(_Model):
    territory_revenue: float = Field(1.0, ge=0, description="monthly revenue per unit of plaza value")
    buyer_revenue: float = Field(1.0, ge=0, description="monthly revenue per unit of US buyer volume")
    growth: float = Field(0.02, ge=0, description="strength gained per unit of revenue")
    upkeep: float = Field(0.02, ge=0, le=1, description="share of strength lost each month to upkeep")
    max_strength: float = Field(3.0, gt=0, description="cap on strength, in multiples of the starting mean")


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
        1.5, ge=0, description="mean deaths of a clash per unit of both sides' violence"
    )
    rival_share: float = Field(0.7, ge=0, le=1, description="share of victims who are rivals at violence 0")
    rival_share_drop: float = Field(
        0.4, ge=0, le=1, description="fall of the rival share from violence 0 to 1"
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
    capacity: float = Field(0.04, ge=0, description="strength removed per month by all enforcement")
    dismantle_below: float = Field(0.2, ge=0, description="an organization is dismantled below this strength")
    start_month: int = Field(12, ge=0, description="month the policy starts (0 = from the start)")
    # kingpin
    strike_interval: int = Field(12, ge=1, description="months between leader strikes")
    strike_hit: float = Field(0.2, ge=0, le=1, description="share of strength lost with the leader")
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


class Scenario(_Model):
    """A scenario file: what world, how long, and every parameter of the model."""

    name: str = "default"
    policies: list[str] = Field(default_factory=lambda: list(POLICIES))
    run: Run = Run()
    world: WorldSpec = WorldSpec()
    economy: Economy = Economy()
    violence: Violence = Violence()
    enforcement: Enforcement = Enforcement()

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


__all__ = ["POLICIES", "Scenario", "check_policy", "load_scenario", "with_run"]
