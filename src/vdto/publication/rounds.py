"""Rounds of the strategy: open (score and decide) -> announce (publish) -> monitor -> close.

Each round scores every agency's data with that agency's rubric, applies the target rule for
each, and names a target only when the agencies agree (by default); a dissent is recorded,
never dropped. Announcing appends the round's public scorecards to the signed ledger (the first
announcement publishes the conditional rule before it), signed by every agency of the round:
with keys at hand (:func:`announce_round`), or on each agency's own machine
(:func:`announcement_request`, ``vdto sign``, :func:`announce_signed`). :func:`sign_off` and
:func:`request_close` are for a server that holds the keys (an explicit opt-in for a
single-agency deployment). Closing a round as *dismantled* takes the target out of every later
round's ranking.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from vdto.errors import ConflictError, PermissionDenied, UnknownNameError, VdtoError
from vdto.publication.ledger import canonical_json
from vdto.publication.scorecard import build_scorecard, rule_text
from vdto.scoring.decision import TargetDecision, decide
from vdto.scoring.engine import DEFAULT_DRAWS, DEFAULT_SEED, score
from vdto.scoring.rubric import Rubric
from vdto.store import Round, Store

__all__ = [
    "Round",
    "SignOff",
    "announce_round",
    "announce_signed",
    "announcement_request",
    "close_round",
    "close_signed",
    "closing_request",
    "counterfactual",
    "dismantled_before",
    "dissents",
    "get_round",
    "list_rounds",
    "monitor",
    "open_round",
    "request_close",
    "rule_payload",
    "sign_off",
]


def get_round(store: Store, round_id: int | None = None) -> Round:
    """A round by id (the latest when ``round_id`` is None)."""
    rnd = store.rounds.get(round_id)
    if rnd is None:
        raise UnknownNameError(
            "no rounds yet" if round_id is None else f"no round {round_id}",
            str(store.path),
            "open a round first (a window and the agencies that rank)",
        )
    return rnd


def list_rounds(store: Store) -> pd.DataFrame:
    """Every round with its status, window, target and outcome."""
    return store.rounds.frame()


def dismantled_before(store: Store, round_id: int | None = None) -> frozenset[str]:
    """Organizations dismantled by the rounds before ``round_id`` (by every round when None)."""
    return store.rounds.dismantled_before(round_id)


def dissents(store: Store, round_id: int | None = None) -> pd.DataFrame:
    """The dissents recorded (in one round when given)."""
    return store.rounds.dissents(round_id)


def _check_agencies(store: Store, agencies: list[str]) -> None:
    if not agencies:
        raise VdtoError("a round needs at least one agency", fix="e.g. mx,us", param="agencies")
    if len(set(agencies)) != len(agencies):
        raise VdtoError("an agency is named twice", fix="name each agency once, e.g. mx,us", param="agencies")
    busy = store.rounds.unfinished()
    if busy is not None:
        rid, status = busy
        raise ConflictError(f"round {rid} is still {status}", f"round {rid}", f"close round {rid} first")
    known = set(store.agencies())
    for agency in agencies:
        if agency not in known:
            raise VdtoError(
                f"agency {agency!r} has no data in this store",
                fix=f"import its data first; agencies here: {', '.join(sorted(known)) or 'none'}",
                param="agencies",
            )


def _round_decision(
    decisions: dict[str, TargetDecision], lead: str, require_agreement: bool
) -> tuple[str | None, str]:
    """The round's target and why, from each agency's decision."""
    named = {a: d.target for a, d in decisions.items()}
    if require_agreement:
        agreed = len(set(named.values())) == 1 and named[lead] is not None
        target = named[lead] if agreed else None
    else:
        target = named[lead]
    if target is None and require_agreement and len(set(named.values())) > 1:
        reason = "the agencies do not agree: " + "; ".join(
            f"{a} names {t or 'no target'}" for a, t in named.items()
        )
    else:
        reason = decisions[lead].reason
    return target, reason


def open_round(
    store: Store,
    start: date,
    end: date,
    agencies: list[str],
    *,
    rubrics: dict[str, Rubric] | None = None,
    require_agreement: bool = True,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> Round:
    """Score each agency's data, apply the target rule, and record the decision and the evidence.

    With ``require_agreement`` (the default) a target is named only when every agency's rule names
    the same organization; otherwise the first agency's decision stands. Either way every agency
    whose decision differs from the round's is recorded as a dissent. Organizations dismantled
    by earlier rounds are listed apart, not ranked.
    """
    _check_agencies(store, agencies)
    if not require_agreement and len(set(agencies)) > 1:
        raise PermissionDenied(
            "a round over several agencies names a target only when they agree",
            fix="open it with agreement required, or open a round of one agency", param="require_agreement",
        )  # fmt: skip
    rubrics = rubrics or {}
    gone = store.rounds.dismantled_before()
    cards, decisions = {}, {}
    for agency in agencies:
        res = score(store, start, end, rubric=rubrics.get(agency), draws=draws, seed=seed, agency=agency,
                    dismantled=gone)  # fmt: skip
        decisions[agency] = decide(res)
        cards[agency] = build_scorecard(res, decision=decisions[agency])
    target, reason = _round_decision(decisions, agencies[0], require_agreement)
    decision = {
        "target": target,
        "reason": reason,
        "per_agency": {a: d.as_dict() for a, d in decisions.items()},
    }
    with store.transaction() as con:
        round_id = store.rounds.create(con, start, end, agencies, require_agreement, target, decision, cards)
        for agency, d in decisions.items():
            if d.target != target:
                detail = f"{agency} names {d.target or 'no target'}; the round names {target or 'no target'}"
                store.rounds.add_dissent(con, round_id, agency, detail)
        store.rounds.log(
            con, round_id, "open", {"window": [str(start), str(end)], "agencies": agencies, "target": target}
        )
    return get_round(store, round_id)


def rule_payload(rnd: Round, public_keys: dict[str, str]) -> dict:
    """The conditional rule as published before the first round, with the agencies' keys."""
    rubric = Rubric.model_validate(next(iter(rnd.evidence.values()))["rubric"])
    return {
        "rule": rule_text(rubric),
        "rubric": rubric.model_dump(mode="json"),
        "rubric_sha256": rubric.sha256(),
        "threshold": rubric.target.threshold,
        "require_agreement": rnd.require_agreement,
        "agencies": public_keys,
    }


def _announceable(store: Store, round_id: int) -> Round:
    rnd = get_round(store, round_id)
    if rnd.status != "open":
        raise ConflictError(
            f"round {round_id} is {rnd.status}, not open", f"round {round_id}", "open a new round"
        )
    if rnd.target is None:
        raise ConflictError(
            f"round {round_id} has no target to announce ({rnd.decision['reason']})",
            f"round {round_id}",
            "close it as withdrawn, with a reason, and use the regional fallback",
        )
    return rnd


def _announcement_payload(store: Store, rnd: Round) -> dict:
    return {
        "round": rnd.round_id,
        "window": [str(rnd.window_from), str(rnd.window_to)],
        "target": rnd.target,
        "decision": rnd.decision,
        "scorecards": rnd.evidence,
        "dissents": list(store.rounds.dissents(rnd.round_id)["detail"]),
    }


def _mark_announced(store: Store, rnd: Round, entry: dict) -> Round:
    with store.transaction() as con:
        store.rounds.mark_announced(con, rnd.round_id, entry["hash"])
        store.rounds.log(con, rnd.round_id, "announce",
                         {"ledger_hash": entry["hash"], "signed_by": sorted({s["agency"] for s in entry["signatures"]})})  # fmt: skip
    return get_round(store, rnd.round_id)


def announce_round(store: Store, round_id: int, ledger_path: str | Path, signers: list) -> Round:
    """Publish a round's target with keys at hand: append its scorecards to the ledger, signed
    by the given agencies (every agency of the round when it needs agreement).

    The first entry of a new ledger is the conditional rule, signed by every agency of the round.
    On two machines use :func:`announcement_request` and :func:`announce_signed` instead.
    """
    from vdto.publication.ledger import Ledger

    rnd = _announceable(store, round_id)
    by_agency = {s.agency: s for s in signers}
    missing = [a for a in rnd.required_signers if a not in by_agency]
    if missing:
        raise VdtoError(
            f"no key for agency {missing[0]!r}",
            fix=f"give {missing[0]}'s key too (an announcement that needs agreement is co-signed)",
            param="signers",
        )
    ledger = Ledger(ledger_path)
    if not ledger.entries():
        keys = {a: by_agency[a].public_hex for a in rnd.agencies if a in by_agency}
        ledger.append("rule", rule_payload(rnd, keys), [by_agency[a] for a in keys])
    entry = ledger.append("announcement", _announcement_payload(store, rnd),
                          [by_agency[a] for a in rnd.agencies if a in by_agency])  # fmt: skip
    return _mark_announced(store, rnd, entry)


def announcement_request(store: Store, round_id: int, ledger_path: str | Path,
                         public_keys: dict[str, str] | None = None) -> dict:  # fmt: skip
    """The signing request that announces round ``round_id``: every agency of the round signs
    it on its own machine (``vdto sign``); :func:`announce_signed` appends it.

    On a new (empty) ledger this is the request for the rule entry, declaring ``public_keys``
    (every agency's public key); once it is appended, ask again for the announcement.
    """
    from vdto.publication.ledger import Ledger

    rnd = _announceable(store, round_id)
    ledger = Ledger(ledger_path)
    if not ledger.entries():
        keys = public_keys or {}
        if missing := [a for a in rnd.agencies if a not in keys]:
            raise VdtoError(f"a new ledger starts with the rule entry declaring every agency's public key; "
                            f"no key for {missing[0]!r}", fix="give the agencies' .pub files", param="public_keys")  # fmt: skip
        return ledger.request(
            "rule", rule_payload(rnd, {a: keys[a] for a in rnd.agencies}), list(rnd.agencies)
        )
    return ledger.request("announcement", _announcement_payload(store, rnd), list(rnd.agencies))


def announce_signed(store: Store, round_id: int, ledger_path: str | Path, request: dict,
                    signatures: list[dict]) -> Round:  # fmt: skip
    """Append a request made by :func:`announcement_request` with the agencies' detached
    signatures; the round is announced when the entry is its announcement (a rule entry only
    starts the ledger). Refused, with nothing appended, unless every agency signed its bytes."""
    from vdto.publication.ledger import Ledger

    rnd = _announceable(store, round_id)
    entry = request.get("entry") if isinstance(request, dict) else None
    kind = entry.get("kind") if isinstance(entry, dict) else None
    payload = entry.get("payload") if isinstance(entry, dict) else None
    if kind == "announcement" and payload != json.loads(canonical_json(_announcement_payload(store, rnd))):
        raise ConflictError(f"the request does not announce round {round_id} as it stands", f"round {round_id}",
                            "make a new request for this round")  # fmt: skip
    if kind not in ("announcement", "rule"):
        raise VdtoError("the request is not for an announcement or a rule entry", "request",
                        "pass the request `vdto round announce --request` wrote")  # fmt: skip
    written = Ledger(ledger_path).assemble(request, signatures)
    if kind == "rule" or written is None:
        return rnd
    return _mark_announced(store, rnd, written)


@dataclass(frozen=True)
class SignOff:
    """Where a round's announcement stands after one agency signed it."""

    round: Round
    signed_by: list[str]
    waiting_for: list[str]

    @property
    def announced(self) -> bool:
        return not self.waiting_for


def sign_off(
    store: Store,
    round_id: int,
    agency: str,
    signed_by: str,
    *,
    ledger_path: str | Path | None,
    signer_for: Callable[[str], object],
) -> SignOff:
    """Record that ``agency`` signs round ``round_id``'s announcement (``signed_by`` names who did,
    e.g. a token id); when every agency that must sign has signed (every agency when the round
    needs agreement, else the lead), announce it with :func:`announce_round`, signed with the keys
    ``signer_for(agency)`` gives."""
    rnd = _announceable(store, round_id)
    if agency not in rnd.agencies:
        raise PermissionDenied(
            f"agency {agency!r} does not take part in round {round_id}", f"round {round_id}"
        )
    signed = store.rounds.signoffs(round_id)
    if agency in signed:
        raise ConflictError(f"agency {agency!r} has already signed round {round_id}", f"round {round_id}")
    now_signed = sorted({*signed, agency})
    waiting = [a for a in rnd.required_signers if a not in now_signed]
    if not waiting:
        if ledger_path is None:
            raise ConflictError(
                "there is no ledger to announce the round in", fix="give a ledger", param="ledger"
            )
        rnd = announce_round(store, round_id, ledger_path, [signer_for(a) for a in now_signed])
    with store.transaction() as con:
        store.rounds.add_signoff(con, round_id, agency, signed_by)
    return SignOff(rnd, now_signed, waiting)


def _closable(store: Store, round_id: int, outcome: str, reason: str) -> Round:
    rnd = get_round(store, round_id)
    if rnd.status == "closed":
        raise ConflictError(f"round {round_id} is already closed", f"round {round_id}", "open a new round")
    if outcome not in ("dismantled", "withdrawn"):
        raise VdtoError(f"unknown outcome {outcome!r}", fix="use dismantled or withdrawn", param="outcome")
    if outcome == "withdrawn" and not reason.strip():
        raise VdtoError(
            "a withdrawn round needs a reason", fix="say why, e.g. 'rankers disagree'", param="reason"
        )
    if outcome == "dismantled" and (rnd.target is None or rnd.status != "announced"):
        raise ConflictError(
            f"round {round_id} has no announced target to dismantle",
            f"round {round_id}",
            "close it as withdrawn, with a reason",
        )
    return rnd


def _close_payload(rnd: Round, outcome: str, reason: str, on: date) -> dict:
    return {"round": rnd.round_id, "outcome": outcome, "target": rnd.target, "reason": reason, "on": str(on),
            "agencies": list(rnd.agencies)}  # fmt: skip


def _mark_closed(store: Store, rnd: Round, outcome: str, reason: str, on: date) -> Round:
    with store.transaction() as con:
        store.rounds.mark_closed(con, rnd.round_id, outcome, reason)
        if outcome == "dismantled" and rnd.target is not None:
            store.rounds.add_dismantled(con, rnd.target, rnd.round_id, on)
        store.rounds.log(con, rnd.round_id, "close", {"outcome": outcome, "reason": reason, "on": str(on)})
    return get_round(store, rnd.round_id)


def close_round(
    store: Store,
    round_id: int,
    outcome: str,
    reason: str = "",
    *,
    on: date | None = None,
    ledger_path: str | Path | None = None,
    signers: list | None = None,
) -> Round:
    """Close a round: ``dismantled`` (the target leaves every later ranking) or ``withdrawn`` (with a reason).

    With a ledger, the closing is appended signed by every agency of the round (keys at hand);
    on two machines use :func:`closing_request` and :func:`close_signed`."""
    rnd = _closable(store, round_id, outcome, reason)
    on = on or date.today()
    if ledger_path is not None:
        from vdto.publication.ledger import Ledger

        missing = sorted(set(rnd.agencies) - {s.agency for s in signers or []})
        if missing and rnd.announced_at is not None:
            raise PermissionDenied(
                f"closing round {round_id} needs every agency of the round: {', '.join(missing)} has not signed",
                f"round {round_id}", "give every agency's key (each agency's publisher closes it)",
            )  # fmt: skip
        Ledger(ledger_path).append("round-close", _close_payload(rnd, outcome, reason, on), signers or [])
    return _mark_closed(store, rnd, outcome, reason, on)


def closing_request(store: Store, round_id: int, outcome: str, reason: str, ledger_path: str | Path, *,
                    on: date | None = None) -> dict:  # fmt: skip
    """The signing request that closes round ``round_id`` in the ledger, for every agency of the
    round to sign on its own machine; :func:`close_signed` appends it and closes the round."""
    from vdto.publication.ledger import Ledger

    rnd = _closable(store, round_id, outcome, reason)
    return Ledger(ledger_path).request("round-close", _close_payload(rnd, outcome, reason, on or date.today()),
                                       list(rnd.agencies))  # fmt: skip


def close_signed(
    store: Store, round_id: int, ledger_path: str | Path, request: dict, signatures: list[dict]
) -> Round:
    """Append a closing made by :func:`closing_request` with the agencies' signatures and close
    the round as it says; nothing changes unless every agency signed its bytes."""
    from vdto.publication.ledger import Ledger

    entry = request.get("entry") if isinstance(request, dict) else None
    payload = entry.get("payload") if isinstance(entry, dict) else None
    if (
        not isinstance(entry, dict)
        or not isinstance(payload, dict)
        or entry.get("kind") != "round-close"
        or payload.get("round") != round_id
    ):
        raise VdtoError(f"the request does not close round {round_id}", "request",
                        "pass the request `vdto round close --request` wrote")  # fmt: skip
    outcome, reason = str(payload.get("outcome")), str(payload.get("reason") or "")
    rnd = _closable(store, round_id, outcome, reason)
    on = date.fromisoformat(str(payload.get("on")))
    if payload != _close_payload(rnd, outcome, reason, on):
        raise ConflictError(f"the request does not close round {round_id} as it stands", f"round {round_id}",
                            "make a new request")  # fmt: skip
    Ledger(ledger_path).assemble(request, signatures)
    return _mark_closed(store, rnd, outcome, reason, on)


@dataclass(frozen=True)
class CloseRequest:
    """Where a round's closing stands after one agency asked for it."""

    round: Round
    asked_by: list[str]
    waiting_for: list[str]


def request_close(
    store: Store, round_id: int, agency: str, token_id: str, outcome: str, reason: str = "", *,
    on: date | None = None, ledger_path: str | Path | None = None, signer_for: Callable[[str], object] | None = None,
) -> CloseRequest:  # fmt: skip
    """Record that ``agency`` asks to close round ``round_id``; the round closes (with
    :func:`close_round`, signed by every agency when it is in the ledger) when every agency of
    the round has asked for the same outcome. One agency alone cannot withdraw a round it shares."""
    rnd = get_round(store, round_id)
    if agency not in rnd.agencies:
        raise PermissionDenied(
            f"agency {agency!r} does not take part in round {round_id}", f"round {round_id}"
        )
    if rnd.status == "closed":
        raise ConflictError(f"round {round_id} is already closed", f"round {round_id}", "open a new round")
    asked = store.rounds.close_requests(round_id)
    if agency in asked:
        raise ConflictError(
            f"agency {agency!r} has already asked to close round {round_id}", f"round {round_id}"
        )
    other = {a: o for a, (o, _) in asked.items() if o != outcome}
    if other:
        a, o = next(iter(other.items()))
        raise ConflictError(f"agency {a!r} asked to close round {round_id} as {o}, not {outcome}",
                            f"round {round_id}", f"ask for {o}, or settle it with {a}")  # fmt: skip
    if outcome == "withdrawn" and not reason.strip():
        raise VdtoError(
            "a withdrawn round needs a reason", fix="say why, e.g. 'rankers disagree'", param="reason"
        )
    now_asked = sorted({*asked, agency})
    waiting = [a for a in rnd.agencies if a not in now_asked]
    if not waiting:
        reasons = "; ".join(r for r in [*(r for _, r in asked.values()), reason] if r.strip())
        signers = [signer_for(a) for a in rnd.agencies] if ledger_path is not None and signer_for else None
        rnd = close_round(store, round_id, outcome, reasons, on=on, ledger_path=ledger_path, signers=signers)
    with store.transaction() as con:
        store.rounds.add_close_request(con, round_id, agency, outcome, reason, token_id)
    return CloseRequest(rnd, now_asked, waiting)


def monitor(
    store: Store, round_id: int | None = None, *, as_of: date | None = None, rubric: Rubric | None = None
) -> pd.DataFrame:
    """Violence since the announcement against the same length of time before it, per organization.

    Scores are expected scores under the round's rubric with decay turned off, per agency, so the
    two periods are weighed alike. ``as_of`` defaults to the last event in the store.
    """
    rnd = get_round(store, round_id)
    if rnd.announced_at is None:
        raise ConflictError(
            f"round {rnd.round_id} has not been announced", f"round {rnd.round_id}", "announce it first"
        )
    start = rnd.announced_at.date()
    if as_of is None:
        as_of = store.events.last_date() or start
    as_of = max(as_of, start)
    days = (as_of - start).days + 1
    before = (start - timedelta(days=days), start - timedelta(days=1))
    base = rubric or Rubric.model_validate(next(iter(rnd.evidence.values()))["rubric"])
    flat = base.model_copy(update={"time": base.time.model_copy(update={"half_life_days": 0})})
    rows = []
    for agency in rnd.agencies:
        pre = score(store, *before, rubric=flat, draws=1, seed=0, agency=agency).table
        post = score(store, start, as_of, rubric=flat, draws=1, seed=0, agency=agency).table
        merged = pd.merge(
            pre[["org", "name", "score"]],
            post[["org", "name", "score"]],
            on=["org", "name"],
            how="outer",
            suffixes=("_before", "_after"),
        ).fillna({"score_before": 0.0, "score_after": 0.0})
        merged.insert(0, "agency", agency)
        rows.append(merged)
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if out.empty:
        return out
    out["change"] = (out["score_after"] - out["score_before"]) / out["score_before"].where(
        out["score_before"] > 0
    )
    out["target"] = out["org"] == rnd.target
    out.attrs.update({"before": [str(d) for d in before], "after": [str(start), str(as_of)]})
    return out.sort_values(["agency", "score_after"], ascending=[True, False]).reset_index(drop=True)


#: Share of an organization's expected events a state must hold to count as where it operates.
OPERATES_SHARE = 0.05


def _operates(events: pd.DataFrame, perps: pd.DataFrame) -> pd.DataFrame:
    """Expected events per (organization, state) and each state's share of the organization's."""
    ev = events[["source", "source_id", "state_code"]].dropna(subset=["state_code"])
    j = (
        perps[["source", "source_id", "org_id", "probability"]]
        .dropna(subset=["org_id"])
        .merge(ev, on=["source", "source_id"])
    )
    by = j.groupby(["org_id", "state_code"], as_index=False)["probability"].sum()
    by["share"] = by["probability"] / by.groupby("org_id")["probability"].transform("sum")
    return by


def counterfactual(store: Store, round_id: int | None = None, *, as_of: date | None = None, rivals: int = 3,
                   confidence: float = 0.9) -> pd.DataFrame:  # fmt: skip
    """What happened to lethal violence where the target and its rivals operate since the
    announcement, against the states where none of them operates (the event study of
    ``vdto evaluate`` with the announcement month as the intervention and the store's events as
    the panel).

    Per agency and group (the target; its ``rivals`` highest-ranked rivals, in the states where
    they and not the target operate): the states, the months observed after the announcement,
    the change in event deaths per state and month against the comparison states with its
    interval, and the percent of the group's mean before. Where an organization operates: the
    states holding at least :data:`OPERATES_SHARE` of its expected events in the round's window.
    """
    import numpy as np

    from vdto.evaluation.eventstudy import event_study
    from vdto.evaluation.panels import panel_from_counts

    rnd = get_round(store, round_id)
    if rnd.announced_at is None:
        raise ConflictError(f"round {rnd.round_id} has not been announced", f"round {rnd.round_id}",
                            "announce it first")  # fmt: skip
    start = rnd.announced_at.date()
    rows = []
    for agency in rnd.agencies:
        last = as_of or store.events.last_date(agency) or start
        events, _ = store.events.window(start - timedelta(days=800), last, agency=agency)
        ops = _operates(*store.events.window(rnd.window_from, rnd.window_to, agency=agency))
        ranked = rnd.evidence.get(agency, {}).get("ranking", [])
        names = [r.get("org") for r in ranked if r.get("org")] if isinstance(ranked, list) else []
        target = rnd.target
        where = {o: set(ops.loc[(ops["org_id"] == o) & (ops["share"] >= OPERATES_SHARE), "state_code"])
                 for o in set(ops["org_id"])}  # fmt: skip
        t_states = where.get(target, set()) if target else set()
        rival_ids = [o for o in names if o != target][:rivals] or [
            o
            for o in ops.groupby("org_id")["probability"].sum().sort_values(ascending=False).index
            if o != target
        ][:rivals]
        r_states = set().union(*(where.get(o, set()) for o in rival_ids)) - t_states if rival_ids else set()
        long = pd.DataFrame({"region_code": events["state_code"], "period": pd.to_datetime(events["date_start"]),
                             "count": events["deaths_best"].fillna(0)}).dropna(subset=["region_code"])  # fmt: skip
        first = pd.Timestamp(start).to_period("M").to_timestamp() - pd.DateOffset(months=12)
        lastm = max(pd.Timestamp(last).to_period("M").to_timestamp(), first)
        p = panel_from_counts(
            long, "state", label="store events", measure="event deaths", first=first, last=lastm
        )
        g = p.index(pd.Timestamp(start))
        months_after = len(p.months) - g if g >= 0 else 0
        comparison = ~np.isin(np.array(p.units), list(t_states | r_states))
        for group, states in (
            ("target " + (target or "none"), t_states),
            ("rivals " + ", ".join(rival_ids), r_states),
        ):
            row = {
                "agency": agency,
                "group": group,
                "states": ", ".join(sorted(states)),
                "months_after": months_after,
            }
            if not states or months_after <= 0 or not comparison.any():
                rows.append({**row, "effect": np.nan, "lo": np.nan, "hi": np.nan, "percent": np.nan})
                continue
            st = np.where(np.isin(np.array(p.units), list(states)), g, -1)
            es = event_study(p.Y.astype(float), st, controls=comparison, pre=12, post=months_after - 1,
                             window=(0, months_after - 1), level=confidence)  # fmt: skip
            q = es.pooled
            rows.append(
                {**row, "effect": q["estimate"], "lo": q["lo"], "hi": q["hi"], "percent": q["percent"]}
            )
    out = pd.DataFrame(rows)
    out.attrs.update({"announced": str(start), "unit": "event deaths per state and month",
                      "comparison": "states where neither the target nor the rivals operate"})  # fmt: skip
    return out
