"""Quantities as people write them: shares and changes as "30%" or "0.3"."""

from __future__ import annotations

import math

from vdto.errors import VdtoError


def parse_share(text: str) -> float:
    """A share or a change written as a percentage (``"-50%"``) or a fraction (``"-0.5"``).

    Raises ``ValueError`` for text that is neither, or that is not finite.

    Examples
    --------
    >>> parse_share("-50%"), parse_share("0.25"), parse_share(" 30 % ")
    (-0.5, 0.25, 0.3)
    """
    t = str(text).strip()
    percent = t.endswith("%")
    value = float(t.removesuffix("%").strip()) / (100.0 if percent else 1.0)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not finite")
    return value


def share_of(text: str, *, param: str, what: str, example: str) -> float:
    """:func:`parse_share`, with a bad value a one-line error naming ``param``.

    Examples
    --------
    >>> share_of("abc", param="cut", what="a share", example="0.3 or 30%")
    Traceback (most recent call last):
    ...
    vdto.errors.VdtoError: cut: 'abc' is not a share; write e.g. 0.3 or 30%
    """
    try:
        return parse_share(text)
    except ValueError:
        raise VdtoError(f"{text!r} is not {what}", fix=f"write e.g. {example}", param=param) from None
