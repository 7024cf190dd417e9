"""Homicide rates per 100,000 people by municipality and state, raw and empirical-Bayes smoothed.

A *rate* here is a year's homicide deaths in a region divided by the region's mid-year
population, times 100,000: deaths per 100,000 people per year. The deaths are INEGI's homicide
deaths by municipality of occurrence (``vdto/data/real/inegi_homicidios``, 1990-2015, summed
from the month of registration to the year by :func:`inegi_yearly`), or any counts in the same
layout. The populations are CONAPO's mid-year estimates by municipality
(``vdto/data/real/conapo_municipal``, read by
:attr:`vdto.geography.Geography.municipal_populations`): the CONAPO-COLMEX estimates for
1990-2006 and CONAPO's 2010 projections for 2010-2030. **CONAPO's file has no figures for 2007,
2008 and 2009**: vdto fills them by straight-line interpolation between 2006 and 2010, per
municipality, and every rate that rests on such a figure is marked ``filled``. The two series
are different estimates (the 2010 census found more people than the 1990s-based estimates
expected), so the interpolation also spreads that step over 2007-2009, and rates before 2010
rest on a somewhat lower population base. A municipality without a CONAPO figure in a year
(created later, such as Tulum or Bacalar before 2010, or the 21 created after the 2010
projections) gets no rate (NaN). State rates (:func:`state_rates`) use CONAPO's monthly state
projections averaged over the year.

Why smooth: a rate over a small population is mostly noise. A single homicide in a village of
500 people is a rate of 200 per 100,000, ten times Mexico's national rate in 2010; none the
next year is 0. Ranked or mapped raw, the smallest municipalities take the top and the bottom
places by chance. :func:`eb_rates` computes Marshall's global empirical-Bayes estimator
(Marshall 1991): each region's rate is shrunk toward the overall rate (all deaths over all
people), and the smaller its population the more it is shrunk, by the weight
``A / (A + m / n_i)``, where ``m`` is the overall rate, ``n_i`` the region's population and
``A`` the variance of the true rates between regions, estimated from the rates themselves
(their population-weighted variance less the Poisson noise that ``m / mean(n)`` expects). A
city of a million keeps almost its own rate; a village of 500 gets almost the overall rate.
The computation is esda's (``esda.smoothing.Empirical_Bayes``, PySAL; Rey and Anselin 2007);
when the estimated ``A`` is not positive (the rates vary no more than Poisson noise would make
them), ``A`` is set to 0, as Marshall does, and every rate is the overall rate (esda leaves
``A`` negative there and returns shrinkage weights outside [0, 1]).

References
----------
Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes estimators.
*Journal of the Royal Statistical Society, Series C (Applied Statistics)* 40(2), 283-294.

Rey, S. J. and Anselin, L. (2007). PySAL: a Python library of spatial analytical methods.
*The Review of Regional Studies* 37(1), 5-27.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import numpy as np
import pandas as pd

from vdto.errors import VdtoError
from vdto.geography import MUNICIPAL_YEARS, STATES, geography
from vdto.regional.panel import all_regions

#: Homicides per how many people a rate counts.
PER = 1e5
#: The columns of :func:`municipal_rates` and :func:`state_rates`.
RATE_COLUMNS = ["region_code", "year", "count", "population", "filled", "per100k"]
_COUNT_COLUMNS = ("region_code", "year", "count")


def inegi_yearly() -> pd.DataFrame:
    """INEGI's bundled homicide deaths (1990-2015) summed by municipality and year of registration.

    Returns ``region_code, year, count``, one row per code and year with at least one death.
    The codes include INEGI's ``SS999`` (municipality not specified, within state ``SS``) and
    ``33999``, ``34999``, ``35999`` (deaths abroad), so that a year adds up to INEGI's national
    total; they are no municipality, and :func:`municipal_rates` leaves them out. A fresh copy
    on each call (the sums are computed once per process).

    Examples
    --------
    >>> y = inegi_yearly()
    >>> int(y.loc[y["year"] == 2010, "count"].sum())
    25757
    >>> int(y.loc[(y["year"] == 2010) & (y["region_code"] == "19039"), "count"].iloc[0])
    344
    """
    return _inegi_yearly().copy()


@cache
def _inegi_yearly() -> pd.DataFrame:
    from vdto.events.bundled import inegi_tables

    long = pd.concat(
        [t.counts[["region_code", "period", "count"]] for t in inegi_tables()], ignore_index=True
    )
    long = long.assign(year=pd.to_datetime(long["period"]).dt.year.astype(np.int64))
    out = long.groupby(["region_code", "year"], as_index=False, sort=True)["count"].sum()
    out["region_code"] = out["region_code"].astype(object)
    out["count"] = out["count"].astype(np.int64)
    return out[["region_code", "year", "count"]].reset_index(drop=True)


def municipal_rates(counts: pd.DataFrame, *, years: Iterable[int] | None = None) -> pd.DataFrame:
    """Homicides per 100,000 people by municipality and year.

    Parameters
    ----------
    counts
        ``region_code`` (the 5-digit INEGI municipality code, as a string such as ``"01001"``),
        ``year`` and ``count`` (deaths, not negative); several rows of one code and year are
        added up (e.g. :func:`inegi_yearly`).
    years
        The years to return, from 1990 to 2030 (CONAPO's municipal population); by default
        those in ``counts``. Rows of other years are ignored.

    Returns
    -------
    pandas.DataFrame
        One row per municipality of :func:`vdto.regional.panel.all_regions` and year, sorted by
        year and code: ``region_code, year, count`` (0 where ``counts`` has no row),
        ``population`` (CONAPO's mid-year population; NaN where CONAPO has no figure),
        ``filled`` (the population is interpolated, 2007-2009) and ``per100k`` (``count /
        population x 100,000``; NaN without a population). The deaths under codes that are no
        municipality (INEGI's ``SS999``, abroad, or codes vdto does not know) are left out; their
        number (deaths, in the years returned) is ``attrs["outside_regions"]``.

    Raises
    ------
    VdtoError
        ``counts`` lacks a column, has numeric codes or negative counts; a year is outside
        1990-2030 (``years``).

    Examples
    --------
    >>> counts = pd.DataFrame({"region_code": ["01001", "01001", "01999"], "year": [2010] * 3,
    ...                        "count": [60, 2, 5]})
    >>> out = municipal_rates(counts).set_index("region_code")
    >>> int(out.loc["01001", "count"]), float(out.loc["01001", "population"]), bool(out.loc["01001", "filled"])
    (62, 804009.0, False)
    >>> round(float(out.loc["01001", "per100k"]), 4), out.attrs["outside_regions"], len(out)
    (7.7114, 5, 2478)
    """
    lo, hi = MUNICIPAL_YEARS
    frame, span = _yearly(counts, years, lo, hi, "CONAPO's municipal population")
    codes = all_regions("municipality")
    pop = geography().municipal_populations
    pop = pop[(pop["sex"] == "Total") & pop["year"].isin(span)]
    population = pop.set_index(["mun_code", "year"])
    return _rates(frame, codes, span, population["population"].astype(float), population["filled"])


def state_rates(counts: pd.DataFrame, *, years: Iterable[int] | None = None) -> pd.DataFrame:
    """Homicides per 100,000 people by state and year (CONAPO's monthly state population,
    averaged over the year).

    Parameters
    ----------
    counts
        ``region_code``, ``year``, ``count`` as for :func:`municipal_rates`: 5-digit municipal
        codes (a state's ``SS999``, municipality not specified, counts toward the state) or
        2-digit state codes. Codes of no state (INEGI's ``33999``-``35999``, deaths abroad) are
        left out and their deaths are ``attrs["outside_regions"]``.
    years
        The years to return, within those of the state population (1990-2050); by default
        those in ``counts``.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`municipal_rates` for the 32 states; ``filled`` is always False.

    Examples
    --------
    >>> counts = pd.DataFrame({"region_code": ["01001", "01999", "33999"], "year": [2010] * 3,
    ...                        "count": [62, 1, 4]})
    >>> out = state_rates(counts).set_index("region_code")
    >>> int(out.loc["01", "count"]), out.attrs["outside_regions"], len(out)
    (63, 4, 32)
    """
    monthly = geography().population
    annual = (
        monthly.assign(year=monthly["date"].dt.year.astype(np.int64))
        .groupby(["state_code", "year"])["population"]
        .mean()
        .astype(float)
    )
    lo, hi = (
        int(annual.index.get_level_values("year").min()),
        int(annual.index.get_level_values("year").max()),
    )
    frame, span = _yearly(counts, years, lo, hi, "CONAPO's state population")
    code = frame["region_code"]
    state = code.str[:2].where(code.str.fullmatch(r"\d{2}|\d{5}"), code)
    frame = frame.assign(region_code=state)
    filled = pd.Series(False, index=annual.index)
    return _rates(frame, sorted(STATES), span, annual, filled)


def _yearly(counts: pd.DataFrame, years: Iterable[int] | None, lo: int, hi: int,
            source: str) -> tuple[pd.DataFrame, list[int]]:  # fmt: skip
    """``counts`` checked, restricted to the years asked for, and those years (sorted)."""
    if not isinstance(counts, pd.DataFrame):
        raise VdtoError("counts must be a table (pandas DataFrame)", fix="give region_code, year, count",
                        param="counts")  # fmt: skip
    missing = [c for c in _COUNT_COLUMNS if c not in counts.columns]
    if missing:
        raise VdtoError(f"counts lack the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                        fix="give region_code, year, count", param="counts")  # fmt: skip
    if pd.api.types.is_numeric_dtype(counts["region_code"]):
        raise VdtoError("region codes are numbers", fix="write them as 5-digit strings, e.g. '01001'",
                        param="counts")  # fmt: skip
    n = pd.to_numeric(counts["count"], errors="coerce")
    if n.isna().any() or not np.isfinite(n.to_numpy(dtype=float)).all():
        raise VdtoError(
            "counts must be finite numbers", fix="write 0 where nothing was counted", param="counts"
        )
    if (n < 0).any():
        raise VdtoError(f"counts are negative (e.g. {n[n < 0].iloc[0]:g})", fix="give deaths, 0 or more",
                        param="counts")  # fmt: skip
    y = pd.to_numeric(counts["year"], errors="coerce")
    if y.isna().any() or (y != np.round(y)).any():
        raise VdtoError("years must be whole numbers", fix="write years such as 2010", param="counts")
    if years is None:
        span = sorted({int(v) for v in y})
    else:
        try:
            span = sorted({int(v) for v in ([years] if isinstance(years, int | np.integer) else years)})
        except (TypeError, ValueError):
            raise VdtoError(f"years must be whole numbers (got {years!r})", fix="e.g. [2010, 2011]",
                            param="years") from None  # fmt: skip
    bad = [v for v in span if not lo <= v <= hi]
    if bad:
        shown = ", ".join(str(v) for v in bad[:3]) + (" ..." if len(bad) > 3 else "")
        asked = "" if years is not None else " (the years in counts)"
        raise VdtoError(f"{source} covers {lo}-{hi}, not {shown}{asked}",
                        fix=f"give years from {lo} to {hi}", param="years")  # fmt: skip
    frame = pd.DataFrame({"region_code": counts["region_code"].astype(str).str.strip().to_numpy(dtype=object),
                          "year": y.astype(np.int64).to_numpy(), "count": n.to_numpy()})  # fmt: skip
    return frame[frame["year"].isin(span)], span


def _rates(frame: pd.DataFrame, codes: list[str], span: list[int], population: pd.Series,
           filled: pd.Series) -> pd.DataFrame:  # fmt: skip
    """One row per code and year: summed counts, population (by ``(code, year)``), rate."""
    known = frame["region_code"].isin(set(codes))
    outside = frame.loc[~known, "count"].sum()
    summed = frame[known].groupby(["region_code", "year"])["count"].sum()
    grid = pd.MultiIndex.from_product([span, codes], names=["year", "region_code"]).swaplevel()
    count = summed.reindex(grid, fill_value=0).to_numpy()
    pop = population.reindex(grid).to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "region_code": grid.get_level_values("region_code").to_numpy(dtype=object),
            "year": grid.get_level_values("year").to_numpy(dtype=np.int64),
            "count": count.astype(np.int64) if (count == np.round(count)).all() else count.astype(float),
            "population": pop,
            "filled": filled.reindex(grid).fillna(False).to_numpy(dtype=bool),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per100k"] = np.where(pop > 0, count / pop * PER, np.nan)
    out.attrs["outside_regions"] = int(outside) if float(outside).is_integer() else float(outside)
    return out[RATE_COLUMNS]


def eb_rates(events: np.ndarray, population: np.ndarray, *, per: float = PER) -> np.ndarray:
    """Global (aspatial) empirical-Bayes smoothed rates (Marshall 1991), per ``per`` people.

    Each rate ``r_i = e_i / n_i`` is shrunk toward the overall rate ``m = sum(e) / sum(n)``:
    ``w_i r_i + (1 - w_i) m`` with ``w_i = A / (A + m / n_i)``, where ``A = sum(n_i (r_i -
    m)^2) / sum(n) - m / mean(n)`` estimates the variance of the true rates (set to 0 when not
    positive: every rate is then ``m``). Computed by ``esda.smoothing.Empirical_Bayes``.

    Parameters
    ----------
    events
        Deaths per region, shape ``(n,)``, or ``(n, k)`` for ``k`` periods (each column is
        smoothed on its own). Not negative; a NaN makes the region's rate NaN.
    population
        Population at risk, the same shape. Regions with population 0 or NaN get NaN and take
        no part in ``m`` and ``A``.
    per
        Rates per how many people (100,000 by default).

    Returns
    -------
    numpy.ndarray
        The smoothed rates, the shape of ``events``.

    Raises
    ------
    VdtoError
        Negative or infinite values, shapes that differ, more than 2 dimensions, ``per`` not
        positive.

    Examples
    --------
    >>> import numpy as np
    >>> deaths = np.array([1, 0, 250, 30, 600, 0])
    >>> people = np.array([500, 2_000, 1_000_000, 100_000, 1_500_000, 0])
    >>> np.round(eb_rates(deaths, people), 1)  # raw: 200, 0, 25, 30, 40, nan; overall 33.9
    array([35.1, 32.8, 25.5, 31.5, 39.7,  nan])
    """
    e = np.asarray(events, dtype=float)
    b = np.asarray(population, dtype=float)
    if e.ndim not in (1, 2):
        raise VdtoError(f"events have {e.ndim} dimensions", fix="give (regions,) or (regions, periods)",
                        param="events")  # fmt: skip
    if b.shape != e.shape:
        raise VdtoError(f"population has shape {b.shape}, events {e.shape}",
                        fix="give one population per event count", param="population")  # fmt: skip
    if not (np.isfinite(per) and per > 0):
        raise VdtoError(f"per must be a positive number (got {per})", fix="use e.g. 100000", param="per")
    for name, values in (("events", e), ("population", b)):
        if np.isinf(values).any():
            raise VdtoError(f"{name} are infinite", fix="give finite numbers (NaN where unknown)", param=name)
        if (values < 0).any():
            raise VdtoError(f"{name} are negative (e.g. {values[values < 0].flat[0]:g})",
                            fix="give counts, 0 or more", param=name)  # fmt: skip
    if e.ndim == 2:
        return np.column_stack([_eb(e[:, j], b[:, j]) * per for j in range(e.shape[1])]).reshape(e.shape)
    return _eb(e, b) * per


def _eb(e: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Marshall's global EB rates (per person) of one column; NaN where ``b`` is 0 or NaN."""
    from vdto.regional.pysal import esda

    out = np.full(e.shape, np.nan)
    ok = np.isfinite(e) & np.isfinite(b) & (b > 0)
    if not ok.any():
        return out
    e, b = e[ok], b[ok]
    m = e.sum() / b.sum()
    between = (b * (e / b - m) ** 2).sum() / b.sum() - m / b.mean()
    if between > 0:
        out[ok] = np.asarray(esda().smoothing.Empirical_Bayes(e, b).r, dtype=float).ravel()
    else:  # no variance left beyond Poisson noise: Marshall sets A = 0, every rate is m
        out[ok] = m
    return out


__all__ = ["PER", "RATE_COLUMNS", "eb_rates", "inegi_yearly", "municipal_rates", "state_rates"]
