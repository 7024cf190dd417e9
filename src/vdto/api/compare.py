"""The workbench's ranking and agencies endpoints: a ranking with its what-if, and two agencies compared.

- ``GET /rubrics``: the rubrics shipped with vdto, by name (what ``rubric`` may be).
- ``POST /agencies/{agency}/ranking``: the agency's own ranking of a window (the scorecard of
  ``POST /agencies/{agency}/score``), its decision as facts a page puts into words, the margins
  and manipulation risk, and, with ``what_if``, the same window re-ranked on the same draws as if
  one organization had cut its violence by a percentage
  (:func:`vdto.services.scoring.rank_window`, the CLI's ``vdto rank --what-if``).
- ``POST /agencies/{agency}/comparison`` (body ``{"with": OTHER, "from", "to", "rubric",
  "draws", "seed"}``): the agency's ranking and another agency's side by side, Kendall's tau,
  top-1 agreement and the disagreements (:func:`vdto.services.agencies.compare_agencies`).

Access: an analyst token of ``agency``, as scoring needs. Both rankings of a comparison are
computed in the service from the data the server holds; the answer carries the caller's own raw
events only. Of the other agency it carries its ranking (rank, organization, expected score, 90%
interval, P(rank 1), expected events), its target decision, the agreement of the two rankings
and, per disagreement, the other's rank, score, P(rank 1) and expected events; nothing else.
None of it can single out one of the other agency's events: the window spans at least
:data:`vdto.services.agencies.MIN_WINDOW_DAYS` days (a shorter one is a 422 naming ``from``), an
organization with fewer than the server's ``min_count`` expected events on the other side has
its events, score, interval and P(rank 1) withheld (null), as the public scorecard withholds
small counts, and no figure is computed from both agencies' events together: no count of the
caller's events the other also holds (an analyst could import a made-up event and read it back).
An unknown ``with`` is a 404 that lists no agency. Nothing adds two agencies' events together.

Both are POSTs, so each is audited as any write: a ``started`` row once authorised, before
anything is computed, and the outcome (``ok``, ``failed`` with the status, or ``refused`` before
authorisation) written by the audit middleware, whatever happens.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vdto.api.deps import (
    Agency,
    ApiError,
    Caller,
    Ctx,
    check_agency,
    check_role,
    set_action,
    spell,
    start_write,
)
from vdto.data import bundled
from vdto.errors import VdtoError
from vdto.names import AGENCY_PATTERN

router = APIRouter(tags=["agency"])


def rubric_names() -> tuple[str, ...]:
    """The rubrics shipped with vdto (``default-v1``, ...)."""
    folder = bundled("rubric", "default-v1").parent
    return tuple(sorted(p.stem for p in folder.glob("*.toml")))


def _rubric(name: str):
    from vdto.scoring import load_rubric

    return load_rubric(bundled("rubric", name), param="rubric")


# ----------------------------------------------------------------------------------- models


def _shipped_rubric(name: str) -> str:
    if name not in rubric_names():
        raise ValueError(f"no shipped rubric {name[:64]!r}; use one of: {', '.join(rubric_names())}")
    return name


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class WhatIfIn(_In):
    """One organization cuts its violence by ``cut`` percent."""

    organization: str = Field(
        min_length=1, max_length=200, description="An organization ranked in the window (id or any name)."
    )
    cut: float = Field(
        ge=0,
        le=100,
        allow_inf_nan=False,
        description="How much of its violence it sheds, in percent (0-100).",
    )


class RankingRequest(_In):
    from_: date | None = Field(None, alias="from", description="First day (default: the rubric's window).")
    to: date | None = Field(None, description="Last day (default: the agency's last event).")
    rubric: str = Field("default-v1", max_length=64, description="A shipped rubric (GET /rubrics).")
    draws: int = Field(2000, ge=1, le=10000)
    seed: int = Field(7, ge=0, le=2**32 - 1)
    what_if: WhatIfIn | None = Field(None, description="Re-rank as if one organization cut its violence.")

    @field_validator("rubric")
    @classmethod
    def _shipped(cls, name: str) -> str:
        return _shipped_rubric(name)


class ComparisonRequest(_In):
    """Two agencies' rankings of one window: the other agency, the window, rubric, draws and seed."""

    with_: str = Field(alias="with", pattern=AGENCY_PATTERN, description="The agency to compare with.")
    from_: date | None = Field(None, alias="from", description="First day (default: the rubric's window).")
    to: date | None = Field(None, description="Last day (default: the agency's last event).")
    rubric: str = Field("default-v1", max_length=64, description="A shipped rubric (GET /rubrics).")
    draws: int = Field(2000, ge=1, le=10000)
    seed: int = Field(7, ge=0, le=2**32 - 1)

    @field_validator("rubric")
    @classmethod
    def _shipped(cls, name: str) -> str:
        return _shipped_rubric(name)


class RubricInfo(BaseModel):
    """A shipped rubric."""

    name: str
    version: int
    sha256: str
    description: str
    threshold: float = Field(description="The P(rank 1) a target needs.")
    window_days: int
    half_life_days: float


class OrgFacts(BaseModel):
    """An organization's place in a ranking (scores in score points)."""

    org: str
    name: str
    score: float
    lo90: float
    hi90: float
    p_rank1: float


class DecisionFacts(BaseModel):
    """The target decision as facts to put into words (see ``vdto.scoring.decision.decision_facts``)."""

    named: bool
    why: Literal["named", "below_threshold", "no_events"]
    target: str | None
    target_name: str | None
    p_rank1: float
    threshold: float
    leader: OrgFacts | None
    runner_up: OrgFacts | None
    rival: OrgFacts | None
    gap: float | None = Field(description="The leader's expected score minus the runner-up's (score points).")
    cut_to_lose_first: float | None = Field(
        description="Share of its score the leader must shed to lose first place."
    )
    reason: str
    fallback: str | None


class Manipulation(BaseModel):
    """The fewest of the leader's events whose re-attribution to the runner-up would change the top."""

    events_to_change_top: int = Field(description="-1: even all of them would not; 0: no runner-up.")
    weight_moved: float


class WhatIfOut(BaseModel):
    """The window re-ranked as if one organization had cut its violence (same draws)."""

    organization: str
    name: str
    cut: float = Field(description="Percent.")
    ranking: list[dict[str, Any]] = Field(description="The re-ranked scorecard rows, with rank_before.")
    decision: DecisionFacts
    target_before: str | None
    target_after: str | None
    decision_changed: bool


class RankingOut(BaseModel):
    """An agency's ranking of a window and what enforcement needs to know of it."""

    agency: str = Field(description="Whose data this is (the caller's own).")
    scorecard: dict[str, Any]
    decision: DecisionFacts
    manipulation: Manipulation
    what_if: WhatIfOut | None


class OwnEvent(BaseModel):
    """One of the caller's own events behind a disagreement."""

    source: str
    source_id: str
    date_start: str | None
    state_code: str | None
    category: str | None
    deaths_best: float | None
    probability: float
    weight: float
    contribution: float = Field(description="probability x weight, score points.")


class Disagreement(BaseModel):
    """An organization the two rankings place differently: each side's rank, score, P(rank 1)
    and expected events (the other's null where it holds fewer than ``min_count`` expected
    events), and the caller's own events behind it. No count of events the two agencies share."""

    model_config = ConfigDict(extra="forbid")

    org: str
    name: str | None
    rank_own: int | None
    rank_other: int | None
    score_own: float
    score_other: float | None
    p_rank1_own: float
    p_rank1_other: float | None
    events_own: float
    events_other: float | None
    events: list[OwnEvent]


class Agreement(BaseModel):
    agencies: list[str]
    tau: float | None = Field(description="Kendall's tau-b over the expected scores (null when undefined).")
    p_value: float | None
    top: list[str | None]
    top1_agree: bool


class Side(BaseModel):
    agency: str
    ranking: list[dict[str, Any]]
    decision: dict[str, Any]


class ComparisonOut(BaseModel):
    """Two agencies' rankings of one window, as the caller may see them."""

    model_config = ConfigDict(populate_by_name=True)

    agency: str = Field(description="The caller's agency: its own events may appear.")
    with_: str = Field(alias="with", description="The other agency: aggregates only.")
    window: list[str]
    meta: dict[str, Any]
    own: Side
    other: Side
    agreement: Agreement
    disagreements: list[Disagreement]


# -------------------------------------------------------------------------------- endpoints


@router.get("/rubrics", response_model=list[RubricInfo], summary="The shipped rubrics", tags=["public"])
def rubrics() -> list[dict]:
    """The rubrics shipped with vdto: what the ``rubric`` of a ranking or comparison may be."""
    out = []
    for name in rubric_names():
        r = _rubric(name)
        out.append(
            {
                "name": name, "version": r.version, "sha256": r.sha256(), "description": r.description,
                "threshold": r.target.threshold, "window_days": r.time.window_days,
                "half_life_days": r.time.half_life_days,
            }
        )  # fmt: skip
    return out


def _ranking_answer(agency: str, ranking, min_count: int) -> dict:
    from vdto.publication.scorecard import build_scorecard
    from vdto.scoring.decision import decision_facts

    result, decision = ranking.result, ranking.decision
    answer: dict[str, Any] = {
        "agency": agency,
        "scorecard": build_scorecard(result, decision=decision, min_count=min_count),
        "decision": decision_facts(result, decision),
        "manipulation": {
            "events_to_change_top": int(ranking.events_to_change_top),
            "weight_moved": float(ranking.weight_moved),
        },
        "what_if": None,
    }
    if ranking.what_if_result is not None:
        after, changed = ranking.what_if_result, ranking.what_if_decision
        before = dict(zip(result.table["org"], result.table["rank"], strict=True))
        rows = build_scorecard(after, decision=changed, min_count=min_count)["ranking"]
        for row in rows:
            row["rank_before"] = int(before[row["org"]])
        names = dict(zip(result.table["org"], result.table["name"], strict=True))
        answer["what_if"] = {
            "organization": ranking.what_if_org,
            "name": names[ranking.what_if_org],
            "cut": round(float(ranking.what_if_cut) * 100.0, 10),
            "ranking": rows,
            "decision": decision_facts(after, changed),
            "target_before": decision.target,
            "target_after": changed.target,
            "decision_changed": decision.target != changed.target,
        }
    return answer


@router.post(
    "/agencies/{agency}/ranking", response_model=RankingOut, summary="Rank the agency's data, with a what-if"
)
def agency_ranking(body: RankingRequest, agency: Agency, who: Caller, ctx: Ctx, request: Request) -> dict:
    """Rank organizations on the agency's own data with a shipped rubric: the scorecard (intervals,
    P(rank 1), margins), the decision as facts, the manipulation risk and, with ``what_if``, the
    window re-ranked on the same draws as if one organization had cut its violence by ``cut``
    percent: each of its events earns it ``1 - cut/100`` of its points, in the expected score and
    in every draw; nothing else changes. Nothing is stored."""
    from vdto.services.scoring import WhatIf, rank_window

    set_action(request, "rank")
    check_agency(who, agency)
    check_role(who, "analyst", "ranking")
    start_write(
        request, ctx, who, "rank", f"what-if {body.what_if.organization[:60]}" if body.what_if else ""
    )
    what_if = WhatIf(body.what_if.organization, body.what_if.cut) if body.what_if else None
    with ctx.access.read() as store:
        if agency not in store.agencies():
            raise ApiError(404, f"agency {agency!r} has no data yet; import some first")
        try:
            ranking = rank_window(
                store, body.from_, body.to, rubric=_rubric(body.rubric), draws=body.draws, seed=body.seed,
                agency=agency, what_if=what_if,
            )  # fmt: skip
        except VdtoError as exc:
            if exc.param and exc.param.startswith("what_if."):
                raise ApiError(422, exc.line(spell)) from None
            raise
    return _ranking_answer(agency, ranking, ctx.settings.min_count)


@router.post(
    "/agencies/{agency}/comparison",
    response_model=ComparisonOut,
    response_model_by_alias=True,
    summary="The agency's ranking beside another agency's",
)
def agency_comparison(
    body: ComparisonRequest, agency: Agency, who: Caller, ctx: Ctx, request: Request
) -> dict:
    """Both agencies' rankings of the same window (same rubric, draws and seed), Kendall's tau-b
    and top-1 agreement (as a round's scorecard computes them), and each organization ranked
    differently with the caller's own events behind it. Of the other agency: its ranking and
    decision (what a round of the two would show), with the score, interval, P(rank 1) and events
    of an organization it holds fewer than ``min_count`` expected events of withheld; never one of
    its events, nor a count of the events the two agencies share. The window must span at least
    90 days. Audited as a write (a ``started`` row, then the outcome); nothing is stored."""
    from vdto.services.agencies import compare_agencies

    set_action(request, "compare")
    check_agency(who, agency)
    check_role(who, "analyst", "comparing rankings")
    window = f"{body.from_ or 'default'}..{body.to or 'last event'}"
    start_write(request, ctx, who, "compare", f"with {body.with_} {window}")
    with ctx.access.read() as store:
        try:
            found = compare_agencies(
                store, agency, body.with_, body.from_, body.to, rubric=_rubric(body.rubric), draws=body.draws,
                seed=body.seed, min_count=ctx.settings.min_count,
            )  # fmt: skip
        except VdtoError as exc:
            if exc.param in ("start", "end"):
                raise ApiError(422, exc.line(spell)) from None
            raise
    request.scope["state"]["audit_detail"] = f"compared with {body.with_} {found.start}..{found.end}"
    return found.as_dict()
