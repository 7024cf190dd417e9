"""Events and their perpetrator candidates: the tables every importer fills and every score reads."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Literal

import pandas as pd

from vdto.geography import STATES
from vdto.names import DEFAULT_AGENCY
from vdto.schema import EVENT_COLUMNS, EVENT_FIELDS, PERPETRATOR_COLUMNS, PERPETRATOR_FIELDS

if TYPE_CHECKING:
    from vdto.store.db import Store


def _columns(fields) -> str:
    return ",\n  ".join(f"{f.name} {f.dtype}{' NOT NULL' if f.required else ''}" for f in fields)


DDL = f"""
CREATE TABLE IF NOT EXISTS events (
  agency VARCHAR NOT NULL DEFAULT '{DEFAULT_AGENCY}',
  {_columns(EVENT_FIELDS)},
  import_id INTEGER NOT NULL,
  PRIMARY KEY (agency, source, source_id)
);
CREATE TABLE IF NOT EXISTS perpetrators (
  agency VARCHAR NOT NULL DEFAULT '{DEFAULT_AGENCY}',
  {_columns(PERPETRATOR_FIELDS)},
  import_id INTEGER NOT NULL
);
"""

By = Literal["year", "org", "state"]


def _window(start: date | None, end: date | None) -> tuple[str, list]:
    clauses, params = [], []
    if start:
        clauses.append("e.date_start >= ?")
        params.append(start)
    if end:
        clauses.append("e.date_start <= ?")
        params.append(end)
    return (" AND ".join(clauses) or "TRUE"), params


class EventRepository:
    """The SQL of the ``events`` and ``perpetrators`` tables."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.con = store.con

    # -- reads ----------------------------------------------------------------------------
    def agencies(self) -> list[str]:
        """The agencies that hold events, in order."""
        return [r[0] for r in self.con.execute("SELECT DISTINCT agency FROM events ORDER BY 1").fetchall()]

    def _row(self, sql: str, params: list | None = None) -> tuple:
        """The one row an aggregate query returns."""
        row = self.con.execute(sql, params or []).fetchone()
        assert row is not None  # an aggregate without GROUP BY always returns a row
        return row

    def count(self, agency: str | None = None) -> int:
        """Events stored (of ``agency`` when given)."""
        if agency is None:
            return int(self._row("SELECT count(*) FROM events")[0])
        return int(self._row("SELECT count(*) FROM events WHERE agency = ?", [agency])[0])

    def last_date(self, agency: str | None = None, *, until: date | None = None) -> date | None:
        """The start date of the latest event (of ``agency`` when given; on or before ``until``
        when given), or None when there is none."""
        sql, params, where = "SELECT max(date_start) FROM events", list[object](), list[str]()
        if agency is not None:
            where, params = [*where, "agency = ?"], [*params, agency]
        if until is not None:
            where, params = [*where, "date_start <= ?"], [*params, until]
        if where:
            sql += " WHERE " + " AND ".join(where)
        last = self._row(sql, params)[0]
        return None if last is None or pd.isna(last) else pd.Timestamp(last).date()

    def window(
        self, start: date, end: date, *, agency: str = DEFAULT_AGENCY, sources: list[str] | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """One agency's events whose start date falls in ``[start, end]``, and their perpetrator rows."""
        where, params = "agency = ? AND date_start BETWEEN ? AND ?", [agency, start, end]
        if sources:
            where += f" AND source IN ({', '.join('?' * len(sources))})"
            params += list(sources)
        events = self.store.query(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE {where} ORDER BY source, source_id", params
        )
        perps = self.store.query(
            f"""SELECT {", ".join("p." + c for c in PERPETRATOR_COLUMNS)} FROM perpetrators p
                SEMI JOIN (SELECT source, source_id FROM events WHERE {where}) e USING (source, source_id)
                WHERE p.agency = ?
                ORDER BY p.source, p.source_id, p.raw_name""",
            [*params, agency],
        )
        return events, perps

    def located(self, agency: str, start: date, end: date) -> int:
        """How many of the agency's events in the window have a state."""
        return int(
            self._row(
                "SELECT count(*) FROM events WHERE agency = ? AND date_start BETWEEN ? AND ? AND state_code IS NOT NULL",
                [agency, start, end],
            )[0]
        )

    def page(self, agency: str, offset: int, limit: int) -> pd.DataFrame:
        """A page of the agency's events, oldest first."""
        return self.store.query(
            "SELECT * FROM events WHERE agency = ? ORDER BY date_start, source, source_id LIMIT ? OFFSET ?",
            [agency, limit, offset],
        )

    def totals(self) -> dict:
        """Events, deaths (best) and the first and last date in the store."""
        events, deaths, first, last = self._row(
            "SELECT count(*), sum(deaths_best), min(date_start), max(date_start) FROM events"
        )
        return {"events": int(events), "deaths": int(deaths or 0), "first": first, "last": last}

    def summary(
        self,
        by: By,
        start: date | None = None,
        end: date | None = None,
        source: str | None = None,
        agency: str | None = None,
    ) -> pd.DataFrame:
        """Events and deaths grouped by year, organization or state (``agency``: one agency only).

        By organization, events and deaths are *attributed*: each event counts with its
        perpetrator probability (factions roll up to their organization), so the columns are
        expected counts; unattributed probability mass is shown as ``(unknown)``.
        """
        where, params = _window(start, end)
        if source:
            where += " AND e.source = ?"
            params.append(source)
        if agency:
            where += " AND e.agency = ?"
            params.append(agency)
        if by == "year":
            sql = f"""SELECT year(e.date_start) AS year, count(*) AS events, sum(e.deaths_best) AS deaths
                      FROM events e WHERE {where} GROUP BY 1 ORDER BY 1"""
            return self.store.query(sql, params)
        if by == "state":
            sql = f"""SELECT coalesce(e.state_code, '--') AS state_code, count(*) AS events, sum(e.deaths_best) AS deaths
                      FROM events e WHERE {where} GROUP BY 1 ORDER BY deaths DESC, state_code"""
            out = self.store.query(sql, params)
            out.insert(1, "state", out["state_code"].map(STATES).fillna("(not located)"))
            return out
        if by == "org":
            return self._by_org(where, params)
        raise ValueError(f"unknown grouping {by!r}")

    def _by_org(self, where: str, params: list) -> pd.DataFrame:
        sql = f"""
        WITH p AS (
          SELECT e.source, e.source_id, e.deaths_best,
                 coalesce(p.org_id, CASE WHEN p.raw_name IS NOT NULL THEN '?' || p.raw_name END) AS org,
                 p.probability
          FROM events e JOIN perpetrators p USING (agency, source, source_id) WHERE {where}
        ), rest AS (
          SELECT e.source, e.source_id, e.deaths_best, '(unknown)' AS org,
                 1 - coalesce(sum(p.probability), 0) AS probability
          FROM events e LEFT JOIN perpetrators p USING (agency, source, source_id) WHERE {where}
          GROUP BY ALL HAVING 1 - coalesce(sum(p.probability), 0) > 1e-9
        )
        SELECT org, sum(probability) AS events, sum(probability * deaths_best) AS deaths
        FROM (SELECT org, probability, deaths_best FROM p UNION ALL SELECT org, probability, deaths_best FROM rest)
        GROUP BY org ORDER BY deaths DESC, org"""
        out = self.store.query(sql, params + params)
        reg = self.store.registry()

        def name(o: str) -> str:
            if o in reg.orgs:
                return reg.orgs[o].name
            return "unresolved: " + o[1:] if o.startswith("?") else o

        out.insert(1, "name", out["org"].map(name))
        out.insert(2, "kind", out["org"].map(lambda o: reg.orgs[o].kind if o in reg.orgs else ""))
        return out

    def attributed_deaths_by_year(self) -> pd.DataFrame:
        """Attributed deaths (probability x best estimate) per year and resolved organization."""
        return self.store.query(
            """SELECT year(e.date_start) AS year, p.org_id AS org, sum(p.probability * e.deaths_best) AS deaths
               FROM events e JOIN perpetrators p USING (agency, source, source_id)
               WHERE p.org_id IS NOT NULL GROUP BY ALL"""
        )

    def unresolved_names(self) -> pd.DataFrame:
        """Perpetrator names the registry cannot resolve, with how many events name them."""
        return self.store.query(
            "SELECT raw_name, count(DISTINCT source || ':' || source_id) AS events FROM perpetrators "
            "WHERE org_id IS NULL GROUP BY raw_name ORDER BY events DESC, raw_name"
        )

    # -- writes ---------------------------------------------------------------------------
    def insert(self, con, import_id: int, agency: str, events: pd.DataFrame, perps: pd.DataFrame) -> int:
        """Add the events (and their perpetrators) not stored yet for ``agency``, inside the caller's
        transaction ``con``; returns how many were new."""
        con.register("incoming_events", events)
        con.register("incoming_perps", perps)
        con.execute(
            "CREATE TEMP TABLE new_keys AS SELECT i.source, i.source_id FROM incoming_events i "
            "ANTI JOIN (SELECT source, source_id FROM events WHERE agency = ?) e "
            "ON e.source = i.source AND e.source_id = i.source_id",
            [agency],
        )
        cols = ", ".join(EVENT_COLUMNS)
        con.execute(
            f"INSERT INTO events (agency, {cols}, import_id) SELECT ?, {', '.join('i.' + c for c in EVENT_COLUMNS)}, {int(import_id)} "
            "FROM incoming_events i SEMI JOIN new_keys k ON k.source = i.source AND k.source_id = i.source_id",
            [agency],
        )
        pcols = ", ".join(PERPETRATOR_COLUMNS)
        con.execute(
            f"INSERT INTO perpetrators (agency, {pcols}, import_id) SELECT ?, {', '.join('p.' + c for c in PERPETRATOR_COLUMNS)}, {int(import_id)} "
            "FROM incoming_perps p SEMI JOIN new_keys k ON k.source = p.source AND k.source_id = p.source_id",
            [agency],
        )
        imported = int(con.execute("SELECT count(*) FROM new_keys").fetchall()[0][0])
        con.execute("DROP TABLE new_keys")
        con.unregister("incoming_events")
        con.unregister("incoming_perps")
        return imported

    def resolve_names(self, resolve) -> int:
        """Give unresolved perpetrator names the organization ``resolve(name)`` returns (an object
        with ``org_id``, ``faction_id``, ``faction``); returns how many names were resolved."""
        names = [
            r[0]
            for r in self.con.execute(
                "SELECT DISTINCT raw_name FROM perpetrators WHERE org_id IS NULL"
            ).fetchall()
        ]
        fixed = 0
        with self.store.transaction() as con:
            for name in names:
                m = resolve(name)
                if m.org_id is not None:
                    con.execute(
                        "UPDATE perpetrators SET org_id = ?, faction_id = ?, faction = ? WHERE org_id IS NULL AND raw_name = ?",
                        [m.org_id, m.faction_id, m.faction, name],
                    )
                    fixed += 1
        return fixed
