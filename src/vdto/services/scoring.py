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

from vdto.errors import UnknownNameError, VdtoError
from vdto.orgs import Registry
from vdto.scoring import ScoreResult, TargetDecision, decide, robustness, score
from vdto.scoring import what_if as what_if_ranks
from vdto.scoring.decision import cut_violence, ranking_with_margins
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


@dataclass(frozen=True)
class WhatIf:
    """A what-if: organization ``organization`` cuts its violence by ``cut`` percent (0 to 100).

    ``organization`` is an id or any name of a ranked organization. The rule is
    :func:`vdto.scoring.decision.cut_violence`: every event attributed to the organization
    earns it ``1 - cut/100`` of its points, in the expected score and in each Monte Carlo draw;
    the events, the attribution, the other organizations' points and the draws are unchanged.
    """

    organization: str
    cut: float

    @property
    def share(self) -> float:
        """The cut as a share (0 to 1)."""
        return self.cut / 100.0


def _nearest(name: str, result: ScoreResult, k: int = 3) -> list[str]:
    """The ranked organizations whose id or name is nearest to ``name`` (ids, best first)."""
    import difflib

    names = dict(zip(result.table["org"], result.table["name"], strict=True))
    spelled = {**{o.casefold(): o for o in names}, **{str(n).casefold(): o for o, n in names.items()}}
    close = difflib.get_close_matches(name.casefold(), list(spelled), n=k * 2, cutoff=0.3)
    found = list(dict.fromkeys(spelled[c] for c in close))[:k]
    return found or list(result.table["org"].head(k))


def resolve_what_if(result: ScoreResult, registry: Registry, what_if: WhatIf) -> str:
    """The id of the ranked organization a what-if names, the what-if checked.

    Raises
    ------
    VdtoError
        ``what_if.cut`` outside 0 to 100 (or not a number).
    UnknownNameError
        ``what_if.organization`` names no organization ranked in the window (the nearest
        ranked names are suggested).
    """
    cut = what_if.cut
    if isinstance(cut, bool) or not isinstance(cut, int | float) or not 0 <= cut <= 100:
        raise VdtoError(
            f"the cut must be a percentage from 0 to 100 (got {cut!r})", fix="write e.g. 30 for 30%",
            param="what_if.cut",
        )  # fmt: skip
    ranked = set(result.table["org"])
    name = str(what_if.organization).strip()
    if name in ranked:
        return name
    by_name = {str(n).casefold(): o for o, n in zip(result.table["org"], result.table["name"], strict=True)}
    if name.casefold() in by_name:
        return by_name[name.casefold()]
    match = registry.resolve(name) if name else None
    if match is not None and match.org_id is not None:
        for candidate in (match.faction_id, match.org_id, registry.top(match.org_id)):
            if candidate in ranked:
                return str(candidate)
    shown = name if len(name) <= 60 else name[:57] + "..."
    raise UnknownNameError(
        f"no organization {shown!r} is ranked in this window",
        fix="the nearest are: " + ", ".join(_nearest(name, result)),
        param="what_if.organization",
    )


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
    what_if_cut: float | None = None  # a share, 0 to 1
    what_if_result: ScoreResult | None = None
    what_if_decision: TargetDecision | None = None
    extra: dict = field(default_factory=dict)


def rank_window(
    store: Store,
    start: date | None = None,
    end: date | None = None,
    *,
    what_if: WhatIf | tuple[str, float] | None = None,
    **options: Any,
) -> Ranking:
    """Score a window (:func:`score_window`), apply the target rule, and add margins, the
    manipulation risk and, with ``what_if``, the window as if one organization cut its violence.

    Parameters
    ----------
    store
        The store.
    start, end
        The window (defaults as :func:`vdto.scoring.score`'s).
    what_if
        A :class:`WhatIf` (a cut in percent, checked by :func:`resolve_what_if`: errors name
        ``what_if.organization`` and ``what_if.cut``), or ``(org, share)`` with the share from 0
        to 1 (the CLI's ``--what-if ORG:SHARE``: errors name ``org`` and ``cut``). ``org`` may
        be any name of the organization. The what-if is scored on the same draws
        (:func:`vdto.scoring.decision.cut_violence`): ``ranking.what_if_result`` and
        ``ranking.what_if_decision`` hold the re-ranked window and its decision,
        ``ranking.what_if`` its table with each organization's rank before the cut, and
        ``what_if_org``/``what_if_cut`` the organization's id and the share.
    **options
        :func:`vdto.scoring.score`'s (rubric, draws, seed, sources, agency, progress, state).

    Returns
    -------
    Ranking
        The scored window with its decision, margins and manipulation risk.
    """
    result = score_window(store, start, end, **options)
    n, moved, events = robustness(result)
    ranking = Ranking(result, decide(result), ranking_with_margins(result), n, moved, events)
    if what_if is None:
        return ranking
    if isinstance(what_if, WhatIf):
        org_id, share = resolve_what_if(result, store.registry(), what_if), what_if.share
    else:
        org, share = what_if
        org_id = org if org in set(result.table["org"]) else store.registry().require(org)
    ranking.what_if = what_if_ranks(result, org_id, share)
    ranking.what_if_result = cut_violence(result, org_id, share)
    ranking.what_if_decision = decide(ranking.what_if_result)
    ranking.what_if_org, ranking.what_if_cut = org_id, share
    return ranking
