"""Comparing two agencies' rankings: agreement, and the events behind each disagreement.

Both rankings are scored with the same seed, so the Monte Carlo draws for an event present in
both agencies' data are identical (common random numbers): what differs between the two
rankings is the data and the rubric, not noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from vdto.scoring.engine import DEFAULT_DRAWS, DEFAULT_SEED, ScoreResult, score
from vdto.scoring.rubric import Rubric
from vdto.store import Store


@dataclass
class Comparison:
    """Two agencies' rankings of the same window, side by side."""

    a: str
    b: str
    tau: float  # Kendall's tau-b between the expected scores (missing organizations score 0)
    p_value: float
    top1_agree: bool
    targets: tuple[str | None, str | None]
    table: pd.DataFrame  # org, rank/score/p_rank1 in a and b
    drivers: pd.DataFrame  # org, source, source_id, contribution in a and b, why
    results: tuple[ScoreResult, ScoreResult]


@dataclass(frozen=True)
class Agreement:
    """How far two rankings agree: Kendall's tau-b over the expected scores (an organization
    missing on one side scores 0 there), its p-value, and each side's top organization."""

    tau: float  # NaN when it is undefined (a side whose scores are all equal)
    p_value: float
    top: tuple[str | None, str | None]

    @property
    def top1_agree(self) -> bool:
        """Whether both rankings put the same organization first (two empty rankings agree)."""
        return self.top[0] == self.top[1]


def ranking_agreement(a: Iterable[Mapping[str, Any]], b: Iterable[Mapping[str, Any]]) -> Agreement:
    """The agreement of two rankings, each rows with ``org`` and ``score``, best first.

    Kendall's tau-b is taken over every organization of either ranking, one missing on one side
    scoring 0 there; with fewer than two organizations it is 1 (p-value 0). The top organization
    of a ranking is its first row.

    Examples
    --------
    >>> r = ranking_agreement([{"org": "x", "score": 3}, {"org": "y", "score": 2}, {"org": "z", "score": 1}],
    ...                       [{"org": "x", "score": 5}, {"org": "z", "score": 4}, {"org": "y", "score": 1}])
    >>> round(r.tau, 3), r.top1_agree
    (0.333, True)
    >>> ranking_agreement([{"org": "x", "score": 1}], []).top
    ('x', None)
    """
    rows_a, rows_b = list(a), list(b)
    score_a = _scores(rows_a)
    score_b = _scores(rows_b)
    orgs = list(dict.fromkeys([*score_a, *score_b]))
    if len(orgs) > 1:
        tau, p = kendalltau([score_a.get(o, 0.0) for o in orgs], [score_b.get(o, 0.0) for o in orgs])
        tau, p = float(tau), float(p)
    else:
        tau, p = 1.0, 0.0
    top = (_first(rows_a), _first(rows_b))
    return Agreement(tau, p, top)


def _scores(rows: list[Mapping[str, Any]]) -> dict[str, float]:
    """Each organization's score (the first row of an organization counts; a missing score is 0)."""
    out: dict[str, float] = {}
    for row in rows:
        org = row.get("org")
        if org is None or org in out:
            continue
        value = row.get("score")
        out[str(org)] = float(value) if value is not None and math.isfinite(float(value)) else 0.0
    return out


def _first(rows: list[Mapping[str, Any]]) -> str | None:
    return str(rows[0]["org"]) if rows and rows[0].get("org") is not None else None


def contributions(result: ScoreResult) -> pd.DataFrame:
    """Each (organization, event) share of score: probability x event weight."""
    att = result.attribution
    ev = result.events.iloc[att["event"].to_numpy()]
    return pd.DataFrame(
        {
            "org": att["org"].to_numpy(),
            "source": ev["source"].to_numpy(),
            "source_id": ev["source_id"].to_numpy(),
            "probability": att["prob"].to_numpy(),
            "weight": ev["weight"].to_numpy(),
            "contribution": att["prob"].to_numpy() * ev["weight"].to_numpy(),
        }
    )


def compare_results(
    ra: ScoreResult, rb: ScoreResult, a: str = "a", b: str = "b", top_events: int = 5
) -> Comparison:
    """Compare two scored rankings (see :func:`compare`)."""
    from vdto.scoring.decision import decide

    cols = ["org", "name", "rank", "score", "p_rank1"]
    table = pd.merge(
        ra.table[cols], rb.table[cols], on=["org", "name"], how="outer", suffixes=(f"_{a}", f"_{b}")
    )
    for side in (a, b):
        table[f"score_{side}"] = table[f"score_{side}"].fillna(0.0)
        table[f"p_rank1_{side}"] = table[f"p_rank1_{side}"].fillna(0.0)
    table = table.sort_values([f"score_{a}", "org"], ascending=[False, True]).reset_index(drop=True)
    agree = ranking_agreement(
        ra.table[["org", "score"]].to_dict("records"), rb.table[["org", "score"]].to_dict("records")
    )
    differ = table[
        (table[f"rank_{a}"] != table[f"rank_{b}"]) | table[f"rank_{a}"].isna() | table[f"rank_{b}"].isna()
    ]
    ca, cb = contributions(ra), contributions(rb)
    both = pd.merge(ca, cb, on=["org", "source", "source_id"], how="outer", suffixes=(f"_{a}", f"_{b}"))
    for c in ("contribution", "probability", "weight"):
        for side in (a, b):
            both[f"{c}_{side}"] = both[f"{c}_{side}"].fillna(0.0)
    both["difference"] = both[f"contribution_{a}"] - both[f"contribution_{b}"]
    why = np.select(
        [
            both[f"weight_{b}"] == 0,
            both[f"weight_{a}"] == 0,
            ~np.isclose(both[f"probability_{a}"], both[f"probability_{b}"]),
        ],
        [f"only in {a}'s data", f"only in {b}'s data", "attributed differently"],
        default="weighted differently (rubric)",
    )
    both["why"] = why
    drivers = both[both["org"].isin(differ["org"]) & (both["difference"].abs() > 1e-12)]
    drivers = drivers.reindex(drivers["difference"].abs().sort_values(ascending=False).index)
    drivers = drivers.groupby("org", sort=False).head(top_events)
    keep = ["org", "source", "source_id", f"contribution_{a}", f"contribution_{b}", "difference", "why"]
    targets = (decide(ra).target, decide(rb).target)
    return Comparison(
        a, b, agree.tau, agree.p_value, agree.top1_agree, targets, table, drivers[keep].reset_index(drop=True),
        (ra, rb),
    )  # fmt: skip


def compare(
    store: Store,
    a: str,
    b: str,
    start: date,
    end: date,
    *,
    rubrics: dict[str, Rubric] | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    top_events: int = 5,
) -> Comparison:
    """Score agencies ``a`` and ``b`` over the same window (each with its own rubric) and compare.

    Reports Kendall's tau between the two rankings' expected scores, whether they agree on the
    top organization and on the target, and, for every organization ranked differently, the
    events whose contributions differ most, with why (only in one agency's data, attributed
    differently, or weighted differently by the rubric).
    """
    rubrics = rubrics or {}
    ra = score(store, start, end, rubric=rubrics.get(a), draws=draws, seed=seed, agency=a)
    rb = score(store, start, end, rubric=rubrics.get(b), draws=draws, seed=seed, agency=b)
    return compare_results(ra, rb, a, b, top_events)


#: The columns of the caller's own events behind a disagreement (:func:`disagreements`).
OWN_EVENT_COLUMNS: tuple[str, ...] = (
    "org", "source", "source_id", "date_start", "state_code", "category", "deaths_best", "probability", "weight",
    "contribution",
)  # fmt: skip

#: The columns of a disagreement (:func:`disagreements`). Of the other agency, only what its own
#: ranking shows: rank, expected score, P(rank 1) and expected events, withheld when small. No
#: column counts events by whether the other agency also holds them: any such count (events in
#: one agency's data only, in both but attributed or weighted differently) is a fact about the
#: overlap of the two agencies' raw data, and with the caller's own data chosen to probe it, a
#: fact about one event of the other agency.
DISAGREEMENT_COLUMNS: tuple[str, ...] = (
    "org", "name", "rank_own", "rank_other", "score_own", "score_other", "p_rank1_own", "p_rank1_other",
    "events_own", "events_other",
)  # fmt: skip


def disagreements(
    own: ScoreResult, other: ScoreResult, *, own_events: int = 10, min_count: int = 3
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Where two agencies' rankings of a window disagree, seen from one of them (``own``).

    An organization is a disagreement when the two rankings give it different ranks, or only one
    ranks it (the different top organizations are among them). Nothing of ``other`` comes out but
    what its ranking shows, each organization apart: its rank, expected score, P(rank 1) and
    expected number of events, with the small ones withheld as the public scorecard withholds
    them (:func:`vdto.publication.scorecard.build_scorecard`: an organization's expected events
    below ``min_count`` are not shown); and here its score and P(rank 1) are withheld with them.
    Nothing is computed from both agencies' events together: no count says how many of the
    caller's events the other also holds, or how many they attribute or weigh differently.

    Parameters
    ----------
    own
        The caller's scored window.
    other
        The other agency's scoring of the same window.
    own_events
        How many of the caller's own events to give per disagreement (heaviest first).
    min_count
        An organization the other agency ranks with fewer expected events than this has its
        other-side score, P(rank 1) and events withheld (null).

    Returns
    -------
    tuple of DataFrame
        The disagreements (:data:`DISAGREEMENT_COLUMNS`), in the caller's order (best ranked
        first, then the organizations only the other ranks, by their score there): ``org``,
        ``name``, ``rank_own``, ``rank_other`` (null where not ranked), ``score_own``,
        ``score_other`` (0 where not ranked; null where withheld), ``p_rank1_own``,
        ``p_rank1_other`` (likewise), ``events_own`` (the expected number of the caller's
        events) and ``events_other`` (the other's, 0 where not ranked, null where withheld).
        Then the caller's own events behind each disagreement (:data:`OWN_EVENT_COLUMNS`): its
        events attributed to the organization, heaviest contribution (probability x weight,
        score points) first, at most ``own_events`` per organization. Whether the other agency
        holds any of them is not said.
    """
    cols = ["org", "name", "rank", "score", "p_rank1", "events"]
    table = pd.merge(own.table[cols], other.table[cols], on="org", how="outer", suffixes=("_own", "_other"))
    table["name"] = table["name_own"].fillna(table["name_other"])
    ranked_other = table["rank_other"].notna()
    # the public scorecard's rule: an organization's expected events below min_count are withheld
    small = ranked_other & ~(table["events_other"].fillna(0.0) >= min_count)
    for c in ("score", "p_rank1", "events"):
        for side in ("own", "other"):
            table[f"{c}_{side}"] = table[f"{c}_{side}"].fillna(0.0).astype(float)
    differ = table[
        (table["rank_own"] != table["rank_other"]) | table["rank_own"].isna() | table["rank_other"].isna()
    ]
    small = small.loc[differ.index]
    differ = differ.assign(_small=small).sort_values(
        ["rank_own", "score_other", "org"], ascending=[True, False, True], na_position="last"
    )
    withheld = differ.pop("_small").to_numpy(dtype=bool)
    out = differ[list(DISAGREEMENT_COLUMNS)].copy().reset_index(drop=True)
    for rank in ("rank_own", "rank_other"):
        out[rank] = out[rank].astype("Int64")
    for c in ("score_other", "p_rank1_other", "events_other"):
        out[c] = pd.Series(
            [None if hide else float(v) for hide, v in zip(withheld, out[c].to_numpy(), strict=True)],
            index=out.index,
            dtype=object,
        )
    ev = own.events.iloc[own.attribution["event"].to_numpy()].reset_index(drop=True)
    detail = pd.DataFrame(
        {
            "org": own.attribution["org"].to_numpy(),
            "source": ev["source"].to_numpy(),
            "source_id": ev["source_id"].astype(str).to_numpy(),
            "date_start": pd.to_datetime(ev["date_start"]).dt.strftime("%Y-%m-%d").to_numpy(),
            "state_code": ev["state_code"].to_numpy() if "state_code" in ev else None,
            "category": ev["category"].to_numpy(),
            "deaths_best": ev["deaths_best"].to_numpy(),
            "probability": own.attribution["prob"].to_numpy(dtype=float),
            "weight": ev["weight"].to_numpy(dtype=float),
        }
    )
    detail["contribution"] = detail["probability"] * detail["weight"]
    detail = detail[detail["org"].isin(out["org"])]
    detail = detail.sort_values(
        ["org", "contribution", "source", "source_id"], ascending=[True, False, True, True]
    )
    detail = detail.groupby("org", sort=False).head(own_events)
    order = {o: i for i, o in enumerate(out["org"])}
    detail = detail.sort_values(
        ["org", "contribution"], key=lambda s: s.map(order) if s.name == "org" else -s, kind="stable"
    )
    return out.reset_index(drop=True), detail[list(OWN_EVENT_COLUMNS)].reset_index(drop=True)
