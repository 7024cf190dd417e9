"""What a score means for enforcement: the target rule, margins, what-ifs and manipulation risk."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from vdto.scoring.engine import ScoreResult, _rank_probs, _summarise

FALLBACK = (
    "use the regional fallback: concentrate enforcement on the violent hot spots "
    "(`vdto regions target --from ... --to ...`: municipal Gi* hot spots, their organizations and events)"
)


@dataclass(frozen=True)
class TargetDecision:
    """The target rule's answer: a target, or why there is none."""

    target: str | None
    target_name: str | None
    p_rank1: float
    threshold: float
    runner_up: str | None
    reason: str
    fallback: str | None

    def as_dict(self) -> dict:
        return asdict(self)


def _fmt(x: float) -> str:
    return f"{x:,.1f}"


def decide(result: ScoreResult) -> TargetDecision:
    """Name a target only when its P(rank 1) clears the rubric's threshold; else say why not."""
    t = result.table
    threshold = result.rubric.target.threshold
    if t.empty:
        return TargetDecision(
            None, None, 0.0, threshold, None, "no organization has attributed events in the window", FALLBACK
        )
    best = t.iloc[t["p_rank1"].to_numpy().argmax()]
    lead = t.iloc[0]
    second = t.iloc[1] if len(t) > 1 else None
    if best["p_rank1"] >= threshold:
        other = (
            f"; next is {second['name']} (score {_fmt(second['score'])}, P(rank 1) = {second['p_rank1']:.3f})"
            if second is not None
            else ""
        )
        reason = (
            f"{best['name']} is the most violent organization: score {_fmt(best['score'])} "
            f"(90% interval {_fmt(best['lo90'])}-{_fmt(best['hi90'])}), P(rank 1) = {best['p_rank1']:.3f} "
            f">= threshold {threshold:g}{other}"
        )
        return TargetDecision(
            best["org"],
            best["name"],
            float(best["p_rank1"]),
            threshold,
            second["org"] if second is not None else None,
            reason,
            None,
        )
    rivals = t[(t["org"] != lead["org"]) & (t["hi90"] >= lead["lo90"])]
    why = f"the leader, {lead['name']}, has P(rank 1) = {lead['p_rank1']:.3f}, below the threshold {threshold:g}"
    if len(rivals):
        r = rivals.iloc[0]
        why += (
            f"; {r['name']} (P(rank 1) = {r['p_rank1']:.3f}) is within reach: its 90% interval "
            f"{_fmt(r['lo90'])}-{_fmt(r['hi90'])} overlaps the leader's {_fmt(lead['lo90'])}-{_fmt(lead['hi90'])}"
        )
    return TargetDecision(
        None,
        None,
        float(lead["p_rank1"]),
        threshold,
        second["org"] if second is not None else None,
        "no confident target: " + why,
        FALLBACK,
    )


def _row(row: pd.Series | None) -> dict | None:
    if row is None:
        return None
    return {
        "org": str(row["org"]), "name": str(row["name"]), "score": float(row["score"]),
        "lo90": float(row["lo90"]), "hi90": float(row["hi90"]), "p_rank1": float(row["p_rank1"]),
    }  # fmt: skip


def decision_facts(result: ScoreResult, decision: TargetDecision | None = None) -> dict:
    """The target decision as facts a page puts into words in its own language.

    Parameters
    ----------
    result
        The scored window.
    decision
        Its decision (default: :func:`decide` of ``result``).

    Returns
    -------
    dict
        ``named`` (whether the rule names a target); ``why``: ``"named"``, ``"below_threshold"``
        (the leader's P(rank 1) is under the threshold) or ``"no_events"``; ``target``,
        ``target_name``, ``p_rank1`` and ``threshold`` as the decision gives them; ``leader``
        (highest expected score), ``runner_up`` (second) and, when nobody is named, ``rival``
        (the first other organization whose 90% interval reaches the leader's), each ``org``,
        ``name``, ``score``, ``lo90``, ``hi90``, ``p_rank1`` or null; ``gap`` (the leader's
        expected score minus the runner-up's, score points) and ``cut_to_lose_first`` (the share
        of its score the leader must shed to fall to the runner-up's), null without a runner-up;
        ``reason`` and ``fallback``, the decision's English sentences.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from vdto.scoring.rubric import Rubric
    >>> table = pd.DataFrame({"rank": [1, 2], "org": ["a", "b"], "name": ["A", "B"], "score": [4.0, 1.0],
    ...     "lo90": [3.5, 0.5], "hi90": [4.5, 1.5], "p_rank1": [1.0, 0.0]})
    >>> res = ScoreResult(table, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), np.zeros((1, 2)),
    ...     pd.DataFrame(), pd.DataFrame(), Rubric.default())
    >>> facts = decision_facts(res)
    >>> facts["named"], facts["why"], facts["leader"]["org"], facts["gap"], facts["cut_to_lose_first"]
    (True, 'named', 'a', 3.0, 0.75)
    """
    decision = decision or decide(result)
    t = result.table
    lead = t.iloc[0] if len(t) else None
    second = t.iloc[1] if len(t) > 1 else None
    rival = None
    if decision.target is None and lead is not None:
        within = t[(t["org"] != lead["org"]) & (t["hi90"] >= lead["lo90"])]
        rival = within.iloc[0] if len(within) else None
    gap = cut = None
    if lead is not None and second is not None:
        gap = float(lead["score"] - second["score"])
        cut = float(1.0 - second["score"] / lead["score"]) if lead["score"] > 0 else None
    return {
        "named": decision.target is not None,
        "why": "named"
        if decision.target is not None
        else ("no_events" if lead is None else "below_threshold"),
        "target": decision.target,
        "target_name": decision.target_name,
        "p_rank1": float(decision.p_rank1),
        "threshold": float(decision.threshold),
        "leader": _row(lead),
        "runner_up": _row(second),
        "rival": _row(rival),
        "gap": gap,
        "cut_to_lose_first": cut,
        "reason": decision.reason,
        "fallback": decision.fallback,
    }


def margins(result: ScoreResult) -> pd.DataFrame:
    """How far each organization is from first place (the deterrence message).

    ``gap`` is the leader's expected score minus this organization's. For the leader,
    ``cut_to_lose_first`` is the share of its score it must shed to fall to the runner-up's
    level. For the others, ``rise_to_first`` is the share by which its score must grow to reach
    the leader's, and ``leader_cut_to_pass`` the share the leader would have to shed for it to
    be first.
    """
    t = result.table
    if t.empty:
        return pd.DataFrame(
            columns=[
                "org",
                "name",
                "score",
                "gap",
                "cut_to_lose_first",
                "rise_to_first",
                "leader_cut_to_pass",
            ]
        )
    s = t["score"].to_numpy(dtype=float)
    lead = s[0]
    second = s[1] if len(s) > 1 else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        rise = np.where(s > 0, lead / s - 1.0, np.inf)
        leader_cut = np.where(lead > 0, 1.0 - s / lead, np.nan)
    out = pd.DataFrame(
        {
            "org": t["org"],
            "name": t["name"],
            "score": s,
            "gap": lead - s,
            "cut_to_lose_first": np.nan,
            "rise_to_first": rise,
            "leader_cut_to_pass": leader_cut,
        }
    )
    out.loc[0, "cut_to_lose_first"] = 1.0 - second / lead if lead > 0 else np.nan
    out.loc[0, ["rise_to_first", "leader_cut_to_pass"]] = np.nan
    return out


def ranking_with_margins(result: ScoreResult) -> pd.DataFrame:
    """The ranked table with each organization's margin columns (gap, cut_to_lose_first, rise_to_first)."""
    marg = margins(result)[["org", "gap", "cut_to_lose_first", "rise_to_first"]]
    return result.table.merge(marg, on="org", how="left")


def cut_violence(result: ScoreResult, org: str, cut: float) -> ScoreResult:
    """The scored window as if ``org`` had cut its violence by the share ``cut`` (0..1).

    The what-if rule, the one every shell uses: every event attributed to ``org`` earns it
    ``1 - cut`` of the points it earned (its weight x attribution probability in the expected
    score; its weight in each Monte Carlo draw that gives it the event). Nothing else changes:
    the events, their attribution probabilities, the other organizations' points and the draws
    themselves (the same seed and event keys give the same uniforms: common random numbers), so
    the difference from the unchanged ranking is due to the cut alone. As an organization's
    score is linear in its events' weights, this is the column of ``org`` in the draws, and its
    expected score, scaled by ``1 - cut``; ranks, intervals, P(rank k) and the per-state scores
    are recomputed from them. ``cut = 0`` gives back the same tables, value for value.

    The result's ``events`` and ``attribution`` are the window's own (the cut scales points, not
    events: the expected number of events is unchanged); its ``meta["what_if"]`` records the
    organization and the share.

    Parameters
    ----------
    result
        The scored window.
    org
        The id of a ranked organization (a row of ``result.table``).
    cut
        The share of its violence it sheds, from 0 (none) to 1 (all).

    Returns
    -------
    ScoreResult
        The window re-ranked under the cut.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from vdto.scoring.rubric import Rubric
    >>> table = pd.DataFrame({"org": ["a", "b"], "name": ["A", "B"], "events": [2.0, 1.0], "score": [4.0, 3.0]})
    >>> res = ScoreResult(table, pd.DataFrame(columns=["org", "state_code", "state", "events", "score"]),
    ...     pd.DataFrame(), pd.DataFrame(), np.array([[4.0, 3.0], [5.0, 2.0]]), pd.DataFrame(),
    ...     pd.DataFrame(), Rubric.default())
    >>> cut_violence(res, "a", 0.5).table[["org", "score", "p_rank1"]].to_dict("list")
    {'org': ['b', 'a'], 'score': [3.0, 2.0], 'p_rank1': [0.5, 0.5]}
    """
    from vdto.errors import UnknownNameError, VdtoError

    if not 0 <= cut <= 1:  # NaN fails too
        raise VdtoError(
            f"the cut must be a share between 0 and 1 (got {cut})", fix="write e.g. 0.3 for 30%", param="cut"
        )
    orgs = list(result.table["org"])
    if org not in orgs:
        raise UnknownNameError(
            f"{org!r} has no score in this window", fix="pick one of: " + ", ".join(orgs[:10]), param="org"
        )
    j = orgs.index(org)
    factor = 1.0 - cut
    samples = result.samples.copy()
    samples[:, j] *= factor
    expected = result.table["score"].to_numpy(dtype=float).copy()
    expected[j] *= factor
    order = np.lexsort((np.array(orgs, dtype=object), -expected))
    ranked = [orgs[i] for i in order]
    names = dict(zip(result.table["org"], result.table["name"], strict=True))
    events = result.table["events"].to_numpy()[order]
    table = _summarise(ranked, expected[order], events, samples[:, order], names)
    by_state = result.by_state.copy()
    if len(by_state):
        mine = (by_state["org"] == org).to_numpy()
        by_state.loc[mine, "score"] = by_state.loc[mine, "score"].to_numpy(dtype=float) * factor
        by_state = by_state.sort_values(
            ["score", "org", "state_code"], ascending=[False, True, True]
        ).reset_index(drop=True)
    meta = {**result.meta, "what_if": {"org": org, "cut": float(cut)}}
    return replace(
        result, table=table, by_state=by_state, rank_probs=_rank_probs(ranked, samples[:, order]),
        samples=samples[:, order], meta=meta,
    )  # fmt: skip


def what_if(result: ScoreResult, org: str, cut: float) -> pd.DataFrame:
    """Ranks if ``org`` cut its violence by the share ``cut`` (0..1), on the same draws
    (:func:`cut_violence`), with each organization's rank before the cut (``rank_before``)."""
    table = cut_violence(result, org, cut).table.copy()
    before = dict(zip(result.table["org"], result.table["rank"], strict=True))
    table.insert(1, "rank_before", table["org"].map(before))
    return table


def robustness(result: ScoreResult) -> tuple[int, float, pd.DataFrame]:
    """The fewest events whose re-attribution would change the top-ranked organization.

    An organization could stage violence, or claim it, in its rival's name. Moving an event's
    share from the leader to the runner-up narrows the gap by twice that share's weight, so the
    fewest events that close the gap are the leader's heaviest contributions, taken in order.
    Returns (number of events, their total weight moved, the events); ``(0, 0, empty)`` when
    there is no runner-up, and the count is ``-1`` when even all the leader's events would not
    close the gap.
    """
    t = result.table
    cols = [
        "source",
        "source_id",
        "date_start",
        "state_code",
        "category",
        "deaths_best",
        "p_leader",
        "weight",
        "contribution",
    ]
    if len(t) < 2:
        return 0, 0.0, pd.DataFrame(columns=cols)
    leader = t.iloc[0]["org"]
    gap = float(t.iloc[0]["score"] - t.iloc[1]["score"])
    att = result.attribution[result.attribution["org"] == leader]
    ev = result.events.iloc[att["event"].to_numpy()].reset_index(drop=True)
    ev = ev.assign(
        p_leader=att["prob"].to_numpy(), contribution=att["prob"].to_numpy() * ev["weight"].to_numpy()
    )
    ev = ev.sort_values(["contribution", "source", "source_id"], ascending=[False, True, True]).reset_index(
        drop=True
    )
    closed = np.cumsum(2.0 * ev["contribution"].to_numpy())
    hit = np.flatnonzero(closed > gap)
    if not len(hit):
        return -1, float(ev["contribution"].sum()), ev[cols]
    k = int(hit[0]) + 1
    chosen = ev.iloc[:k][cols]
    return k, float(chosen["contribution"].sum()), chosen


__all__ = [
    "FALLBACK",
    "TargetDecision",
    "cut_violence",
    "decide",
    "decision_facts",
    "margins",
    "ranking_with_margins",
    "robustness",
    "what_if",
]
