"""Scoring and ranking as every shell asks for it.

One rule lives here: organizations that earlier rounds dismantled are listed apart and not
ranked, whichever shell asks (the CLI's ``vdto score``/``vdto rank``, the API's agency score, the
report, the enforcement package). :func:`score_window` is the one way the shells score a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from vdto.scoring import ScoreResult, TargetDecision, decide, robustness, score
from vdto.scoring import what_if as what_if_ranks
from vdto.scoring.decision import ranking_with_margins
from vdto.store import Store


def score_window(
    store: Store, start: date | None = None, end: date | None = None, **options: Any
) -> ScoreResult:
    """Score one agency's organizations over a window, the organizations dismantled by earlier
    rounds listed apart. ``options`` are :func:`vdto.scoring.score`'s (rubric, draws, seed,
    sources, agency, progress).

    Examples
    --------
    >>> from vdto.store import Store
    >>> import tempfile, pathlib
    >>> with Store(pathlib.Path(tempfile.mkdtemp()) / "x.duckdb") as store:
    ...     score_window(store, date(2020, 1, 1), date(2020, 12, 31), draws=10).table.empty
    True
    """
    return score(store, start, end, dismantled=store.rounds.dismantled_before(), **options)


@dataclass
class Ranking:
    """A scored window with what enforcement needs to know of it."""

    result: ScoreResult
    decision: TargetDecision
    table: pd.DataFrame  # the ranking with margins
    events_to_change_top: int
    weight_moved: float
    moved_events: pd.DataFrame
    what_if: pd.DataFrame | None = None
    what_if_org: str | None = None
    what_if_cut: float | None = None
    extra: dict = field(default_factory=dict)


def rank_window(
    store: Store,
    start: date | None = None,
    end: date | None = None,
    *,
    what_if: tuple[str, float] | None = None,
    **options: Any,
) -> Ranking:
    """Score a window (:func:`score_window`), apply the target rule, and add margins, the
    manipulation risk and, with ``what_if=(org, cut)``, the ranks if that organization cut its
    violence by the share ``cut``. ``org`` may be any name of the organization."""
    result = score_window(store, start, end, **options)
    n, moved, events = robustness(result)
    ranking = Ranking(result, decide(result), ranking_with_margins(result), n, moved, events)
    if what_if is not None:
        org, cut = what_if
        org_id = org if org in set(result.table["org"]) else store.registry().require(org)
        ranking.what_if = what_if_ranks(result, org_id, cut)
        ranking.what_if_org, ranking.what_if_cut = org_id, cut
    return ranking
