"""Scores of cells and persons under the published rubric: event -> organization -> cell -> person.

The organization ranking (:func:`vdto.scoring.engine.score`) gives each event of the window its
weight (rubric points x decay x reliability) and its attribution probabilities. A person's link to
an event counts through the cell the person belonged to on the event's first day, for the
organization of that cell. In Monte Carlo draw ``d``:

1. the event goes to one organization or to nobody, exactly as in the organization ranking's draw
   ``d`` (same seed, same keyed uniforms: :func:`vdto.scoring.montecarlo.draw_owners`);
2. if it went to the cell's organization, the person took part with the highest confidence of
   their links to the event (several links of one person to one event, suspected then arrested,
   are estimates of one fact, not independent chances: :func:`one_per_event`), drawn with a
   keyed uniform of the person and the event; different persons are independent;
3. a person is credited the event's weight if they took part; a cell once if any of its members did.

So the expected score of a person is ``sum_e w_e p_e(org) max_l c_l`` over their events, and a
cell's is ``sum_e w_e p_e(org) (1 - prod_persons (1 - c_person))``: an event two of its members
share counts once. P(rank 1) is taken within the group the list ranks (the target organization,
or the region); a tie goes to one of the tied units at random (a hash of the draw and the unit),
and a draw in which nobody in the group scores counts for nobody. The top unit is *named* only when its P(rank 1) reaches the rubric's
threshold, the rule that names an organization.

Links that cannot count are reported, not dropped silently: an event outside the window, a date on
which the person was in no cell, or an event the store does not attribute to the cell's
organization (its probability is 0).

The draws line up with the organization ranking's whenever the ranking draws every event one by
one, which it does up to :data:`vdto.scoring.montecarlo.EXACT_LIMIT` (50,000) events in the
window; beyond, the ranking draws its light events from a normal approximation while the person
level still draws each linked event, so the two are no longer draw for draw the same (each is
still right on its own). ``meta["draws_aligned"]`` says which.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import vdto
from vdto import rng
from vdto.errors import VdtoError
from vdto.orgs import Registry
from vdto.persons.montecarlo import Units, score_units
from vdto.scoring.engine import ScoreResult
from vdto.scoring.montecarlo import Candidates, draw_owners
from vdto.scoring.rubric import Rubric

#: The columns of the persons' and the cells' tables.
PERSON_TABLE: tuple[str, ...] = (
    "rank", "person", "org", "cells", "role", "events", "links", "score", "lo90", "hi90", "p_rank1", "named",
)  # fmt: skip
CELL_TABLE: tuple[str, ...] = (
    "rank", "cell", "org", "name", "region", "members", "events", "links", "score", "lo90", "hi90", "p_rank1", "named",
)  # fmt: skip
#: An INEGI state (2 digits) or municipality (5 digits) code: what a region target may be.
REGION_PATTERN = r"^\d{2}$|^\d{5}$"
REGION = re.compile(REGION_PATTERN)
#: How a list's group is chosen.
TARGET_KINDS: tuple[str, ...] = ("org", "region", "all")


@dataclass(frozen=True)
class Target:
    """What the persons are ranked within: one organization, one region (an INEGI state or
    municipality code), or every organization (each its own group)."""

    kind: str
    value: str | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in TARGET_KINDS:
            raise ValueError(f"unknown target kind {self.kind!r}")


@dataclass
class PersonScores:
    """Scores of the persons and cells of one target over one window."""

    persons: pd.DataFrame  # rank, person, org, cell, role, events, links, score, lo90, hi90, p_rank1, named
    cells: pd.DataFrame  # rank, cell, org, name, region, members, events, score, lo90, hi90, p_rank1, named
    links: pd.DataFrame  # every link that counts, with its cell, organization, event, weight and probability
    excluded: dict[str, int]  # links that cannot count, by reason
    decisions: dict[str, str]  # per group and level: the naming rule's sentence
    target: Target
    threshold: float
    meta: dict = field(default_factory=dict)


def records_hash(*frames: pd.DataFrame) -> str:
    """SHA-256 of record frames, independent of row order."""
    digest = hashlib.sha256()
    for frame in frames:
        part = frame.astype("string").fillna("")
        part = part.sort_values(list(part.columns), kind="stable").reset_index(drop=True)
        digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
        digest.update(b"|")
    return digest.hexdigest()


def _in_region(events: pd.DataFrame, region: str) -> np.ndarray:
    col = "state_code" if len(region) == 2 else "municipality_code"
    if col not in events:
        return np.zeros(len(events), dtype=bool)
    return (events[col].astype("string").fillna("") == region).to_numpy(dtype=bool)


def entity_of(org: str, registry: Registry, rubric: Rubric) -> str:
    """The organization the ranking scores ``org`` as: its parent when ``org`` is a faction and the
    rubric rolls factions up, else ``org`` itself (the rule of :func:`vdto.scoring.engine.score_frames`)."""
    if rubric.attribution.roll_up_factions and org in registry.orgs:
        return registry.top(org)
    return org


def resolve_links(
    result: ScoreResult,
    cells: pd.DataFrame,
    members: pd.DataFrame,
    links: pd.DataFrame,
    registry: Registry,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Each link with its event (row of ``result.events``), cell, scored organization, weight and
    attribution probability; and the number of links that cannot count, by reason."""
    ev = result.events
    key_of = ev["source"].astype(str) + ":" + ev["source_id"].astype(str)
    index = pd.Series(np.arange(len(ev)), index=key_of.to_numpy())
    lk = (links["source"].astype(str) + ":" + links["source_id"].astype(str)).to_numpy()
    row = index.reindex(lk).to_numpy()
    inside = ~np.isnan(row)
    excluded = {"outside the window": int((~inside).sum())}
    lk_frame = links[inside].assign(event=row[inside].astype(np.int64), link=np.flatnonzero(inside))
    day = pd.to_datetime(ev["date_start"]).dt.date.to_numpy(dtype=object)
    lk_frame = lk_frame.assign(date=day[lk_frame["event"].to_numpy()])
    m = members[["person", "cell", "role", "start", "end"]]
    joined = lk_frame.merge(m, on="person", how="left")
    when = pd.to_datetime(joined["date"])
    since = pd.to_datetime(joined["start"])
    until = pd.to_datetime(joined["end"])
    ok = since.notna() & (since <= when) & (until.isna() | (when <= until))
    matched = joined[ok.to_numpy(dtype=bool)].drop_duplicates("link")
    excluded["no membership on the event's date"] = int(len(lk_frame) - len(matched))
    org_of_cell = dict(zip(cells["cell"], cells["org_id"], strict=True))
    code, uniq = pd.factorize(matched["cell"])
    org_of = np.array([entity_of(org_of_cell[c], registry, result.rubric) for c in uniq], dtype=object)
    matched = matched.assign(org=org_of[code] if len(uniq) else np.array([], dtype=object))
    att = result.attribution
    prob = att.set_index(["event", "org"])["prob"]
    pairs = pd.MultiIndex.from_arrays([matched["event"].to_numpy(), matched["org"].to_numpy()])
    p = prob.reindex(pairs).to_numpy(dtype=float)
    matched = matched.assign(
        prob=np.nan_to_num(p, nan=0.0), weight=ev["weight"].to_numpy()[matched["event"].to_numpy()]
    )
    excluded["event not attributed to the cell's organization"] = int((matched["prob"] == 0).sum())
    return matched.reset_index(drop=True), excluded


def _units(resolved: pd.DataFrame, unit_cols: list[str], group_col: str | None, ent_index: dict[str, int],
           used: np.ndarray) -> tuple[Units, pd.DataFrame]:  # fmt: skip
    """Units (in rank order: expected score, then id) with their pairs and links, and a frame of
    the units (id columns, group, expected score, expected events, links). Integer codes
    throughout: a million links take a fraction of a second."""
    r = resolved
    codes = [pd.factorize(r[c], sort=True) for c in unit_cols]
    raw = np.zeros(len(r), dtype=np.int64)
    for code, uniq in codes:  # one integer per unit: mixed radix over the id columns
        raw = raw * len(uniq) + code
    unit_raw, link_unit = np.unique(raw, return_inverse=True)
    event = r["event"].to_numpy(np.int64)
    pair_key = link_unit * (int(event.max()) + 1) + event
    pair_ids, link_pair = np.unique(pair_key, return_inverse=True)
    first = np.zeros(len(pair_ids), dtype=np.int64)
    first[link_pair[::-1]] = np.arange(len(r))[::-1]  # the first link of each pair
    with np.errstate(divide="ignore"):
        log_miss = np.bincount(
            link_pair, weights=np.log1p(-r["confidence"].to_numpy(float)), minlength=len(pair_ids)
        )
    prob = r["prob"].to_numpy(float)[first]
    weight = r["weight"].to_numpy(float)[first]
    hit = prob * (1 - np.exp(log_miss))
    pair_unit = link_unit[first]
    n_units = len(unit_raw)
    agg = pd.DataFrame(
        {c: r[c].to_numpy()[first[np.searchsorted(pair_unit, np.arange(n_units))]] for c in unit_cols}
    )
    agg["score"] = np.bincount(pair_unit, weights=hit * weight, minlength=n_units)
    agg["events"] = np.bincount(pair_unit, weights=hit, minlength=n_units)
    agg["links"] = np.bincount(link_unit, minlength=n_units)
    agg["group"] = agg[group_col].to_numpy() if group_col else "all"
    ident = agg[unit_cols[0]].astype(str)
    for c in unit_cols[1:]:
        ident = ident + "|" + agg[c].astype(str)
    order = agg.assign(_id=ident).sort_values(["score", "_id"], ascending=[False, True], kind="stable").index
    unit_key = rng.keys(ident.loc[order].astype(str).tolist())
    rank = np.empty(n_units, dtype=np.int64)
    rank[order.to_numpy()] = np.arange(n_units)
    agg = agg.loc[order].reset_index(drop=True)
    agg["unit"] = np.arange(n_units)
    groups = {g: i for i, g in enumerate(sorted(agg["group"].astype(str).unique()))}

    # links sorted by (unit rank, event, link key): pairs and units become contiguous runs
    link_key = r["link_key"].to_numpy(np.uint64)
    srt = np.lexsort((link_key, event, rank[link_unit]))
    lp = link_pair[srt]
    starts = np.flatnonzero(np.r_[True, lp[1:] != lp[:-1]])
    pairs = lp[starts]
    pair_rank = rank[pair_unit[pairs]]
    units = Units(
        unit_ptr=np.searchsorted(pair_rank, np.arange(n_units + 1)).astype(np.int64),
        pair_event=np.searchsorted(used, event[first[pairs]]).astype(np.int64),
        pair_entity=pd.Series(r["org"].to_numpy()[first[pairs]]).map(ent_index).to_numpy(np.int32),
        pair_weight=weight[pairs],
        pair_prob=prob[pairs],
        pair_ptr=np.r_[starts, len(r)].astype(np.int64),
        link_conf=r["confidence"].to_numpy(np.float64)[srt],
        link_key=link_key[srt],
        group=agg["group"].astype(str).map(groups).to_numpy(np.int64),
        unit_key=unit_key,
    )
    return units, agg


def _named(frame: pd.DataFrame, threshold: float, group: str) -> tuple[pd.Series, dict[str, str]]:
    """The naming rule per group: the unit with the highest P(rank 1), only if it reaches the threshold."""
    named = pd.Series(False, index=frame.index)
    said = {}
    for g, part in frame.groupby(group, sort=True):
        best = part["p_rank1"].idxmax()
        if part.loc[best, "p_rank1"] >= threshold:
            named[best] = True
            said[str(g)] = f"confident: P(rank 1) = {part.loc[best, 'p_rank1']:.3f} >= {threshold:g}"
        else:
            said[str(g)] = (
                f"no confident top: the highest P(rank 1) is {part.loc[best, 'p_rank1']:.3f}, below {threshold:g}"
            )
    return named, said


def score_persons(
    result: ScoreResult,
    cells: pd.DataFrame,
    members: pd.DataFrame,
    links: pd.DataFrame,
    registry: Registry,
    target: Target,
    *,
    seed: int,
    draws: int,
) -> PersonScores:
    """Score the persons and cells of ``target`` over the window of ``result``.

    Parameters
    ----------
    result
        The organization ranking of the window (its events, weights and attribution).
    cells, members, links
        The agency's canonical record frames (:mod:`vdto.persons.records`).
    registry
        The registry the ranking used (factions roll up to their organization if the rubric says so).
    target
        Rank within one organization (``Target("org", "cjng")``), one region
        (``Target("region", "14")``) or every organization, each its own group (``Target("all")``).
    seed, draws
        The Monte Carlo's seed and number of draws (use the ranking's, so the draws line up).

    Examples
    --------
    >>> import pandas as pd
    >>> from datetime import date
    >>> from vdto.orgs import Registry
    >>> from vdto.scoring.engine import score_frames
    >>> ev = pd.DataFrame({"source": ["s", "s"], "source_id": ["1", "2"], "date_start": [date(2021, 3, 1)] * 2,
    ...     "category": ["homicide"] * 2, "deaths_best": [1, 2], "victims_civilian": [1, 2]})
    >>> pp = pd.DataFrame({"source": ["s", "s"], "source_id": ["1", "2"], "raw_name": ["CJNG", "CJNG"],
    ...     "org_id": ["cjng", "cjng"], "faction_id": [None, None], "faction": [None, None], "probability": [1.0, 0.5]})
    >>> res = score_frames(ev, pp, Registry.seed(), start=date(2021, 1, 1), end=date(2021, 3, 1), draws=100)
    >>> cells = pd.DataFrame({"cell": ["c1"], "org_id": ["cjng"], "name": [None], "region": [None]})
    >>> members = pd.DataFrame({"person": ["p_a"], "cell": ["c1"], "role": ["member"],
    ...     "start": [date(2020, 1, 1)], "end": [None]})
    >>> links = pd.DataFrame({"person": ["p_a", "p_a"], "source": ["s", "s"], "source_id": ["1", "2"],
    ...     "kind": ["suspect", "convicted"], "confidence": [0.5, 1.0]})
    >>> out = score_persons(res, cells, members, links, Registry.seed(), Target("org", "cjng"), seed=7, draws=100)
    >>> w = res.events["weight"].to_numpy()
    >>> bool(abs(out.persons.loc[0, "score"] - (w[0] * 1.0 * 0.5 + w[1] * 0.5 * 1.0)) < 1e-12)
    True
    """
    if draws < 1:
        raise VdtoError(f"draws must be at least 1 (got {draws})", fix="use e.g. 2000", param="draws")
    resolved, excluded = resolve_links(result, cells, members, links, registry)
    if target.kind == "org":
        resolved = resolved[resolved["org"] == target.value]
    elif target.kind == "region":
        resolved = resolved[_in_region(result.events, str(target.value))[resolved["event"].to_numpy()]]
    resolved = one_per_event(resolved[resolved["prob"] > 0])

    # the organization draws of the linked events only (the same draws as the ranking's)
    used = np.unique(resolved["event"].to_numpy()) if len(resolved) else np.array([], dtype=np.int64)
    att = result.attribution
    att = att[att["event"].isin(used)]
    orgs = sorted(att["org"].unique())
    ent_index = {o: i for i, o in enumerate(orgs)}
    ev = result.events.iloc[used]
    keys = rng.keys((ev["source"].astype(str) + ":" + ev["source_id"].astype(str)).tolist()) if len(used) else np.array([], dtype=np.uint64)  # fmt: skip
    resolved = resolved.assign(
        link_key=link_keys(resolved, keys[np.searchsorted(used, resolved["event"].to_numpy())])
    )
    cand = Candidates(
        np.searchsorted(used, att["event"].to_numpy()).astype(np.int64),
        att["org"].map(ent_index).to_numpy(np.int64),
        att["prob"].to_numpy(float),
    )
    owners = draw_owners(cand, keys, len(used), draws=draws, seed=seed)

    group_col = None if target.kind in ("org", "region") else "org"
    threshold = result.rubric.target.threshold
    tables = {}
    decisions: dict[str, str] = {}
    for level, unit_cols in (
        ("persons", ["person"] if group_col is None else ["person", "org"]),
        ("cells", ["cell", "org"]),
    ):
        if resolved.empty:  # the tables are described with their columns below
            tables[level] = pd.DataFrame()
            continue
        units, frame = _units(resolved, unit_cols, group_col, ent_index, used)
        got = score_units(units, owners, seed=seed, draws=draws)
        frame = frame.assign(lo90=got.lo90, hi90=got.hi90, p_rank1=got.p_rank1)
        named, said = _named(frame, threshold, "group")
        frame["named"] = named.to_numpy()
        frame["rank"] = frame.groupby("group", sort=False).cumcount() + 1
        # one group (an organization's or a region's list): "persons"; every organization: "persons:cjng"
        decisions.update({level if group_col is None else f"{level}:{g}": s for g, s in said.items()})
        tables[level] = frame.drop(columns="unit")
    persons = _describe_persons(tables["persons"], resolved, members)
    cells_out = _describe_cells(tables["cells"], cells, members)
    evidence = resolved[
        ["person", "cell", "org", "source", "source_id", "date", "weight", "prob", "kind", "confidence"]
    ]
    meta = {
        **{k: result.meta[k] for k in ("vdto_version", "rubric", "rubric_sha256", "data_sha256", "from", "to") if k in result.meta},
        "vdto_version": vdto.__version__,
        "records_sha256": records_hash(cells, members, links),
        "seed": seed,
        "draws": draws,
        "target": target.kind + (f":{target.value}" if target.value else ""),
        "threshold": threshold,
        "draws_aligned": int(result.meta.get("exact_events", len(result.events))) >= len(result.events),
    }  # fmt: skip
    return PersonScores(persons, cells_out, evidence, excluded, decisions, target, threshold, meta)


def evidence(scores: PersonScores, persons: list[str] | None = None) -> pd.DataFrame:
    """The evidence behind ``persons`` (default: all): one row per link that counts, with its
    event (``source:source_id``), date, weight, attribution probability, kind, confidence and
    expected contribution (weight x probability x confidence), by person, date and event."""
    ev = scores.links if persons is None else scores.links[scores.links["person"].isin(persons)]
    out = ev.assign(
        event_id=ev["source"].astype(str) + ":" + ev["source_id"].astype(str),
        contribution=ev["weight"] * ev["prob"] * ev["confidence"],
    )[["person", "cell", "org", "event_id", "date", "weight", "prob", "kind", "confidence", "contribution"]]
    return out.sort_values(["person", "date", "event_id", "kind"], kind="stable").reset_index(drop=True)


def one_per_event(links: pd.DataFrame) -> pd.DataFrame:
    """One row per person and event: the highest confidence of the person's links to it, and
    their kinds joined (``arrested;suspect``).

    Several links of one person to one event (suspected, then arrested, then charged) are the
    analyst's successive estimates of one fact, whether the person took part, not independent
    chances: the best of them is the probability, never a combination that would exceed it.

    Examples
    --------
    >>> import pandas as pd
    >>> links = pd.DataFrame({"person": ["p_a", "p_a", "p_b"], "event": [0, 0, 0],
    ...     "kind": ["suspect", "arrested", "suspect"], "confidence": [0.5, 0.6, 0.3]})
    >>> one_per_event(links)[["person", "kind", "confidence"]].to_dict("list")
    {'person': ['p_a', 'p_b'], 'kind': ['arrested;suspect', 'suspect'], 'confidence': [0.6, 0.3]}
    """
    if links.empty:
        return links
    pcode, _ = pd.factorize(links["person"], sort=True)
    event = links["event"].to_numpy(np.int64)
    key = pcode.astype(np.int64) * (int(event.max()) + 1) + event
    order = np.lexsort((-links["confidence"].to_numpy(float), key))
    ranked, k = links.iloc[order], key[order]
    first = np.r_[True, k[1:] != k[:-1]]
    out = ranked[first].copy()
    several = np.unique(k[~first])
    if len(several):
        sel = np.isin(k, several)
        joined = ranked[sel].groupby(k[sel])["kind"].agg(lambda s: ";".join(sorted(set(map(str, s)))))
        kept = k[first]
        hit = np.isin(kept, several)
        out.loc[out.index[hit], "kind"] = joined.reindex(kept[hit]).to_numpy()
    return out.reset_index(drop=True)


def link_keys(links: pd.DataFrame, event_keys: np.ndarray) -> np.ndarray:
    """The key of the random draws of a person's part in an event: a hash of the person's key
    and the event's key (the organization ranking's), so it depends on nothing else in the data.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> links = pd.DataFrame({"person": ["p_a", "p_b"]})
    >>> k = link_keys(links, np.array([7, 7], dtype=np.uint64))
    >>> k.dtype, bool(k[0] != k[1])
    (dtype('uint64'), True)
    """
    if not len(links):
        return np.array([], dtype=np.uint64)
    pcode, people = pd.factorize(links["person"])
    pk = rng.keys(list(map(str, people)))[pcode]
    with np.errstate(over="ignore"):
        return rng.mix64(pk ^ rng.mix64(np.asarray(event_keys, dtype=np.uint64)))


def _describe_persons(table: pd.DataFrame, resolved: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return pd.DataFrame(columns=PERSON_TABLE)
    out = table.assign(cells=table["person"].map(_joined(resolved, "cell")))
    latest = members.sort_values(["person", "start"], kind="stable").drop_duplicates("person", keep="last")
    out["role"] = out["person"].map(latest.set_index("person")["role"])
    if "org" not in out:
        out["org"] = out["person"].map(_joined(resolved, "org"))
    return out[list(PERSON_TABLE)].reset_index(drop=True)


def _joined(frame: pd.DataFrame, col: str) -> pd.Series:
    """Per person, the distinct values of ``col`` sorted and joined with ``;`` (most have one)."""
    pairs = frame[["person", col]].drop_duplicates().sort_values(["person", col], kind="stable")
    several = pairs["person"].duplicated(keep=False)
    one = pairs[~several].set_index("person")[col].astype(str)
    many = pairs[several].groupby("person")[col].agg(lambda c: ";".join(map(str, c)))
    return pd.concat([one, many])


def _describe_cells(table: pd.DataFrame, cells: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return pd.DataFrame(columns=CELL_TABLE)
    size = members[members["end"].isna()].groupby("cell")["person"].nunique()
    info = cells.set_index("cell")
    out = table.assign(
        name=table["cell"].map(info["name"]),
        region=table["cell"].map(info["region"]),
        members=table["cell"].map(size).fillna(0).astype(int),
    )
    return out[list(CELL_TABLE)].reset_index(drop=True)
