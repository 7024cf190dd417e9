"""Numbers, percentages, probabilities, money and dates as people read them, in English or Spanish.

One formatter for every page vdto writes (the public scorecard, the analyst's report) and for
anyone else who prints a number. A missing or non-finite value (``None``, NaN, infinity, a
string, ``pd.NA``) always prints as :data:`MISSING`, "—".

Examples
--------
>>> num(1234.567), num(1234.567, 0), num(None), num(float("nan"))
('1,234.6', '1,235', '—', '—')
>>> pct(0.8021), pct(0.8021, "es"), pct(0.42, digits=0)
('80.2%', '80.2\\xa0%', '42%')
>>> prob(0.98512), interval(1.25, 3), rise(0.8, "en"), rise(2.2, "en")
('0.985', '1.2 – 3.0', '+80.0%', '×3.2')
>>> date_text("2020-12-31", "es"), period({"from": "2020-01-01", "to": "2020-12-31"}, "en")
('31 de diciembre de 2020', '1 January 2020 to 31 December 2020')
>>> money(69_612_345.0), money(2.5e9), money(950.0), money(2.5e9, "es")
('US$69.6 million', 'US$2.5 billion', 'US$950', 'US$2.5 mil millones')
>>> sig(565136292.9732497), sig(2.1e-15), sig(4.47e-06), sig(0.02), sig(12.345)
('565,136,293', '0', '0.00000447', '0.02', '12.3')
>>> cell(2006, "year"), cell("02004", "region_code"), cell(0.5, "top_org_share"), cell(None, "score")
('2006', '02004', '50%', '—')
>>> cell(2700.456, "score"), cell(565136292.97, "revenue_denied_usd"), cell(True, "hot")
('2,700.5', 'US$565.1 million', 'yes')
>>> cell(3, "shared_regions"), cell(0.25, "denied_share")
('3', '25%')
"""

from __future__ import annotations

import math
import numbers
from datetime import date
from typing import Any

#: What a missing or non-finite value prints as, everywhere.
MISSING = "—"

LANGS: tuple[str, ...] = ("es", "en")

_MONTHS = {
    "es": (
        "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
        "octubre", "noviembre", "diciembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ),
}  # fmt: skip


def finite(x: Any) -> bool:
    """Whether ``x`` is a finite real number (Python or NumPy; not a bool, not a string)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return False
    return math.isfinite(float(x))


def missing(x: Any) -> bool:
    """Whether ``x`` is a missing value: ``None``, NaN, ``pd.NaT`` or ``pd.NA``."""
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN and NaT are not equal to themselves
    except TypeError:  # pd.NA is neither equal nor unequal to anything
        return True
    except ValueError:  # an array
        return False


def text(x: Any) -> str:
    """A value as text; a missing one as :data:`MISSING`."""
    return MISSING if missing(x) else str(x)


def num(x: Any, digits: int = 1, *, sign: bool = False) -> str:
    """``x`` with thousands separators and ``digits`` decimals (``+`` before positives if ``sign``)."""
    if not finite(x):
        return MISSING
    return f"{float(x):{'+' if sign else ''},.{digits}f}"


def sig(x: Any, digits: int = 3) -> str:
    """``x`` with ``digits`` meaningful digits and no more, thousands separated: ``12.3``,
    ``0.00000447``, ``565,136,293``; anything closer to zero than ``1e-12`` prints as ``0``
    (solver noise such as a gap of ``2.1e-15`` is zero to a reader)."""
    if not finite(x):
        return MISSING
    v = float(x)
    if abs(v) < 1e-12:
        return "0"
    if abs(v) >= 10 ** (digits - 1):
        return f"{round(v):,}"
    decimals = digits - 1 - math.floor(math.log10(abs(v)))
    return f"{v:,.{decimals}f}".rstrip("0").rstrip(".")


def compact(x: Any) -> str:
    """The shortest plain form of ``x`` (``0.9``, ``1000``, ``1e-05``): thresholds, multipliers."""
    return f"{float(x):g}" if finite(x) else MISSING


def pct(x: Any, lang: str = "en", digits: int = 1, *, sign: bool = False) -> str:
    """A share as a percentage: ``0.802`` -> ``80.2%`` (English) or ``80.2 %`` (Spanish, with a
    no-break space)."""
    if not finite(x):
        return MISSING
    text = f"{100 * float(x):{'+' if sign else ''},.{digits}f}"
    return f"{text}\u00a0%" if lang == "es" else f"{text}%"


def chance(x: Any, lang: str = "en", near: Any = None) -> str:
    """A probability as a percentage a reader takes in: whole percents (``0.97`` -> ``97%``, in
    Spanish ``97 %``), one decimal where whole percents would mislead (a value that is not 0 or
    1 but would print as 0% or 100%, or one that is not ``near``, a threshold, but would print
    as it), and "over 99.9%" / "under 0.1%" beyond that.

    Examples
    --------
    >>> chance(0.97), chance(0.9, "es"), chance(0.896, near=0.9), chance(0.9996), chance(0.0), chance(0.0004, "es")
    ('97%', '90\xa0%', '89.6%', 'over 99.9%', '0%', 'menos de 0.1\xa0%')
    """
    if not finite(x):
        return MISSING
    v = float(x)
    if 0 < v < 1 and round(100 * v, 1) in (0, 100):
        if v > 0.5:
            return ("más de " if lang == "es" else "over ") + pct(0.999, lang, 1)
        return ("menos de " if lang == "es" else "under ") + pct(0.001, lang, 1)
    for digits in (0, 1, 2, 3):
        shown = round(100 * v, digits)
        if 0 < v < 1 and shown in (0, 100):
            continue
        if finite(near) and v != float(near) and shown == round(100 * float(near), digits):
            continue
        return pct(v, lang, digits)
    return pct(v, lang, 4)


def prob(x: Any, digits: int = 3) -> str:
    """A probability with ``digits`` decimals: ``0.985``."""
    return f"{float(x):.{digits}f}" if finite(x) else MISSING


def interval(lo: Any, hi: Any, digits: int = 1) -> str:
    """An interval: ``1,398.5 – 3,054.6``."""
    return f"{num(lo, digits)} – {num(hi, digits)}"


def rise(x: Any, lang: str = "en") -> str:
    """How much a score must grow: ``+80.2%`` below doubling, ``×3.2`` (times as high) above."""
    if not finite(x):
        return MISSING
    return f"+{pct(x, lang)}" if x < 1 else f"×{1 + float(x):,.1f}"


def money(x: Any, lang: str = "en") -> str:
    """US dollars in words a reader takes in at a glance: ``US$69.6 million`` (English) or
    ``US$69.6 millones`` (Spanish)."""
    if not finite(x):
        return MISSING
    v = float(x)
    if v < 0:
        return "-" + money(-v, lang)
    es = lang == "es"
    if v >= 1e9:
        return f"US${v / 1e9:,.1f} {'mil millones' if es else 'billion'}"
    if v >= 1e6:
        return f"US${v / 1e6:,.1f} {'millones' if es else 'million'}"
    return f"US${v:,.0f}"


#: Column names whose integers are identifiers or calendar units: never a thousands separator.
ID_COLUMNS = ("year", "month", "day", "seed", "replicate", "round", "round_id", "id", "rank", "code")
#: Column-name parts that mark a share (0-1) to print as a percentage.
SHARE_MARKS = frozenset({"share", "shares", "pct", "percent"})
#: Column-name parts that mark US dollars.
MONEY_MARKS = frozenset({"usd", "revenue", "revenues", "money", "dollars"})


def _is_id(column: str) -> bool:
    c = column.lower()
    return (
        c in ID_COLUMNS or c.endswith(tuple("_" + i for i in ID_COLUMNS)) or c.startswith(("rank_", "year_"))
    )


def cell(x: Any, column: str = "", lang: str = "en") -> str:
    """One table cell, chosen by its column's name: the one rule every table vdto prints follows.

    Identifiers and calendar units (``year``, ``region_code``, ``seed``, ``rank``) never get a
    thousands separator; shares (``*share*``) print as percentages and probabilities (``p_*``)
    with three decimals; money (``*usd*``, ``*revenue*``) in US dollars with its unit; other
    numbers with separators, whole numbers as they are, fractions to one decimal or three
    meaningful digits when small; booleans as yes/no; missing values as :data:`MISSING`.
    """
    import numpy as np

    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, str):
        return x
    if missing(x):
        return MISSING
    if not isinstance(x, numbers.Real):
        return str(x)
    c = column.lower()
    if _is_id(c) and finite(x) and float(x) == int(float(x)):
        return str(int(float(x)))
    if not finite(x):
        return MISSING
    if c.startswith("p_"):
        return prob(x)
    words = set(c.split("_"))  # whole words: "shared_regions" is a count, not a share
    if words & SHARE_MARKS:
        whole = abs(float(x) * 100 - round(float(x) * 100)) < 1e-9
        return pct(x, lang, digits=0 if whole else 1)
    if c.startswith(("cut_", "rise_", "leader_cut")):
        return pct(x, lang, digits=0)
    if words & MONEY_MARKS:
        return money(x)
    v = float(x)
    if v == int(v):
        return f"{int(v):,}"
    if abs(v) < 1:
        return sig(v)
    return num(v, 1)


def date_text(iso: Any, lang: str = "en") -> str:
    """An ISO date in words: ``31 de diciembre de 2020`` / ``31 December 2020`` (anything that is
    not a date is returned as text)."""
    if iso is None:
        return MISSING
    try:
        d = iso if isinstance(iso, date) else date.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    month = _MONTHS[lang][d.month - 1]
    return f"{d.day} de {month} de {d.year}" if lang == "es" else f"{d.day} {month} {d.year}"


def period(meta: dict, lang: str = "en") -> str:
    """The window ``meta["from"]`` to ``meta["to"]`` in words: ``del 1 de enero de 2020 al …``."""
    a, b = date_text(meta.get("from"), lang), date_text(meta.get("to"), lang)
    return f"del {a} al {b}" if lang == "es" else f"{a} to {b}"


#: The formatters by name, as the page templates know them (filters of :mod:`vdto.render.pages`).
FILTERS = {
    "num": num,
    "compact": compact,
    "pct": pct,
    "prob": prob,
    "chance": chance,
    "interval": interval,
    "rise": rise,
    "text": text,
    "money": money,
    "sig": sig,
    "date_text": date_text,
    "period": period,
}

__all__ = [
    "FILTERS",
    "LANGS",
    "MISSING",
    "cell",
    "chance",
    "compact",
    "date_text",
    "finite",
    "interval",
    "missing",
    "money",
    "num",
    "pct",
    "period",
    "prob",
    "rise",
    "sig",
    "text",
]
