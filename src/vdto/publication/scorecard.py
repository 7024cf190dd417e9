"""The public scorecard: what is published, with nothing sensitive in it, and how to recompute it.

A scorecard is a JSON-ready dict built from a :class:`~vdto.scoring.ScoreResult`: the ranked
table with intervals, P(rank 1) and margins, the target decision and its reasons, the rule, a
per-state breakdown with small counts suppressed, and trends. Its *aggregates* are the scored
events grouped into classes of identical scoring attributes, without source names, notes,
coordinates, municipalities or event ids, so that anyone can recompute every published
expected score from them and the published rubric (:func:`recompute`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vdto.publication.agreement import ranking_agreement
from vdto.render.jsonout import plain, records
from vdto.schema import VICTIM_COLUMNS
from vdto.scoring.decision import TargetDecision, decide, ranking_with_margins
from vdto.scoring.engine import ScoreResult
from vdto.scoring.points import decay, event_points, event_weights
from vdto.scoring.rubric import Rubric

if TYPE_CHECKING:
    from vdto.store import Round, Store

#: The columns of the published aggregates (nothing that identifies a source or an event).
AGGREGATE_COLUMNS: tuple[str, ...] = (
    "org", "category", "month", "deaths_best", *VICTIM_COLUMNS, "torture_display",
    "reliability", "events", "probability_sum", "decayed_probability_sum", "score",
)  # fmt: skip

#: The published ranking's columns, in the order of ``scorecard.csv``.
RANKING_COLUMNS: tuple[str, ...] = (
    "rank", "org", "name", "score", "lo90", "hi90", "p_rank1", "rank_lo90", "rank_hi90", "events", "gap",
    "cut_to_lose_first", "rise_to_first",
)  # fmt: skip

#: Input fields that must never appear in a public output.
SENSITIVE_FIELDS: tuple[str, ...] = (
    "source",
    "source_id",
    "notes",
    "latitude",
    "longitude",
    "mun_code",
    "raw_name",
    "faction",
)


def rule_text(rubric: Rubric) -> dict[str, str]:
    """The conditional rule, published before the first round, in Spanish and English."""
    sha = rubric.sha256()
    threshold = rubric.target.threshold
    return {
        "es": (
            f"La organización más violenta, según la rúbrica {rubric.name} (sha256 {sha}), será el siguiente "
            f"objetivo de la aplicación concentrada de la ley en ambos lados de la frontera, siempre que su "
            f"probabilidad de ser la más violenta sea de al menos {threshold:g}. Cuando sea desmantelada, se "
            f"volverá a calificar y se nombrará a la siguiente."
        ),
        "en": (
            f"The most violent organization, scored by rubric {rubric.name} (sha256 {sha}), is the next target "
            f"of concentrated enforcement on both sides of the border, provided its probability of being the "
            f"most violent is at least {threshold:g}. When it is dismantled, organizations are scored again "
            f"and the next one is named."
        ),
    }


def _suppress(values: pd.Series, min_count: int) -> list:
    return [None if (v is None or pd.isna(v) or v < min_count) else round(float(v), 3) for v in values]


def _records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready rows with floats rounded to 6 decimals (the published precision)."""
    return records(frame, digits=6)


def public_aggregates(result: ScoreResult, min_count: int = 3) -> pd.DataFrame:
    """The scored events in classes of identical scoring attributes, per organization and month.

    A class is (organization, category, month, deaths, victims by kind, torture, reliability):
    ``events`` counts its events, ``probability_sum`` adds their attribution probabilities,
    ``decayed_probability_sum`` adds each probability times the event's time decay under the
    scorecard's rubric and window, and ``score`` is the class's part of the organization's
    expected score (``decayed_probability_sum x points x reliability``). No exact day is
    published. Classes of fewer than ``min_count`` events are not published one by one: each
    organization's are merged into one row (category ``"(small classes)"``, attributes empty)
    that gives only their number of events and their part of the score, so that no row is a
    single event.
    """
    att = result.attribution
    cols = ["category", "deaths_best", *VICTIM_COLUMNS, "torture_display", "reliability"]
    src = result.events.iloc[att["event"].to_numpy()].reset_index(drop=True)
    end = date.fromisoformat(str(result.meta["to"])[:10])
    rubric = result.rubric
    prob = att["prob"].to_numpy(dtype=float)
    ev = src[cols].copy()
    ev.insert(0, "org", att["org"].to_numpy())
    ev.insert(2, "month", pd.to_datetime(src["date_start"]).dt.strftime("%Y-%m").to_numpy())
    ev["events"] = 1
    ev["probability_sum"] = prob
    ev["decayed_probability_sum"] = prob * decay(src, end, rubric.time.half_life_days)
    ev["score"] = event_weights(src, rubric, end) * prob
    keys = ["org", "category", "month", *cols[1:]]
    out = ev.groupby(keys, as_index=False, dropna=False).agg(
        events=("events", "sum"), probability_sum=("probability_sum", "sum"),
        decayed_probability_sum=("decayed_probability_sum", "sum"), score=("score", "sum"),
    )  # fmt: skip
    small = out["events"] < min_count
    merged = (
        out[small]
        .groupby("org", as_index=False)
        .agg(events=("events", "sum"), probability_sum=("probability_sum", "sum"), score=("score", "sum"))
    )
    merged["category"] = SMALL_CLASSES
    out = pd.concat([out[~small], merged], ignore_index=True)
    out = out.sort_values(["org", "category", "month"], kind="stable", na_position="last")
    return out[list(AGGREGATE_COLUMNS)].reset_index(drop=True)


#: The category of the row that merges an organization's classes of fewer than ``min_count`` events.
SMALL_CLASSES = "(small classes)"


def recompute(aggregates: pd.DataFrame, rubric: Rubric, end: date) -> pd.DataFrame:
    """Expected score per organization from published aggregates and a rubric.

    Each class's part is recomputed from its attributes (``decayed_probability_sum x points x
    reliability`` under ``rubric``); the merged small classes give their part as published. The
    rubric's time decay was applied, day by day, when the scorecard was made (``end`` and the
    half-life are in its meta): the month of a class lets a reader check it to within a month.

    Examples
    --------
    >>> import pandas as pd
    >>> from datetime import date
    >>> from vdto.scoring import Rubric
    >>> agg = pd.DataFrame({"org": ["cjng", "cjng"], "category": ["homicide", "(small classes)"],
    ...     "month": ["2020-12", None], "deaths_best": [1, None], "victims_civilian": [1, None],
    ...     "torture_display": [False, None], "reliability": [1.0, None], "events": [3, 2],
    ...     "probability_sum": [2.5, 2.0], "decayed_probability_sum": [2.5, None], "score": [5.0, 1.5]})
    >>> recompute(agg, Rubric.default(), date(2020, 12, 31)).to_dict("records")
    [{'org': 'cjng', 'score': 6.5}]
    """
    frame = aggregates.copy()
    for col in VICTIM_COLUMNS:
        if col not in frame:
            frame[col] = 0
    merged = frame["category"].astype(str) == SMALL_CLASSES
    part = np.zeros(len(frame))
    part[merged.to_numpy()] = pd.to_numeric(frame.loc[merged, "score"]).to_numpy(dtype=float)
    detail = frame[~merged].copy()
    if len(detail):
        detail["torture_display"] = detail["torture_display"].astype(str).str.lower().isin(["true", "1"])
        for col in ("deaths_best", *VICTIM_COLUMNS):
            detail[col] = pd.to_numeric(detail[col]).fillna(0)
        w = event_points(detail, rubric) * detail["decayed_probability_sum"].to_numpy(dtype=float)
        if rubric.attribution.weight_by_reliability:
            w = w * detail["reliability"].to_numpy(dtype=float)
        part[(~merged).to_numpy()] = w
    out = pd.DataFrame({"org": frame["org"], "score": part}).groupby("org", as_index=False)["score"].sum()
    return out.sort_values(["score", "org"], ascending=[False, True]).reset_index(drop=True)


def build_scorecard(
    result: ScoreResult,
    *,
    decision: TargetDecision | None = None,
    trend: pd.DataFrame | None = None,
    min_count: int = 3,
    extra: dict | None = None,
) -> dict:
    """The public scorecard of one scoring run (JSON-ready; no sensitive field)."""
    decision = decision or decide(result)
    table = ranking_with_margins(result)
    ranking = table[[c for c in RANKING_COLUMNS if c != "events"]].copy()
    ranking["events"] = _suppress(table["events"], min_count)
    states = result.by_state.copy()
    small = states["events"] < min_count
    states["events"] = _suppress(states["events"], min_count)
    states["score"] = [None if s else round(float(v), 6) for s, v in zip(small, states["score"], strict=True)]
    card = {
        "meta": {**result.meta, "min_count": min_count},
        "rule": rule_text(result.rubric),
        "rubric": result.rubric.model_dump(mode="json"),
        "decision": decision.as_dict(),
        "ranking": _records(ranking),
        "states": _records(states),
        "dismantled": _records(
            result.dismantled.assign(dismantled=result.dismantled["dismantled"].astype(str))
        )
        if len(result.dismantled)
        else [],
        "trend": _records(trend) if trend is not None else [],
    }
    if extra:
        card.update(extra)
    return card


#: The columns of each agency's ranking in a round's block of the scorecard.
ROUND_RANKING_COLUMNS: tuple[str, ...] = ("rank", "org", "name", "score", "lo90", "hi90", "p_rank1")
#: The fields of each agency's decision in a round's block (its reason, English prose, is left out:
#: the page writes the decision in each language from these).
ROUND_DECISION_FIELDS: tuple[str, ...] = ("target", "target_name", "p_rank1", "threshold", "runner_up")


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def round_block(
    rnd: Round, dissents: Iterable[Mapping[str, Any]] = (), announced_by: Iterable[str] | None = None
) -> dict:
    """What the scorecard of a round says about the round (plain JSON, nothing sensitive).

    ``id``, ``status``, ``target``, ``agencies``, ``window`` and ``require_agreement`` as the round
    records them; ``rankings``, per agency of the round in its order, the decision its rule took
    (:data:`ROUND_DECISION_FIELDS`) and its ranking (:data:`ROUND_RANKING_COLUMNS`), from the
    evidence :func:`vdto.publication.rounds.open_round` stored; ``agreement`` between the first two
    agencies (:func:`vdto.publication.agreement.ranking_agreement`: Kendall's tau-b over the
    expected scores, ``tau`` null when undefined, and whether they put the same organization first),
    null for a round of one agency; ``dissents``, each ``agency``, the ``target`` its rule named
    and the recorded ``detail``; and ``announced_by``, the agencies that co-signed the announcement:
    ``announced_by`` when given (the round's history), else, for an announced round, the agencies
    that had to sign it (:attr:`vdto.store.Round.required_signers`), else none.
    """
    per_agency = (rnd.decision or {}).get("per_agency") or {}
    rankings = []
    for agency in rnd.agencies:
        card = rnd.evidence.get(agency) or {}
        decision = per_agency.get(agency) or card.get("decision") or {}
        rows = [
            {c: plain(row.get(c), 6) for c in ROUND_RANKING_COLUMNS}
            for row in card.get("ranking") or []
            if isinstance(row, Mapping)
        ]
        rankings.append(
            {
                "agency": agency,
                **{f: plain(decision.get(f), 6) for f in ROUND_DECISION_FIELDS},
                "ranking": rows,
            }
        )
    agreement = None
    if len(rankings) >= 2:
        first, second = rankings[0], rankings[1]
        found = ranking_agreement(first["ranking"], second["ranking"])
        agreement = {
            "agencies": [first["agency"], second["agency"]],
            "tau": _finite_or_none(round(found.tau, 6)),
            "p_value": _finite_or_none(found.p_value),
            "top": list(found.top),
            "top1_agree": found.top1_agree,
        }
    if announced_by is not None:
        signed = set(announced_by)
        cosigned = [a for a in rnd.agencies if a in signed]
    elif rnd.announced_at is not None or rnd.status == "announced":
        cosigned = list(rnd.required_signers)
    else:
        cosigned = []
    return {
        "id": rnd.round_id,
        "status": rnd.status,
        "target": rnd.target,
        "agencies": list(rnd.agencies),
        "window": [rnd.window_from.isoformat(), rnd.window_to.isoformat()],
        "require_agreement": bool(rnd.require_agreement),
        "rankings": rankings,
        "agreement": agreement,
        "dissents": [
            {
                "agency": str(d.get("agency")),
                "target": plain((per_agency.get(str(d.get("agency"))) or {}).get("target")),
                "detail": str(d.get("detail") or ""),
            }
            for d in dissents
        ],
        "announced_by": cosigned,
    }


def public_round(store: Store, rnd: Round) -> dict:
    """:func:`round_block` of a stored round, with its dissents and the co-signers of its
    announcement as the store records them."""
    dissents = store.rounds.dissents(rnd.round_id)
    return round_block(
        rnd,
        dissents[["agency", "detail"]].to_dict("records"),
        store.rounds.announcement_signers(rnd.round_id),
    )


def yearly_trend(
    store,
    orgs: list[str],
    end_year: int,
    years: int = 8,
    *,
    rubric: Rubric | None = None,
    sources=None,
    agency: str | None = None,
    state: int | None = None,
) -> pd.DataFrame:
    """Expected score of each of ``orgs`` in each of the last ``years`` calendar years (of the
    store as it was after import ``state`` when given)."""
    from vdto.scoring.engine import score

    rows = []
    for year in range(end_year - years + 1, end_year + 1):
        res = score(
            store,
            date(year, 1, 1),
            date(year, 12, 31),
            rubric=rubric,
            draws=1,
            seed=0,
            sources=sources,
            agency=agency,
            state=state,
        )
        got = dict(zip(res.table["org"], res.table["score"], strict=True))
        rows += [{"org": o, "year": year, "score": float(got.get(o, 0.0))} for o in orgs]
    return pd.DataFrame(rows, columns=["org", "year", "score"])
