"""The bundled real data sets, read once per process: INEGI's yearly homicide files, SESNSP's
victims by state and month, and the UCDP GED events with their attributed perpetrators.

The frames are cached and shared by every caller (the simulator's world, the calibration's
real panel, the evaluation's panels): do not modify them.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from vdto.data import bundled

#: The SESNSP measures that count homicide victims: intentional homicide and femicide.
SESNSP_MEASURES = ("homicidio_doloso", "feminicidio")


@cache
def inegi_tables() -> tuple:
    """INEGI's 26 yearly files (1990-2015), read and checked (:class:`vdto.events.inegi.YearTable`)."""
    from vdto.events import inegi

    return tuple(inegi.read(bundled("inegi")))


@cache
def sesnsp_counts() -> pd.DataFrame:
    """SESNSP's victims by state, month, measure and modality (the ``region_counts`` layout)."""
    from vdto.events import counts

    return counts.parse(bundled("sesnsp")).counts


@cache
def ucdp_attributed() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Events (source_id, date, year, mun_code, deaths: UCDP's best estimate) and perpetrators
    (source_id, org_id, probability) of the bundled UCDP GED file under the seed registry,
    rows with problems dropped (as the importer does)."""
    from vdto.events import ucdp
    from vdto.orgs import Registry

    batch = ucdp.parse(bundled("ucdp"), Registry.seed())
    batch.drop_bad_rows()
    ev, pe = batch.events, batch.perpetrators
    date = pd.to_datetime(ev["date_start"])
    events = pd.DataFrame({
        "source_id": ev["source_id"].astype(str).to_numpy(), "date": date.to_numpy(), "year": date.dt.year.to_numpy(),
        "mun_code": ev["mun_code"].to_numpy(dtype=object), "deaths": ev["deaths_best"].astype(float).to_numpy(),
    })  # fmt: skip
    perps = pd.DataFrame({
        "source_id": pe["source_id"].astype(str).to_numpy(), "org_id": pe["org_id"].to_numpy(dtype=object),
        "probability": pe["probability"].astype(float).to_numpy(),
    })  # fmt: skip
    return events, perps


__all__ = ["SESNSP_MEASURES", "inegi_tables", "sesnsp_counts", "ucdp_attributed"]
