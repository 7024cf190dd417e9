"""What the API answers, built from the library's results (no web framework in here).

Every public answer goes through :func:`check_public`: the rule of the public scorecard
(:data:`vdto.publication.scorecard.SENSITIVE_FIELDS`, and their plurals, never appear as a field) applies to
each of them, and an answer that breaks it is refused rather than served.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pandas as pd

from vdto.errors import VdtoError
from vdto.publication.rounds import Round, dissents, get_round
from vdto.publication.scorecard import SENSITIVE_FIELDS
from vdto.store import Store

SENSITIVE_KEYS = frozenset(SENSITIVE_FIELDS) | frozenset(f + "s" for f in SENSITIVE_FIELDS)


class SensitiveFieldError(Exception):
    """A public answer would have carried a sensitive field; it is not served."""


def _keys(obj: Any) -> set[str]:
    found: set[str] = set()
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.update(str(k) for k in item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def check_public(obj: Any) -> Any:
    """``obj`` unchanged if no sensitive field is a key anywhere in it; else raise.

    Examples
    --------
    >>> check_public({"ranking": [{"org": "cjng"}]})
    {'ranking': [{'org': 'cjng'}]}
    >>> check_public({"events": [{"source_id": "1"}]})
    Traceback (most recent call last):
    ...
    vdto.api.views.SensitiveFieldError: refused to serve the sensitive field 'source_id'
    """
    if hit := sorted(_keys(obj) & SENSITIVE_KEYS):
        raise SensitiveFieldError(f"refused to serve the sensitive field {hit[0]!r}")
    return obj


def stamp(value: Any) -> str | None:
    """A date or time as ISO text (UTC times end in Z); None stays None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready rows (NaN as null, dates as ISO text)."""
    frame = frame.copy()
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            values = frame[col]
            dates_only = bool((values.dropna() == values.dropna().dt.normalize()).all())
            frame[col] = (
                values.map(lambda v: None if pd.isna(v) else v.date().isoformat())
                if dates_only
                else values.map(stamp)
            )
    return json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))


def round_view(
    store: Store, rnd: Round, *, evidence: bool = False, signed_by: list[str] | None = None
) -> dict[str, Any]:
    """A round as the API shows it."""
    return {
        "round_id": rnd.round_id,
        "status": rnd.status,
        "window_from": rnd.window_from.isoformat(),
        "window_to": rnd.window_to.isoformat(),
        "agencies": list(rnd.agencies),
        "require_agreement": rnd.require_agreement,
        "target": rnd.target,
        "decision": rnd.decision,
        "opened_at": stamp(rnd.opened_at),
        "announced_at": stamp(rnd.announced_at),
        "closed_at": stamp(rnd.closed_at),
        "outcome": rnd.outcome,
        "reason": rnd.reason,
        "ledger_hash": rnd.ledger_hash,
        "dissents": [str(d) for d in dissents(store, rnd.round_id)["detail"]],
        "evidence": rnd.evidence if evidence else None,
        "signed_by": signed_by,
    }


def round_ids(store: Store, *, published_only: bool) -> list[int]:
    """Rounds, oldest first; only those announced (published) when ``published_only``."""
    sql = "SELECT round_id FROM rounds" + (" WHERE announced_at IS NOT NULL" if published_only else "")
    return [int(r[0]) for r in store.con.execute(sql + " ORDER BY round_id").fetchall()]


def find_round(store: Store, round_id: int, *, published_only: bool) -> Round | None:
    """The round, or None when it does not exist (or is not published and ``published_only``)."""
    sql = "SELECT 1 FROM rounds WHERE round_id = ?" + (
        " AND announced_at IS NOT NULL" if published_only else ""
    )
    if store.con.execute(sql, [round_id]).fetchone() is None:
        return None
    return get_round(store, round_id)


def published_agencies(store: Store) -> set[str]:
    """Every agency that took part in an announced round."""
    rows = store.con.execute("SELECT agencies FROM rounds WHERE announced_at IS NOT NULL").fetchall()
    return {a for (agencies,) in rows for a in agencies.split(",")}


def signed_agencies(store: Store, round_id: int) -> list[str]:
    """The agencies whose publishers signed a round's announcement through the API."""
    rows = store.con.execute(
        "SELECT agency FROM api_signoffs WHERE round_id = ? ORDER BY agency", [round_id]
    ).fetchall()
    return [r[0] for r in rows]


def published_scorecard(store: Store, round_id: int | None, agency: str | None) -> dict[str, Any]:
    """A published round's scorecard for one agency (the lead by default; the latest round by default)."""
    ids = round_ids(store, published_only=True)
    if not ids:
        raise LookupError("nothing is published yet (no round has been announced)")
    rid = ids[-1] if round_id is None else round_id
    if rid not in ids:
        raise LookupError(f"round {rid} is not published")
    rnd = get_round(store, rid)
    who = agency or rnd.agencies[0]
    if who not in rnd.evidence:
        raise LookupError(
            f"agency {who!r} did not take part in round {rid} (agencies: {', '.join(rnd.agencies)})"
        )
    return {"round": round_view(store, rnd), "agency": who, "scorecard": rnd.evidence[who]}


def region_view(
    store: Store, start: date | None, end: date | None, agency: str | None, min_count: int
) -> dict[str, Any]:
    """State scores of one agency's events (and the public counts), small counts suppressed.

    Where a state has between 1 and ``min_count - 1`` events, its event count, deaths, score,
    rate and leading organization are withheld, as the public scorecard withholds small
    counts; a state with no events keeps the score its public counts give it.
    """
    from vdto.regional.panel import score_store
    from vdto.scoring import Rubric
    from vdto.scoring.engine import resolve_window

    rubric = Rubric.default()
    start, end = resolve_window(start, end, rubric, store)
    if (end - start).days > 366 * 40:
        raise VdtoError("the window is longer than 40 years", "from/to", "ask for a shorter window")
    namespace = store.resolve_namespace(agency)
    located = store.con.execute(
        "SELECT count(*) FROM events WHERE namespace = ? AND date_start BETWEEN ? AND ? AND state_code IS NOT NULL",
        [namespace, start, end],
    ).fetchone()[0]
    if not located and not store.count("region_counts"):
        # nothing to place on the map (region_panel cannot merge an empty panel with no counts)
        raise VdtoError(
            f"agency {namespace!r} has no events with a state between {start} and {end}",
            "from/to",
            "choose another window or agency",
        )
    res = score_store(store, start, end, level="state", rubric=rubric, namespace=namespace)
    table = res.table
    rows = []
    for r in records(table):
        events = int(r.get("events") or 0)
        small = 0 < events < min_count
        rows.append(
            {
                "rank": int(r["rank"]),
                "region_code": str(r["region_code"]),
                "name": r.get("name"),
                "events": None if events < min_count else events,
                "event_deaths": None if small or events < min_count else r.get("event_deaths"),
                "counted": int(r.get("counted") or 0),
                "score": None if small else _round(r.get("score")),
                "per100k": None if small else _round(r.get("per100k")),
                "top_org": None if events < min_count else r.get("top_org"),
                "top_org_share": None if events < min_count else _round(r.get("top_org_share")),
            }
        )
    meta = {k: v for k, v in res.meta.items() if k not in ("events_unlocated",)}
    meta["agency"] = namespace
    return {"meta": meta, "min_count": min_count, "regions": rows}


def _round(value: Any) -> float | None:
    if value is None:
        return None
    return round(float(value), 6)
