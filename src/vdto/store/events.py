"""Events and their perpetrator candidates: the tables every importer fills and every score reads."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Literal

import numpy as np
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
  revision DOUBLE,
  PRIMARY KEY (agency, source, source_id)
);
CREATE TABLE IF NOT EXISTS perpetrators (
  agency VARCHAR NOT NULL DEFAULT '{DEFAULT_AGENCY}',
  {_columns(PERPETRATOR_FIELDS)},
  import_id INTEGER NOT NULL
);
"""

#: Every version an import replaced (``revised``) or retired (``retired``): the row as it was,
#: the import that wrote it (``import_id``) and the import that ended it (``until_import``). The
#: ``events`` table holds the current versions; history and current rows together give the store
#: as it was after any import (:meth:`EventRepository.window` with ``state``).
HISTORY_DDL = f"""
CREATE TABLE IF NOT EXISTS event_history (
  agency VARCHAR NOT NULL,
  {_columns(EVENT_FIELDS)},
  import_id INTEGER NOT NULL,
  revision DOUBLE,
  until_import INTEGER NOT NULL,
  change VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS perpetrator_history (
  agency VARCHAR NOT NULL,
  {_columns(PERPETRATOR_FIELDS)},
  import_id INTEGER NOT NULL,
  until_import INTEGER NOT NULL
);
"""

_EV = ", ".join(EVENT_COLUMNS)
_PP = ", ".join(PERPETRATOR_COLUMNS)


def events_at(state: int | None) -> str:
    """SQL for the ``events`` rows as the store held them after import ``state`` (None: now).

    A current row written by an import up to ``state`` was in force then; so was every replaced
    or retired version written up to ``state`` and ended after it.
    """
    if state is None:
        return "events"
    n = int(state)
    return (
        f"(SELECT agency, {_EV}, import_id, revision FROM events WHERE import_id <= {n} UNION ALL "
        f"SELECT agency, {_EV}, import_id, revision FROM event_history WHERE import_id <= {n} AND until_import > {n})"
    )


def perpetrators_at(state: int | None) -> str:
    """SQL for the ``perpetrators`` rows as the store held them after import ``state`` (None: now)."""
    if state is None:
        return "perpetrators"
    n = int(state)
    return (
        f"(SELECT agency, {_PP}, import_id FROM perpetrators WHERE import_id <= {n} UNION ALL "
        f"SELECT agency, {_PP}, import_id FROM perpetrator_history WHERE import_id <= {n} AND until_import > {n})"
    )


@dataclass(frozen=True)
class Applied:
    """What writing one import's events did to the store."""

    added: int = 0
    revised: int = 0
    unchanged: int = 0
    #: rows that differ from the stored version but carry no newer revision stamp (kept as stored)
    unstamped_changes: int = 0


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


@dataclass(frozen=True)
class Selection:
    """Which of one agency's events a browse query reads; every field left None selects all.

    Values are already checked (the service layer does that): dates, an INEGI state code, a
    5-digit municipality code, a registry id (an organization, or a faction, matched on the
    perpetrator rows' ``org_id`` or ``faction_id``), a category and a source label.
    """

    start: date | None = None
    end: date | None = None
    state_code: str | None = None
    mun_code: str | None = None
    org: str | None = None
    category: str | None = None
    source: str | None = None

    def without(self, name: str) -> Selection:
        """The same selection with ``name`` left open (for the counts of a filter's choices)."""
        return replace(self, **{name: None})

    def where(self, agency: str) -> tuple[str, list]:
        """The SQL condition on ``events e`` and its parameters (always the one agency)."""
        clauses, params = ["e.agency = ?"], list[object]([agency])
        for column, op, value in (
            ("date_start", ">=", self.start), ("date_start", "<=", self.end),
            ("state_code", "=", self.state_code), ("mun_code", "=", self.mun_code),
            ("category", "=", self.category), ("source", "=", self.source),
        ):  # fmt: skip
            if value is not None:
                clauses.append(f"e.{column} {op} ?")
                params.append(value)
        if self.org is not None:
            clauses.append(
                "EXISTS (SELECT 1 FROM perpetrators p WHERE p.agency = e.agency AND p.source = e.source "
                "AND p.source_id = e.source_id AND (p.org_id = ? OR p.faction_id = ?))"
            )
            params += [self.org, self.org]
        return " AND ".join(clauses), params


#: How a browse query may be ordered: by start date or deaths (best), either way; ties by key.
BROWSE_ORDER: dict[str, str] = {
    "date": "e.date_start, e.source, e.source_id",
    "-date": "e.date_start DESC, e.source, e.source_id",
    "deaths": "e.deaths_best, e.date_start, e.source, e.source_id",
    "-deaths": "e.deaths_best DESC, e.date_start, e.source, e.source_id",
}

#: The perpetrator candidates of the events whose keys are given (two lists), most likely first.
_CANDIDATES = """SELECT p.source, p.source_id, p.org_id, p.faction_id, p.raw_name, p.probability
FROM perpetrators p JOIN (SELECT unnest(?::VARCHAR[]) AS source, unnest(?::VARCHAR[]) AS source_id) k
  USING (source, source_id)
WHERE p.agency = ? ORDER BY p.source, p.source_id, p.probability DESC, p.raw_name"""


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

    def last_date(
        self, agency: str | None = None, *, until: date | None = None, state: int | None = None
    ) -> date | None:
        """The start date of the latest event (of ``agency`` when given; on or before ``until``
        when given; in the store as it was after import ``state`` when given), or None when there
        is none."""
        sql, params, where = f"SELECT max(date_start) FROM {events_at(state)}", list[object](), list[str]()
        if agency is not None:
            where, params = [*where, "agency = ?"], [*params, agency]
        if until is not None:
            where, params = [*where, "date_start <= ?"], [*params, until]
        if where:
            sql += " WHERE " + " AND ".join(where)
        last = self._row(sql, params)[0]
        return None if last is None or pd.isna(last) else pd.Timestamp(last).date()

    def window(
        self,
        start: date,
        end: date,
        *,
        agency: str = DEFAULT_AGENCY,
        sources: list[str] | None = None,
        state: int | None = None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """One agency's events whose start date falls in ``[start, end]``, and their perpetrator
        rows; with ``state``, as the store held them after that import (see :meth:`state`)."""
        where, params = "agency = ? AND date_start BETWEEN ? AND ?", [agency, start, end]
        if sources:
            where += f" AND source IN ({', '.join('?' * len(sources))})"
            params += list(sources)
        ev, pp = events_at(state), perpetrators_at(state)
        events = self.store.query(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM {ev} WHERE {where} ORDER BY source, source_id", params
        )
        perps = self.store.query(
            f"""SELECT {", ".join("p." + c for c in PERPETRATOR_COLUMNS)} FROM {pp} p
                SEMI JOIN (SELECT source, source_id FROM {ev} WHERE {where}) e USING (source, source_id)
                WHERE p.agency = ?
                ORDER BY p.source, p.source_id, p.raw_name""",
            [*params, agency],
        )
        return events, perps

    def state(self) -> int:
        """The store's state: the id of the last import (0 when nothing was imported). Every score
        records it; :meth:`window` reads the events of any earlier state."""
        return int(self._row("SELECT coalesce(max(import_id), 0) FROM imports")[0])

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

    # -- browsing (the workbench's events view) ---------------------------------------------
    def browse_totals(self, agency: str, sel: Selection) -> tuple[int, int]:
        """How many of the agency's events ``sel`` selects, and their deaths (best estimate)."""
        where, params = sel.where(agency)
        n, deaths = self._row(
            f"SELECT count(*), coalesce(sum(e.deaths_best), 0) FROM events e WHERE {where}", params
        )
        return int(n), int(deaths)

    def browse(
        self, agency: str, sel: Selection, order: str = "date", offset: int = 0, limit: int | None = None
    ) -> list[dict]:
        """The agency's events ``sel`` selects, ordered by ``order`` (a key of
        :data:`BROWSE_ORDER`), from ``offset``, at most ``limit`` (all without), as one dict per
        event: every stored column and ``candidates``, the event's perpetrator candidates (dicts
        of org_id, faction_id, raw_name, probability), most likely first. The page is cut first;
        only its events' candidates are read."""
        where, params = sel.where(agency)
        cut, cut_params = (
            ("LIMIT ? OFFSET ?", [limit, offset]) if limit is not None else ("OFFSET ?", [offset])
        )
        cursor = self.con.execute(
            f"SELECT e.* FROM events e WHERE {where} ORDER BY {BROWSE_ORDER[order]} {cut}",
            [*params, *cut_params],
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        keys = [[r["source"] for r in rows], [r["source_id"] for r in rows]]
        found: dict[tuple[str, str], list[dict]] = {}
        for source, source_id, org_id, faction_id, raw_name, p in self.con.execute(
            _CANDIDATES, [*keys, agency]
        ).fetchall():
            found.setdefault((source, source_id), []).append(
                {"org_id": org_id, "faction_id": faction_id, "raw_name": raw_name, "probability": p}
            )
        for row in rows:
            row["candidates"] = found.get((row["source"], row["source_id"]), [])
        return rows

    def browse_choices(self, agency: str, sel: Selection, dimension: str) -> list[tuple[str, int]]:
        """The values of one filter (``state_code``, ``org``, ``category`` or ``source``) among
        the events ``sel`` selects, with how many events each has, most events first. For
        ``org``, an event counts once for each registered organization its perpetrator rows
        name (factions as their organization)."""
        where, params = sel.where(agency)
        if dimension == "org":
            sql = f"""SELECT org_id AS value, count(*) AS events FROM (
                        SELECT DISTINCT p.org_id, p.source, p.source_id
                        FROM perpetrators p SEMI JOIN (SELECT e.source, e.source_id FROM events e WHERE {where}) e
                          USING (source, source_id)
                        WHERE p.agency = ? AND p.org_id IS NOT NULL)
                      GROUP BY 1 ORDER BY 2 DESC, 1"""
            params = [*params, agency]
        elif dimension in ("state_code", "category", "source"):
            sql = f"""SELECT e.{dimension} AS value, count(*) AS events FROM events e
                      WHERE {where} AND e.{dimension} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"""
        else:
            raise ValueError(f"unknown filter {dimension!r}")
        return [(str(v), int(n)) for v, n in self.con.execute(sql, params).fetchall()]

    def browse_span(self, agency: str) -> tuple[date | None, date | None]:
        """The first and last start date of the agency's events (None, None when it has none)."""
        first, last = self._row(
            "SELECT min(date_start), max(date_start) FROM events WHERE agency = ?", [agency]
        )
        return (
            None if first is None else pd.Timestamp(first).date(),
            None if last is None else pd.Timestamp(last).date(),
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
            sql = f"""SELECT year(e.date_start) AS year, count(*) AS events, CAST(sum(e.deaths_best) AS BIGINT) AS deaths
                      FROM events e WHERE {where} GROUP BY 1 ORDER BY 1"""
            return self.store.query(sql, params)
        if by == "state":
            sql = f"""SELECT coalesce(e.state_code, '--') AS state_code, count(*) AS events, CAST(sum(e.deaths_best) AS BIGINT) AS deaths
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
    def stored_revisions(self, con, agency: str, events: pd.DataFrame) -> pd.DataFrame:
        """The stored revision stamp and import of each of ``events`` (source, source_id) the
        store holds for ``agency`` (columns source, source_id, stored_revision, stored_import)."""
        con.register("asked_keys", events[["source", "source_id"]])
        try:
            return con.execute(
                "SELECT e.source, e.source_id, e.revision AS stored_revision, e.import_id AS stored_import "
                "FROM events e SEMI JOIN asked_keys k USING (source, source_id) WHERE e.agency = ?",
                [agency],
            ).df()
        finally:
            con.unregister("asked_keys")

    def apply(self, con, import_id: int, agency: str, events: pd.DataFrame, perps: pd.DataFrame) -> Applied:
        """Write one import's events (and their perpetrators) for ``agency`` inside the caller's
        transaction ``con``.

        A key the store does not hold is added. A key it holds is revised when the incoming row
        carries a newer revision stamp (column ``revision``; the stored one is older or absent)
        and differs from the stored version: the stored version moves to ``event_history`` (ended
        by this import) and the new one takes its place. A newer stamp on identical content only
        updates the stamp; anything else leaves the stored version as it is (re-importing a file
        changes nothing). Stamps older than the stored ones are the caller's to refuse first
        (:meth:`stored_revisions`).
        """
        n = int(import_id)
        if "revision" not in events.columns:
            events = events.assign(revision=np.nan)
        con.register("incoming_events", events)
        con.register("incoming_perps", perps)
        differs = " OR ".join(f"i.{c} IS DISTINCT FROM e.{c}" for c in EVENT_COLUMNS[2:])
        con.execute(
            f"""CREATE TEMP TABLE incoming_keys AS
                SELECT i.source, i.source_id, e.source IS NULL AS is_new,
                       i.revision IS NOT NULL AND NOT isnan(i.revision)
                         AND (e.revision IS NULL OR i.revision > e.revision) AS newer,
                       e.source IS NOT NULL AND ({differs}) AS differs
                FROM incoming_events i
                LEFT JOIN (SELECT * FROM events WHERE agency = ?) e USING (source, source_id)""",
            [agency],
        )
        if con.execute("SELECT count(*) FROM incoming_keys WHERE NOT is_new").fetchall()[0][0]:
            # a changed list of perpetrators is a change too
            perp_text = "string_agg(raw_name || '=' || CAST(round(probability, 9) AS VARCHAR), '|' ORDER BY raw_name, probability)"
            con.execute(
                f"""UPDATE incoming_keys k SET differs = TRUE FROM (
                      SELECT source, source_id FROM
                        (SELECT source, source_id, {perp_text} AS s FROM incoming_perps
                           SEMI JOIN (SELECT * FROM incoming_keys WHERE NOT is_new) USING (source, source_id) GROUP BY ALL) a
                        FULL JOIN
                        (SELECT source, source_id, {perp_text} AS s FROM perpetrators
                           SEMI JOIN (SELECT * FROM incoming_keys WHERE NOT is_new) USING (source, source_id)
                           WHERE agency = ? GROUP BY ALL) b
                        USING (source, source_id) WHERE a.s IS DISTINCT FROM b.s) c
                    WHERE k.source = c.source AND k.source_id = c.source_id AND NOT k.is_new""",
                [agency],
            )
        added, revised, restamped, unstamped = con.execute(
            "SELECT count(*) FILTER (is_new), count(*) FILTER (NOT is_new AND newer AND differs), "
            "count(*) FILTER (NOT is_new AND newer AND NOT differs), count(*) FILTER (NOT is_new AND differs AND NOT newer) "
            "FROM incoming_keys"
        ).fetchall()[0]
        if revised:
            self._end_versions(
                con,
                n,
                agency,
                "(SELECT source, source_id FROM incoming_keys WHERE NOT is_new AND newer AND differs)",
                "revised",
            )
            sets = ", ".join(f"{c} = i.{c}" for c in EVENT_COLUMNS[2:])
            con.execute(
                f"""UPDATE events e SET {sets}, import_id = {n}, revision = i.revision
                    FROM (SELECT * FROM incoming_events SEMI JOIN
                            (SELECT * FROM incoming_keys WHERE NOT is_new AND newer AND differs) USING (source, source_id)) i
                    WHERE e.agency = ? AND e.source = i.source AND e.source_id = i.source_id""",
                [agency],
            )
        if restamped:
            con.execute(
                """UPDATE events e SET revision = i.revision
                   FROM (SELECT * FROM incoming_events SEMI JOIN
                           (SELECT * FROM incoming_keys WHERE NOT is_new AND newer AND NOT differs) USING (source, source_id)) i
                   WHERE e.agency = ? AND e.source = i.source AND e.source_id = i.source_id""",
                [agency],
            )
        con.execute(
            f"INSERT INTO events (agency, {_EV}, import_id, revision) "
            f"SELECT ?, {', '.join('i.' + c for c in EVENT_COLUMNS)}, {n}, "
            "CASE WHEN isnan(i.revision) THEN NULL ELSE i.revision END "
            "FROM incoming_events i SEMI JOIN (SELECT * FROM incoming_keys WHERE is_new) k USING (source, source_id)",
            [agency],
        )
        con.execute(
            f"INSERT INTO perpetrators (agency, {_PP}, import_id) SELECT ?, {', '.join('p.' + c for c in PERPETRATOR_COLUMNS)}, {n} "
            "FROM incoming_perps p SEMI JOIN (SELECT * FROM incoming_keys WHERE is_new OR (newer AND differs)) k "
            "USING (source, source_id)",
            [agency],
        )
        con.execute("DROP TABLE incoming_keys")
        con.unregister("incoming_events")
        con.unregister("incoming_perps")
        return Applied(int(added), int(revised), len(events) - int(added) - int(revised), int(unstamped))

    def _end_versions(self, con, import_id: int, agency: str, keys_sql: str, change: str) -> None:
        """Move the current versions of ``keys_sql``'s events (and their perpetrator rows) to
        history, ended by ``import_id``; the events stay in ``events`` (the caller overwrites or
        deletes them), their perpetrator rows are deleted."""
        n = int(import_id)
        con.execute(
            f"INSERT INTO event_history (agency, {_EV}, import_id, revision, until_import, change) "
            f"SELECT agency, {_EV}, import_id, revision, {n}, ? FROM events "
            f"SEMI JOIN {keys_sql} k USING (source, source_id) WHERE agency = ?",
            [change, agency],
        )
        con.execute(
            f"INSERT INTO perpetrator_history (agency, {_PP}, import_id, until_import) "
            f"SELECT agency, {_PP}, import_id, {n} FROM perpetrators "
            f"SEMI JOIN {keys_sql} k USING (source, source_id) WHERE agency = ?",
            [agency],
        )
        con.execute(
            f"DELETE FROM perpetrators p USING {keys_sql} k "
            "WHERE p.agency = ? AND p.source = k.source AND p.source_id = k.source_id",
            [agency],
        )

    def retire(
        self, con, import_id: int, agency: str, source: str, listed: pd.DataFrame
    ) -> tuple[int, int, int]:
        """Retire the ``agency``'s events of ``source`` whose ids ``listed`` names (columns
        source_id and stamp: when the source deleted it, comparable with the revision stamps),
        inside the caller's transaction: each moves to history, ended by ``import_id``.

        An event revised after its deletion stamp stays. Returns (retired, not held, kept
        because revised later).
        """
        n = int(import_id)
        con.register("retire_list", listed[["source_id", "stamp"]])
        con.execute(
            """CREATE TEMP TABLE retire_keys AS
               SELECT e.source, e.source_id,
                      (l.stamp IS NULL OR isnan(l.stamp) OR e.revision IS NULL OR l.stamp >= e.revision) AS go
               FROM events e JOIN retire_list l ON e.source_id = l.source_id
               WHERE e.agency = ? AND e.source = ?""",
            [agency, source],
        )
        retired, kept = con.execute(
            "SELECT count(*) FILTER (go), count(*) FILTER (NOT go) FROM retire_keys"
        ).fetchall()[0]
        if retired:
            keys = "(SELECT source, source_id FROM retire_keys WHERE go)"
            self._end_versions(con, n, agency, keys, "retired")
            con.execute(
                f"DELETE FROM events e USING {keys} k WHERE e.agency = ? AND e.source = k.source AND e.source_id = k.source_id",
                [agency],
            )
        con.execute("DROP TABLE retire_keys")
        con.unregister("retire_list")
        return int(retired), len(listed) - int(retired) - int(kept), int(kept)

    def changes(self, agency: str | None, old: int, new: int) -> pd.DataFrame:
        """What happened to the events between store states ``old`` and ``new`` (import ids):
        one row per event added, revised or retired, with the fields that changed
        (``field: old -> new``) for revisions."""
        who = "" if agency is None else "WHERE agency = ?"
        params = [] if agency is None else [agency]
        cols = ", ".join(EVENT_COLUMNS)
        before = self.store.query(f"SELECT agency, {cols}, import_id FROM {events_at(old)} {who}", params)
        after = self.store.query(f"SELECT agency, {cols}, import_id FROM {events_at(new)} {who}", params)
        key = ["agency", "source", "source_id"]
        both = before.merge(after, on=key, how="outer", suffixes=("_old", "_new"), indicator=True)
        change = np.select(
            [
                both["_merge"] == "right_only",
                both["_merge"] == "left_only",
                both["import_id_old"] != both["import_id_new"],
            ],
            ["added", "retired", "revised"],
            "",
        )
        both = both.assign(change=change)
        both = both[both["change"] != ""]
        fields = [c for c in EVENT_COLUMNS[2:]]

        def diff(row) -> str:
            if row["change"] != "revised":
                return ""
            out = []
            for c in fields:
                a, b = row[c + "_old"], row[c + "_new"]
                if not ((pd.isna(a) and pd.isna(b)) or a == b):
                    out.append(f"{c}: {_shown(a)} -> {_shown(b)}")
            return "; ".join(out) or "(perpetrators)"

        when = both["date_start_new"].where(both["date_start_new"].notna(), both["date_start_old"])
        deaths_old = both["deaths_best_old"].astype("Int64")
        deaths_new = both["deaths_best_new"].astype("Int64")
        out = pd.DataFrame(
            {
                "change": both["change"],
                "agency": both["agency"],
                "source": both["source"],
                "source_id": both["source_id"],
                "date": pd.to_datetime(when).dt.strftime("%Y-%m-%d"),
                "deaths_before": deaths_old,
                "deaths_after": deaths_new,
                "fields": [diff(r) for r in both.to_dict("records")] if len(both) else [],
            }
        )
        order = {"added": 0, "revised": 1, "retired": 2}
        return out.sort_values(
            ["change", "source", "source_id"],
            key=lambda c: c.map(order) if c.name == "change" else c,
            kind="stable",
        ).reset_index(drop=True)

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


def _shown(value: object) -> str:
    """A stored value as the diff shows it (dates as YYYY-MM-DD, whole numbers without .0)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "(empty)"
    if isinstance(value, pd.Timestamp | date):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
