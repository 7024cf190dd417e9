"""Browse one agency's events: filter, count, page, list the filters' choices and export.

What the workbench's events view and ``GET /agencies/{agency}/events`` show. Every function
reads one agency's events only (two agencies' copies of the same incidents are never added
together) and takes an :class:`EventFilter` of what the user typed; :func:`check_filter` turns
it into the store's :class:`~vdto.store.events.Selection`, or raises a
:class:`~vdto.errors.VdtoError` naming the bad parameter.

"entity" is a Mexican state (*entidad federativa*): the name keeps it apart from ``state``, the
store state (an import id) other commands take.

Examples
--------
>>> flt = EventFilter(entity="Jalisco", organization="CJNG", category="armed_clash")
>>> sel = check_filter(flt)
>>> sel.state_code, sel.org, sel.category
('14', 'cjng', 'armed_clash')
"""

from __future__ import annotations

import difflib
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Literal

import pandas as pd

from vdto.errors import VdtoError
from vdto.files import csv_safe
from vdto.geography import STATES, geography
from vdto.names import fold
from vdto.orgs import Registry
from vdto.schema import Category
from vdto.store import Store
from vdto.store.events import BROWSE_ORDER, Selection

#: The orders a listing may take (``-`` for descending); ties are broken by source and id.
SORTS: tuple[str, ...] = tuple(BROWSE_ORDER)

#: The columns of the table, and of an export, in order.
COLUMNS: tuple[str, ...] = (
    "id", "agency", "source", "source_id", "date_start", "date_end", "state_code", "state", "mun_code",
    "municipality", "organizations", "category", "deaths_best", "deaths_low", "deaths_high",
)  # fmt: skip

#: The filters whose choices :func:`facets` lists, by the name the API gives them.
FACETS: dict[str, str] = {
    "entity": "state_code",
    "organization": "org",
    "category": "category",
    "source": "source",
}

Format = Literal["csv", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "parquet")

_MUN = re.compile(r"^\d{5}$")
_MAX_TEXT = 200


@dataclass(frozen=True)
class EventFilter:
    """What the user asked for; every field left None selects all.

    Parameters
    ----------
    start, end
        The first and last start date (both included).
    entity
        A Mexican state: its INEGI code (``"14"``, or ``"9"`` for ``"09"``) or any common name
        (``"Jalisco"``, ``"CDMX"``, ``"Estado de México"``).
    municipality
        An INEGI 5-digit municipality code (``"14039"``); with ``entity``, one of its municipalities.
    organization
        A registry id (``"cjng"``) or any name or alias the registry resolves; a faction selects
        the events of that faction only.
    category
        One of :class:`~vdto.schema.Category` (``"armed_clash"``).
    source
        A source label as stored (``"ucdp-ged"``).
    """

    start: date | None = None
    end: date | None = None
    entity: str | None = None
    municipality: str | None = None
    organization: str | None = None
    category: str | None = None
    source: str | None = None

    def asked(self) -> dict[str, str]:
        """The filters given, as the API names them (``from``, ``to``, ``entity``, ...)."""
        names = {"start": "from", "end": "to"}
        out = {}
        for key, value in vars(self).items():
            if value is not None:
                out[names.get(key, key)] = value.isoformat() if isinstance(value, date) else str(value)
        return out


@dataclass(frozen=True)
class EventPage:
    """One page of a listing and the totals of everything the filter selects."""

    agency: str
    total: int
    #: deaths (best estimate) of every selected event, not only the page's
    deaths: int
    offset: int
    limit: int
    sort: str
    #: the filter as checked: entity as its INEGI code, organization as its registry id
    filters: dict[str, str]
    #: every stored column of the page's events, plus id, state, municipality, organizations and
    #: perpetrators (one dict per event, dates as ISO text)
    rows: list[dict[str, Any]]


def _text(value: str | None, param: str) -> str | None:
    """``value`` stripped; None when empty; an error when it is too long or not one line."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if len(text) > _MAX_TEXT or any(ch in text for ch in "\r\n\x00"):
        raise VdtoError(f"{param} is not a short one-line text", fix="give a name or code", param=param)
    return text


def _nearest(wanted: str, names: list[str], n: int = 3) -> list[str]:
    """The ``n`` of ``names`` closest to ``wanted`` (accents and case folded away)."""
    by_fold: dict[str, str] = {}
    for name in names:
        by_fold.setdefault(fold(name), name)
    close = difflib.get_close_matches(fold(wanted), list(by_fold), n=n, cutoff=0.5)
    return [by_fold[c] for c in close]


def resolve_entity(entity: str | None) -> str | None:
    """The INEGI code of a state given by code or name (None for None or an empty text).

    >>> resolve_entity("Michoacan"), resolve_entity("9"), resolve_entity(None)
    ('16', '09', None)
    """
    text = _text(entity, "entity")
    if text is None:
        return None
    code = geography().state_code(text)
    if code is None:
        near = _nearest(text, list(STATES.values()))
        fix = (
            f"nearest: {', '.join(near)}"
            if near
            else "use a state's name or its INEGI code 01 … 32 (e.g. Jalisco or 14)"
        )
        raise VdtoError(f"unknown Mexican state {text!r}", fix=fix, param="entity")
    return code


def _municipality(value: str | None, state_code: str | None) -> str | None:
    text = _text(value, "municipality")
    if text is None:
        return None
    if not _MUN.match(text) or text not in _municipality_names():
        raise VdtoError(
            f"{text!r} is not an INEGI municipality code",
            fix="give the 5-digit code, e.g. 14039 (Guadalajara)",
            param="municipality",
        )
    if state_code is not None and text[:2] != state_code:
        raise VdtoError(
            f"municipality {text} is not in {STATES[state_code]} ({state_code})",
            fix=f"use a code starting with {state_code}, or leave entity empty",
            param="municipality",
        )
    return text


def resolve_organization(registry: Registry, name: str | None) -> str | None:
    """The registry id of an organization or faction given by id, name or alias (None for None).

    >>> resolve_organization(Registry.seed(), "Cártel de Sinaloa")
    'sinaloa'
    """
    text = _text(name, "organization")
    if text is None:
        return None
    if text in registry.orgs:
        return text
    match = registry.resolve(text)
    if match.org_id is None:
        names = [o.name for o in registry.orgs.values()] + list(registry.orgs)
        near = _nearest(text, names)
        fix = f"nearest: {', '.join(near)}" if near else "use a registry id such as cjng or sinaloa"
        raise VdtoError(f"unknown organization {text!r}", fix=fix, param="organization")
    return match.faction_id or match.org_id


def _category(value: str | None) -> str | None:
    text = _text(value, "category")
    if text is None:
        return None
    if text not in {c.value for c in Category}:
        near = _nearest(text, [c.value for c in Category])
        fix = f"use one of: {', '.join(c.value for c in Category)}"
        if near:
            fix = f"nearest: {', '.join(near)}; " + fix
        raise VdtoError(f"unknown category {text!r}", fix=fix, param="category")
    return text


def check_filter(flt: EventFilter, registry: Registry | None = None) -> Selection:
    """The store selection for ``flt``, every value checked and resolved.

    Parameters
    ----------
    flt
        What the user asked for.
    registry
        The registry organization names resolve against (default: the seed registry; pass the
        store's, ``store.registry()``, to know the names users added).

    Returns
    -------
    Selection
        Dates, state code, municipality code, registry id, category and source.

    Raises
    ------
    VdtoError
        For a window that ends before it starts, an unknown state, municipality, organization
        or category (naming the parameter and the nearest valid names).
    """
    if flt.start is not None and flt.end is not None and flt.end < flt.start:
        raise VdtoError(
            f"the window ends ({flt.end}) before it starts ({flt.start})",
            fix="give a 'to' date on or after 'from'",
            param="end",
        )
    state_code = resolve_entity(flt.entity)
    org = resolve_organization(registry or Registry.seed(), flt.organization) if flt.organization else None
    return Selection(
        start=flt.start,
        end=flt.end,
        state_code=state_code,
        mun_code=_municipality(flt.municipality, state_code),
        org=org,
        category=_category(flt.category),
        source=_text(flt.source, "source"),
    )


def _checked(flt: EventFilter, sel: Selection) -> dict[str, str]:
    """The filter as the answer echoes it: entity as its code, organization as its id."""
    out = flt.asked()
    for key, value in (("entity", sel.state_code), ("organization", sel.org), ("municipality", sel.mun_code)):
        if value is not None:
            out[key] = value
        else:
            out.pop(key, None)
    for key, value in (("category", sel.category), ("source", sel.source)):
        if value is None:
            out.pop(key, None)
    return out


def _check_sort(sort: str) -> str:
    if sort not in BROWSE_ORDER:
        raise VdtoError(f"cannot sort by {sort!r}", fix=f"use one of: {', '.join(SORTS)}", param="sort")
    return sort


@cache
def _municipality_names() -> dict[str, str]:
    """INEGI municipality code -> name (the current catalog)."""
    m = geography().municipalities
    return dict(zip(m["mun_code"], m["name"], strict=True))


def _shape(rows: list[dict], registry: Registry) -> list[dict[str, Any]]:
    """Browsed rows with id, state, municipality, organizations (text) and perpetrators (a
    list of org_id, faction_id, name, raw_name, probability) added, dates as ISO text."""
    names = _municipality_names()
    orgs = registry.orgs
    out = []
    for row in rows:
        listed = []
        for c in row.pop("candidates"):
            org_id, faction_id = c["org_id"], c["faction_id"]
            known = faction_id if faction_id in orgs else org_id if org_id in orgs else None
            listed.append(
                {"org_id": org_id, "faction_id": faction_id, "name": orgs[known].name if known else c["raw_name"],
                 "raw_name": c["raw_name"], "probability": float(c["probability"])}
            )  # fmt: skip
        shaped = {"id": f"{row['source']}:{row['source_id']}", **row}
        for col in ("date_start", "date_end"):
            if isinstance(shaped[col], date):
                shaped[col] = shaped[col].isoformat()
        shaped["state"] = STATES.get(row["state_code"]) if row["state_code"] else None
        shaped["municipality"] = names.get(row["mun_code"]) if row["mun_code"] else None
        shaped["organizations"] = "; ".join(f"{o['name']} ({o['probability']:.2f})" for o in listed) or None
        shaped["perpetrators"] = listed
        out.append(shaped)
    return out


def list_events(
    store: Store,
    agency: str,
    flt: EventFilter | None = None,
    offset: int = 0,
    limit: int = 100,
    sort: str = "date",
    *,
    registry: Registry | None = None,
) -> EventPage:
    """A page of the agency's events that ``flt`` selects, and the totals of all of them.

    Parameters
    ----------
    store
        The store (read-only is enough).
    agency
        Whose events; no other agency's row is read.
    flt
        The filter (none: every event of the agency).
    offset, limit
        The page: skip ``offset`` events, show at most ``limit`` (1 … 1,000).
    sort
        ``date`` (oldest first, the default), ``-date``, ``deaths`` or ``-deaths`` (best estimate).
    registry
        The store's registry, when the caller has it at hand (default: ``store.registry()``).

    Returns
    -------
    EventPage
        The totals (events, deaths) of everything selected and the page's rows: every stored
        column, ``id`` (``source:source_id``), ``state``, ``municipality`` (names),
        ``organizations`` (names with probability, most likely first, as text) and
        ``perpetrators`` (the same as a list).
    """
    flt = flt or EventFilter()
    if offset < 0:
        raise VdtoError(f"offset must be 0 or more (got {offset})", param="offset")
    if not 1 <= limit <= 1000:
        raise VdtoError(f"limit must be from 1 to 1000 (got {limit})", param="limit")
    sort = _check_sort(sort)
    registry = registry or store.registry()
    sel = check_filter(flt, registry)
    total, deaths = store.events.browse_totals(agency, sel)
    rows = store.events.browse(agency, sel, sort, offset, limit)
    return EventPage(agency, total, deaths, offset, limit, sort, _checked(flt, sel), _shape(rows, registry))


def facets(
    store: Store, agency: str, flt: EventFilter | None = None, *, registry: Registry | None = None
) -> dict[str, Any]:
    """The choices of each filter, with how many of the agency's events each selects.

    Each list is counted under the other filters (the states under the chosen organization and
    dates, and so on), so a choice's count is what choosing it would show.

    Parameters
    ----------
    store
        The store.
    agency
        Whose events.
    flt
        The filter in force.
    registry
        As for :func:`list_events`.

    Returns
    -------
    dict
        ``entity`` (code, name, events), ``organization`` (id, name, events: events naming the
        organization or one of its factions), ``category`` and ``source`` (value, events), and
        ``first`` and ``last``, the agency's first and last event dates.
    """
    flt = flt or EventFilter()
    registry = registry or store.registry()
    sel = check_filter(flt, registry)
    out: dict[str, Any] = {}
    for name, dimension in FACETS.items():
        # an organization filter that names a faction is left open for the organization list
        found = store.events.browse_choices(agency, sel.without(dimension), dimension)
        if name == "entity":
            out[name] = [{"code": v, "name": STATES.get(v, v), "events": n} for v, n in found]
        elif name == "organization":
            out[name] = [
                {"id": v, "name": registry.orgs[v].name if v in registry.orgs else v, "events": n}
                for v, n in found
            ]
        else:
            out[name] = [{"value": v, "events": n} for v, n in found]
    first, last = store.events.browse_span(agency)
    out["first"], out["last"] = first, last
    out["filters"] = _checked(flt, sel)
    return out


def export_frame(
    store: Store,
    agency: str,
    flt: EventFilter | None = None,
    sort: str = "date",
    *,
    registry: Registry | None = None,
) -> pd.DataFrame:
    """Every event ``flt`` selects (not a page), with the table's columns (:data:`COLUMNS`)."""
    flt = flt or EventFilter()
    sort = _check_sort(sort)
    registry = registry or store.registry()
    sel = check_filter(flt, registry)
    rows = _shape(store.events.browse(agency, sel, sort), registry)
    out = pd.DataFrame([[r[c] for c in COLUMNS] for r in rows], columns=list(COLUMNS))
    for col in ("date_start", "date_end"):
        out[col] = pd.to_datetime(out[col]).dt.date
    for col in ("deaths_best", "deaths_low", "deaths_high"):
        out[col] = out[col].astype("int64")
    return out.reset_index(drop=True)


def export_events(
    store: Store,
    agency: str,
    flt: EventFilter | None = None,
    fmt: str = "csv",
    sort: str = "date",
    *,
    registry: Registry | None = None,
) -> bytes:
    """Every event ``flt`` selects as a CSV (UTF-8, header, ISO dates) or Parquet file.

    Parameters
    ----------
    store, agency, flt
        As for :func:`list_events`.
    fmt
        ``csv`` or ``parquet``.
    sort, registry
        As for :func:`list_events`.

    Returns
    -------
    bytes
        The file: the columns of :data:`COLUMNS`, one row per selected event.
    """
    if fmt not in FORMATS:
        raise VdtoError(f"unknown format {fmt!r}", fix="use csv or parquet", param="format")
    frame = export_frame(store, agency, flt, sort, registry=registry)
    if fmt == "csv":
        # a cell that a spreadsheet would run as a formula is written with a leading quote
        return csv_safe(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def applied_filters(flt: EventFilter, registry: Registry | None = None) -> dict[str, str]:
    """The filter as checked, as the API names it: entity as its INEGI code, organization as its
    registry id (an error for a bad value, as :func:`check_filter`).

    >>> applied_filters(EventFilter(entity="Jalisco", organization="CJNG", source=" "))
    {'entity': '14', 'organization': 'cjng'}
    """
    return _checked(flt, check_filter(flt, registry))


def export_name(agency: str, filters: dict[str, str], fmt: str) -> str:
    """The file name of an export: ``events-AGENCY[-NAME-VALUE...].FMT``, from the filters as
    :func:`applied_filters` gives them (safe characters only).

    >>> export_name("mx", {"from": "2021-01-01", "entity": "14"}, "csv")
    'events-mx-from-2021-01-01-entity-14.csv'
    """
    parts = ["events", agency]
    for key, value in filters.items():
        parts += [key, value]
    plain = (unicodedata.normalize("NFKD", p).encode("ascii", "ignore").decode().lower() for p in parts)
    stem = "-".join(re.sub(r"[^a-z0-9.-]+", "_", p).strip("_.") or "_" for p in plain)
    return f"{stem[:180]}.{fmt}"
