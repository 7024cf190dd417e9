"""Importer for ACLED CSV exports (the columns of ACLED's codebook).

Mapping (documented in docs/schema.md): *Battles* are armed clashes whose perpetrator is
actor1 or actor2 with probability 0.5 each (ACLED, like UCDP, does not say who killed whom);
*Violence against civilians* and *Explosions/Remote violence* are attributed to actor1.
Abductions and forced disappearances become ``kidnapping`` events with at least one victim.
Victims take their kind from actor2 and assoc_actor_2 (police, military, officials,
journalists, civilians, criminal groups). *Protests*, *Riots* and *Strategic developments*
are not violence vdto scores: they are counted as skipped, not imported. Actors ACLED calls
"Unidentified ..." leave the event's perpetrator unknown.

ACLED is a living dataset: it revises events under the same ``event_id_cnty`` (with a newer
``timestamp``, the revision stamp vdto keeps) and publishes the ids of deleted events
(:func:`parse_deleted`). Precision decides placement: ``geo_precision`` 3 (only a larger
region is known; ACLED gives the coordinates of its capital) places the event in its state but
in no municipality, and ``time_precision`` 2 (a week) and 3 (a month) widen the event's dates
to the week around the coded day and to the calendar month.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from vdto.events.canonical import Batch, check, new_events, resolve_perpetrators
from vdto.events.tabular import (
    ROW,
    Problems,
    parse_date,
    parse_number,
    read_csv,
    read_id_list,
    require_columns,
)
from vdto.geography import geography
from vdto.orgs import CRIMINAL_KINDS, Registry
from vdto.schema import Category, VictimKind

SOURCE = "acled"
REQUIRED = (
    "event_id_cnty",
    "event_date",
    "event_type",
    "sub_event_type",
    "actor1",
    "actor2",
    "admin1",
    "fatalities",
)
VIOLENT = {"Battles", "Violence against civilians", "Explosions/Remote violence"}
NOT_SCORED = {"Protests", "Riots", "Strategic developments"}
_PERIOD = re.compile(r"\s*\(\d{4}-\d{4}\)")

_KIND_WORDS: tuple[tuple[VictimKind, re.Pattern], ...] = (
    (VictimKind.JOURNALIST, re.compile(r"journalist|reporter|media")),
    (VictimKind.POLICE, re.compile(r"police")),
    (VictimKind.MILITARY, re.compile(r"military|army|navy|marine|national guard")),
    (
        VictimKind.OFFICIAL,
        re.compile(r"government|mayor|candidate|politician|official|councillor|governor"),
    ),
    (VictimKind.CIVILIAN, re.compile(r"civilian")),
)


def clean_actor(name: str) -> str:
    """ACLED actor name without its period ("Police Forces of Mexico (2018-2024)" -> "Police Forces of Mexico")."""
    return " ".join(_PERIOD.sub("", name).split())


def victim_kind(actor2: str, assoc2: str, registry: Registry) -> VictimKind:
    text = f"{actor2} {assoc2}".casefold()
    for kind, pattern in _KIND_WORDS:
        if pattern.search(text):
            return kind
    if actor2:
        m = registry.resolve(clean_actor(actor2))
        if m.org_id and registry.orgs[m.faction_id or m.org_id].kind in CRIMINAL_KINDS:
            return VictimKind.DTO_MEMBER
    return VictimKind.UNKNOWN


def parse(path: str | Path, registry: Registry, *, source: str = SOURCE, encoding: str = "utf-8") -> Batch:
    """Read an ACLED export into a :class:`Batch`."""
    frame = read_csv(path, encoding=encoding)
    require_columns(frame, REQUIRED, path, "ACLED")
    for opt in (
        "assoc_actor_1",
        "assoc_actor_2",
        "admin2",
        "latitude",
        "longitude",
        "geo_precision",
        "time_precision",
        "timestamp",
        "notes",
        "country",
    ):
        if opt not in frame:
            frame[opt] = ""
    problems = Problems(frame[ROW].to_numpy(), list(frame.columns))
    etype = frame["event_type"].str.strip()
    known = etype.isin(VIOLENT | NOT_SCORED).to_numpy()
    problems.add(
        ~known,
        "event_type",
        frame["event_type"],
        "is not an ACLED event type",
        "use ACLED's event types (Battles, Violence against civilians, Explosions/Remote violence, Riots, Protests, Strategic developments)",
    )
    violent = etype.isin(VIOLENT).to_numpy()
    skipped = Counter(
        {f"event_type {t!r} is not scored": int(n) for t, n in etype[~violent & known].value_counts().items()}
    )
    in_mexico = frame["country"].str.strip().isin(["", "Mexico"]).to_numpy()
    if (~in_mexico & violent).any():
        skipped["country is not Mexico"] = int((~in_mexico & violent).sum())
    scored = violent & in_mexico
    # rows of an unknown event type stay in, to be rejected (and counted) with the other bad rows
    keep = scored | ~known

    start = parse_date(frame["event_date"], "event_date", problems)
    geo_prec = _code(frame, "geo_precision", problems, 3)
    time_prec = _code(frame, "time_precision", problems, 3)
    start, end = widen_dates(start, time_prec)
    revision = parse_number(
        frame["timestamp"], "timestamp", problems, integer=True, minimum=0, required=False
    )
    deaths = parse_number(frame["fatalities"], "fatalities", problems, integer=True, minimum=0)
    lat = parse_number(frame["latitude"], "latitude", problems, integer=False, required=False)
    lon = parse_number(frame["longitude"], "longitude", problems, integer=False, required=False)
    problems.add(
        scored & (frame["actor1"].str.strip() == "").to_numpy(),
        "actor1",
        frame["actor1"],
        "is empty",
        "ACLED events name actor1",
    )

    geo = geography()
    state = geo.state_codes(frame["admin1"])
    mun = geo.mun_codes(state, frame["admin2"])
    mun = mun.where(~(geo_prec == 3), None)  # only the region is known: no municipality

    pairs = frame["actor2"].str.strip() + "\x1f" + frame["assoc_actor_2"].str.strip()
    kind_of = {}
    for p in pairs.unique():
        actor, assoc = p.split("\x1f", 1)
        kind_of[p] = victim_kind(actor, assoc, registry).value
    kinds = pairs.map(kind_of).to_numpy(dtype=object)
    sub = frame["sub_event_type"].str.strip().str.casefold()
    abduction = sub.str.contains("abduction|disappearance").to_numpy()
    category = np.where(
        etype == "Battles", Category.ARMED_CLASH.value, Category.ATTACK_CIVILIANS.value
    ).astype(object)
    category[abduction] = Category.KIDNAPPING.value
    refine = {
        "police": Category.ATTACK_SECURITY_FORCES,
        "military": Category.ATTACK_SECURITY_FORCES,
        "official": Category.ATTACK_OFFICIAL,
        "journalist": Category.ATTACK_JOURNALIST,
    }
    for kind, cat in refine.items():
        category[(kinds == kind) & ~abduction] = cat.value
    d = np.nan_to_num(deaths)
    victims_n = np.where(abduction, np.maximum(d, 1), d)
    battle = (etype == "Battles").to_numpy()
    kinds = np.where(battle & (kinds == VictimKind.CIVILIAN.value), VictimKind.UNKNOWN.value, kinds)
    victims = {f"victims_{k.value}": np.where(kinds == k.value, victims_n, 0) for k in VictimKind}

    source_id = frame["event_id_cnty"].str.strip()
    events = new_events(
        frame[ROW].to_numpy(), source, source_id,
        date_start=start, date_end=end, state_code=state.to_numpy(dtype=object), mun_code=mun.to_numpy(dtype=object),
        latitude=lat, longitude=lon, category=category,
        location_precision=pd.array(np.where(np.isfinite(geo_prec), np.select([geo_prec == 3], [4], geo_prec), np.nan), dtype="Float64").astype("Int8"),
        deaths_best=d, deaths_low=d, deaths_high=d,
        notes=frame["notes"].to_numpy(dtype=object), **victims,
    )  # fmt: skip

    a1 = frame["actor1"].map(clean_actor)
    a2 = frame["actor2"].map(clean_actor)
    has2 = battle & (a2 != "").to_numpy()
    raw = pd.concat(
        [
            pd.DataFrame(
                {
                    ROW: frame[ROW],
                    "source": source,
                    "source_id": source_id,
                    "raw_name": a1,
                    "probability": np.where(has2, 0.5, 1.0),
                }
            ),
            pd.DataFrame(
                {
                    ROW: frame[ROW],
                    "source": source,
                    "source_id": source_id,
                    "raw_name": a2,
                    "probability": 0.5,
                }
            )[has2],
        ],
        ignore_index=True,
    )
    raw = raw[(raw["raw_name"] != "") & ~raw["raw_name"].str.casefold().str.startswith("unidentified")]
    raw = raw[raw[ROW].isin(frame[ROW][scored])]
    perps, unresolved = resolve_perpetrators(raw, registry)

    events["revision"] = revision
    kept = events[keep].copy()
    sub_problems = Problems(kept[ROW].to_numpy(), problems.columns)
    where = {
        "source_id": "event_id_cnty", "date_start": "event_date", "date_end": "event_date", "revision": "timestamp",
        "deaths_best": "fatalities", "deaths_low": "fatalities", "deaths_high": "fatalities", "probability": "actor1",
    }  # fmt: skip
    check(kept, perps, sub_problems, where)
    problems.items.extend(sub_problems.items)
    return Batch("acled", source, kept, perps, len(frame), problems, skipped, unresolved, where=where)


def _code(frame: pd.DataFrame, column: str, problems: Problems, top: int) -> np.ndarray:
    """An ACLED precision code (1..``top``; NaN when the column is absent or blank)."""
    code = parse_number(frame[column], column, problems, integer=True, minimum=1, required=False)
    problems.add(
        np.isfinite(code) & (code > top),
        column,
        frame[column],
        f"is above {top}",
        f"ACLED's {column} runs from 1 to {top}",
    )
    return code


def widen_dates(start: pd.Series, time_precision: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """The first and last day an ACLED event may have happened: the coded day (precision 1 or
    unknown), the week around it (2: ACLED codes the middle of the reported week) or its calendar
    month (3: only the month is known).

    Examples
    --------
    >>> s, e = widen_dates(pd.Series(pd.to_datetime(["2021-03-17"] * 3)), np.array([1.0, 2.0, 3.0]))
    >>> [d.strftime("%m-%d") for d in s], [d.strftime("%m-%d") for d in e]
    (['03-17', '03-14', '03-01'], ['03-17', '03-20', '03-31'])
    """
    week = time_precision == 2
    month = time_precision == 3
    first = start.where(~week, start - pd.Timedelta(days=3))
    first = first.where(~month, start.dt.to_period("M").dt.start_time)
    last = start.where(~week, start + pd.Timedelta(days=3))
    last = last.where(~month, start.dt.to_period("M").dt.end_time.dt.normalize())
    return first, last


DELETED_REQUIRED = ("event_id_cnty", "deleted_timestamp")


def is_deleted_list(path: str | Path, encoding: str = "utf-8") -> bool:
    """Whether ``path`` is ACLED's list of deleted events (``event_id_cnty`` and
    ``deleted_timestamp``, no ``event_date``), judged by its header."""
    import csv

    from vdto.events.tabular import _read_bytes

    first = (
        _read_bytes(Path(path))[:65536].decode(encoding, errors="replace").lstrip("\ufeff").splitlines()[:1]
    )
    cols = [c.strip() for c in next(csv.reader(first), [])]
    return all(c in cols for c in DELETED_REQUIRED) and "event_date" not in cols


def parse_deleted(path: str | Path, *, encoding: str = "utf-8") -> tuple[pd.DataFrame, int, list]:
    """Read ACLED's deleted-events list: (frame of source_id and stamp, rows read, problems)."""
    return read_id_list(
        path, *DELETED_REQUIRED, encoding=encoding, what="ACLED deleted-events", stamp_required=True
    )
