"""Importer for the UCDP Georeferenced Event Dataset (GED) CSV, plain or gzip-compressed.

Attribution rule (documented in docs/schema.md): GED does not say who killed whom in a dyad.
For state-based and non-state events, deaths on side A are attributed to side B and deaths on
side B to side A; civilian and unknown deaths are split equally between the two sides; the
perpetrator probability of each side is its share of the best death estimate (0.5 each when
nobody died). One-sided violence is attributed wholly to side A. A side naming several groups
splits its share equally among them; a faction resolves to its organization and keeps the
faction. State actors are recorded as perpetrators of kind ``state`` and are never scored as
DTOs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from vdto.events.canonical import Batch, check, new_events, resolve_perpetrators
from vdto.events.tabular import ROW, Problems, parse_date, parse_number, read_csv, require_columns
from vdto.geography import geography
from vdto.orgs import CRIMINAL_KINDS, Registry
from vdto.schema import Category, VictimKind

SOURCE = "ucdp-ged"
REQUIRED = (
    "id", "type_of_violence", "side_a", "side_b", "country", "adm_1", "adm_2", "latitude", "longitude",
    "where_prec", "date_start", "date_end", "deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown",
    "best", "high", "low",
)  # fmt: skip
DEATH_COLUMNS = (
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
    "best",
    "low",
    "high",
)


def side_victim_kind(side: str, registry: Registry) -> VictimKind:
    """The kind of victim a death on this side counts as."""
    kinds = set()
    for m in registry.resolve_list(side, ", "):
        kinds.add(registry.orgs[m.faction_id or m.org_id].kind if m.org_id else None)
    if kinds == {"state"}:
        # GED's "Government of Mexico" does not say which force: state-based conflicts in the
        # Mexican GED are with the army, so state deaths count as military.
        return VictimKind.MILITARY
    if kinds == {"civilians"}:
        return VictimKind.CIVILIAN
    if kinds and kinds <= CRIMINAL_KINDS:
        return VictimKind.DTO_MEMBER
    return VictimKind.UNKNOWN


def parse(path: str | Path, registry: Registry, *, source: str = SOURCE, encoding: str = "utf-8") -> Batch:
    """Read a GED CSV into a :class:`Batch` of canonical events and perpetrators.

    Each cell is checked (a bad one is a row problem naming its row and column); events outside
    Mexico are skipped and counted; low/high estimates that do not bracket best are widened.
    """
    frame = read_csv(path, encoding=encoding)
    require_columns(frame, REQUIRED, path, "UCDP GED")
    problems = Problems(frame[ROW].to_numpy(), list(frame.columns))
    rows = frame[ROW].to_numpy()
    source_id = _source_ids(frame, problems)
    tov = _violence_types(frame, problems)
    d, adjusted = _deaths(frame, problems)
    start = parse_date(frame["date_start"], "date_start", problems)
    end = parse_date(frame["date_end"], "date_end", problems)
    lat = parse_number(frame["latitude"], "latitude", problems, integer=False, required=False)
    lon = parse_number(frame["longitude"], "longitude", problems, integer=False, required=False)
    prec = _precision(frame, problems)
    for side in ("side_a", "side_b"):
        empty = (frame[side].str.strip() == "").to_numpy()
        problems.add(empty, side, frame[side], "is empty", "every GED event names both sides")
    skipped: Counter = Counter()
    in_mexico = (frame["country"].str.strip().str.casefold() == "mexico").to_numpy()
    if (~in_mexico).any():
        skipped["country is not Mexico"] = int((~in_mexico).sum())
    state, mun = _locate(frame, lat, lon, prec)
    clarity = frame["event_clarity"].str.strip() if "event_clarity" in frame else pd.Series([""] * len(frame))
    events = new_events(
        rows, source, source_id,
        date_start=start, date_end=end, country=np.where(in_mexico, "MEX", np.full(len(in_mexico), None, dtype=object)),
        state_code=state.to_numpy(dtype=object), mun_code=mun.to_numpy(dtype=object),
        latitude=lat, longitude=lon, location_precision=pd.array(np.where(np.isfinite(prec), prec, np.nan), dtype="Float64").astype("Int8"),
        category=np.where(tov == 3, Category.ATTACK_CIVILIANS.value, Category.ARMED_CLASH.value),
        deaths_best=np.nan_to_num(d["best"]), deaths_low=np.nan_to_num(d["low"]), deaths_high=np.nan_to_num(d["high"]),
        reliability=np.where(clarity.isin(["2", "2.0"]), 0.5, 1.0),
        notes=frame["dyad_name"].to_numpy(dtype=object) if "dyad_name" in frame else None,
        **_victims(frame, d, registry),
    )  # fmt: skip
    perps, unresolved = resolve_perpetrators(
        _sides(frame, rows, source, source_id, d, tov), registry, split=", "
    )
    where = {
        "date_start": "date_start", "date_end": "date_end", "deaths_best": "best", "deaths_low": "low",
        "deaths_high": "high", "source_id": "id", "probability": "side_a",
    }  # fmt: skip
    check(events, perps, problems, where)
    keep = in_mexico
    return Batch(
        "ucdp",
        source,
        events[keep],
        perps[perps[ROW].isin(rows[keep])],
        len(frame),
        problems,
        skipped,
        unresolved,
        adjusted,
        where,
    )


def _source_ids(frame: pd.DataFrame, problems: Problems) -> pd.Series:
    """GED ``id`` as text without a decimal point ("182027", not "182027.0")."""
    ids = parse_number(frame["id"], "id", problems, integer=True, minimum=0)
    return pd.Series(
        np.where(
            np.isfinite(ids),
            np.nan_to_num(ids).astype(np.int64).astype(str),
            frame["id"].to_numpy(),
        ),
        dtype=object,
    )


def _violence_types(frame: pd.DataFrame, problems: Problems) -> np.ndarray:
    tov = parse_number(frame["type_of_violence"], "type_of_violence", problems, integer=True)
    problems.add(
        np.isfinite(tov) & ~np.isin(tov, (1, 2, 3)),
        "type_of_violence",
        frame["type_of_violence"],
        "is not 1, 2 or 3",
        "GED codes are 1 state-based, 2 non-state, 3 one-sided",
    )
    return tov


def _deaths(frame: pd.DataFrame, problems: Problems) -> tuple[dict[str, np.ndarray], Counter]:
    """The death columns, checked (the parts add up to best), and the low/high estimates widened
    to include best where they do not (89 events in the 1989-2023 Mexico file)."""
    d = {c: parse_number(frame[c], c, problems, integer=True, minimum=0) for c in DEATH_COLUMNS}
    parts = d["deaths_a"] + d["deaths_b"] + d["deaths_civilians"] + d["deaths_unknown"]
    problems.add(
        np.isfinite(parts) & np.isfinite(d["best"]) & (parts != d["best"]),
        "best",
        frame["best"],
        "differs from deaths_a + deaths_b + deaths_civilians + deaths_unknown",
        "fix the death counts so the parts add up to best",
    )
    adjusted: Counter = Counter()
    fin = np.isfinite(d["best"]) & np.isfinite(d["low"]) & np.isfinite(d["high"])
    widen = fin & ((d["low"] > d["best"]) | (d["high"] < d["best"]))
    if widen.any():
        adjusted["low/high widened to include best"] = int(widen.sum())
        d["low"] = np.where(widen, np.minimum(d["low"], d["best"]), d["low"])
        d["high"] = np.where(widen, np.maximum(d["high"], d["best"]), d["high"])
    return d, adjusted


def _precision(frame: pd.DataFrame, problems: Problems) -> np.ndarray:
    prec = parse_number(frame["where_prec"], "where_prec", problems, integer=True, minimum=1, required=False)
    problems.add(
        np.isfinite(prec) & (prec > 7),
        "where_prec",
        frame["where_prec"],
        "is above 7",
        "GED where_prec runs from 1 to 7",
    )
    return prec


def _locate(
    frame: pd.DataFrame, lat: np.ndarray, lon: np.ndarray, prec: np.ndarray
) -> tuple[pd.Series, pd.Series]:
    """State and municipality codes: from the names first, then from the point for precise
    coordinates (a point fills a missing state, and a municipality when it agrees with the state).
    Precision decides how far down: a municipality only for where_prec 1 to 3, a state only for
    1 to 5."""
    geo = geography()
    state = geo.state_codes(frame["adm_1"])
    mun = geo.mun_codes(state, frame["adm_2"])
    # where_prec 4 or 5: known to the state (or an area across municipalities), 6 or 7: to the
    # country at best; a municipality (or state) named for such an event is not where it happened
    mun = mun.where(~(prec >= 4), None)
    state = state.where(~(prec >= 6), None)
    need = mun.isna().to_numpy() & np.isfinite(prec) & (prec <= 4) & np.isfinite(lat)
    if need.any():
        found = geo.locate(lat[need], lon[need])
        pmun = pd.Series(found, index=np.flatnonzero(need), dtype=object)
        fill_state = state.isna().to_numpy()[need]
        state.iloc[pmun.index[fill_state]] = pmun[fill_state].str[:2].to_numpy()
        precise = prec[need] <= 3
        agree = pmun.str[:2].to_numpy() == state.iloc[pmun.index].to_numpy()
        take = precise & agree & pmun.notna().to_numpy()
        mun.iloc[pmun.index[take]] = pmun[take].to_numpy()
    return state, mun


def _victims(frame: pd.DataFrame, d: dict[str, np.ndarray], registry: Registry) -> dict[str, np.ndarray]:
    """Victims by kind: each side's deaths count as that side's kind; civilians and unknown as such."""
    kinds = {
        name: side_victim_kind(name, registry)
        for name in pd.unique(frame[["side_a", "side_b"]].to_numpy().ravel())
    }
    victims = {f"victims_{k.value}": np.zeros(len(frame)) for k in VictimKind}
    for side, deaths in (("side_a", d["deaths_a"]), ("side_b", d["deaths_b"])):
        side_kind = frame[side].map(kinds).to_numpy()
        for k in VictimKind:
            victims[f"victims_{k.value}"] += np.where(side_kind == k, np.nan_to_num(deaths), 0)
    victims["victims_civilian"] += np.nan_to_num(d["deaths_civilians"])
    victims["victims_unknown"] += np.nan_to_num(d["deaths_unknown"])
    return victims


def _sides(
    frame: pd.DataFrame,
    rows: np.ndarray,
    source: str,
    source_id: pd.Series,
    d: dict[str, np.ndarray],
    tov: np.ndarray,
) -> pd.DataFrame:
    """The perpetrator candidates: side A with the share of deaths on side B (plus half the
    civilian and unknown deaths), side B with the rest; one-sided violence is side A's alone."""
    best = np.nan_to_num(d["best"])
    shared = 0.5 * (np.nan_to_num(d["deaths_civilians"]) + np.nan_to_num(d["deaths_unknown"]))
    with np.errstate(invalid="ignore", divide="ignore"):
        p_a = np.where(best > 0, (np.nan_to_num(d["deaths_b"]) + shared) / best, 0.5)
    p_a = np.where(tov == 3, 1.0, np.clip(p_a, 0.0, 1.0))
    raw = pd.concat(
        [
            pd.DataFrame({ROW: rows, "source": source, "source_id": source_id,
                          "raw_name": frame[side].str.strip(), "probability": p})
            for side, p in (("side_a", p_a), ("side_b", 1.0 - p_a))
        ],
        ignore_index=True,
    )  # fmt: skip
    return raw[(raw["probability"] > 0) & (raw["raw_name"] != "")]
