"""The public scorecard: what is published, with nothing sensitive in it, and how to recompute it.

A scorecard is a JSON-ready dict built from a :class:`~vdto.scoring.ScoreResult`: the ranked
table with intervals, P(rank 1) and margins, the target decision and its reasons, the rule, a
per-state breakdown with small counts suppressed, and trends. Its *aggregates* are the scored
events grouped into classes of identical scoring attributes, without source names, notes,
coordinates, municipalities or event ids, so that anyone can recompute every published
expected score from them and the published rubric (:func:`recompute`).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from vdto.render.jsonout import records
from vdto.schema import VICTIM_COLUMNS
from vdto.scoring.decision import TargetDecision, decide, ranking_with_margins
from vdto.scoring.engine import ScoreResult
from vdto.scoring.points import event_weights
from vdto.scoring.rubric import Rubric

#: The columns of the published aggregates (nothing that identifies a source or an event).
AGGREGATE_COLUMNS: tuple[str, ...] = (
    "org", "category", "date_start", "date_end", "deaths_best", *VICTIM_COLUMNS, "torture_display",
    "reliability", "events", "probability_sum",
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


def public_aggregates(result: ScoreResult) -> pd.DataFrame:
    """The scored events in classes of identical scoring attributes, per organization.

    ``probability_sum`` adds the attribution probabilities of the events in the class, so an
    organization's expected score is the sum over its classes of
    ``probability_sum x points x decay x reliability``.
    """
    att = result.attribution
    cols = [
        "category",
        "date_start",
        "date_end",
        "deaths_best",
        *VICTIM_COLUMNS,
        "torture_display",
        "reliability",
    ]
    ev = result.events.iloc[att["event"].to_numpy()][cols].reset_index(drop=True)
    ev["date_start"] = pd.to_datetime(ev["date_start"]).dt.strftime("%Y-%m-%d")
    ev["date_end"] = pd.to_datetime(ev["date_end"]).dt.strftime("%Y-%m-%d")
    ev.insert(0, "org", att["org"].to_numpy())
    ev["events"] = 1
    ev["probability_sum"] = att["prob"].to_numpy()
    keys = ["org", *cols]
    out = ev.groupby(keys, as_index=False, dropna=False).agg(
        events=("events", "sum"), probability_sum=("probability_sum", "sum")
    )
    return out[list(AGGREGATE_COLUMNS)].sort_values(keys, kind="stable").reset_index(drop=True)


def recompute(aggregates: pd.DataFrame, rubric: Rubric, end: date) -> pd.DataFrame:
    """Expected score per organization from published aggregates and a rubric.

    Examples
    --------
    >>> import pandas as pd
    >>> from datetime import date
    >>> from vdto.scoring import Rubric
    >>> agg = pd.DataFrame({"org": ["cjng"], "category": ["homicide"], "date_start": ["2020-12-31"],
    ...     "date_end": ["2020-12-31"], "deaths_best": [1], "victims_civilian": [1], "torture_display": [False],
    ...     "reliability": [1.0], "events": [3], "probability_sum": [2.5]})
    >>> recompute(agg, Rubric.default(), date(2020, 12, 31)).to_dict("records")
    [{'org': 'cjng', 'score': 5.0}]
    """
    frame = aggregates.copy()
    for col in VICTIM_COLUMNS:
        if col not in frame:
            frame[col] = 0
    frame["torture_display"] = frame["torture_display"].astype(str).str.lower().isin(["true", "1"])
    w = event_weights(frame, rubric, end) * frame["probability_sum"].to_numpy(dtype=float)
    out = pd.DataFrame({"org": frame["org"], "score": w}).groupby("org", as_index=False)["score"].sum()
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


def yearly_trend(
    store,
    orgs: list[str],
    end_year: int,
    years: int = 8,
    *,
    rubric: Rubric | None = None,
    sources=None,
    agency: str | None = None,
) -> pd.DataFrame:
    """Expected score of each of ``orgs`` in each of the last ``years`` calendar years."""
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
        )
        got = dict(zip(res.table["org"], res.table["score"], strict=True))
        rows += [{"org": o, "year": year, "score": float(got.get(o, 0.0))} for o in orgs]
    return pd.DataFrame(rows, columns=["org", "year", "score"])
