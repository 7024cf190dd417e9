"""Importer for region-month counts without perpetrators (e.g. SESNSP homicide victims).

Two layouts are read:

* SESNSP victims, long format (``date_year_month, cve_ent, subtipo_de_delito, modalidad,
  n_victimas``, plus sex and age columns that are summed over);
* vdto's own layout: ``region_code, period, measure, count`` and optionally ``modality`` and
  ``source``; ``region_code`` is an INEGI state (2 digits) or municipality (5 digits) code and
  ``period`` any day of the month.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from vdto.errors import InputFileError
from vdto.events.tabular import ROW, Problems, parse_date, parse_number, read_csv, require_columns
from vdto.geography import STATES, geography
from vdto.names import slug

SESNSP = ("date_year_month", "cve_ent", "subtipo_de_delito", "modalidad", "n_victimas")
PLAIN = ("region_code", "period", "measure", "count")

#: What a SESNSP count is and what its month means (recorded in the store's ``measures`` table).
SESNSP_UNIT = "victims"
SESNSP_PERIOD = (
    "month the investigation file (carpeta de investigación) was opened by the state prosecutor, "
    "not necessarily the month of the crime"
)


class CountsRead(NamedTuple):
    """A counts file read: the counts (with ROW), the problems found, the rows read, the source
    label and what each measure is (``measure, source, unit, description, period_meaning``)."""

    counts: pd.DataFrame
    problems: Problems
    rows_read: int
    source: str
    measures: pd.DataFrame
    period_column: str = "period"


def parse(path: str | Path, *, source: str | None = None, encoding: str = "utf-8") -> CountsRead:
    """Read a counts file (see :class:`CountsRead`)."""
    frame = read_csv(path, encoding=encoding)
    if set(SESNSP) <= set(frame.columns):
        layout, src = "sesnsp", source or "sesnsp-victimas"
        region, period_col, measure_col, count_col = (
            "cve_ent",
            "date_year_month",
            "subtipo_de_delito",
            "n_victimas",
        )
        modality = frame["modalidad"]
    elif set(PLAIN) <= set(frame.columns):
        layout, src = "plain", source or "counts"
        region, period_col, measure_col, count_col = PLAIN
        modality = frame["modality"] if "modality" in frame else pd.Series([""] * len(frame))
        if "source" in frame and source is None and frame["source"].nunique() == 1:
            src = str(frame["source"].iloc[0])
    else:
        require_columns(frame, PLAIN, path, "counts (vdto layout; or SESNSP victims long format)")
        raise InputFileError(
            "unrecognised counts layout", str(path), "see docs/schema.md"
        )  # pragma: no cover
    require_columns(frame, (region, period_col, measure_col, count_col), path, "counts")
    problems = Problems(frame[ROW].to_numpy(), list(frame.columns))

    code = frame[region].str.strip()
    code = code.where(~code.str.fullmatch(r"\d{1}"), code.str.zfill(2))
    is_state = code.isin(list(STATES)).to_numpy()
    is_mun = code.str.fullmatch(r"\d{5}").to_numpy() & code.str[:2].isin(list(STATES)).to_numpy()
    if layout == "plain":
        is_mun &= code.isin(set(geography().municipalities["mun_code"])).to_numpy()
    problems.add(
        ~is_state & ~is_mun,
        region,
        frame[region],
        "is not an INEGI state or municipality code",
        "use a 2-digit state code (01..32) or a 5-digit municipality code",
    )
    period = parse_date(frame[period_col], period_col, problems)
    count = parse_number(frame[count_col], count_col, problems, integer=True, minimum=0)
    measure = frame[measure_col].str.strip()
    problems.add(
        (measure == "").to_numpy(),
        measure_col,
        frame[measure_col],
        "is empty",
        "name what is counted (e.g. homicidio_doloso)",
    )

    out = pd.DataFrame(
        {
            ROW: frame[ROW].to_numpy(),
            "source": src,
            "level": np.where(is_mun, "municipality", "state"),
            "region_code": code.to_numpy(),
            "state_code": code.str[:2].to_numpy(),
            "period": period.dt.to_period("M").dt.start_time.to_numpy(),
            "measure": _slugs(measure),
            "modality": _slugs(modality.fillna("").str.strip(), empty="all"),
            "count": np.where(np.isfinite(count), count, 0).astype(
                np.int64
            ),  # bad cells are problems already
        }
    )
    return CountsRead(
        out, problems, len(frame), src, _measures(out["measure"], measure, layout, src), period_col
    )


def _measures(slugs: pd.Series, names: pd.Series, layout: str, src: str) -> pd.DataFrame:
    """One row per measure of the file: what it counts and what its month means."""
    first = pd.DataFrame({"measure": slugs.to_numpy(), "name": names.to_numpy()})
    first = first[first["measure"] != ""].drop_duplicates("measure").sort_values("measure")
    if layout == "sesnsp":
        description = "SESNSP: victims of '" + first["name"] + "' (fuero común crimes), by state"
        unit, period = SESNSP_UNIT, SESNSP_PERIOD
    else:
        description = "'" + first["name"] + "' as counted in the file (vdto counts layout)"
        unit, period = "count", "the month given in the file's period column"
    return pd.DataFrame(
        {
            "measure": first["measure"].to_numpy(),
            "source": src,
            "unit": unit,
            "description": description.to_numpy(),
            "period_meaning": period,
        }
    )


def _slugs(values: pd.Series, empty: str = "") -> np.ndarray:
    uniques = values.unique()
    table = {u: (slug(u) if u else empty) for u in uniques}
    return values.map(table).to_numpy(dtype=object)


def aggregate(counts: pd.DataFrame) -> pd.DataFrame:
    """Sum rows that share source, region, month, measure and modality (e.g. over sex and age)."""
    keys = ["source", "level", "region_code", "state_code", "period", "measure", "modality"]
    return counts.drop(columns=[ROW]).groupby(keys, as_index=False, sort=True)["count"].sum()
