"""Reading TOML configuration files with one-line errors (file, key, fix)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from vdto.errors import ConfigError, InputFileError

M = TypeVar("M", bound=BaseModel)


def read_toml(path: str | Path) -> dict:
    """The parsed TOML file, or an :class:`InputFileError` naming the file and the fix."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError("file not found", str(path), "check the path") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(f"not valid TOML ({exc})", str(path), "fix the TOML syntax") from None


def load_model(model: type[M], path: str | Path, docs: str) -> M:
    """Read ``path`` and validate it as ``model``; a bad value names ``file:key`` and ``docs``."""
    data = read_toml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(msg, f"{path}:{key}", f"see {docs}") from None


__all__ = ["load_model", "read_toml"]
