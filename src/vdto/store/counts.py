"""Region-month counts without perpetrators (SESNSP victims, INEGI homicides, an observatory's own),
and what each counted measure is (the ``measures`` table: unit, description, what the month means)."""

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
CREATE TABLE IF NOT EXISTS measures (
  measure VARCHAR NOT NULL, source VARCHAR NOT NULL, unit VARCHAR NOT NULL,
  description VARCHAR NOT NULL, period_meaning VARCHAR NOT NULL,
  PRIMARY KEY (source, measure)
);
"""

#: The columns of the ``measures`` table, in order.
MEASURE_COLUMNS: tuple[str, ...] = ("measure", "source", "unit", "description", "period_meaning")

KEYS: tuple[str, ...] = ("source", "region_code", "period", "measure", "modality")


def _same_counts(con) -> int:
    """How many of the registered ``incoming_counts`` rows are stored already with the same count."""
    return int(
        con.execute(
            "SELECT count(*) FROM incoming_counts i JOIN region_counts r USING (source, region_code, period, measure, modality) WHERE r.count = i.count"
        ).fetchall()[0][0]
    )


class CountRepository:
    """The SQL of the ``region_counts`` and ``measures`` tables."""

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

    def last_day(self, until: date | None = None) -> date | None:
        """The last day of the latest month with counts (on or before ``until`` when given)."""
        where, params = ("WHERE period <= ?", [until]) if until is not None else ("", [])
        row = self.con.execute(f"SELECT max(period) FROM region_counts {where}", params).fetchall()[0][0]
        if row is None:
            return None
        return (pd.Timestamp(row).to_period("M").end_time).date()

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

    def measure_info(self, measure: str | None = None) -> pd.DataFrame:
        """What each stored measure is (``measure, source, unit, description, period_meaning``),
        of ``measure`` only when given; empty for a store made before the table existed."""
        cols = ", ".join(MEASURE_COLUMNS)
        if not self._has_measures():
            return pd.DataFrame(columns=list(MEASURE_COLUMNS))
        if measure is None:
            return self.store.query(f"SELECT {cols} FROM measures ORDER BY source, measure")
        return self.store.query(f"SELECT {cols} FROM measures WHERE measure = ? ORDER BY source", [measure])

    def _has_measures(self) -> bool:
        found = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'measures' AND schema_name = 'main'"
        ).fetchall()
        return bool(found[0][0])

    def describe(self, con, measures: pd.DataFrame) -> None:
        """Record what each measure is, inside the caller's transaction (a re-import replaces the
        description of the same source and measure)."""
        if measures.empty:
            return
        con.register("incoming_measures", measures[list(MEASURE_COLUMNS)])
        con.execute(
            "DELETE FROM measures m USING incoming_measures i WHERE m.source = i.source AND m.measure = i.measure"
        )
        con.execute(f"INSERT INTO measures SELECT {', '.join(MEASURE_COLUMNS)} FROM incoming_measures")
        con.unregister("incoming_measures")

    def replace_months(
        self, con, frame: pd.DataFrame, import_id: int, *, source: str, measure: str, months: list
    ) -> int:
        """Store a source's complete counts of ``measure`` for ``months`` inside the caller's
        transaction: every stored row of that source, measure and months is replaced (a region
        the new figures leave out no longer counts). Returns how many incoming rows were already
        stored with the same count."""
        con.register("incoming_months", pd.DataFrame({"period": pd.to_datetime(pd.Series(months))}))
        con.register("incoming_counts", frame.assign(import_id=import_id))
        same = _same_counts(con)
        con.execute(
            "DELETE FROM region_counts WHERE source = ? AND measure = ? AND period IN (SELECT CAST(period AS DATE) FROM incoming_months)",
            [source, measure],
        )
        con.execute(
            "INSERT INTO region_counts SELECT source, level, region_code, state_code, period, measure, modality, count, import_id FROM incoming_counts"
        )
        con.unregister("incoming_counts")
        con.unregister("incoming_months")
        return same

    def replace(self, con, frame: pd.DataFrame, import_id: int) -> int:
        """Store counts inside the caller's transaction, replacing those with the same keys; returns
        how many rows were already stored with the same count."""
        con.register("incoming_counts", frame.assign(import_id=import_id))
        same = _same_counts(con)
        con.execute(
            "DELETE FROM region_counts r USING incoming_counts i WHERE "
            + " AND ".join(f"r.{k} = i.{k}" for k in KEYS)
        )
        con.execute(
            "INSERT INTO region_counts SELECT source, level, region_code, state_code, period, measure, modality, count, import_id FROM incoming_counts"
        )
        con.unregister("incoming_counts")
        return same
