"""Assembling and checking canonical event frames (the checks every importer shares)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vdto.events.tabular import ROW, Problems
from vdto.geography import STATES
from vdto.orgs import Registry
from vdto.schema import (
    EVENT_COLUMNS,
    PERPETRATOR_COLUMNS,
    PROBABILITY_TOLERANCE,
    VICTIM_COLUMNS,
    Category,
)

CATEGORY_VALUES = frozenset(c.value for c in Category)


@dataclass
class Batch:
    """What an importer made of one file, before it is written to the store."""

    kind: str
    source: str
    events: pd.DataFrame  # EVENT_COLUMNS + ROW
    perpetrators: pd.DataFrame  # PERPETRATOR_COLUMNS + ROW
    rows_read: int
    problems: Problems
    skipped: Counter = field(default_factory=Counter)  # reason -> rows left out by design
    unresolved: Counter = field(default_factory=Counter)  # raw name -> events naming it
    adjusted: Counter = field(default_factory=Counter)  # what the importer corrected -> rows
    where: dict[str, str] = field(default_factory=dict)  # canonical field -> the file's column

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    def drop_bad_rows(self) -> int:
        """Remove rows with problems; return how many were removed."""
        bad_rows = set(self.problems.rows[self.problems.bad_mask()].tolist())
        if not bad_rows:
            return 0
        keep = ~self.events[ROW].isin(bad_rows)
        self.events = self.events[keep]
        self.perpetrators = self.perpetrators[~self.perpetrators[ROW].isin(bad_rows)]
        return int((~keep).sum())


def new_events(rows: np.ndarray, source: str, source_id: pd.Series, **values) -> pd.DataFrame:
    """A canonical event frame with defaults for whatever ``values`` leaves out."""
    n = len(rows)
    frame = pd.DataFrame({ROW: rows, "source": source, "source_id": np.asarray(source_id, dtype=object)})
    defaults: dict[str, object] = {
        "country": "MEX",
        "state_code": None,
        "mun_code": None,
        "latitude": np.nan,
        "longitude": np.nan,
        "location_precision": pd.array([pd.NA] * n, dtype="Int8"),
        "torture_display": False,
        "reliability": 1.0,
        "notes": None,
        **{c: 0 for c in VICTIM_COLUMNS},
    }
    for col in EVENT_COLUMNS[2:]:
        if col in values:
            frame[col] = (
                np.asarray(values[col]) if not isinstance(values[col], pd.Series) else values[col].to_numpy()
            )
        elif col in defaults:
            frame[col] = defaults[col]
        else:
            raise KeyError(f"importer did not set required field {col}")
    return frame[[ROW, *EVENT_COLUMNS]]


def resolve_perpetrators(
    raw: pd.DataFrame, registry: Registry, split: str | None = None
) -> tuple[pd.DataFrame, Counter]:
    """Resolve ``raw`` (ROW, source, source_id, raw_name, probability) through the registry.

    With ``split`` (e.g. ``", "``) a name that does not resolve whole is split into several
    actors, each taking an equal share of its probability.
    Returns the perpetrator frame and the unresolved names with the number of events naming them.
    """
    parts = []
    for name in raw["raw_name"].unique():
        matches = registry.resolve_list(name, split) if split else [registry.resolve(name)]
        parts += [(name, m.raw_name, m.org_id, m.faction_id, m.faction, 1.0 / len(matches)) for m in matches]
    table = pd.DataFrame(parts, columns=["raw_name", "part", "org_id", "faction_id", "faction", "share"])
    out = raw.merge(table, on="raw_name", how="inner", sort=False)
    out["probability"] = out["probability"] * out["share"]
    out["raw_name"] = out["part"]
    out = out[[ROW, *PERPETRATOR_COLUMNS]]
    if out.duplicated([ROW, "raw_name"]).any():
        # the same actor named twice in one event: its probabilities add up
        out = out.groupby(
            [ROW, "source", "source_id", "raw_name"], dropna=False, as_index=False, sort=False
        ).agg(
            org_id=("org_id", "first"),
            faction_id=("faction_id", "first"),
            faction=("faction", "first"),
            probability=("probability", "sum"),
        )
    missing = out[out["org_id"].isna()]
    unresolved = Counter(missing.drop_duplicates([ROW, "raw_name"])["raw_name"].value_counts().to_dict())
    return out[[ROW, *PERPETRATOR_COLUMNS]], unresolved


def check(events: pd.DataFrame, perps: pd.DataFrame, problems: Problems, where: dict[str, str]) -> None:
    """Check the rules every canonical event obeys; ``where`` maps fields to source columns."""

    def col(name: str) -> str:
        return where.get(name, name)

    ev = events
    # duplicate ids within the file
    dup = ev["source_id"].duplicated(keep="first").to_numpy()
    problems.add(
        dup,
        col("source_id"),
        ev["source_id"],
        "repeats an id already used on an earlier row",
        "give each row its own id",
    )
    problems.add(
        ev["source_id"].isna().to_numpy() | (ev["source_id"].astype("string").str.strip() == "").to_numpy(),
        col("source_id"),
        ev["source_id"],
        "is empty",
        "every row needs an id",
    )

    cat = ev["category"].astype("string")
    problems.add(
        ~cat.isin(CATEGORY_VALUES).to_numpy() & cat.notna().to_numpy(),
        col("category"),
        ev["category"],
        "is not a known category",
        "use one of: " + ", ".join(sorted(CATEGORY_VALUES)),
    )

    ds, de = ev["date_start"], ev["date_end"]
    problems.add(
        (de < ds).to_numpy(),
        col("date_end"),
        de.dt.strftime("%Y-%m-%d"),
        "is before the start date",
        "swap the dates or fix the end date",
    )

    best, low, high = (ev[c].to_numpy(dtype=float) for c in ("deaths_best", "deaths_low", "deaths_high"))
    problems.add(
        low > best,
        col("deaths_low"),
        ev["deaths_low"],
        "is above the best estimate",
        "deaths_low must be at most deaths_best",
    )
    problems.add(
        high < best,
        col("deaths_high"),
        ev["deaths_high"],
        "is below the best estimate",
        "deaths_high must be at least deaths_best",
    )

    lat, lon = ev["latitude"].to_numpy(dtype=float), ev["longitude"].to_numpy(dtype=float)
    problems.add(
        np.abs(lat) > 90,
        col("latitude"),
        ev["latitude"],
        "is outside -90..90",
        "check latitude and longitude are not swapped",
    )
    problems.add(
        np.abs(lon) > 180,
        col("longitude"),
        ev["longitude"],
        "is outside -180..180",
        "check the longitude",
    )

    rel = ev["reliability"].to_numpy(dtype=float)
    problems.add(
        (rel < 0) | (rel > 1),
        col("reliability"),
        ev["reliability"],
        "is outside 0..1",
        "reliability is a probability between 0 and 1",
    )

    sc = ev["state_code"].astype("string")
    problems.add(
        sc.notna().to_numpy() & ~sc.isin(list(STATES)).to_numpy(),
        col("state_code"),
        ev["state_code"],
        "is not an INEGI state code",
        "use 01..32 or a state name",
    )

    if len(perps):
        p = perps["probability"].to_numpy(dtype=float)
        bad_p = (p <= 0) | (p > 1 + PROBABILITY_TOLERANCE) | ~np.isfinite(p)
        if bad_p.any():
            problems.add_rows(
                perps[ROW].to_numpy()[bad_p],
                col("probability"),
                perps["probability"].to_numpy()[bad_p],
                "is not a probability in (0, 1]",
                "write perpetrator probabilities between 0 and 1",
            )
        total = perps.groupby(ROW)["probability"].sum()
        over = total[total > 1 + PROBABILITY_TOLERANCE]
        if len(over):
            problems.add_rows(
                over.index.to_numpy(),
                col("probability"),
                np.round(over.to_numpy(), 6),
                "adds up to more than 1 over the event's perpetrators",
                "lower the probabilities so they sum to at most 1 (the rest is 'unknown')",
            )
