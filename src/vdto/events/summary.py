"""Summaries of what the store holds: events and deaths by year, organization and state."""

from __future__ import annotations

from datetime import date

import pandas as pd

from vdto.store import Store
from vdto.store.events import By


def events_by(
    store: Store,
    by: By,
    start: date | None = None,
    end: date | None = None,
    source: str | None = None,
    agency: str | None = None,
) -> pd.DataFrame:
    """Events and deaths grouped by year, organization (attributed) or state; see
    :meth:`vdto.store.events.EventRepository.summary`."""
    return store.events.summary(by, start, end, source, agency)


def top_orgs_by_year(
    store: Store, n: int = 3, kinds: frozenset[str] = frozenset({"dto", "faction"})
) -> pd.DataFrame:
    """For each year, the ``n`` organizations with the most attributed deaths (DTOs only)."""
    frame = store.events.attributed_deaths_by_year()
    reg = store.registry()
    frame = frame[frame["org"].map(lambda o: reg.orgs[o].kind in kinds)]
    frame = frame.sort_values(["year", "deaths", "org"], ascending=[True, False, True])
    frame["rank"] = frame.groupby("year").cumcount() + 1
    return frame[frame["rank"] <= n].reset_index(drop=True)
