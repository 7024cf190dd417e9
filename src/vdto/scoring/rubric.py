"""The published violence rubric: a TOML file, validated, hashed and compared.

A rubric is identified by the SHA-256 of its canonical JSON (keys sorted, no whitespace), so
two files that say the same thing have the same hash whatever their layout or comments.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vdto.data import bundled
from vdto.errors import ConfigError
from vdto.schema import Category, VictimKind
from vdto.tomlfile import first_problem

NonNegative = Field(ge=0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Victims(_Strict):
    dto_member: float = Field(1.0, ge=0)
    civilian: float = Field(2.0, ge=0)
    police: float = Field(3.0, ge=0)
    military: float = Field(3.0, ge=0)
    official: float = Field(4.0, ge=0)
    journalist: float = Field(4.0, ge=0)
    unknown: float = Field(1.0, ge=0)


class Categories(_Strict):
    homicide: float = Field(1.0, ge=0)
    massacre: float = Field(1.0, ge=0)
    attack_security_forces: float = Field(1.0, ge=0)
    attack_official: float = Field(1.0, ge=0)
    attack_journalist: float = Field(1.0, ge=0)
    kidnapping: float = Field(1.0, ge=0)
    disappearance: float = Field(1.0, ge=0)
    torture_display: float = Field(1.0, ge=0)
    attack_civilians: float = Field(1.0, ge=0)
    armed_clash: float = Field(1.0, ge=0)


class Severity(_Strict):
    massacre_min_deaths: int = Field(5, ge=1)
    massacre_multiplier: float = Field(1.5, ge=0)
    torture_display_per_victim: float = Field(1.0, ge=0)


class NonFatal(_Strict):
    kidnapping_per_victim: float = Field(1.0, ge=0)
    disappearance_per_victim: float = Field(1.0, ge=0)
    attack_without_deaths: float = Field(0.5, ge=0)


class Time(_Strict):
    window_days: int = Field(365, ge=1)
    half_life_days: float = Field(180.0, ge=0)


class Attribution(_Strict):
    roll_up_factions: bool = True
    weight_by_reliability: bool = True


class Target(_Strict):
    threshold: float = Field(0.9, gt=0, le=1)


class Rubric(_Strict):
    """A violence rubric (see ``vdto/data/rubrics/default-v1.toml`` and docs/methodology.md).

    Examples
    --------
    >>> r = Rubric.default()
    >>> r.name, r.victims.journalist, r.target.threshold
    ('default-v1', 4.0, 0.9)
    >>> len(r.sha256())
    64
    """

    name: str
    version: int = Field(ge=1)
    description: str = ""
    victims: Victims = Victims()
    categories: Categories = Categories()
    severity: Severity = Severity()
    nonfatal: NonFatal = NonFatal()
    time: Time = Time()
    attribution: Attribution = Attribution()
    target: Target = Target()

    def canonical_json(self) -> str:
        """The rubric as canonical JSON: sorted keys, no whitespace (what the hash covers)."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def victim_weights(self) -> dict[str, float]:
        return {k.value: getattr(self.victims, k.value) for k in VictimKind}

    def category_weights(self) -> dict[str, float]:
        return {c.value: getattr(self.categories, c.value) for c in Category}

    @classmethod
    def default(cls) -> Rubric:
        """The rubric shipped with vdto (``default-v1``)."""
        return load_rubric(None)


def _rubric_text(path: str | Path | None, param: str = "rubric") -> tuple[str, str]:
    if path is None or str(path) == "default-v1":
        return bundled("rubric", "default-v1").read_text(encoding="utf-8"), "default-v1"
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except FileNotFoundError:
        raise ConfigError(
            "rubric file not found",
            str(path),
            "check the path given as {" + param + "} (or use default-v1)",
            mentions=(param,),
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the rubric ({exc})", str(path), "save it as UTF-8 text") from None


def load_rubric(path: str | Path | None = None, param: str = "rubric") -> Rubric:
    """Load and validate a rubric TOML file (``None`` or ``"default-v1"`` for the shipped one);
    ``param`` is the parameter that gave the path, which a missing file's error names.

    Errors name the key: ``my.toml: victims.journalist: Input should be greater than or equal to 0``.
    """
    text, origin = _rubric_text(path, param)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML ({exc})", origin, "fix the TOML syntax") from None
    try:
        return Rubric.model_validate(raw)
    except ValidationError as exc:
        key, what = first_problem(exc)
        raise ConfigError(what, f"{origin}: {key}", "see docs/methodology.md for the rubric's keys") from None


def rubric_diff(a: Rubric, b: Rubric) -> list[tuple[str, object, object]]:
    """Every key whose value differs between two rubrics: (key, value in a, value in b)."""

    def flat(d: dict, prefix: str = "") -> dict[str, object]:
        out: dict[str, object] = {}
        for k, v in d.items():
            key = f"{prefix}{k}"
            if isinstance(v, dict):
                out.update(flat(v, key + "."))
            else:
                out[key] = v
        return out

    fa, fb = flat(a.model_dump(mode="json")), flat(b.model_dump(mode="json"))
    return [(k, fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]
