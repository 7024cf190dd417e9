"""Two agencies' rankings of one window side by side, as one of the two agencies may see them.

The server holds every agency's data, so :func:`compare_agencies` scores both agencies' events
over the same window, with the same rubric, draws and seed (common random numbers: the
difference between the rankings is the data, not Monte Carlo noise), each with the rule of
:func:`vdto.services.scoring.score_window` (organizations dismantled by earlier rounds listed
apart). Nothing adds the two agencies' events together.

What the caller gets of the other agency is what a round of the two would show it and no more
(an analyst may open a round with any agency over any window, and the round's evidence is the
agencies' scorecards): the other's ranking (rank, organization, expected score, 90% interval,
P(rank 1), expected events with small counts withheld) and its target decision, as aggregates.
Of the raw events, the caller gets its own only: for each disagreement, the caller's events
behind its side of it, and counts (small ones withheld) of how the other's data differ. No event
id, date or place of the other agency's data is in the answer, and which of the caller's events
the other holds is never said event by event. Kendall's tau and the top-1 agreement are
:func:`vdto.publication.agreement.ranking_agreement` over the two published rankings, as a
round's scorecard computes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from vdto.errors import UnknownNameError, VdtoError
from vdto.publication.agreement import disagreements, ranking_agreement
from vdto.publication.scorecard import ROUND_DECISION_FIELDS, ROUND_RANKING_COLUMNS, build_scorecard
from vdto.render.jsonout import plain, records
from vdto.scoring.decision import decide, decision_facts
from vdto.scoring.engine import DEFAULT_DRAWS, DEFAULT_SEED, resolve_window
from vdto.scoring.rubric import Rubric
from vdto.services.scoring import score_window
from vdto.store import Store

#: The columns of the other agency's ranking the caller sees (a round's ranking, and the
#: expected number of events with small counts withheld).
OTHER_RANKING_COLUMNS: tuple[str, ...] = (*ROUND_RANKING_COLUMNS, "events")


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@dataclass
class AgencyComparison:
    """Two agencies' rankings of one window, as the first (``agency``) may see them.

    ``own`` is the caller's scorecard ranking (with margins) and its decision as facts
    (:func:`vdto.scoring.decision.decision_facts`); ``other`` the other agency's ranking
    (:data:`OTHER_RANKING_COLUMNS`) and decision (the fields of a round's decision);
    ``agreement`` Kendall's tau-b (null when undefined), its p-value, each side's top
    organization and whether they agree; ``disagreements`` one row per organization ranked
    differently (:func:`vdto.publication.agreement.disagreements`), each with the caller's own
    ``events`` behind it.
    """

    agency: str
    other: str
    start: date
    end: date
    meta: dict[str, Any]
    own: dict[str, Any]
    theirs: dict[str, Any]
    agreement: dict[str, Any]
    disagreements: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``agency``, ``with``, ``window`` ([from, to]), ``meta``, ``own``, ``other``,
        ``agreement``, ``disagreements``."""
        return {
            "agency": self.agency,
            "with": self.other,
            "window": [self.start.isoformat(), self.end.isoformat()],
            "meta": self.meta,
            "own": self.own,
            "other": self.theirs,
            "agreement": self.agreement,
            "disagreements": self.disagreements,
        }


def compare_agencies(
    store: Store,
    agency: str,
    other: str,
    start: date | None = None,
    end: date | None = None,
    *,
    rubric: Rubric | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    min_count: int = 3,
    own_events: int = 10,
) -> AgencyComparison:
    """Score ``agency`` and ``other`` over the same window and compare, for ``agency``'s eyes.

    Parameters
    ----------
    store
        The store holding both agencies' data.
    agency
        The caller's agency (whose own events the answer may show).
    other
        The agency to compare with (only aggregates of its data are given).
    start, end
        The window; a missing end is ``agency``'s last event, a missing start the end minus the
        rubric's window.
    rubric
        The rubric both rankings use (default: the shipped one).
    draws, seed
        The Monte Carlo draws and their seed, the same for both.
    min_count
        Counts of events below this that involve the other agency's data are withheld.
    own_events
        How many of the caller's own events to list per disagreement (heaviest first).

    Returns
    -------
    AgencyComparison
        Both rankings, their agreement and the disagreements.

    Raises
    ------
    VdtoError
        ``with`` names the caller's own agency.
    UnknownNameError
        ``agency`` or ``with`` has no data in the store.
    """
    if other == agency:
        raise VdtoError(
            f"agency {agency!r} is compared with itself",
            fix="name another agency to compare with",
            param="with",
        )
    have = set(store.agencies())
    for name, param in ((agency, "agency"), (other, "with")):
        if name not in have:
            raise UnknownNameError(
                f"agency {name!r} has no data in the store",
                fix="pick one of: " + (", ".join(sorted(have)) or "(none yet: import data first)"),
                param=param,
            )
    rubric = rubric or Rubric.default()
    start, end = resolve_window(start, end, rubric, store, agency=agency)
    options: dict[str, Any] = {"rubric": rubric, "draws": draws, "seed": seed}
    mine = score_window(store, start, end, agency=agency, **options)
    theirs = score_window(store, start, end, agency=other, **options)
    card_own = build_scorecard(mine, min_count=min_count)
    card_other = build_scorecard(theirs, min_count=min_count)
    found = ranking_agreement(card_own["ranking"], card_other["ranking"])
    rows, events = disagreements(mine, theirs, own_events=own_events, min_count=min_count)
    listed = records(events, digits=6)
    per_org: dict[str, list[dict[str, Any]]] = {}
    for row in listed:
        per_org.setdefault(str(row.pop("org")), []).append(row)
    other_decision = decide(theirs).as_dict()
    return AgencyComparison(
        agency=agency,
        other=other,
        start=start,
        end=end,
        meta={
            "rubric": rubric.name,
            "rubric_sha256": rubric.sha256(),
            "draws": draws,
            "seed": seed,
            "min_count": min_count,
            "data_sha256": mine.meta.get("data_sha256"),
        },
        own={"agency": agency, "ranking": card_own["ranking"], "decision": decision_facts(mine)},
        theirs={
            "agency": other,
            "ranking": [{c: row.get(c) for c in OTHER_RANKING_COLUMNS} for row in card_other["ranking"]],
            "decision": {f: plain(other_decision.get(f), 6) for f in ROUND_DECISION_FIELDS},
        },
        agreement={
            "agencies": [agency, other],
            "tau": _finite(found.tau),
            "p_value": _finite(found.p_value),
            "top": list(found.top),
            "top1_agree": found.top1_agree,
        },
        disagreements=[
            {**row, "events": per_org.get(str(row["org"]), [])} for row in records(rows, digits=6)
        ],
    )


__all__ = ["OTHER_RANKING_COLUMNS", "AgencyComparison", "compare_agencies"]
