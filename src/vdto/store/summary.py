"""Summaries of what the store holds: events and deaths by year, organization and state."""

from __future__ import annotations

from datetime import date
from typing import Literal

import pandas as pd

from vdto.geography import STATES
from vdto.store import Store

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


def events_by(
    store: Store,
    by: By,
    start: date | None = None,
    end: date | None = None,
    source: str | None = None,
    namespace: str | None = None,
) -> pd.DataFrame:
    """Events and deaths grouped by year, organization or state (``namespace``: one agency only).

    By organization, events and deaths are *attributed*: each event counts with its
    perpetrator probability (factions roll up to their organization), so the columns are
    expected counts; unattributed probability mass is shown as ``(unknown)``.
    """
    where, params = _window(start, end)
    if source:
        where += " AND e.source = ?"
        params.append(source)
    if namespace:
        where += " AND e.namespace = ?"
        params.append(namespace)
    if by == "year":
        sql = f"""SELECT year(e.date_start) AS year, count(*) AS events, sum(e.deaths_best) AS deaths
                  FROM events e WHERE {where} GROUP BY 1 ORDER BY 1"""
        return store.query(sql, params)
    if by == "state":
        sql = f"""SELECT coalesce(e.state_code, '--') AS state_code, count(*) AS events, sum(e.deaths_best) AS deaths
                  FROM events e WHERE {where} GROUP BY 1 ORDER BY deaths DESC, state_code"""
        out = store.query(sql, params)
        out.insert(1, "state", out["state_code"].map(STATES).fillna("(not located)"))
        return out
    if by == "org":
        sql = f"""
        WITH p AS (
          SELECT e.source, e.source_id, e.deaths_best,
                 coalesce(p.org_id, CASE WHEN p.raw_name IS NOT NULL THEN '?' || p.raw_name END) AS org,
                 p.probability
          FROM events e JOIN perpetrators p USING (namespace, source, source_id) WHERE {where}
        ), rest AS (
          SELECT e.source, e.source_id, e.deaths_best, '(unknown)' AS org,
                 1 - coalesce(sum(p.probability), 0) AS probability
          FROM events e LEFT JOIN perpetrators p USING (namespace, source, source_id) WHERE {where}
          GROUP BY ALL HAVING 1 - coalesce(sum(p.probability), 0) > 1e-9
        )
        SELECT org, sum(probability) AS events, sum(probability * deaths_best) AS deaths
        FROM (SELECT org, probability, deaths_best FROM p UNION ALL SELECT org, probability, deaths_best FROM rest)
        GROUP BY org ORDER BY deaths DESC, org"""
        out = store.query(sql, params + params)
        reg = store.registry()
        out.insert(
            1,
            "name",
            out["org"].map(
                lambda o: (
                    reg.orgs[o].name
                    if o in reg.orgs
                    else ("unresolved: " + o[1:] if o.startswith("?") else o)
                )
            ),
        )
        out.insert(2, "kind", out["org"].map(lambda o: reg.orgs[o].kind if o in reg.orgs else ""))
        return out
    raise ValueError(f"unknown grouping {by!r}")


def top_orgs_by_year(
    store: Store, n: int = 3, kinds: frozenset[str] = frozenset({"dto", "faction"})
) -> pd.DataFrame:
    """For each year, the ``n`` organizations with the most attributed deaths (DTOs only)."""
    sql = """
      SELECT year(e.date_start) AS year, p.org_id AS org, sum(p.probability * e.deaths_best) AS deaths
      FROM events e JOIN perpetrators p USING (namespace, source, source_id)
      WHERE p.org_id IS NOT NULL GROUP BY ALL"""
    frame = store.query(sql)
    reg = store.registry()
    frame = frame[frame["org"].map(lambda o: reg.orgs[o].kind in kinds)]
    frame = frame.sort_values(["year", "deaths", "org"], ascending=[True, False, True])
    frame["rank"] = frame.groupby("year").cumcount() + 1
    return frame[frame["rank"] <= n].reset_index(drop=True)
