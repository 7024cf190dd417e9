"""Region-month counts without perpetrators (SESNSP victims, INEGI homicides, an observatory's own)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from vdto.store.db import Store

DDL = """
CREATE TABLE IF NOT EXISTS region_counts (
  source VARCHAR NOT NULL, level VARCHAR NOT NULL, region_code VARCHAR NOT NULL,
  state_code VARCHAR NOT NULL, period DATE NOT NULL, measure VARCHAR NOT NULL,
  modality VARCHAR NOT NULL, count BIGINT NOT NULL, import_id INTEGER NOT NULL,
  PRIMARY KEY (source, region_code, period, measure, modality)
);
"""

KEYS: tuple[str, ...] = ("source", "region_code", "period", "measure", "modality")


class CountRepository:
    """The SQL of the ``region_counts`` table."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.con = store.con

    def count(self) -> int:
        return self.store.count("region_counts")

    def measures(self) -> list[str]:
        """The measures the store holds counts of."""
        return sorted(r[0] for r in self.con.execute("SELECT DISTINCT measure FROM region_counts").fetchall())

    def window(self, measure: str, start: date, end: date, sources: list[str] | None = None) -> pd.DataFrame:
        """Counts of ``measure`` by source, region and month, for the months overlapping ``[start, end]``."""
        where = "measure = ? AND period BETWEEN ? AND ?"
        params: list = [measure, pd.Timestamp(start).to_period("M").start_time.date(), end]
        if sources:
            where += f" AND source IN ({', '.join('?' * len(sources))})"
            params += list(sources)
        return self.store.query(
            f"""SELECT source, level, region_code, state_code, period, measure, sum(count) AS count
                FROM region_counts WHERE {where} GROUP BY ALL ORDER BY ALL""",
            params,
        )

    def by_state_and_year(self, measure: str) -> pd.DataFrame:
        """Counts of ``measure`` per calendar year and state."""
        return self.store.query(
            """SELECT year(period) AS year, state_code, sum(count) AS count FROM region_counts
               WHERE measure = ? GROUP BY ALL ORDER BY ALL""",
            [measure],
        )

    def months_per_year(self) -> pd.Series:
        """How many distinct months each calendar year has counts for."""
        frame = self.store.query(
            "SELECT year(period) AS year, count(DISTINCT period) AS n FROM region_counts GROUP BY ALL"
        )
        return frame.set_index("year")["n"]

    def replace(self, con, frame: pd.DataFrame, import_id: int) -> int:
        """Store counts inside the caller's transaction, replacing those with the same keys; returns
        how many rows were already stored with the same count."""
        con.register("incoming_counts", frame.assign(import_id=import_id))
        same = int(
            con.execute(
                "SELECT count(*) FROM incoming_counts i JOIN region_counts r USING (source, region_code, period, measure, modality) WHERE r.count = i.count"
            ).fetchall()[0][0]
        )
        con.execute(
            "DELETE FROM region_counts r USING incoming_counts i WHERE "
            + " AND ".join(f"r.{k} = i.{k}" for k in KEYS)
        )
        con.execute(
            "INSERT INTO region_counts SELECT source, level, region_code, state_code, period, measure, modality, count, import_id FROM incoming_counts"
        )
        con.unregister("incoming_counts")
        return same
