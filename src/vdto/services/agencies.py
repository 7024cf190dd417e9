"""Two agencies' rankings of one window side by side, as one of the two agencies may see them.

The server holds every agency's data, so :func:`compare_agencies` scores both agencies' events
over the same window, with the same rubric, draws and seed (common random numbers: the
difference between the rankings is the data, not Monte Carlo noise), each with the rule of
:func:`vdto.services.scoring.score_window` (organizations dismantled by earlier rounds listed
apart). Nothing adds the two agencies' events together.

What the caller sees of the other agency, and nothing else:

- its ranking (:data:`OTHER_RANKING_COLUMNS`): rank, organization, expected score, 90% interval,
  P(rank 1) and expected number of events, with the public scorecard's rule for small counts
  (:func:`vdto.publication.scorecard.build_scorecard`: expected events below ``min_count``
  withheld); for such an organization its score, interval and P(rank 1) are withheld too (null);
- its target decision (:data:`vdto.publication.scorecard.ROUND_DECISION_FIELDS`), its P(rank 1)
  withheld when the organization it belongs to is withheld;
- Kendall's tau-b and the top-1 agreement of the two rankings
  (:func:`vdto.publication.agreement.ranking_agreement`, as a round's scorecard computes them);
- per disagreement, the other's rank, and its score, P(rank 1) and expected events under the
  same rule (:func:`vdto.publication.agreement.disagreements`).

Of raw events, the caller gets its own only: the events behind each disagreement. Why this
cannot single out an event of the other agency: every figure of the other side is an aggregate
of that agency's own data over a window of at least :data:`MIN_WINDOW_DAYS` days, an
organization's figures are withheld when it holds fewer than ``min_count`` expected events there,
and no figure is computed from both agencies' events together (no count of the caller's events
the other also holds, or attributes or weighs differently; those overlap counts are what would
let a caller import a made-up event and read whether the other agency holds it). The other
side's figures are computed from the other agency's events alone, so nothing the caller imports
moves them. No event id, date or place of the other agency's data is in the answer.
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

#: The other agency's figures withheld (null) for an organization whose expected events the
#: public scorecard withholds (fewer than ``min_count``).
WITHHELD_WHEN_SMALL: tuple[str, ...] = ("score", "lo90", "hi90", "p_rank1")

MIN_WINDOW_DAYS = 90
"""The shortest window (in days, both ends included) two agencies may be compared over.

A short window singles out events: over a day or a week, an organization's figures in the other
agency's ranking can rest on one or two of its events, and a caller who imports made-up events
into that window can probe them. The rubric's own window (365 days for ``default-v1``) would be
the natural minimum, but it would rule out comparing recent months; a quarter is the shortest
window allowed, and within it an organization's figures are shown only when the other agency
holds at least ``min_count`` expected events of it.
"""


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _withhold(row: dict[str, Any]) -> dict[str, Any]:
    """A row of the other agency's scorecard ranking as the caller sees it: its
    :data:`OTHER_RANKING_COLUMNS`, and :data:`WITHHELD_WHEN_SMALL` null where the scorecard
    withheld the organization's expected events (``events`` null: fewer than ``min_count``)."""
    out = {c: row.get(c) for c in OTHER_RANKING_COLUMNS}
    if out["events"] is None:
        out.update(dict.fromkeys(WITHHELD_WHEN_SMALL))
    return out


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
        rubric's window. It must span at least :data:`MIN_WINDOW_DAYS` days.
    rubric
        The rubric both rankings use (default: the shipped one).
    draws, seed
        The Monte Carlo draws and their seed, the same for both.
    min_count
        An organization with fewer expected events than this in the other agency's data has its
        other-side events, score, interval and P(rank 1) withheld (null).
    own_events
        How many of the caller's own events to list per disagreement (heaviest first).

    Returns
    -------
    AgencyComparison
        Both rankings, their agreement and the disagreements.

    Raises
    ------
    VdtoError
        ``with`` names the caller's own agency (``param="with"``), or the window is shorter than
        :data:`MIN_WINDOW_DAYS` (``param="start"``).
    UnknownNameError
        ``agency`` or ``with`` has no data in the store (the message lists no agency).
    """
    if other == agency:
        raise VdtoError(
            f"agency {agency!r} is compared with itself",
            fix="name another agency to compare with",
            param="with",
        )
    have = set(store.agencies())
    if agency not in have:
        raise UnknownNameError(f"agency {agency!r} has no data yet", fix="import some first", param="agency")
    if other not in have:  # which agencies hold data is not the caller's to list
        raise UnknownNameError("no agency by that name has data to compare with", param="with")
    rubric = rubric or Rubric.default()
    start, end = resolve_window(start, end, rubric, store, agency=agency)
    days = (end - start).days + 1
    if days < MIN_WINDOW_DAYS:
        raise VdtoError(
            f"the window {start}..{end} is {days} day{'s' if days != 1 else ''}; a comparison needs at "
            f"least {MIN_WINDOW_DAYS} (a shorter one could single out events)",
            fix=f"give a window of {MIN_WINDOW_DAYS} days or more",
            param="start",
        )
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
    other_rows = [_withhold(row) for row in card_other["ranking"]]
    other_decision = decide(theirs).as_dict()
    withheld = {str(row["org"]) for row in other_rows if row["events"] is None}
    # the decision's P(rank 1) is the target's, or the leader's when none is named
    belongs = other_decision.get("target") or (other_rows[0]["org"] if other_rows else None)
    if belongs is not None and str(belongs) in withheld:
        other_decision["p_rank1"] = None
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
            "min_window_days": MIN_WINDOW_DAYS,
            "data_sha256": mine.meta.get("data_sha256"),
        },
        own={"agency": agency, "ranking": card_own["ranking"], "decision": decision_facts(mine)},
        theirs={
            "agency": other,
            "ranking": other_rows,
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


__all__ = [
    "MIN_WINDOW_DAYS",
    "OTHER_RANKING_COLUMNS",
    "WITHHELD_WHEN_SMALL",
    "AgencyComparison",
    "compare_agencies",
]
