"""Scoring organizations over a window: expected scores, Monte Carlo intervals and ranks.

The library entry point is :func:`score` (from a store) or :func:`score_frames` (from event and
perpetrator frames); both return a :class:`ScoreResult` of data frames.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

import vdto
from vdto import rng
from vdto.errors import VdtoError
from vdto.events.duplicates import DuplicateRules, find_duplicates
from vdto.orgs import DTO_KINDS, Registry
from vdto.schema import EVENT_COLUMNS, PERPETRATOR_COLUMNS
from vdto.scoring.montecarlo import (
    EXACT_LIMIT,
    MIN_NORMAL_EVENTS,
    Candidates,
    draw_scores,
    expected_scores,
    split_exact,
)
from vdto.scoring.points import event_weights
from vdto.scoring.rubric import Rubric
from vdto.store import Store

DEFAULT_DRAWS = 2000
DEFAULT_SEED = 7


@dataclass
class ScoreResult:
    """Scores of every organization over one window under one rubric.

    ``table`` has one row per ranked organization (highest expected score first): ``org``,
    ``name``, ``events`` (expected number of events), ``score`` (exact expected score),
    ``lo90``/``hi90`` (5th and 95th percentiles over the draws), ``p_rank1``, ``median_rank``,
    ``rank_lo90``/``rank_hi90``. ``samples`` holds every draw (rows) for every organization
    (columns, in ``table`` order). ``meta`` records what makes the result reproducible.
    """

    table: pd.DataFrame
    by_state: pd.DataFrame
    rank_probs: pd.DataFrame
    dismantled: pd.DataFrame
    samples: np.ndarray
    events: pd.DataFrame  # the window's events with their weights
    attribution: pd.DataFrame  # (event index, org, probability) for the ranked organizations
    rubric: Rubric
    meta: dict = field(default_factory=dict)

    def meta_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.meta])


def data_hash(events: pd.DataFrame, perps: pd.DataFrame) -> str:
    """SHA-256 of the scored data (events and perpetrators, sorted), independent of import order."""
    digest = hashlib.sha256()
    for frame, cols, key in (
        (events, EVENT_COLUMNS, ["source", "source_id"]),
        (perps, PERPETRATOR_COLUMNS, ["source", "source_id", "raw_name"]),
    ):
        part = frame[list(cols)].sort_values(key, kind="stable").reset_index(drop=True)
        part = part.astype({c: "string" for c in cols}).fillna("")
        digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
        digest.update(b"|")
    return digest.hexdigest()


def _entities(
    perps: pd.DataFrame, registry: Registry, rubric: Rubric, end: date, excluded: frozenset[str] = frozenset()
) -> tuple[pd.Series, pd.Series]:
    """The scored entity of each perpetrator row (None if not a DTO) and whether it is dismantled."""
    if rubric.attribution.roll_up_factions:
        ent = perps["org_id"]
    else:
        ent = perps["faction_id"].where(perps["faction_id"].notna(), perps["org_id"])
    ent = ent.astype(object).where(ent.notna(), None)

    def is_dto(o: object) -> bool:
        return isinstance(o, str) and o in registry.orgs and registry.orgs[o].kind in DTO_KINDS

    def dismantled(o: object) -> bool:
        org = registry.orgs[registry.top(o)] if isinstance(o, str) and o in registry.orgs else None
        if org is not None and org.id in excluded:
            return True
        return bool(org and org.status == "dismantled" and (org.dismantled is None or org.dismantled <= end))

    uniq = pd.unique(ent.dropna())
    dto = {o: is_dto(o) for o in uniq}
    gone = {o: dismantled(o) for o in uniq}
    ok = ent.map(lambda o: dto.get(o, False)).astype(bool)
    return ent.where(ok, None), ent.map(lambda o: gone.get(o, False)).astype(bool) & ok


def score_frames(
    events: pd.DataFrame,
    perps: pd.DataFrame,
    registry: Registry,
    *,
    start: date,
    end: date,
    rubric: Rubric | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    exact_limit: int = EXACT_LIMIT,
    progress: Callable[[int], None] | None = None,
    dismantled: frozenset[str] = frozenset(),
    survival: np.ndarray | None = None,
) -> ScoreResult:
    """Score the organizations named in ``events``/``perps`` (canonical frames) over a window.

    Organizations in ``dismantled`` (e.g. dismantled in an earlier round) are listed apart and
    not ranked, whatever the window; so are those the registry marks dismantled by its end.

    ``survival`` (one value per event, in ``events`` order) is the probability that each event
    is not a duplicate of another source's report of the same incident
    (:func:`vdto.events.duplicates.find_duplicates`): an event's attribution probabilities are
    multiplied by it, so in every draw it counts for organization k with probability
    ``survival x p_k`` and for nobody otherwise, and the expected score is the sum of
    ``weight x survival x p_k``. The events frame of the result then has a ``survival`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> from datetime import date
    >>> from vdto.orgs import Registry
    >>> ev = pd.DataFrame({"source": ["s", "s"], "source_id": ["1", "2"], "date_start": [date(2020, 6, 1)] * 2,
    ...     "date_end": [date(2020, 6, 1)] * 2, "category": ["homicide"] * 2, "deaths_best": [1, 2],
    ...     "victims_civilian": [1, 2], "torture_display": [False] * 2, "reliability": [1.0] * 2})
    >>> pp = pd.DataFrame({"source": ["s", "s", "s"], "source_id": ["1", "2", "2"], "raw_name": ["CJNG", "CJNG", "CDS"],
    ...     "org_id": ["cjng", "cjng", "sinaloa"], "faction_id": [None] * 3, "faction": [None] * 3,
    ...     "probability": [1.0, 0.5, 0.5]})
    >>> from vdto.scoring import Rubric
    >>> flat = Rubric.default().model_copy(update={"time": Rubric.default().time.model_copy(update={"half_life_days": 0})})
    >>> res = score_frames(ev, pp, Registry.seed(), start=date(2020, 1, 1), end=date(2020, 12, 31), rubric=flat, draws=200)
    >>> res.table[["org", "score"]].to_dict("list")
    {'org': ['cjng', 'sinaloa'], 'score': [4.0, 2.0]}
    """
    rubric = rubric or Rubric.default()
    events = events.reset_index(drop=True)
    for col in EVENT_COLUMNS:
        if col not in events:
            events[col] = {
                "reliability": 1.0,
                "torture_display": False,
                "date_end": events.get("date_start"),
            }.get(col, 0 if col.startswith(("victims_", "deaths_")) else None)
    weights = event_weights(events, rubric, end)
    events = events.assign(weight=weights)
    key_of = events["source"].astype(str) + ":" + events["source_id"].astype(str)
    index = pd.Series(np.arange(len(events)), index=key_of.to_numpy())
    pkeys = perps["source"].astype(str) + ":" + perps["source_id"].astype(str)
    ev_idx = index.reindex(pkeys.to_numpy()).to_numpy()
    ent, gone = _entities(perps, registry, rubric, end, frozenset(dismantled))
    ok = ~np.isnan(ev_idx) & ent.notna().to_numpy()
    att = pd.DataFrame(
        {
            "event": ev_idx[ok].astype(np.int64),
            "org": ent[ok].to_numpy(),
            "prob": perps["probability"].to_numpy(dtype=float)[ok],
            "gone": gone.to_numpy()[ok],
        }
    )
    att = att.groupby(["event", "org", "gone"], as_index=False, sort=False)["prob"].sum()
    if survival is not None:
        survival = np.asarray(survival, dtype=float)
        if survival.shape != (len(events),):
            raise ValueError(f"survival has {survival.size} values for {len(events)} events")
        att["prob"] = att["prob"].to_numpy() * survival[att["event"].to_numpy()]
        events = events.assign(survival=survival)

    live = att[~att["gone"]]
    orgs = sorted(live["org"].unique())
    ent_index = {o: i for i, o in enumerate(orgs)}
    cand = Candidates(
        live["event"].to_numpy(np.int64),
        live["org"].map(ent_index).to_numpy(np.int64),
        live["prob"].to_numpy(float),
    )
    expected = expected_scores(weights, cand, len(orgs))
    exact = split_exact(weights, cand, len(orgs), exact_limit, MIN_NORMAL_EVENTS)
    samples = draw_scores(
        weights,
        cand,
        rng.keys(key_of),
        rng.keys(orgs),
        draws=draws,
        seed=seed,
        exact_limit=exact_limit,
        progress=progress,
        exact=exact,
    )
    exp_events = np.bincount(cand.entity, weights=cand.prob, minlength=len(orgs))
    order = np.lexsort((np.array(orgs, dtype=object), -expected)) if orgs else np.array([], dtype=int)
    orgs = [orgs[i] for i in order]
    expected, exp_events, samples = expected[order], exp_events[order], samples[:, order]

    table = _summarise(orgs, expected, exp_events, samples, {o: registry.orgs[o].name for o in orgs})
    rank_probs = _rank_probs(orgs, samples)
    by_state = _by_state(events, live, registry)
    dismantled = _dismantled(events, att[att["gone"]], registry)
    meta = {
        "vdto_version": vdto.__version__,
        "rubric": rubric.name,
        "rubric_sha256": rubric.sha256(),
        "data_sha256": data_hash(events, perps),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "seed": seed,
        "draws": draws,
        "events": len(events),
        "exact_events": int(exact.sum()),
    }
    return ScoreResult(
        table,
        by_state,
        rank_probs,
        dismantled,
        samples,
        events,
        live.drop(columns="gone").reset_index(drop=True),
        rubric,
        meta,
    )


def _ranks(samples: np.ndarray) -> np.ndarray:
    """Rank of each organization in each draw (1 = highest score; ties go to the earlier column)."""
    order = np.argsort(-samples, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(samples.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, samples.shape[1] + 1)
    return ranks


def _summarise(orgs, expected, exp_events, samples, names: dict[str, str]) -> pd.DataFrame:
    if not orgs:
        return pd.DataFrame(
            columns=[
                "rank",
                "org",
                "name",
                "events",
                "score",
                "lo90",
                "hi90",
                "p_rank1",
                "median_rank",
                "rank_lo90",
                "rank_hi90",
            ]
        )
    ranks = _ranks(samples)
    q = np.quantile(samples, [0.05, 0.95], axis=0)
    rq = np.quantile(ranks, [0.05, 0.5, 0.95], axis=0, method="inverted_cdf")
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(orgs) + 1),
            "org": orgs,
            "name": [names[o] for o in orgs],
            "events": exp_events,
            "score": expected,
            "lo90": q[0],
            "hi90": q[1],
            "p_rank1": (ranks == 1).mean(axis=0),
            "median_rank": rq[1].astype(int),
            "rank_lo90": rq[0].astype(int),
            "rank_hi90": rq[2].astype(int),
        }
    )


def _rank_probs(orgs, samples, top: int = 5) -> pd.DataFrame:
    if not orgs:
        return pd.DataFrame(columns=["org"])
    ranks = _ranks(samples)
    cols = {f"p_rank{r}": (ranks == r).mean(axis=0) for r in range(1, min(top, len(orgs)) + 1)}
    return pd.DataFrame({"org": orgs, **cols})


def _by_state(events: pd.DataFrame, att: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    from vdto.geography import STATES

    if att.empty:
        return pd.DataFrame(columns=["org", "state_code", "state", "events", "score"])
    ev = events.iloc[att["event"].to_numpy()]
    frame = pd.DataFrame(
        {
            "org": att["org"].to_numpy(),
            "state_code": ev["state_code"].fillna("--").to_numpy(),
            "events": att["prob"].to_numpy(),
            "score": att["prob"].to_numpy() * ev["weight"].to_numpy(),
        }
    )
    out = frame.groupby(["org", "state_code"], as_index=False)[["events", "score"]].sum()
    out.insert(2, "state", out["state_code"].map(STATES).fillna("(not located)"))
    return out.sort_values(["score", "org", "state_code"], ascending=[False, True, True]).reset_index(
        drop=True
    )


def _dismantled(events: pd.DataFrame, att: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    if att.empty:
        return pd.DataFrame(columns=["org", "name", "dismantled", "events", "score"])
    att = att.assign(score=att["prob"] * events["weight"].to_numpy()[att["event"].to_numpy()])
    out = att.groupby("org", as_index=False).agg(events=("prob", "sum"), score=("score", "sum"))
    out.insert(1, "name", out["org"].map(lambda o: registry.orgs[o].name))
    out.insert(2, "dismantled", out["org"].map(lambda o: registry.orgs[registry.top(o)].dismantled))
    return out.sort_values("score", ascending=False).reset_index(drop=True)


def resolve_window(
    start: date | None,
    end: date | None,
    rubric: Rubric,
    store: Store | None = None,
    *,
    agency: str | None = None,
    counts: bool = False,
    state: int | None = None,
) -> tuple[date, date]:
    """Fill in a missing end (the agency's last event in the store up to today: an event dated in
    the future, imported with a widened date range, never stretches the window; with ``counts``,
    the last month of homicide counts when there are no events) and start (end minus the rubric
    window)."""
    if end is None:
        if store is None:
            raise VdtoError("no end date", fix="give the last day, e.g. 2023-12-31", param="end")
        end = store.events.last_date(agency, until=date.today(), state=state)
        if end is None and counts:
            end = store.counts.last_day(until=date.today())
        if end is None:
            raise VdtoError("the store has no events", str(store.path), "import event data first")
    if start is None:
        start = end - timedelta(days=rubric.time.window_days - 1)
    if start > end:
        raise VdtoError(
            f"the window starts ({start}) after it ends ({end})", fix="swap the dates", param="window"
        )
    return start, end


def score(
    store: Store,
    start: date | None = None,
    end: date | None = None,
    *,
    rubric: Rubric | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    sources: list[str] | None = None,
    agency: str | None = None,
    progress: Callable[[int], None] | None = None,
    dismantled: frozenset[str] = frozenset(),
    state: int | None = None,
    duplicates: DuplicateRules | None = None,
    dedupe: bool = True,
) -> ScoreResult:
    """Score every organization of one agency's data over ``[start, end]`` (see :func:`score_frames`).

    ``agency`` is the agency; it may be left out when the store holds one agency's data.
    ``state`` scores the store as it was after that import (default: as it is now); the result's
    meta records the state it used (``store_state``), so any score can be recomputed later.

    When the window holds events of two or more sources, the same incident reported by two of
    them counts once in expectation: :func:`vdto.events.duplicates.find_duplicates` matches them
    under ``duplicates`` (default: the bundled rules; ``rules.reversed()`` to check the other
    copy's effect) and each event is weighted by its survival (see :func:`score_frames`); the
    meta then records the rules' SHA-256, the matched pairs and the expected number of events
    removed. ``dedupe=False`` counts every event. A single-source window is scored as it is.
    """
    rubric = rubric or Rubric.default()
    if draws < 1:
        raise VdtoError(f"draws must be at least 1 (got {draws})", fix="use e.g. 2000", param="draws")
    agency = store.resolve_agency(agency)
    now = store.events.state()
    if state is not None and not 0 <= state <= now:
        raise VdtoError(
            f"there is no store state {state} (the store has imports 1 to {now})",
            fix="pick an import id from `vdto imports`",
            param="state",
        )
    start, end = resolve_window(start, end, rubric, store, agency=agency, state=state)
    events, perps = store.events.window(start, end, agency=agency, sources=sources, state=state)
    found = None
    if dedupe and events["source"].nunique() > 1:
        found = find_duplicates(events, perps, duplicates)
    result = score_frames(
        events,
        perps,
        store.registry(),
        start=start,
        end=end,
        rubric=rubric,
        draws=draws,
        seed=seed,
        progress=progress,
        dismantled=dismantled,
        survival=None if found is None else found.survival,
    )
    if found is not None:
        result.meta.update(found.meta)
    result.meta["agency"] = agency
    result.meta["store_state"] = now if state is None else state
    return result
