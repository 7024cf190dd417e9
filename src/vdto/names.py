"""Folding names so that spelling variants compare equal."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(name: str) -> str:
    """Fold a name for matching: strip accents, case, punctuation and extra spaces.

    Examples
    --------
    >>> fold("  Cártel Jalisco Nueva-Generación ")
    'cartel jalisco nueva generacion'
    """
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", plain.casefold()).strip()


def slug(name: str) -> str:
    """A lowercase identifier made of ``[a-z0-9_]``: ``'Homicidio doloso'`` -> ``'homicidio_doloso'``."""
    return fold(name).replace(" ", "_")


#: How an agency (whose data a row is, who ranks, who signs) may be named: also its folder and
#: key file names, so nothing else is allowed.
AGENCY_PATTERN = r"^[a-z0-9_-]{1,32}$"
_AGENCY = re.compile(AGENCY_PATTERN)
#: The agency of data imported without naming one.
DEFAULT_AGENCY = "default"


def is_agency(name: object) -> bool:
    """Whether ``name`` is a valid agency name.

    Examples
    --------
    >>> is_agency("mx"), is_agency("../x"), is_agency("MX")
    (True, False, False)
    """
    return isinstance(name, str) and _AGENCY.fullmatch(name) is not None


def check_agency(name: str, param: str = "agency") -> str:
    """``name`` if it is a valid agency name, else a one-line error naming ``param``."""
    from vdto.errors import VdtoError

    if not is_agency(name):
        raise VdtoError(
            f"{name!r} is not a valid agency name",
            fix="use lowercase letters, digits, '-' or '_' (at most 32), e.g. mx or us",
            param=param,
        )
    return name
