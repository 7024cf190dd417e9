"""Publishing the public scorecard: score, build the card, sign it into the ledger, write the site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from vdto.errors import VdtoError
from vdto.publication.keys import load_trusted
from vdto.publication.ledger import Ledger
from vdto.publication.rounds import get_round
from vdto.publication.scorecard import build_scorecard, public_aggregates, yearly_trend
from vdto.publication.site import write_site
from vdto.scoring import Rubric, ScoreResult, load_rubric, score
from vdto.scoring.engine import DEFAULT_DRAWS, DEFAULT_SEED
from vdto.store import Store

#: Years of trend the scorecard shows for its leading organizations.
TREND_YEARS = 8


@dataclass
class Scorecard:
    """A scorecard ready to publish: the card, its public aggregates and the scores behind them."""

    card: dict
    aggregates: pd.DataFrame
    result: ScoreResult


def build_public_scorecard(
    store: Store,
    *,
    round_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    agency: str | None = None,
    rubric: str | Path | None = None,
    min_count: int = 3,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> Scorecard:
    """The public scorecard of a round (its window, its lead agency or ``agency``, the rubric the
    round's evidence used unless ``rubric`` is given, organizations dismantled before it listed
    apart) or of a window ``[start, end]``."""
    if min_count < 1:
        raise VdtoError(
            f"min_count must be at least 1 (got {min_count})", fix="use e.g. 3", param="min_count"
        )
    extra = {}
    if round_id is not None:
        rnd = get_round(store, round_id)
        start, end, agency = rnd.window_from, rnd.window_to, agency or rnd.lead
        if agency not in rnd.evidence:
            raise VdtoError(
                f"agency {agency!r} did not take part in round {round_id}",
                fix=f"use one of: {', '.join(rnd.agencies)}",
                param="agency",
            )
        rub = load_rubric(rubric) if rubric else Rubric.model_validate(rnd.evidence[agency]["rubric"])
        extra["round"] = {
            "id": rnd.round_id,
            "status": rnd.status,
            "target": rnd.target,
            "agencies": list(rnd.agencies),
        }
    else:
        rub = load_rubric(rubric)
    gone = store.rounds.dismantled_before(round_id) if round_id is not None else frozenset()
    res = score(store, start, end, rubric=rub, draws=draws, seed=seed, agency=agency, dismantled=gone)
    end_year = int(str(res.meta["to"])[:4])
    orgs = list(res.table["org"][:6])
    trend = yearly_trend(store, orgs, end_year, TREND_YEARS, rubric=rub, agency=res.meta["agency"])
    card = build_scorecard(res, trend=trend, min_count=min_count, extra=extra or None)
    return Scorecard(card, public_aggregates(res, min_count), res)


def publish_scorecard(
    store: Store,
    out_dir: str | Path,
    *,
    ledger: str | Path | None = None,
    signers: list | None = None,
    keys_dir: str | Path | None = None,
    **options,
) -> list[Path]:
    """Build the scorecard (:func:`build_public_scorecard`), sign it into ``ledger`` when
    ``signers`` are given, and write the static site to ``out_dir``; returns the files written."""
    sc = build_public_scorecard(store, **options)
    if ledger is not None and signers:
        Ledger(ledger).append("scorecard", sc.card, signers)
    public = load_trusted([keys_dir]) if keys_dir else None
    return write_site(out_dir, sc.card, sc.aggregates, ledger_path=ledger, public_keys=public)
