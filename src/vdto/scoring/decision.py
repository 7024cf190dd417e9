"""What a score means for enforcement: the target rule, margins, what-ifs and manipulation risk."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from vdto.scoring.engine import ScoreResult, _summarise

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


def what_if(result: ScoreResult, org: str, cut: float) -> pd.DataFrame:
    """Ranks if ``org`` cut its violence by the share ``cut`` (0..1), on the same draws.

    An organization's score is linear in the weights of its events, so cutting its violence by
    ``cut`` scales its score in every draw by ``1 - cut``; the other organizations' draws are
    unchanged (common random numbers).
    """
    from vdto.errors import UnknownNameError, VdtoError

    if not 0 <= cut <= 1:
        raise VdtoError(
            f"the cut must be a share between 0 and 1 (got {cut})", fix="write e.g. 0.3 for 30%", param="cut"
        )
    orgs = list(result.table["org"])
    if org not in orgs:
        raise UnknownNameError(
            f"{org!r} has no score in this window", fix="pick one of: " + ", ".join(orgs[:10]), param="org"
        )
    j = orgs.index(org)
    samples = result.samples.copy()
    samples[:, j] *= 1.0 - cut
    expected = result.table["score"].to_numpy(dtype=float).copy()
    expected[j] *= 1.0 - cut
    order = np.lexsort((np.array(orgs, dtype=object), -expected))
    names = dict(zip(result.table["org"], result.table["name"], strict=True))
    events = result.table["events"].to_numpy()[order]
    table = _summarise([orgs[i] for i in order], expected[order], events, samples[:, order], names)
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


__all__ = ["FALLBACK", "TargetDecision", "decide", "margins", "ranking_with_margins", "robustness", "what_if"]
