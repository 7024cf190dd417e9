"""What the public may see: no sensitive field in any public answer, small counts withheld.

:func:`check_public` is the rule every public output passes through (the scorecard's
:data:`~vdto.publication.scorecard.SENSITIVE_FIELDS`, and their plurals, never appear as a
field); :func:`public_region_scores` publishes state scores with small event counts withheld,
as the public scorecard withholds them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from vdto.errors import VdtoError
from vdto.publication.scorecard import SENSITIVE_FIELDS
from vdto.regional.panel import score_store
from vdto.render.jsonout import records
from vdto.scoring import Rubric
from vdto.scoring.engine import resolve_window
from vdto.store import Store

SENSITIVE_KEYS = frozenset(SENSITIVE_FIELDS) | frozenset(f + "s" for f in SENSITIVE_FIELDS)
#: The longest window public region scores are computed over (a bound on the work one request asks).
MAX_YEARS = 40


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
    vdto.publication.disclosure.SensitiveFieldError: refused to serve the sensitive field 'source_id'
    """
    if hit := sorted(_keys(obj) & SENSITIVE_KEYS):
        raise SensitiveFieldError(f"refused to serve the sensitive field {hit[0]!r}")
    return obj


def _round6(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)


def public_region_scores(
    store: Store, start: date | None, end: date | None, agency: str | None, min_count: int
) -> dict[str, Any]:
    """State scores of one agency's events (and the public counts), small counts suppressed.

    Where a state has between 1 and ``min_count - 1`` events, its event count, deaths, score,
    rate and leading organization are withheld, as the public scorecard withholds small
    counts; a state with no events keeps the score its public counts give it.
    """
    rubric = Rubric.default()
    start, end = resolve_window(start, end, rubric, store)
    if (end - start).days > 366 * MAX_YEARS:
        raise VdtoError(
            f"the window is longer than {MAX_YEARS} years", fix="ask for a shorter window", param="window"
        )
    agency = store.resolve_agency(agency)
    if not store.events.located(agency, start, end) and not store.counts.count():
        # nothing to place on the map (region_panel cannot merge an empty panel with no counts)
        raise VdtoError(
            f"agency {agency!r} has no events with a state between {start} and {end}",
            fix="choose another window or agency",
            param="window",
        )
    res = score_store(store, start, end, level="state", rubric=rubric, agency=agency)
    rows = []
    for r in records(res.table):
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
                "score": None if small else _round6(r.get("score")),
                "per100k": None if small else _round6(r.get("per100k")),
                "top_org": None if events < min_count else r.get("top_org"),
                "top_org_share": None if events < min_count else _round6(r.get("top_org_share")),
            }
        )
    meta = {k: v for k, v in res.meta.items() if k not in ("events_unlocated",)}
    meta["agency"] = agency
    return {"meta": meta, "min_count": min_count, "regions": rows}
