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
