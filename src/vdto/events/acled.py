"""Importer for ACLED CSV exports (the columns of ACLED's codebook).

Mapping (documented in docs/schema.md): *Battles* are armed clashes whose perpetrator is
actor1 or actor2 with probability 0.5 each (ACLED, like UCDP, does not say who killed whom);
*Violence against civilians* and *Explosions/Remote violence* are attributed to actor1.
Abductions and forced disappearances become ``kidnapping`` events with at least one victim.
Victims take their kind from actor2 and assoc_actor_2 (police, military, officials,
journalists, civilians, criminal groups). *Protests*, *Riots* and *Strategic developments*
are not violence vdto scores: they are counted as skipped, not imported. Actors ACLED calls
"Unidentified ..." leave the event's perpetrator unknown.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from vdto.events.canonical import Batch, check, new_events, resolve_perpetrators
from vdto.events.tabular import ROW, Problems, parse_date, parse_number, read_csv, require_columns
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
        date_start=start, date_end=start, state_code=state.to_numpy(dtype=object), mun_code=mun.to_numpy(dtype=object),
        latitude=lat, longitude=lon, category=category,
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

    kept = events[keep].copy()
    sub_problems = Problems(kept[ROW].to_numpy(), problems.columns)
    where = {
        "source_id": "event_id_cnty", "date_start": "event_date", "date_end": "event_date",
        "deaths_best": "fatalities", "deaths_low": "fatalities", "deaths_high": "fatalities", "probability": "actor1",
    }  # fmt: skip
    check(kept, perps, sub_problems, where)
    problems.items.extend(sub_problems.items)
    return Batch("acled", source, kept, perps, len(frame), problems, skipped, unresolved, where=where)
