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
from vdto.store import Store

SENSITIVE_KEYS = frozenset(SENSITIVE_FIELDS) | frozenset(f + "s" for f in SENSITIVE_FIELDS)
#: The first year public region figures are offered for (UCDP GED's first).
FIRST_YEAR = 1989


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


def public_year(store: Store, year: int | None) -> tuple[date, date]:
    """The fixed period public region figures are published for: one calendar year (default: the
    year of the last event up to today). Arbitrary windows are not offered: two overlapping
    windows would give, by subtraction, the events of the days between them."""
    last = store.events.last_date(until=date.today())
    if year is None:
        if last is None:
            raise VdtoError("the store has no events", fix="import event data first", param="year")
        year = last.year
    check_year(year)
    return date(year, 1, 1), date(year, 12, 31)


def check_year(year: int | None) -> None:
    """Refuse a year public figures cannot be given for (a cheap check, before any work)."""
    if year is not None and not FIRST_YEAR <= year <= date.today().year:
        raise VdtoError(f"no public figures for {year}", fix=f"ask for a year from {FIRST_YEAR} to {date.today().year}",
                        param="year")  # fmt: skip


def _withheld(events: list[int], min_count: int) -> set[int]:
    """Rows whose figures are withheld: those with 1 to ``min_count - 1`` events and, when that is
    a single row, also the smallest other row with events (complementary suppression), so that
    no withheld figure follows from the others by subtraction."""
    primary = {i for i, n in enumerate(events) if 0 < n < min_count}
    if len(primary) == 1:
        others = sorted((n, i) for i, n in enumerate(events) if n >= min_count)
        if others:
            primary.add(others[0][1])
    return primary


def public_region_scores(
    store: Store, year: int | None, agency: str | None, min_count: int
) -> dict[str, Any]:
    """State scores of one agency's events (and the public counts) for one calendar year, small
    counts suppressed.

    Where a state has between 1 and ``min_count - 1`` events, its event count, deaths, score,
    rate and leading organization are withheld, as the public scorecard withholds small counts;
    when that is one state only, the next smallest is withheld too (see :func:`_withheld`); the
    total number of events is not published. A state with no events keeps the score its public
    counts give it.
    """
    rubric = Rubric.default()
    start, end = public_year(store, year)
    agency = store.resolve_agency(agency)
    if not store.events.located(agency, start, end) and not store.counts.count():
        # nothing to place on the map (region_panel cannot merge an empty panel with no counts)
        raise VdtoError(
            f"agency {agency!r} has no events with a state between {start} and {end}",
            fix="choose another year or agency",
            param="year",
        )
    res = score_store(store, start, end, level="state", rubric=rubric, agency=agency)
    rows = []
    table = records(res.table)
    hidden = _withheld([int(r.get("events") or 0) for r in table], min_count)
    for i, r in enumerate(table):
        events = int(r.get("events") or 0)
        small = i in hidden
        if small:
            events = 0
        rows.append(
            {
                "rank": int(r["rank"]),
                "region_code": str(r["region_code"]),
                "name": r.get("name"),
                "events": None if small or events < min_count else events,
                "event_deaths": None if small or events < min_count else r.get("event_deaths"),
                "counted": int(r.get("counted") or 0),
                "score": None if small else _round6(r.get("score")),
                "per100k": None if small else _round6(r.get("per100k")),
                "top_org": None if events < min_count else r.get("top_org"),
                "top_org_share": None if events < min_count else _round6(r.get("top_org_share")),
            }
        )
    # totals would give a withheld figure by subtraction: not published
    meta = {k: v for k, v in res.meta.items() if k not in ("events_unlocated", "events")}
    meta["agency"] = agency
    return {"meta": meta, "min_count": min_count, "regions": rows}
