"""A space-time cube: one count per region and time bin, with the people who lived there.

The cube is what an emerging hot spot analysis reads (:mod:`vdto.regional.emerging`), built
once from any monthly panel vdto holds and saved with its provenance so that later analyses
reuse it:

- the deaths of the store's events by region and month;
- SESNSP's victims of intentional homicide and femicide by state and month (2015 on);
- INEGI's homicide deaths by municipality of occurrence and month of registration (1990-2015).

Months are summed into bins of a month, a quarter or a year; a cube covers whole bins only (a
quarter cube of 2007-2012 starts on 1 January 2007 and ends on 31 December 2012). A bin's
population is the mean over its months of CONAPO's population (municipalities: the mid-year
estimate of each month's year, 2007-2009 interpolated; states: the monthly series), so a rate is
per 100,000 people *per bin* (a quarter's rate is about a quarter of a year's). Regions without
a population estimate (municipalities created after 2010, or years outside 1990-2030) have no
rate. Empirical-Bayes rates shrink each region's rate toward the bin's overall rate, the more
the fewer people live there (:func:`vdto.regional.rates.eb_rates`).

A saved cube is a Parquet file in long form (one row per region and bin) whose schema metadata
holds the provenance: vdto's version, what was counted and from where, the bin, the span and the
SHA-256 of the counts.

Examples
--------
>>> import numpy as np
>>> Y = np.arange(12.0).reshape(2, 6)  # 2 regions x 6 months
>>> months = pd.date_range("2010-01-01", periods=6, freq="MS")
>>> cube = SpaceTimeCube.from_monthly(Y, ("01", "02"), months, level="state", bin="quarter",
...                                   label="test", measure="homicides")
>>> cube.counts.tolist(), [str(b) for b in cube.bins]
([[3.0, 12.0], [21.0, 30.0]], ['2010Q1', '2010Q2'])
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

import vdto
from vdto.errors import VdtoError
from vdto.geography import MUNICIPAL_YEARS, geography
from vdto.regional.panel import check_level

if TYPE_CHECKING:
    from vdto.evaluation.panels import HomicidePanel

#: Bin sizes and their pandas period frequencies.
BINS: dict[str, str] = {"month": "M", "quarter": "Q", "year": "Y"}
#: What a cube's cells can hold for an analysis.
VALUES: tuple[str, ...] = ("count", "rate", "eb_rate")
_META_KEY = b"vdto.cube"


def check_bin(bin: str) -> str:
    """The bin size, or a one-line error naming ``bin``."""
    if bin not in BINS:
        raise VdtoError(f"unknown bin {bin!r}", fix=f"use one of: {', '.join(BINS)}", param="bin")
    return bin


def check_value(value: str) -> str:
    """The cell value, or a one-line error naming ``value``."""
    if value not in VALUES:
        raise VdtoError(f"unknown value {value!r}", fix=f"use one of: {', '.join(VALUES)}", param="value")
    return value


def monthly_population(
    level: str, codes: tuple[str, ...] | list[str], months: pd.DatetimeIndex
) -> np.ndarray:
    """People per region and month (regions x months): CONAPO's mid-year municipal estimate of
    the month's year (1990-2030, 2007-2009 interpolated) or the state's monthly estimate; NaN
    where there is none."""
    check_level(level)
    years = months.year.to_numpy()
    out = np.full((len(codes), len(months)), np.nan)
    if level == "municipality":
        lo, hi = MUNICIPAL_YEARS
        for y in np.unique(years):
            if lo <= y <= hi:
                pop = geography().municipal_population(int(y)).reindex(list(codes))
                out[:, years == y] = pop.to_numpy(dtype=float)[:, None]
        return out
    pop = geography().population
    table = pop.pivot_table(index="state_code", columns="date", values="population", aggfunc="mean")
    table.columns = pd.DatetimeIndex(table.columns).to_period("M").to_timestamp()
    table = table.T.groupby(level=0).mean().T  # one column per month
    got = table.reindex(index=list(codes), columns=months)
    return got.to_numpy(dtype=float)


def _bins_of(months: pd.DatetimeIndex, bin: str) -> pd.PeriodIndex:
    return months.to_period(BINS[bin])


@dataclass(frozen=True)
class SpaceTimeCube:
    """Counts (regions x bins, oldest bin first), the mean population of each region in each
    bin (NaN unknown), the region codes, the bins (a pandas ``PeriodIndex``), the level, what
    was counted (``label``) and the unit of one count (``measure``), and the provenance."""

    counts: np.ndarray
    population: np.ndarray
    codes: tuple[str, ...]
    bins: pd.PeriodIndex
    level: str
    label: str
    measure: str
    meta: dict = field(default_factory=dict)

    @property
    def bin(self) -> str:
        """``month``, ``quarter`` or ``year``."""
        freq = self.bins.freqstr[0]
        return {"M": "month", "Q": "quarter", "Y": "year"}[freq]

    @property
    def sha256(self) -> str:
        """SHA-256 of the codes, bins and counts (what the analysis reads)."""
        h = hashlib.sha256()
        h.update(f"{self.level}\n{self.bin}\n".encode())
        h.update("\n".join(self.codes).encode())
        h.update("\n".join(str(b) for b in self.bins).encode())
        h.update(np.ascontiguousarray(self.counts, dtype=np.float64).tobytes())
        return h.hexdigest()

    def rates(self) -> np.ndarray:
        """Counts per 100,000 people per bin (NaN where the population is unknown or zero)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.population > 0, self.counts / self.population * 1e5, np.nan)

    def eb_rates(self) -> np.ndarray:
        """Empirical-Bayes rates per 100,000 people per bin, each bin smoothed on its own
        (:func:`vdto.regional.rates.eb_rates`)."""
        from vdto.regional.rates import eb_rates

        return eb_rates(self.counts, self.population)

    def values(self, value: str = "count") -> tuple[np.ndarray, str]:
        """The cells to analyse and their unit: ``count``, ``rate`` or ``eb_rate``. Regions
        without a population have no rate: they count as 0 (the analysis says how many)."""
        check_value(value)
        per = f"per 100,000 people per {self.bin}"
        if value == "count":
            return self.counts.astype(float), f"{self.measure} per {self.bin}"
        raw = self.rates() if value == "rate" else self.eb_rates()
        label = f"{self.measure} {per}" + (" (empirical Bayes)" if value == "eb_rate" else "")
        return np.nan_to_num(raw, nan=0.0), label

    def span(self) -> tuple[str, str]:
        """First and last day covered (ISO dates)."""
        return (
            self.bins[0].start_time.date().isoformat(),
            self.bins[-1].end_time.date().isoformat(),
        )

    def provenance(self) -> dict:
        """What a saved cube or an analysis of it carries."""
        first, last = self.span()
        return {
            "vdto_version": vdto.__version__,
            "level": self.level,
            "bin": self.bin,
            "from": first,
            "to": last,
            "regions": len(self.codes),
            "bins": len(self.bins),
            "label": self.label,
            "measure": self.measure,
            "cube_sha256": self.sha256,
            **self.meta,
        }

    def to_frame(self) -> pd.DataFrame:
        """Long form: ``region_code, bin, bin_start, count, population, per100k`` (one row per
        region and bin)."""
        r, t = self.counts.shape
        return pd.DataFrame(
            {
                "region_code": np.repeat(np.array(self.codes, dtype=object), t),
                "bin": np.tile(np.array([str(b) for b in self.bins], dtype=object), r),
                "bin_start": np.tile(self.bins.start_time.date, r),
                "count": self.counts.ravel(),
                "population": self.population.ravel(),
                "per100k": self.rates().ravel(),
            }
        )

    def save(self, path: str | Path) -> Path:
        """Write the cube as Parquet with its provenance in the file's metadata (atomically)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from vdto.files import atomic_write

        path = Path(path)
        table = pa.Table.from_pandas(self.to_frame(), preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[_META_KEY] = json.dumps(self.provenance(), sort_keys=True).encode()
        table = table.replace_schema_metadata(meta)
        return atomic_write(path, lambda tmp: pq.write_table(table, tmp))

    @classmethod
    def load(cls, path: str | Path) -> SpaceTimeCube:
        """Read a cube written by :meth:`save` (one-line errors for anything else)."""
        from vdto.files import read_parquet

        path = Path(path)
        table, prov = read_parquet(path, fix="give a cube written by vdto regions cube", key=_META_KEY)
        if prov is None:
            raise VdtoError("a Parquet file without vdto's cube provenance", str(path),
                            "write the cube with vdto regions cube")  # fmt: skip
        frame = table.to_pandas()
        codes = tuple(dict.fromkeys(frame["region_code"].astype(str)))
        bins = pd.PeriodIndex(list(dict.fromkeys(frame["bin"].astype(str))), freq=BINS[prov["bin"]])
        shape = (len(codes), len(bins))
        if len(frame) != shape[0] * shape[1]:
            raise VdtoError("the cube is not one row per region and bin", str(path), "write it again")
        cube = cls(
            counts=frame["count"].to_numpy(dtype=float).reshape(shape),
            population=frame["population"].to_numpy(dtype=float).reshape(shape),
            codes=codes,
            bins=bins,
            level=prov["level"],
            label=prov["label"],
            measure=prov["measure"],
            meta={k: v for k, v in prov.items() if k not in _OWN_KEYS},
        )
        if cube.sha256 != prov["cube_sha256"]:
            raise VdtoError(
                "the cube's counts do not match the SHA-256 of its provenance",
                str(path),
                "the file was changed after it was written: build it again",
            )
        return cube

    @classmethod
    def from_monthly(cls, Y: np.ndarray, codes: tuple[str, ...], months: pd.DatetimeIndex, *, level: str,
                     bin: str, label: str, measure: str, meta: dict | None = None,
                     population: np.ndarray | None = None) -> SpaceTimeCube:  # fmt: skip
        """Sum monthly counts (regions x months, months whole and consecutive) into bins.

        The months must cover whole bins; ``population`` (regions x months) defaults to
        :func:`monthly_population`."""
        check_level(level)
        check_bin(bin)
        Y = np.asarray(Y, dtype=float)
        if Y.shape != (len(codes), len(months)):
            raise VdtoError(f"counts of shape {Y.shape} for {len(codes)} regions x {len(months)} months",
                            fix="give one count per region and month", param="counts")  # fmt: skip
        if len(months) == 0:
            raise VdtoError("the cube has no months", fix="give a span of at least one bin", param="start")
        periods = _bins_of(months, bin)
        bins = pd.period_range(periods[0], periods[-1], freq=BINS[bin])
        first, last = months[0], months[-1]
        if first != bins[0].start_time or last.to_period("M") != bins[-1].end_time.to_period("M"):
            raise VdtoError(
                f"{first:%Y-%m} to {last:%Y-%m} does not cover whole {bin}s",
                fix=f"start on {bins[0].start_time:%Y-%m-%d} and end on {bins[-1].end_time:%Y-%m-%d}, or use month bins",
                param="start",
            )
        pos = bins.get_indexer(periods)
        counts = np.zeros((len(codes), len(bins)))
        np.add.at(counts.T, pos, Y.T)
        pop_m = (
            monthly_population(level, codes, months) if population is None else np.asarray(population, float)
        )
        with np.errstate(invalid="ignore"):
            total = np.zeros_like(counts)
            np.add.at(total.T, pos, pop_m.T)
            size = np.bincount(pos, minlength=len(bins)).astype(float)
            pop = total / size  # NaN where any month lacks a figure
        return cls(counts, pop, tuple(str(c) for c in codes), bins, level, label, measure, dict(meta or {}))

    @classmethod
    def from_panel(cls, panel: HomicidePanel, *, bin: str, start: pd.Timestamp | None = None,
                   end: pd.Timestamp | None = None) -> SpaceTimeCube:  # fmt: skip
        """The cube of a monthly homicide panel (:class:`vdto.evaluation.panels.HomicidePanel`)
        between the months of ``start`` and ``end`` (default: the whole bins of the panel: a
        panel ending in May gives a quarter cube ending in March)."""
        check_bin(bin)
        months = panel.months
        whole = months[(months.to_period(BINS[bin]).start_time >= months[0])
                       & (months.to_period(BINS[bin]).end_time.to_period("M").to_timestamp() <= months[-1])]  # fmt: skip
        if len(whole) == 0 and (start is None or end is None):
            raise VdtoError(f"{panel.label} covers no whole {bin}", fix="use shorter bins", param="bin")
        lo = pd.Timestamp(start).to_period("M").to_timestamp() if start is not None else whole[0]
        hi = pd.Timestamp(end).to_period("M").to_timestamp() if end is not None else whole[-1]
        if lo > hi:
            raise VdtoError(f"the span starts ({lo:%Y-%m}) after it ends ({hi:%Y-%m})",
                            fix="give a start before the end", param="start")  # fmt: skip
        if lo < months[0] or hi > months[-1]:
            raise VdtoError(
                f"{panel.label} covers {months[0]:%Y-%m} to {months[-1]:%Y-%m}, not {lo:%Y-%m} to {hi:%Y-%m}",
                fix="choose a span inside the panel",
                param="start",
            )
        keep = (months >= lo) & (months <= hi)
        meta = {"source": panel.label, "source_sha256": panel.sha256, "source_notes": dict(panel.notes)}
        return cls.from_monthly(panel.Y[:, keep], tuple(panel.units), months[keep], level=panel.level, bin=bin,
                                label=panel.label, measure=panel.measure, meta=meta)  # fmt: skip


_OWN_KEYS = frozenset(
    {"vdto_version", "level", "bin", "from", "to", "regions", "bins", "label", "measure", "cube_sha256"}
)

__all__ = ["BINS", "VALUES", "SpaceTimeCube", "check_bin", "check_value", "monthly_population"]
