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


def first_problem(exc: ValidationError) -> tuple[str, str]:
    """The key and the words of the first problem pydantic found in a TOML file's values:
    ``unknown key`` for a key the model does not have, else pydantic's message with the value
    it got (when there was one and the message does not already say it).

    >>> from pydantic import ConfigDict
    >>> class Window(BaseModel):
    ...     model_config = ConfigDict(extra="forbid")
    ...     days: int = 3
    >>> try:
    ...     Window.model_validate({"day": 2})
    ... except ValidationError as exc:
    ...     first_problem(exc)
    ('day', 'unknown key')
    """
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden":
        return key, "unknown key"
    what = err["msg"].removeprefix("Value error, ")
    if err["type"] not in ("missing", "value_error"):
        what += f" (got {err.get('input')!r})"
    return key, what


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
