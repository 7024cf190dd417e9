"""Where an organization was present before an intervention: the regions of the events
attributed to it (or to one of its factions) in the months before, with at least a given
probability.

Examples
--------
>>> import pandas as pd
>>> ev = pd.DataFrame({"source_id": ["a", "b", "c"], "date": pd.to_datetime(["2009-05-01", "2009-11-02", "2007-01-01"]),
...     "mun_code": ["17007", "17011", "17020"]})
>>> pe = pd.DataFrame({"source_id": ["a", "b", "c"], "org_id": ["beltran_leyva", "beltran_leyva", "beltran_leyva"],
...     "probability": [1.0, 0.4, 1.0]})
>>> iv = pd.DataFrame({"row": [5], "date": pd.to_datetime(["2009-12-16"]), "organization": ["beltran_leyva"]})
>>> presence(ev, pe, iv, level="municipality")
{5: {'17007'}}
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

#: Months before an intervention whose events show where its organization was.
MONTHS = 24
#: Smallest attribution probability that counts as presence.
MIN_PROBABILITY = 0.5


def presence(events: pd.DataFrame, perps: pd.DataFrame, interventions: pd.DataFrame, *, level: str,
             months: int = MONTHS, min_probability: float = MIN_PROBABILITY,
             top: Callable[[str], str] | None = None) -> dict[int, set[str]]:  # fmt: skip
    """Per intervention file row, the regions (municipality or state codes) where its
    organization had events in the ``months`` before its date. ``top`` maps a faction to its
    organization (the registry's ``top``)."""
    code = (
        events["mun_code"].astype(object)
        if level == "municipality"
        else events["mun_code"].astype(str).str[:2]
    )
    ev = pd.DataFrame({"source_id": events["source_id"].astype(str), "date": pd.to_datetime(events["date"]),
                       "code": code}).dropna(subset=["code"])  # fmt: skip
    pe = perps[perps["probability"] >= min_probability]
    orgs = pe["org_id"].map(top) if top is not None else pe["org_id"]
    joined = ev.merge(
        pd.DataFrame({"source_id": pe["source_id"].astype(str), "org": orgs.to_numpy()}), on="source_id"
    )
    out: dict[int, set[str]] = {}
    for r in interventions.itertuples(index=False):
        if not r.organization:
            continue
        lo = pd.Timestamp(r.date) - pd.DateOffset(months=months)
        hit = joined[(joined["org"] == r.organization) & (joined["date"] >= lo) & (joined["date"] < r.date)]
        out[int(r.row)] = set(hit["code"].astype(str))
    return out


__all__ = ["MIN_PROBABILITY", "MONTHS", "presence"]
