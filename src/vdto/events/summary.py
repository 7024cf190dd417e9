"""Who killed most, year by year: the organizations with the most attributed deaths (the check of
docs/ucdp-hand-check.md). Events and deaths by year, organization or state are
:meth:`vdto.store.events.EventRepository.summary`."""

from __future__ import annotations

import pandas as pd

from vdto.store import Store


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
