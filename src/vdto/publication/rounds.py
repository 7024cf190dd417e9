"""Rounds of the strategy: open (score and decide) -> announce (publish) -> monitor -> close.

Each round scores every agency's data with that agency's rubric, applies the target rule for
each, and names a target only when the agencies agree (by default); a dissent is recorded,
never dropped. Announcing appends the round's public scorecard to the signed ledger (the first
announcement publishes the conditional rule before it). Closing a round as *dismantled* takes
the target out of every later round's ranking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from vdto.errors import VdtoError
from vdto.publication.scorecard import build_scorecard, rule_text
from vdto.scoring.decision import decide
from vdto.scoring.engine import DEFAULT_DRAWS, DEFAULT_SEED, score
from vdto.scoring.rubric import Rubric
from vdto.store import Store


@dataclass(frozen=True)
class Round:
    """One round as stored."""

    round_id: int
    status: str  # open | announced | closed
    window_from: date
    window_to: date
    agencies: tuple[str, ...]
    require_agreement: bool
    target: str | None
    decision: dict
    evidence: dict  # agency -> public scorecard
    opened_at: datetime
    announced_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    reason: str | None
    ledger_hash: str | None


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _history(con, round_id: int, action: str, detail: dict | str) -> None:
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False, sort_keys=True)
    con.execute("INSERT INTO round_history VALUES (?, ?, ?, ?)", [round_id, _now(), action, text])


def get_round(store: Store, round_id: int | None = None) -> Round:
    """A round by id (the latest when ``round_id`` is None)."""
    if round_id is None:
        rows = store.query("SELECT * FROM rounds ORDER BY round_id DESC LIMIT 1")
    else:
        rows = store.query("SELECT * FROM rounds WHERE round_id = ?", [round_id])
    if rows.empty:
        raise VdtoError(
            "no rounds yet" if round_id is None else f"no round {round_id}",
            str(store.path),
            "open a round first (a window and the agencies that rank)",
        )
    r = rows.iloc[0]

    def ts(v):
        return None if v is None or pd.isna(v) else pd.Timestamp(v).to_pydatetime()

    return Round(
        int(r["round_id"]), r["status"], pd.Timestamp(r["window_from"]).date(), pd.Timestamp(r["window_to"]).date(),
        tuple(r["agencies"].split(",")), bool(r["require_agreement"]), r["target"] if isinstance(r["target"], str) else None,
        json.loads(r["decision"]), json.loads(r["evidence"]), ts(r["opened_at"]), ts(r["announced_at"]),
        ts(r["closed_at"]), r["outcome"] if isinstance(r["outcome"], str) else None,
        r["reason"] if isinstance(r["reason"], str) else None, r["ledger_hash"] if isinstance(r["ledger_hash"], str) else None,
    )  # fmt: skip


def list_rounds(store: Store) -> pd.DataFrame:
    """Every round with its status, window, target and outcome."""
    return store.query(
        """SELECT round_id, status, strftime(window_from, '%Y-%m-%d') AS window_from,
                  strftime(window_to, '%Y-%m-%d') AS window_to, agencies, target,
                  strftime(opened_at, '%Y-%m-%d %H:%M') AS opened_at, strftime(announced_at, '%Y-%m-%d %H:%M') AS announced_at,
                  strftime(closed_at, '%Y-%m-%d %H:%M') AS closed_at, outcome, reason, ledger_hash
           FROM rounds ORDER BY round_id"""
    )


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
    whose decision differs from the round's is recorded as a dissent.
    """
    if not agencies:
        raise VdtoError("a round needs at least one agency", fix="e.g. mx,us", param="agencies")
    busy = store.query("SELECT round_id, status FROM rounds WHERE status <> 'closed'")
    if len(busy):
        rid, status = int(busy.iloc[0]["round_id"]), busy.iloc[0]["status"]
        raise VdtoError(
            f"round {rid} is still {status}",
            f"round {rid}",
            f"close round {rid} first",
        )
    known = set(store.namespaces())
    for agency in agencies:
        if agency not in known:
            raise VdtoError(
                f"agency {agency!r} has no data in this store",
                fix=f"import its data first; agencies here: {', '.join(sorted(known)) or 'none'}",
                param="agencies",
            )
    rubrics = rubrics or {}
    cards, decisions = {}, {}
    gone = dismantled_before(store)
    for agency in agencies:
        res = score(
            store,
            start,
            end,
            rubric=rubrics.get(agency),
            draws=draws,
            seed=seed,
            namespace=agency,
            dismantled=gone,
        )
        decisions[agency] = decide(res)
        cards[agency] = build_scorecard(res, decision=decisions[agency])
    lead = agencies[0]
    named = {a: d.target for a, d in decisions.items()}
    if require_agreement:
        agreed = len(set(named.values())) == 1 and named[lead] is not None
        target = named[lead] if agreed else None
    else:
        target = named[lead]
    if target is not None:
        reason = decisions[lead].reason
    elif require_agreement and len(set(named.values())) > 1:
        reason = "the agencies do not agree: " + "; ".join(
            f"{a} names {t or 'no target'}" for a, t in named.items()
        )
    else:
        reason = decisions[lead].reason
    decision = {
        "target": target,
        "reason": reason,
        "per_agency": {a: d.as_dict() for a, d in decisions.items()},
    }
    with store.transaction() as con:
        round_id = int(con.execute("SELECT coalesce(max(round_id), 0) + 1 FROM rounds").fetchall()[0][0])
        con.execute(
            "INSERT INTO rounds (round_id, status, window_from, window_to, agencies, require_agreement, target, decision,"
            " evidence, opened_at) VALUES (?, 'open', ?, ?, ?, ?, ?, ?, ?, ?)",
            [round_id, start, end, ",".join(agencies), require_agreement, target, json.dumps(decision, sort_keys=True),
             json.dumps(cards, sort_keys=True, ensure_ascii=False), _now()],
        )  # fmt: skip
        for agency, t in named.items():
            if t != target:
                con.execute(
                    "INSERT INTO dissents VALUES (?, ?, ?, ?)",
                    [
                        round_id,
                        agency,
                        _now(),
                        f"{agency} names {t or 'no target'}; the round names {target or 'no target'}",
                    ],
                )
        _history(
            con, round_id, "open", {"window": [str(start), str(end)], "agencies": agencies, "target": target}
        )
    return get_round(store, round_id)


def dismantled_before(store: Store, round_id: int | None = None) -> frozenset[str]:
    """Organizations dismantled by the rounds before ``round_id`` (by every round when None)."""
    sql = "SELECT org_id FROM dismantled" + (" WHERE round_id < ?" if round_id is not None else "")
    return frozenset(
        r[0] for r in store.con.execute(sql, [round_id] if round_id is not None else []).fetchall()
    )


def dissents(store: Store, round_id: int | None = None) -> pd.DataFrame:
    sql = "SELECT round_id, agency, logged_at, detail FROM dissents"
    return store.query(
        sql + (" WHERE round_id = ?" if round_id else "") + " ORDER BY round_id, agency",
        [round_id] if round_id else [],
    )


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


def announce_round(store: Store, round_id: int, ledger_path, signers: list) -> Round:
    """Publish a round's target: append its scorecard to the ledger, signed by the given agencies.

    The first entry of a new ledger is the conditional rule, signed by every agency of the round.
    The announcement is co-signed by every signer given (both agencies when both agree).
    """
    from vdto.publication.ledger import Ledger

    rnd = get_round(store, round_id)
    if rnd.status != "open":
        raise VdtoError(
            f"round {round_id} is {rnd.status}, not open", f"round {round_id}", "open a new round"
        )
    if rnd.target is None:
        raise VdtoError(
            f"round {round_id} has no target to announce ({rnd.decision['reason']})",
            f"round {round_id}",
            "close it as withdrawn, with a reason, and use the regional fallback",
        )
    by_agency = {s.agency: s for s in signers}
    missing = (
        [a for a in rnd.agencies if a not in by_agency]
        if rnd.require_agreement
        else [a for a in rnd.agencies[:1] if a not in by_agency]
    )
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
    payload = {
        "round": rnd.round_id,
        "window": [str(rnd.window_from), str(rnd.window_to)],
        "target": rnd.target,
        "decision": rnd.decision,
        "scorecards": rnd.evidence,
        "dissents": [r["detail"] for r in dissents(store, rnd.round_id).to_dict("records")],
    }
    entry = ledger.append("announcement", payload, [by_agency[a] for a in rnd.agencies if a in by_agency])
    with store.transaction() as con:
        con.execute(
            "UPDATE rounds SET status = 'announced', announced_at = ?, ledger_hash = ? WHERE round_id = ?",
            [_now(), entry["hash"], round_id],
        )
        _history(con, round_id, "announce", {"ledger_hash": entry["hash"], "signed_by": sorted(by_agency)})
    return get_round(store, round_id)


def close_round(
    store: Store,
    round_id: int,
    outcome: str,
    reason: str = "",
    *,
    on: date | None = None,
    ledger_path=None,
    signers: list | None = None,
) -> Round:
    """Close a round: ``dismantled`` (the target leaves every later ranking) or ``withdrawn`` (with a reason)."""
    rnd = get_round(store, round_id)
    if rnd.status == "closed":
        raise VdtoError(f"round {round_id} is already closed", f"round {round_id}", "open a new round")
    if outcome not in ("dismantled", "withdrawn"):
        raise VdtoError(f"unknown outcome {outcome!r}", fix="use dismantled or withdrawn", param="outcome")
    if outcome == "withdrawn" and not reason.strip():
        raise VdtoError(
            "a withdrawn round needs a reason", fix="say why, e.g. 'rankers disagree'", param="reason"
        )
    if outcome == "dismantled" and (rnd.target is None or rnd.status != "announced"):
        raise VdtoError(
            f"round {round_id} has no announced target to dismantle",
            f"round {round_id}",
            "close it as withdrawn, with a reason",
        )
    on = on or date.today()
    if ledger_path is not None:
        from vdto.publication.ledger import Ledger

        Ledger(ledger_path).append(
            "round-close",
            {"round": round_id, "outcome": outcome, "target": rnd.target, "reason": reason, "on": str(on)},
            signers or [],
        )
    with store.transaction() as con:
        con.execute(
            "UPDATE rounds SET status = 'closed', closed_at = ?, outcome = ?, reason = ? WHERE round_id = ?",
            [_now(), outcome, reason, round_id],
        )
        if outcome == "dismantled":
            con.execute("INSERT OR REPLACE INTO dismantled VALUES (?, ?, ?)", [rnd.target, round_id, on])
        _history(con, round_id, "close", {"outcome": outcome, "reason": reason, "on": str(on)})
    return get_round(store, round_id)


def monitor(
    store: Store, round_id: int | None = None, *, as_of: date | None = None, rubric: Rubric | None = None
) -> pd.DataFrame:
    """Violence since the announcement against the same length of time before it, per organization.

    Scores are expected scores under the round's rubric with decay turned off, per agency, so the
    two periods are weighed alike. ``as_of`` defaults to the last event in the store.
    """
    rnd = get_round(store, round_id)
    if rnd.announced_at is None:
        raise VdtoError(
            f"round {rnd.round_id} has not been announced", f"round {rnd.round_id}", "announce it first"
        )
    start = rnd.announced_at.date()
    if as_of is None:
        last = store.query("SELECT max(date_start) AS d FROM events")["d"].iloc[0]
        as_of = pd.Timestamp(last).date() if last is not None and not pd.isna(last) else start
    as_of = max(as_of, start)
    days = (as_of - start).days + 1
    before = (start - timedelta(days=days), start - timedelta(days=1))
    base = rubric or Rubric.model_validate(next(iter(rnd.evidence.values()))["rubric"])
    flat = base.model_copy(update={"time": base.time.model_copy(update={"half_life_days": 0})})
    rows = []
    for agency in rnd.agencies:
        pre = score(store, *before, rubric=flat, draws=1, seed=0, namespace=agency).table
        post = score(store, start, as_of, rubric=flat, draws=1, seed=0, namespace=agency).table
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
